"""Staff handlers' way in: `bot.telegram.auth.authorise`, and the staff member's @username kept current.

Also the quiet check used where a refusal would be wrong: an active staff member writing to the bot
privately is told the staff commands instead of being stored as a resident (inactive staff are residents
like anyone else there).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update

from bot.telegram import auth, staff_views
from bot.telegram.auth import StaffRef
from bot.telegram.context import Context, deps
from models.repository.staff import set_telegram_username, staff_by_telegram


def remember_username(engine: Engine, *, staff_id: int, username: str | None) -> None:
    """Store the @username Telegram shows for this staff member, if it changed (so /assign @name finds them)."""
    with Session(engine) as session:
        if set_telegram_username(session, staff_id=staff_id, username=username):
            session.commit()


def is_active_staff(engine: Engine, *, telegram_user_id: int) -> bool:
    with Session(engine) as session:
        member = staff_by_telegram(session, telegram_user_id=telegram_user_id)
        return member is not None and member.active


async def authorise(update: Update, context: Context, what: str) -> StaffRef | None:
    """The staff member behind this update (their @username refreshed), or None once refused and audited."""
    staff = await auth.authorise(update, context, what)
    user = update.effective_user
    if staff is not None and user is not None:
        await asyncio.to_thread(remember_username, deps(context).engine, staff_id=staff.id, username=user.username)
    return staff


async def writing_as_staff(update: Update, context: Context) -> bool:
    """True (after answering with the staff commands) when an active staff member wrote; never stored then."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return False
    if not await asyncio.to_thread(is_active_staff, deps(context).engine, telegram_user_id=user.id):
        return False
    await message.reply_text(staff_views.PRIVATE_HINT)
    return True
