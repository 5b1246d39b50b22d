"""Storing fetched emails: raw bytes, parsed fields, attachments, senders, threads and loop checks.

Runs inside the caller's transaction (flush, never commit): the ingest loop commits a batch and only
then marks the messages on the server, so a crash at any point loses nothing and doubles nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from intake.parsing import ParsedEmail
from intake.settings import IntakeSettings
from models.cases import Case
from models.enums import Channel, ContactChannel, Direction, MessageStatus, Party
from models.messages import Attachment, InboundMessage, InboundMessageCreate
from models.people import Resident
from models.records import Correspondence
from models.references import find_references
from models.repository.audit import record_event
from models.repository.blobs import put_blob, put_blobs
from models.repository.cases import cases_by_references
from models.repository.messages import (
    message_by_source,
    messages_by_content_hashes,
    messages_by_sources,
    sender_counts_since,
    store_inbound,
)
from models.repository.outbox import outbox_by_message_ids
from models.repository.residents import residents_by_emails
from models.types import row_id


@dataclass(frozen=True)
class StoreOutcome:
    message: InboundMessage
    created: bool
    duplicate: bool = False


# Headers that servers add or rewrite along the way; a redelivered message differs only in these.
_TRANSPORT_HEADERS = (
    b"received:",
    b"return-path:",
    b"delivered-to:",
    b"x-",
    b"dkim-signature:",
    b"arc-",
    b"authentication-results:",
    b"received-spf:",
    b"envelope-to:",
    b"status:",
    b"content-length:",
    b"lines:",
)


def content_hash(raw: bytes) -> str:
    """What makes two deliveries the same message: the message as its sender wrote it.

    The raw bytes with line endings normalised and the headers servers add on the way (Received,
    Delivered-To, X-...) left out, so a redelivery matches and two different messages never do, even
    when neither can be parsed at all.
    """
    normalised = raw.replace(b"\r\n", b"\n")
    head, separator, body = normalised.partition(b"\n\n")
    if not separator:
        head, body = b"", normalised
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):  # continuation of the header above
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(_TRANSPORT_HEADERS)
        if not skipping:
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + b"\n\n" + body).hexdigest()


def _fit(value: str | None, limit: int) -> str | None:
    """Header values longer than their column are shortened; the raw message keeps them whole."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Incoming:
    """One fetched message on its way into storage."""

    source_key: str
    raw: bytes
    parsed: ParsedEmail
    received_at: datetime


@dataclass
class _Lookups:
    """Everything a batch needs from the database, fetched with one query per kind."""

    known: dict[str, InboundMessage]
    earlier: dict[tuple[str, str | None], InboundMessage]
    residents: dict[str, Resident]
    sender_counts: dict[str, int]
    case_by_message_id: dict[str, int]
    case_by_reference: dict[str, Case]

    @classmethod
    def fetch(cls, session: Session, items: Sequence[Incoming], hashes: Sequence[str]) -> _Lookups:
        senders = sorted({i.parsed.from_address for i in items if i.parsed.from_address})
        message_ids = sorted({m for i in items for m in _message_ids(i.parsed)})
        references = [str(r) for i in items for r in find_references(i.parsed.subject or "")]
        earliest = min(i.received_at for i in items) - LOOP_WINDOW
        return cls(
            known=messages_by_sources(session, source_keys=[i.source_key for i in items]),
            earlier={
                (m.content_hash, m.message_id_header): m
                for m in reversed(messages_by_content_hashes(session, hashes=hashes))
            },
            residents=residents_by_emails(session, emails=senders),
            sender_counts=sender_counts_since(session, senders=senders, since=earliest),
            case_by_message_id={
                item.message_id_header or "": item.case_id
                for item in outbox_by_message_ids(session, message_ids=message_ids)
                if item.case_id is not None
            },
            case_by_reference=cases_by_references(session, references=references),
        )


LOOP_WINDOW = timedelta(hours=1)


def store_emails(
    session: Session, items: Sequence[Incoming], *, settings: IntakeSettings, now: datetime
) -> list[StoreOutcome]:
    """Store a batch: one look-up query per kind, one flush per table, outcomes in the input's order.

    Within the batch, a second copy of a message counts as a duplicate of the first. The sender
    counts for loop detection cover the hour before the batch's earliest message plus the batch.
    """
    if not items:
        return []
    hashes = [content_hash(i.raw) for i in items]
    found = _Lookups.fetch(session, items, hashes)
    outcomes: list[StoreOutcome | None] = []
    created: list[_New] = []
    for item, digest in zip(items, hashes, strict=True):
        outcome = _already_stored(found, item, digest)
        if outcome is None:
            created.append(_admit(found, item, digest, settings, now))
        outcomes.append(outcome)
    _persist(session, created, found, now)
    fresh = iter(created)
    return [outcome or StoreOutcome(next(fresh).message, created=True) for outcome in outcomes]


@dataclass
class _New:
    message: InboundMessage
    item: Incoming
    resident: Resident | None


def _already_stored(found: _Lookups, item: Incoming, digest: str) -> StoreOutcome | None:
    previous = found.known.get(item.source_key)
    if previous is not None:
        return StoreOutcome(previous, created=False)
    message_id = item.parsed.message_id
    earlier = found.earlier.get((digest, message_id))
    if earlier is None and message_id is None:
        earlier = found.earlier.get((digest, None))
    return StoreOutcome(earlier, created=False, duplicate=True) if earlier is not None else None


