"""What staff record about a message besides its label: a rewritten draft definition, and a link to the case
the message belongs to.

Both are audit events (who, when, what), so they need no table of their own and survive a restart. A
rewritten definition waits on the message until the triage decision, which then uses it for the case
(`scheduler.actions.confirm_triage(definition=...)`); the cards show it in place of the classifier's draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from models.people import StaffMember
from models.records import AuditEvent
from models.repository.audit import record_event

DEFINITION_EDITED = "definition_edited"
MESSAGE_LINKED = "message_linked"


@dataclass(frozen=True)
class EditedDefinition:
    text: str
    staff_name: str
    edited_at: datetime


def record_definition(session: Session, *, message_id: int, text: str, staff_id: int, now: datetime) -> None:
    """Keep a staff member's definition for a message that has no case yet (flushes, never commits)."""
    record_event(
        session,
        action=DEFINITION_EDITED,
        actor="staff",
        actor_staff_id=staff_id,
        now=now,
        message_id=message_id,
        detail={"definition": text},
    )


def edited_definitions(session: Session, message_ids: Sequence[int]) -> dict[int, EditedDefinition]:
    """The latest rewritten definition of each of these messages that has one."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(AuditEvent, StaffMember)
        .join(StaffMember, col(StaffMember.id) == col(AuditEvent.actor_staff_id), isouter=True)
        .where(AuditEvent.action == DEFINITION_EDITED, col(AuditEvent.message_id).in_(list(message_ids)))
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
    )
    found: dict[int, EditedDefinition] = {}
    for event, staff in rows:
        text = event.detail.get("definition")
        if event.message_id is not None and isinstance(text, str):
            found[event.message_id] = EditedDefinition(text, staff.name if staff else "someone", event.occurred_at)
    return found


def was_linked(session: Session, message_id: int) -> bool:
    """Whether the message's triage decision was a link to an existing case."""
    query = select(AuditEvent.id).where(AuditEvent.action == MESSAGE_LINKED, AuditEvent.message_id == message_id)
    return session.exec(query).first() is not None
