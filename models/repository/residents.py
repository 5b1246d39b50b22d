from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from models.people import Resident, ResidentCreate


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