def _admit(found: _Lookups, item: Incoming, digest: str, settings: IntakeSettings, now: datetime) -> _New:
    """A new message: its status (auto-generated, loop) and its sender's resident record."""
    parsed = item.parsed
    message = _new_message(item, digest, now)
    found.known[item.source_key] = message
    found.earlier[(digest, parsed.message_id)] = message
    sender = message.sender_address
    found.sender_counts[sender] = found.sender_counts.get(sender, 0) + 1
    if parsed.auto_generated is not None:
        message.status = MessageStatus.AUTO_GENERATED
        message.status_reason = parsed.auto_generated
        return _New(message, item, None)
    if found.sender_counts[sender] > settings.sender_limit_per_hour:
        message.status = MessageStatus.AUTO_GENERATED
        message.status_reason = (
            f"rate limit: more than {settings.sender_limit_per_hour} messages from this "
            "sender in an hour; possible mail loop, not acknowledged"
        )
        return _New(message, item, None)
    if not parsed.from_address:
        return _New(message, item, None)
    resident = found.residents.get(parsed.from_address)
    if resident is None:
        resident = Resident(
            name=_fit(parsed.from_name, 200),
            email=_fit(parsed.from_address, 320),
            provisional=True,
            preferred_channel=ContactChannel.EMAIL,
            created_at=now,
        )
        found.residents[parsed.from_address] = resident
    return _New(message, item, resident)


def _persist(session: Session, created: list[_New], found: _Lookups, now: datetime) -> None:
    """Residents, then raw bytes and messages, then attachments and threads: one flush each."""
    session.add_all({id(n.resident): n.resident for n in created if n.resident and n.resident.id is None}.values())
    session.flush()
    for new, ref in zip(created, put_blobs(session, contents=[n.item.raw for n in created], now=now), strict=True):
        new.message.raw_ref = ref
        new.message.resident_id = new.resident.id if new.resident else None
    session.add_all([n.message for n in created])
    session.flush()
    parts = [(n.message, part) for n in created for part in n.item.parsed.attachments]
    stored = iter(put_blobs(session, contents=[p.content for _, p in parts if p.content is not None], now=now))
    for message, part in parts:
        session.add(
            Attachment(
                message_id=row_id(message),
                filename=_fit(part.filename, 500),
                content_type=_fit(part.content_type, 200) or "application/octet-stream",
                size=part.size,
                sha256=part.sha256,
                storage_ref=next(stored) if part.content is not None else None,
            )
        )
    for new in created:
        case = _thread(session, new.item.parsed, found)
        if case is not None:
            _attach_to_case(session, new.message, case, now)
    session.flush()


def _new_message(item: Incoming, digest: str, now: datetime) -> InboundMessage:
    parsed = item.parsed
    return InboundMessage(
        channel=Channel.EMAIL,
        source_key=item.source_key,
        message_id_header=_fit(parsed.message_id, 998),
        content_hash=digest,
        received_at=item.received_at,
        sender_address=_fit(parsed.from_address, 320) or "unknown",
        sender_name=_fit(parsed.from_name, 200),
        subject=_fit(parsed.subject, 998),
        body_text=parsed.body_text,
        new_text=parsed.new_text,
        in_reply_to=_fit(parsed.in_reply_to, 998),
        references=" ".join(parsed.references) or None,
        raw_size=len(item.raw),
        created_at=now,
    )


def _message_ids(parsed: ParsedEmail) -> list[str]:
    return [i for i in (parsed.in_reply_to, *parsed.references, *parsed.quoted_message_ids) if i]


def quarantine(
    session: Session, *, source_key: str, raw: bytes, received_at: datetime, reason: str, now: datetime
) -> StoreOutcome:
    """Keep a message we cannot process as it came, with the reason, for a person to look at."""
    existing = message_by_source(session, source_key=source_key)
    if existing is not None:
        return StoreOutcome(existing, created=False)
    message, _ = store_inbound(
        session,
        data=InboundMessageCreate(
            channel=Channel.EMAIL,
            source_key=source_key,
            content_hash=hashlib.sha256(raw).hexdigest(),
            received_at=received_at,
            sender_address="unknown",
            raw_ref=put_blob(session, content=raw, now=now),
            raw_size=len(raw),
        ),
        now=now,
    )
    message.status = MessageStatus.QUARANTINED
    message.status_reason = reason[:2000]
    session.add(message)
    record_event(
        session, action="quarantined", actor="intake", now=now, message_id=message.id, detail={"reason": reason[:500]}
    )
    session.flush()
    return StoreOutcome(message, created=True)


def _thread(session: Session, parsed: ParsedEmail, found: _Lookups) -> Case | None:
    """The case this email answers: our Message-ID in its headers first, else a reference in the subject."""
    for message_id in _message_ids(parsed):
        case_id = found.case_by_message_id.get(message_id)
        if case_id is not None:
            return session.get(Case, case_id)
    for reference in find_references(parsed.subject or ""):
        case = found.case_by_reference.get(str(reference))
        if case is not None:
            return case
    return None


def _attach_to_case(session: Session, message: InboundMessage, case: Case, now: datetime) -> None:
    message.case_id = case.id
    auto = message.status is MessageStatus.AUTO_GENERATED
    session.add(
        Correspondence(
            case_id=row_id(case),
            direction=Direction.INBOUND,
            channel=ContactChannel.EMAIL,
            party=Party.OTHER if auto else Party.RESIDENT,
            party_name=message.sender_address,
            occurred_at=message.received_at,
            subject=message.subject,
            body=message.body_text,
            inbound_message_id=message.id,
        )
    )
    if auto:
        # A bounce or auto-reply to something we sent: staff must see that it did not reach the resident.
        record_event(
            session,
            action="delivery_problem",
            actor="intake",
            now=now,
            case_id=case.id,
            message_id=message.id,
            detail={"reason": message.status_reason or ""},
        )
