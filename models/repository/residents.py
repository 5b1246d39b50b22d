from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from models.people import Resident, ResidentCreate


def add_resident(session: Session, *, data: ResidentCreate, now: datetime) -> Resident:
    resident = Resident.model_validate(data, update={"created_at": now})
    session.add(resident)
    session.flush()
    return resident


def resident_by_email(session: Session, *, email: str) -> Resident | None:
    """Addresses compare case-insensitively; the oldest record wins where duplicates slipped in."""
    query = select(Resident).where(col(Resident.email).ilike(email.strip())).order_by(col(Resident.id))
    return session.exec(query).first()


def resident_by_telegram(session: Session, *, telegram_user_id: int) -> Resident | None:
    return session.exec(select(Resident).where(Resident.telegram_user_id == telegram_user_id)).first()
