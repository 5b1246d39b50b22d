"""Who may use staff commands and buttons: active staff (by their Telegram user id in the database),
in the staff chat or in a private chat with the bot. Everyone else is refused politely, and the
attempt is written to the audit trail (action "refused", actor "telegram")."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatType

from bot.telegram import views
from bot.telegram.context import Context, deps
from bot.telegram.queries import BOT_ACTOR
from models.people import StaffMember
from models.repository.audit import record_event
from models.repository.staff import staff_by_telegram
from models.types import row_id

REFUSED = "refused"


@dataclass(frozen=True)
class StaffRef:
    id: int
    name: str


def chat_allowed(chat_id: int | None, chat_type: str | None, staff_chat_id: int | None) -> bool:
    """Staff functions work in the staff chat and in a private chat with the bot, nowhere else."""
    if chat_id is None:
        return False
    return chat_type == ChatType.PRIVATE or (staff_chat_id is not None and chat_id == staff_chat_id)


def refusal_reason(member: StaffMember | None, *, in_allowed_chat: bool) -> str | None:
    """Why this person is refused, or None when they may go ahead."""
    if member is None:
        return "not staff"
    if not member.active:
        return "inactive staff"
    if not in_allowed_chat:
        return "wrong chat"
    return None


def check_staff(
    engine: Engine,
    *,
    telegram_user_id: int,
    chat_id: int | None,
    chat_type: str | None,
    staff_chat_id: int | None,
    what: str,
    now: datetime,
) -> StaffRef | None:
    """The staff member allowed to do `what` here, or None after auditing the refusal."""
    with Session(engine) as session:
        member = staff_by_telegram(session, telegram_user_id=telegram_user_id)
        reason = refusal_reason(member, in_allowed_chat=chat_allowed(chat_id, chat_type, staff_chat_id))
        if reason is None and member is not None:
            return StaffRef(row_id(member), member.name)
        record_event(
            session,
            action=REFUSED,
            actor=BOT_ACTOR,
            now=now,
            actor_staff_id=member.id if member is not None else None,
            detail={"what": what, "reason": reason, "telegram_user_id": telegram_user_id, "chat_id": chat_id},
        )
        session.commit()
        return None


async def authorise(update: Update, context: Context, what: str) -> StaffRef | None:
    """The staff member behind this update, or None once they have been refused (and it is audited)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None:
        return None
    triage = deps(context)
    staff = await asyncio.to_thread(
        check_staff,
        triage.engine,
        telegram_user_id=user.id,
        chat_id=chat.id if chat else None,
        chat_type=chat.type if chat else None,
        staff_chat_id=triage.settings.staff_chat_id,
        what=what,
        now=triage.clock(),
    )
    if staff is None:
        if update.callback_query is not None:
            await update.callback_query.answer(views.STAFF_ONLY_BUTTON, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(views.STAFF_ONLY)
    return staff
