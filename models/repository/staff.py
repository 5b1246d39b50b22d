from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.errors import ConflictError
from models.people import StaffMember, StaffMemberCreate


def add_staff(session: Session, *, data: StaffMemberCreate, now: datetime) -> StaffMember:
    # Addresses are unique whatever their case: Ada@X and ada@x are the same mailbox.
    member = StaffMember.model_validate(data, update={"created_at": now, "email": data.email.strip().lower()})
    try:
        with session.begin_nested():
            session.add(member)
    except IntegrityError as exc:
        raise ConflictError(f"a staff member with email {data.email} or that Telegram user id already exists") from exc
    return member


def list_staff(session: Session, *, active_only: bool = False) -> list[StaffMember]:
    query = select(StaffMember).order_by(col(StaffMember.name))
    if active_only:
        query = query.where(col(StaffMember.active).is_(True))
    return list(session.exec(query))


def get_staff(session: Session, *, staff_id: int) -> StaffMember | None:
    return session.get(StaffMember, staff_id)


def staff_by_telegram(session: Session, *, telegram_user_id: int) -> StaffMember | None:
    return session.exec(select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)).first()


def staff_by_email(session: Session, *, email: str) -> StaffMember | None:
    query = select(StaffMember).where(col(StaffMember.email).ilike(email.strip()))
    return session.exec(query).first()
