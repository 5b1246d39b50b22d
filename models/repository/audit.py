from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.records import AuditEvent


def record_event(
    session: Session,
    *,
    action: str,
    actor: str,
    now: datetime,
    actor_staff_id: int | None = None,
    case_id: int | None = None,
    message_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor,
        occurred_at=now,
        actor_staff_id=actor_staff_id,
        case_id=case_id,
        message_id=message_id,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def events_for_case(session: Session, *, case_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id)
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
    )
    return list(session.exec(query))
