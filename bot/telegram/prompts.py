"""The card buttons that ask for a reply: Edit definition and Link to case….

A tap sends a prompt (with ForceReply, so the staff member's phone opens a reply to it) whose text starts
with what it asks for and the message's reference: "New definition for MSG-000123 — …". The answer is a
reply to that prompt; the handler reads the reference back out of the replied-to prompt, after checking
the bot itself sent it. No state is kept in memory, so a prompt still works after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import tzinfo

from telegram import Bot, ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import filters

from bot.telegram import casefile, staff_views
from bot.telegram.cards import PromptKind, card_keyboard, esc, parse_prompt_callback, render_card, trim
from bot.telegram.context import Context, deps
from bot.telegram.replies import NO_PREVIEW, reply_html
from bot.telegram.staff_access import authorise
from bot.telegram.staff_syntax import reference_in

log = logging.getLogger(__name__)

ANSWER_LIMIT = 200  # Telegram's limit for a callback query answer
ASKS = {
    PromptKind.DEFINITION: "New definition for",
    PromptKind.LINK: "Case reference for",
}
_KIND_OF_ASK = {ask: kind for kind, ask in ASKS.items()}
_PROMPT = re.compile(r"^(New definition for|Case reference for) MSG-(\d{6,18})\b")
WHAT_TO_REPLY = {
    PromptKind.DEFINITION: "reply to this message with what the resident is unhappy about and the outcome they "
    "want (Code 5.6).",
    PromptKind.LINK: "reply to this message with the case it belongs to, e.g. CMP-2026-00042.",
}
PLACEHOLDERS = {PromptKind.DEFINITION: "The resident is unhappy that\u2026", PromptKind.LINK: "CMP-2026-00042"}
NOT_A_REFERENCE = "That is not a case reference. Reply to the prompt again with one like CMP-2026-00042."
GONE = "That message is no longer stored."
REPLYING = {PromptKind.DEFINITION: "reply to definition", PromptKind.LINK: "reply to link"}  # what, for the audit
LOOK_BELOW = "Reply to the bot's message below."


def prompt_html(kind: PromptKind, reference: str, *, staff_name: str, telegram_user_id: int) -> str:
    """The prompt: what it asks and the reference first (read back from the reply), then whose turn it is."""
    mention = f'<a href="tg://user?id={telegram_user_id}">{esc(trim(staff_name, 64))}</a>'
    return f"{ASKS[kind]} {esc(reference)} \u2014 {mention}, {WHAT_TO_REPLY[kind]}"


def parse_prompt(text: str | None) -> tuple[PromptKind, int] | None:
    """(what was asked, the message id) from a prompt's text as Telegram shows it, else None."""
    match = _PROMPT.match(text or "")
    if match is None:
        return None
    return _KIND_OF_ASK[match.group(1)], int(match.group(2))


def prompt_replied_to(message: Message) -> tuple[PromptKind, int] | None:
    """The prompt this message answers: only a reply to one the bot itself sent counts."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != message.get_bot().id:
        return None
    return parse_prompt(replied.text)


class _PromptReply(filters.MessageFilter):
    __slots__ = ()

    def filter(self, message: Message) -> bool:
        return prompt_replied_to(message) is not None


PROMPT_REPLY = _PromptReply(name="PromptReply")


async def ask(update: Update, context: Context) -> None:
    """Edit definition / Link to case…: send the prompt to reply to, under the card."""
    query = update.callback_query
    parsed = parse_prompt_callback(query.data if query else None)
    if query is None or parsed is None:
        return
    staff = await authorise(update, context, "prompt")
    if staff is None:
        return
    message_id, kind = parsed
    triage = deps(context)
    target = await asyncio.to_thread(casefile.prompt_target, triage.engine, triage.work, message_id=message_id)
    card = query.message
    if target is None or card is None:
        await query.answer(GONE, show_alert=True)
        return
    if kind is PromptKind.LINK and target.decided:
        await query.answer(trim(target.decided, ANSWER_LIMIT), show_alert=True)
        return
    await context.bot.send_message(
        card.chat.id,
        prompt_html(kind, target.reference, staff_name=staff.name, telegram_user_id=query.from_user.id),
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(selective=True, input_field_placeholder=PLACEHOLDERS[kind]),
        reply_parameters=ReplyParameters(card.message_id, allow_sending_without_reply=True),
        link_preview_options=NO_PREVIEW,
    )
    await query.answer(LOOK_BELOW)


async def answer(update: Update, context: Context) -> None:
    """A reply to a prompt: set the definition, or link the message to the case named in it."""
    message = update.effective_message
    asked = prompt_replied_to(message) if message is not None else None
    if message is None or asked is None:
        return
    kind, message_id = asked
    staff = await authorise(update, context, REPLYING[kind])
    if staff is None:
        return
    triage = deps(context)
    text = (message.text or "").strip()
    reference = reference_in(text)
    if kind is PromptKind.LINK and reference is None:
        await message.reply_text(NOT_A_REFERENCE)
        return
    try:
        if reference is not None and kind is PromptKind.LINK:
            result = await asyncio.to_thread(
                casefile.link_message,
                triage.engine,
                triage.work,
                message_id=message_id,
                reference=reference,
                staff_id=staff.id,
                now=triage.clock(),
            )
        else:
            result = await asyncio.to_thread(
                casefile.define_message,
                triage.engine,
                triage.work,
                message_id=message_id,
                text=text,
                staff_id=staff.id,
                now=triage.clock(),
            )
    except Exception:
        await message.reply_text(staff_views.FAILED)
        raise  # to the error handler, which logs it
    if isinstance(result, casefile.NotDone):
        await message.reply_text(staff_views.not_done(result.reason))
        return
    await reply_html(message, staff_views.outcome(result.said, result.case))
    if result.card is not None:
        await redraw(context.bot, result.card, triage.work.calendar.zone)


async def redraw(bot: Bot, place: casefile.CardPlace, zone: tzinfo) -> None:
    """Show the card as it now reads: with its buttons while undecided, with the outcome once decided."""
    try:
        await bot.edit_message_text(
            render_card(place.card, zone, decision=place.decision),
            chat_id=place.chat_id,
            message_id=place.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=card_keyboard(place.card.message_id) if place.decision is None else None,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:  # the card was deleted, or already reads this way: the record is what matters
        log.warning("could not redraw the card of message %s: %s", place.card.message_id, exc.message)
