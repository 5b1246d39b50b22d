"""Staff side of the bot: the triage buttons on cards, /queue and /case. Every handler authorises first.

The case commands are in `staff_commands`, the Edit definition and Link to case\u2026 buttons in `prompts`.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ParseMode

from bot.telegram import queries, views
from bot.telegram.cards import already_decided_text, decision_text, parse_callback, render_card, trim
from bot.telegram.context import Context, deps
from bot.telegram.replies import NO_PREVIEW, reply_html
from bot.telegram.staff_access import authorise

ANSWER_LIMIT = 200  # Telegram's limit for a callback query answer


async def triage_button(update: Update, context: Context) -> None:
    """A tap on a card's button: confirm the triage, commit, redraw the card with the outcome, answer."""
    query = update.callback_query
    parsed = parse_callback(query.data if query else None)
    if query is None or parsed is None:
        return
    staff = await authorise(update, context, "triage")
    if staff is None:
        return
    triage = deps(context)
    zone = triage.work.calendar.zone
    message_id, label = parsed
    result = await asyncio.to_thread(
        queries.decide,
        triage.engine,
        triage.work,
        message_id=message_id,
        staff_id=staff.id,
        label=label,
        now=triage.clock(),
    )
    if isinstance(result, queries.Decided):
        try:
            if result.card is not None:
                await query.edit_message_text(
                    render_card(result.card, zone, decision=result.line),
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                )
        finally:
            await query.answer(trim(decision_text(result.line, zone), ANSWER_LIMIT))
    elif isinstance(result, queries.AlreadyDecided):
        await query.answer(trim(already_decided_text(result.line, zone), ANSWER_LIMIT), show_alert=True)
    else:
        await query.answer(trim(result.reason, ANSWER_LIMIT), show_alert=True)


async def show_queue(update: Update, context: Context) -> None:
    """/queue: messages awaiting review, the earliest acknowledgement deadline first."""
    message = update.effective_message
    if message is None or await authorise(update, context, "queue") is None:
        return
    triage = deps(context)
    cards, total = await asyncio.to_thread(queries.awaiting_review, triage.engine, triage.work, limit=views.QUEUE_SHOWN)
    await reply_html(message, views.queue(cards, total, triage.work.calendar.zone))


async def show_case(update: Update, context: Context) -> None:
    """/case REF: the case's status, stage and dates."""
    message = update.effective_message
    if message is None or await authorise(update, context, "case") is None:
        return
    if not context.args:
        await message.reply_text(views.CASE_USAGE)
        return
    triage = deps(context)
    view = await asyncio.to_thread(queries.case_view, triage.engine, reference=context.args[0])
    if view is None:
        await reply_html(message, [views.case_not_found(context.args[0])])
        return
    await reply_html(message, views.case(view, triage.clock(), triage.work.calendar.zone))
