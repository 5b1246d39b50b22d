"""When a letter to a resident cannot go by chat, it goes by email instead, so they still get it.

Called by the delivery worker's `on_failure` (bot.wiring) once an outbox item has finally failed, in the
same transaction. For a chat item to a resident:

- it is recorded on the case (an audit event `delivery_fallback`, beside the worker's `delivery_failed`);
- if the resident has an email address, the same letter is enqueued by email, once (its key is the
  chat item's key plus `FALLBACK_SUFFIX`), with its own Message-ID so a reply threads back to the case;
- if Telegram refused the chat for good (blocked bot, deleted chat: a `PermanentDeliveryError`), their
  preferred channel becomes email, so later letters go by email from the start. A chat item that only
  ran out of attempts (Telegram down for hours) is sent by email too, but the preference is kept.

Staff are told by the usual delivery failure alert (scheduler.alerts), which the wiring sends as well.
Nothing here runs for email items, so a failed fallback cannot start a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models.enums import ContactChannel, OutboxChannel, Party
from models.outbox import OutboxItem
from models.people import Resident
from models.repository.audit import record_event
from models.repository.outbox import enqueue
from models.repository.residents import resident_by_telegram
from scheduler.casework import Casework

ACTION = "delivery_fallback"
ACTOR = "outbox"
FALLBACK_SUFFIX = ":by-email"
# The worker writes this before the last error of an item that ran out of attempts (scheduler.delivery);
# any other final failure was a PermanentDeliveryError: Telegram refused this chat for good.
GAVE_UP = "gave up after"
KEY_LIMIT = 200


@dataclass(frozen=True)
class Fallback:
    email_item: OutboxItem | None  # the letter enqueued by email, or None when there is no address
    switched: bool  # the resident's preferred channel changed to email


def chat_is_gone(item: OutboxItem) -> bool:
    """Telegram refused this chat for good (as opposed to the item running out of attempts)."""
    return not (item.last_error or "").startswith(GAVE_UP)


def fallback_key(item: OutboxItem) -> str:
    key = item.idempotency_key
    if len(key) + len(FALLBACK_SUFFIX) > KEY_LIMIT:
        key = f"{key[: KEY_LIMIT - len(FALLBACK_SUFFIX) - 12]}#{item.id or 0:011d}"
    return key + FALLBACK_SUFFIX


def fall_back_to_email(session: Session, item: OutboxItem, *, now: datetime, work: Casework) -> Fallback | None:
    """Send a resident's failed chat letter by email instead, once; None when the rule does not apply."""
    if item.channel is not OutboxChannel.TELEGRAM or item.party is not Party.RESIDENT:
        return None
    resident = _resident_for(session, item)
    if resident is None:
        return None
    gone = chat_is_gone(item)
    switched = gone and resident.email is not None and resident.preferred_channel is not ContactChannel.EMAIL
    if switched:
        resident.preferred_channel = ContactChannel.EMAIL
        session.add(resident)
    email_item = None
    if resident.email is not None:
        key = fallback_key(item)
        email_item, _ = enqueue(
            session,
            key=key,
            channel=OutboxChannel.EMAIL,
            recipient=resident.email,
            subject=item.subject,
            body_text=item.body_text,
            body_html=item.body_html,
            case_id=item.case_id,
            message_id_header=work.message_id(key),
            party=Party.RESIDENT,
            now=now,
        )
    record_event(
        session,
        action=ACTION,
        actor=ACTOR,
        now=now,
        case_id=item.case_id,
        detail={
            "outbox_item_id": item.id,
            "resident_id": resident.id,
            "chat_refused": gone,
            "email_item_id": email_item.id if email_item else None,
            "preferred_channel": "email" if switched else resident.preferred_channel.value,
            "outcome": "sent by email instead" if email_item else "no email address on record: reach them another way",
        },
    )
    session.flush()
    return Fallback(email_item, switched)


def _resident_for(session: Session, item: OutboxItem) -> Resident | None:
    try:
        telegram_user_id = int(item.recipient.strip())
    except ValueError:
        return None
    return resident_by_telegram(session, telegram_user_id=telegram_user_id)
