"""Builds the Telegram application: the one place that wires handlers, the card job and the error handler.

Handler order matters within a group (the first match wins): commands (staff /help before the residents'
/start and /help, which it hands residents on to), then the card buttons, then replies to the bot's prompts
(before residents' messages, so a staff member's answer is never stored as one), then residents' messages,
with the catch-alls last. Resident handlers answer only in private chats; staff
handlers check who is asking (bot.telegram.auth) wherever they are used.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.runner.heartbeat import Heartbeat
from bot.telegram import linking, prompts, resident, staff, staff_commands
from bot.telegram.cards import CALLBACK_PATTERN, PROMPT_CALLBACK_PATTERN
from bot.telegram.context import KEY, Context, Triage, deps
from bot.telegram.posting import CardPoster
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from scheduler.casework import Casework

log = logging.getLogger(__name__)

TriageApplication = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]]

RESIDENT_COMMANDS = [
    BotCommand("start", "What this is for, your privacy, how to complain"),
    BotCommand("status", "Your cases and where they are"),
]

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE
READABLE = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO
# Runs first for every update, beside the handlers, never instead of them: liveness for `triage status`.
HEARTBEAT_GROUP = -1


def build_application(
    settings: BotSettings,
    *,
    engine: Engine,
    casework: Casework,
    classifier: Classifier | None,
    clock: Callable[[], datetime],
) -> TriageApplication:
    limiter = AIORateLimiter(group_max_rate=settings.group_messages_per_minute, group_time_period=60, max_retries=2)
    builder = ApplicationBuilder().token(settings.token).rate_limiter(limiter).post_init(_advertise_commands)
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    if settings.base_file_url:
        builder = builder.base_file_url(settings.base_file_url)
    application = builder.build()
    poster = CardPoster(
        engine=engine,
        work=casework,
        chat_id=settings.staff_chat_id,
        clock=clock,
        limit=settings.cards_per_run,
        per_minute=settings.cards_per_minute,
    )
    application.bot_data[KEY] = Triage(settings, engine, casework, classifier, clock, poster)
    heartbeat = Heartbeat(engine, clock)
    application.add_handler(TypeHandler(Update, heartbeat.on_update, block=False), group=HEARTBEAT_GROUP)

    application.add_handlers(
        [
            CommandHandler("help", staff_commands.show_help),
            CommandHandler(["start", "help"], resident.start, filters=PRIVATE),
            CommandHandler("status", resident.status, filters=PRIVATE),
            CommandHandler("skip", linking.skip_command, filters=PRIVATE),
            CommandHandler("cancel", linking.cancel_command, filters=PRIVATE),
            CommandHandler("queue", staff.show_queue),
            CommandHandler("case", staff.show_case),
            *(CommandHandler(name, run, filters=NEW_MESSAGE) for name, run in staff_commands.CASE_COMMANDS.items()),
            CallbackQueryHandler(staff.triage_button, pattern=CALLBACK_PATTERN),
            CallbackQueryHandler(prompts.ask, pattern=PROMPT_CALLBACK_PATTERN),
            CallbackQueryHandler(linking.button, pattern=linking.CALLBACK_PATTERN),
            MessageHandler(NEW_MESSAGE & filters.TEXT & ~filters.COMMAND & prompts.PROMPT_REPLY, prompts.answer),
            MessageHandler(PRIVATE & NEW_MESSAGE & READABLE, resident.receive),
            MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, resident.unknown_command),
            MessageHandler(PRIVATE & NEW_MESSAGE & ~filters.StatusUpdate.ALL, resident.other_kind),
            MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, resident.edited),
        ]
    )
    application.add_error_handler(on_error)

    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot's job queue is missing: install APScheduler")
    if settings.staff_chat_id is not None:
        application.job_queue.run_repeating(
            post_cards, interval=settings.card_poll_seconds, first=settings.card_poll_seconds, name="post-cards"
        )
    return application


async def post_cards(context: Context) -> None:
    """The repeating job: cards for anything awaiting review that has none (email as well as chat)."""
    await deps(context).poster.run(context.bot)


async def _advertise_commands(application: TriageApplication) -> None:
    try:
        await application.bot.set_my_commands(RESIDENT_COMMANDS)
    except TelegramError as exc:  # a nicety: the bot works without its command menu
        log.warning("could not set the bot's command menu: %s", exc)
    triage = application.bot_data.get(KEY)
    if isinstance(triage, Triage):
        await staff_commands.advertise(application.bot, triage.settings.staff_chat_id)


async def on_error(update: object, context: Context) -> None:
    """The one error handler: log what failed (never the resident's text), tell a waiting tap, carry on."""
    error = context.error
    if isinstance(update, Update):
        where = f"update {update.update_id}"
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer("Sorry, that did not work. Please try again.", show_alert=True)
    else:
        where = "a job" if update is None else type(update).__name__
    log.error("error while handling %s: %s", where, type(error).__name__, exc_info=error)
