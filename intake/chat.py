"""Chat intake: storing one resident's Telegram message, free of Telegram's own types.

The bot turns an update into a `ChatIncoming` and calls `store_chat_message` inside its transaction.
This flushes and never commits: the caller commits and only then acknowledges to Telegram, so every
inbound message is committed before it is acknowledged to its source. Telegram may deliver an update
twice; the source key `telegram:<chat id>:<message id>` makes the second delivery a no-op.

Chat messages are not threaded onto cases here: a resident's reply in chat is stored and classified
like any other message, and staff link it during triage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from classifier.classify import Classifier
from intake.classify_step import classify_messages
from models.enums import Channel, ContactChannel
from models.messages import Attachment, InboundMessage, InboundMessageCreate
from models.people import Resident, ResidentCreate
from models.repository.blobs import put_blobs
from models.repository.messages import message_by_source, store_inbound
from models.repository.residents import add_resident, resident_by_telegram
from models.types import row_id

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")

# What a message that is only a photo says, so that no stored message is ever empty.
PHOTO_ONLY_TEXT = "(photo)"


@dataclass(frozen=True)
class ChatPhoto:
    """One photo: Telegram's file id, and its bytes when the bot downloaded them (else metadata only)."""

    file_id: str
    content: bytes | None
    content_type: str = "image/jpeg"
    size: int = 0


@dataclass(frozen=True)
class ChatIncoming:
    """One chat message on its way into storage.

    `text` is the message's text or a photo's caption; it may be empty only when a photo was sent.
    `received_at` must be time-zone aware (Telegram's message date).
    """

    chat_id: int
    message_id: int
    user_id: int
    user_name: str | None
    text: str
    received_at: datetime
    photos: tuple[ChatPhoto, ...] = ()

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be time-zone aware")
        if not self.text.strip() and not self.photos:
            raise ValueError("a chat message needs text or a photo")

    @property
    def source_key(self) -> str:
        return f"telegram:{self.chat_id}:{self.message_id}"


@dataclass(frozen=True)
class ChatStoreOutcome:
    message: InboundMessage
    created: bool
    reference: str


def reference_for(message: InboundMessage) -> str:
    """The reference a resident is given in their receipt: `MSG-` and the message's id, zero-padded
    to 6 digits (`MSG-000042`; ids past 999999 simply get longer). The message must be flushed.

    It names the message, not a case: a case gets its own reference (CMP-2026-00042) once staff
    confirm the triage.
    """
    return f"MSG-{row_id(message):06d}"


def content_hash(text: str, photo_ids: Sequence[str]) -> str:
    """What the resident sent: the text and the photos' ids, encoded unambiguously."""
    encoded = json.dumps([text, list(photo_ids)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def store_chat_message(
    session: Session, *, incoming: ChatIncoming, now: datetime, classifier: Classifier | None
) -> ChatStoreOutcome:
    """Store one chat message with its photos, match or create its resident, and classify it.

    Storing the same source again returns the stored message with `created` False and changes
    nothing. With a classifier the new message ends up awaiting review; without one, or if
    classification fails (it can be redone; the message is kept), it stays new. Flushes, never commits.
    """
    existing = message_by_source(session, source_key=incoming.source_key)
    if existing is not None:
        return ChatStoreOutcome(existing, created=False, reference=reference_for(existing))
    resident = _resident_for(session, incoming, now)
    text = incoming.text if incoming.text.strip() else PHOTO_ONLY_TEXT
    message, created = store_inbound(
        session,
        data=InboundMessageCreate(
            channel=Channel.CHAT,
            source_key=incoming.source_key,
            content_hash=content_hash(incoming.text, [p.file_id for p in incoming.photos]),
            received_at=incoming.received_at,
            sender_address=f"telegram:{incoming.user_id}",
            sender_name=_fit(incoming.user_name, 200),
            body_text=text,
            new_text=text,
        ),
        now=now,
    )
    if not created:  # another worker stored the same update between our look-up and our insert
        return ChatStoreOutcome(message, created=False, reference=reference_for(message))
    message.resident_id = resident.id
    session.add(message)
    _store_photos(session, message, incoming.photos, now)
    session.flush()
    if classifier is not None:
        _classify(session, message, classifier, incoming.received_at, now)
    return ChatStoreOutcome(message, created=True, reference=reference_for(message))


def _resident_for(session: Session, incoming: ChatIncoming, now: datetime) -> Resident:
    """The resident with this Telegram id, or a new provisional one who prefers chat."""
    resident = resident_by_telegram(session, telegram_user_id=incoming.user_id)
    if resident is not None:
        return resident
    data = ResidentCreate(
        name=_fit(incoming.user_name, 200),
        telegram_user_id=incoming.user_id,
        preferred_channel=ContactChannel.CHAT,
        provisional=True,
    )
    try:
        with session.begin_nested():
            return add_resident(session, data=data, now=now)
    except IntegrityError:
        # The same person's other message, handled by another worker, created them first.
        resident = resident_by_telegram(session, telegram_user_id=incoming.user_id)
        if resident is None:
            raise
        return resident


def _store_photos(session: Session, message: InboundMessage, photos: tuple[ChatPhoto, ...], now: datetime) -> None:
    """One Attachment row per photo; its bytes in the blob table when the bot downloaded them.

    The filename keeps Telegram's file id (`telegram:<file id>`) so a photo stored as metadata only
    can still be fetched later; its sha256 is empty because its content is unknown.
    """
    stored = iter(put_blobs(session, contents=[p.content for p in photos if p.content is not None], now=now))
    for photo in photos:
        ref = next(stored) if photo.content is not None else None
        session.add(
            Attachment(
                message_id=row_id(message),
                filename=_fit(f"telegram:{photo.file_id}", 500),
                content_type=_fit(photo.content_type, 200) or "image/jpeg",
                size=len(photo.content) if photo.content is not None else photo.size,
                sha256=ref or "",
                storage_ref=ref,
            )
        )


def _classify(
    session: Session, message: InboundMessage, classifier: Classifier, received_at: datetime, now: datetime
) -> None:
    try:
        with session.begin_nested():
            classify_messages(
                session, [message], classifier=classifier, received=received_at.astimezone(LONDON).date(), now=now
            )
    except Exception:
        # Classification can be redone; storing cannot be lost for it.
        log.exception("classification failed for chat message %s; stored unclassified", message.id)
        session.expire(message, ["status", "thread_hint"])  # back to what the database holds


def _fit(value: str | None, limit: int) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "\u2026"
