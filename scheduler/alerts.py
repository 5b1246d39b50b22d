"""Telling staff when something we sent could not be delivered."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.cases import Case
from models.enums import OutboxChannel, Party
from models.outbox import OutboxItem
from models.repository.outbox import NewMessage, enqueue_many
from scheduler.casework import Casework
from scheduler.jobs import complaints_officers, staff_email
from scheduler.letters import DeliveryFailureAlert, render_delivery_failure_alert

ALERT_PREFIX = "delivery-failed:"


def alert_delivery_failure(session: Session, item: OutboxItem, *, now: datetime, work: Casework) -> int:
    """Email the complaints officers about a message that finally failed. Never about a failed alert
    to staff, so one bad address cannot start a loop of alerts."""
    if item.party is Party.STAFF:
        return 0
    case = session.get(Case, item.case_id) if item.case_id else None
    letter = render_delivery_failure_alert(
        DeliveryFailureAlert(
            reference=case.reference if case else None,
            recipient=item.recipient,
            channel=item.channel.value,
            attempts=item.attempts,
            last_error=item.last_error or "",
            original_subject=item.subject or "",
        ),
        work.landlord,
    )
    messages = [
        staff_email(person, f"{ALERT_PREFIX}{item.id}:{person.id}", letter, work, case_id=item.case_id)
        for person in complaints_officers(session)
    ]
    if work.staff_chat_id is not None:
        messages.append(
            NewMessage(
                key=f"{ALERT_PREFIX}{item.id}:chat",
                channel=OutboxChannel.TELEGRAM,
                recipient=str(work.staff_chat_id),
                body_text=letter.text,
                case_id=item.case_id,
                party=Party.STAFF,
            )
        )
    return enqueue_many(session, messages=messages, now=now)
