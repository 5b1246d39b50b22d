from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.messages import InboundMessage
from models.people import Resident, ResidentCreate
from models.records import AuditEvent


def add_resident(session: Session, *, data: ResidentCreate, now: datetime) -> Resident:
    email = data.email.strip().lower() if data.email else None
    resident = Resident.model_validate(data, update={"created_at": now, "email": email})
    session.add(resident)
    session.flush()
    return resident


def resident_by_email(session: Session, *, email: str) -> Resident | None:
    """Addresses are stored lower-case; the oldest record wins where duplicates slipped in."""
    query = select(Resident).where(Resident.email == email.strip().lower()).order_by(col(Resident.id))
    return session.exec(query).first()


def resident_by_telegram(session: Session, *, telegram_user_id: int) -> Resident | None:
    return session.exec(select(Resident).where(Resident.telegram_user_id == telegram_user_id)).first()


def residents_by_emails(session: Session, *, emails: Sequence[str]) -> dict[str, Resident]:
    """The oldest resident record for each address (addresses are stored lower-case)."""
    wanted = sorted({e.strip().lower() for e in emails})
    if not wanted:
        return {}
    found: dict[str, Resident] = {}
    for resident in session.exec(select(Resident).where(col(Resident.email).in_(wanted)).order_by(col(Resident.id))):
        if resident.email is not None:
            found.setdefault(resident.email, resident)
    return found


# ------------------------------------------------------------------ linking a chat user to their record
# The linking conversation's steps are audit events with this action, each keyed by the resident's first
# stored message (`message_id`), so one indexed look-up finds them and they survive a restart.
LINK_ACTION = "resident_link"


def claim_link_offer(session: Session, *, resident_id: int, now: datetime) -> bool:
    """Mark a provisional resident as offered the linking conversation, once: True only for the caller
    whose UPDATE set it, so two workers handling the same person's messages never both offer it."""
    claimed = session.execute(
        sa.update(Resident)
        .where(
            col(Resident.id) == resident_id,
            col(Resident.provisional).is_(True),
            col(Resident.link_offered_at).is_(None),
        )
        .values(link_offered_at=now)
        .returning(col(Resident.id))
    ).first()
    return claimed is not None


def first_message_id(session: Session, *, resident_id: int) -> int | None:
    """The resident's first stored message: what their linking events are keyed by."""
    query = select(func.min(InboundMessage.id)).where(InboundMessage.resident_id == resident_id)
    found = session.exec(query).one()
    return int(found) if found is not None else None


def link_events(session: Session, *, resident_id: int) -> list[AuditEvent]:
    """This resident's linking conversation, step by step (empty if it was never offered)."""
    first = select(func.min(InboundMessage.id)).where(InboundMessage.resident_id == resident_id).scalar_subquery()
    query = (
        select(AuditEvent)
        .where(AuditEvent.action == LINK_ACTION, AuditEvent.message_id == first)
        .order_by(col(AuditEvent.id))
    )
    return list(session.exec(query))


def other_resident_with_email(session: Session, *, email: str, resident_id: int) -> Resident | None:
    """The oldest other resident record holding this address, if any (addresses are stored lower-case)."""
    query = (
        select(Resident)
        .where(Resident.email == email.strip().lower(), Resident.id != resident_id)
        .order_by(col(Resident.id))
    )
    return session.exec(query).first()
