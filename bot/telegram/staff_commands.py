"""Staff case commands: /assign, /define, /respond, /escalate, /extend, /exclude, /close, and /help.

Each handler authorises first, reads what was typed (`staff_syntax`; anything missing gets the usage),
runs the action in a thread (`casefile`, through the existing actions that hold the Code's rules and
audit with the staff member as actor), and answers with the outcome and the case's dates, or with the
rule's refusal as one polite line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine
from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.telegram import casefile, resident, staff_views
from bot.telegram.context import Context, deps
from bot.telegram.replies import reply_html, reply_plain
from bot.telegram.staff_access import authorise, is_active_staff
from bot.telegram.staff_syntax import (
    Usage,
    after_command,
    parse_assign,
    parse_close,
    parse_define,
    parse_escalate,
    parse_exclude,
    parse_extend,
    parse_respond,
)
from scheduler.casework import Casework

log = logging.getLogger(__name__)

F = TypeVar("F")
F_contra = TypeVar("F_contra", contravariant=True)

STAFF_COMMANDS = [
    BotCommand("queue", "Messages awaiting review"),
    BotCommand("case", "REF: a case's status and dates"),
    BotCommand("assign", "REF @handler"),
    BotCommand("define", "REF the complaint definition"),
    BotCommand("respond", "REF upheld / partly upheld / not upheld, then reasons:"),
    BotCommand("escalate", "REF [@handler]: the resident wants stage 2"),
    BotCommand("extend", "REF DAYS reason"),
    BotCommand("exclude", "REF reasons"),
    BotCommand("close", "REF"),
    BotCommand("help", "How to write the staff commands"),
]


class Run(Protocol[F_contra]):
    def __call__(
        self, engine: Engine, work: Casework, form: F_contra, /, *, staff_id: int, now: datetime
    ) -> casefile.Outcome: ...


async def run_case_command(
    update: Update, context: Context, name: str, parse: Callable[[str], F | Usage], run: Run[F]
) -> None:
    """Authorise, read the command, act in a thread, answer with the outcome (or usage, or the refusal)."""
    message = update.effective_message
    if message is None:
        return
    staff = await authorise(update, context, name)
    if staff is None:
        return
    form = parse(after_command(message.text))
    if isinstance(form, Usage):
        await message.reply_text(staff_views.usage(form))
        return
    triage = deps(context)
    try:
        result = await asyncio.to_thread(run, triage.engine, triage.work, form, staff_id=staff.id, now=triage.clock())
    except Exception:
        await message.reply_text(staff_views.FAILED)
        raise  # to the error handler, which logs it
    if isinstance(result, casefile.NotDone):
        await message.reply_text(staff_views.not_done(result.reason))
    else:
        await reply_html(message, staff_views.outcome(result.said, result.case))


async def assign(update: Update, context: Context) -> None:
    """/assign REF @handler"""
    await run_case_command(update, context, "assign", parse_assign, casefile.assign)


async def define(update: Update, context: Context) -> None:
    """/define REF text"""
    await run_case_command(update, context, "define", parse_define, casefile.define)


async def respond(update: Update, context: Context) -> None:
    """/respond REF decision, then lines reasons: / remedy: / actions:"""
    await run_case_command(update, context, "respond", parse_respond, casefile.respond)


async def escalate(update: Update, context: Context) -> None:
    """/escalate REF [@handler] [what the resident said]"""
    await run_case_command(update, context, "escalate", parse_escalate, casefile.escalate)


async def extend(update: Update, context: Context) -> None:
    """/extend REF DAYS reason [good reason: ...]"""
    await run_case_command(update, context, "extend", parse_extend, casefile.extend)


async def exclude(update: Update, context: Context) -> None:
    """/exclude REF reasons"""
    await run_case_command(update, context, "exclude", parse_exclude, casefile.exclude)


async def close(update: Update, context: Context) -> None:
    """/close REF"""
    await run_case_command(update, context, "close", parse_close, casefile.close)


# The case commands, for app.py to wire: each acts on new messages only (an edited command is not redone).
CASE_COMMANDS = {
    "assign": assign,
    "define": define,
    "respond": respond,
    "escalate": escalate,
    "extend": extend,
    "exclude": exclude,
    "close": close,
}


async def show_help(update: Update, context: Context) -> None:
    """/help: the staff commands for authorised staff; in a private chat, anyone else gets the resident /start."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if chat.type == ChatType.PRIVATE:
        if not await asyncio.to_thread(is_active_staff, deps(context).engine, telegram_user_id=user.id):
            await resident.start(update, context)
            return
    elif await authorise(update, context, "help") is None:
        return
    await reply_plain(message, staff_views.STAFF_HELP)


async def advertise(bot: Bot, staff_chat_id: int | None) -> None:
    """The staff command menu, in the staff chat only (residents keep their own)."""
    if staff_chat_id is None:
        return
    try:
        await bot.set_my_commands(STAFF_COMMANDS, scope=BotCommandScopeChat(staff_chat_id))
    except TelegramError as exc:  # a nicety, as for the residents' menu
        log.warning("could not set the staff chat's command menu: %s", exc)
