from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

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


def clean_username(username: str | None) -> str | None:
    """A Telegram @username as stored: without the @, None when there is none."""
    cleaned = (username or "").strip().removeprefix("@")
    return cleaned or None


def set_telegram_username(session: Session, *, staff_id: int, username: str | None) -> bool:
    """Keep a staff member's @username as Telegram last showed it; True when it changed.

    Usernames are unique on Telegram at any moment, so anyone else still holding this one (case-insensitive)
    has changed theirs since, and loses it here.
    """
    member = session.get(StaffMember, staff_id)
    wanted = clean_username(username)
    if member is None or member.telegram_username == wanted:
        return False
    if wanted is not None:
        for other in session.exec(
            select(StaffMember).where(
                func.lower(col(StaffMember.telegram_username)) == wanted.lower(), col(StaffMember.id) != staff_id
            )
        ):
            other.telegram_username = None
            session.add(other)
    member.telegram_username = wanted
    session.add(member)
    session.flush()
    return True


def staff_by_handle(session: Session, *, handle: str) -> StaffMember | None:
    """The staff member a person means by `@name` (their Telegram username, any case) or an exact e-mail address.

    Raises ConflictError when two staff members carry the same username (then use the e-mail address).
    """
    text = handle.strip()
    username = clean_username(text)
    if username is not None and "@" not in username:
        found = list(
            session.exec(select(StaffMember).where(func.lower(col(StaffMember.telegram_username)) == username.lower()))
        )
        if len(found) > 1:
            raise ConflictError(
                f"More than one staff member has the Telegram username @{username}; use an e-mail address."
            )
        if found:
            return found[0]
    return session.exec(select(StaffMember).where(StaffMember.email == text.lower())).first()
