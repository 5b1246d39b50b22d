"""Residents' side of the bot, in private chats: /start, messages in, receipts out, /status.

A message is committed to the database before the resident is told we have it; Telegram may deliver
an update twice, and the second delivery finds the stored message and repeats the same reference.

Before a message is stored, one read says what it is (bot.telegram.conversation): a text answering the
linking conversation (bot.telegram.linking), a text replying to an open survey (bot.telegram.survey_replies;
a photo is always a new message, for staff to see), or a new message, whose receipt carries the one-time
offer to add their details if the resident is new.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.error import TelegramError

from bot.telegram import linking, queries, survey_replies, views
from bot.telegram.context import Context, deps, post_cards_soon
from bot.telegram.conversation import chat_state
from bot.telegram.replies import reply_plain
from bot.telegram.staff_access import writing_as_staff
from intake.chat import ChatIncoming, ChatPhoto

log = logging.getLogger(__name__)


async def start(update: Update, context: Context) -> None:
    """/start and /help: what the bot is for, privacy, how to complain, the Ombudsman."""
    if update.effective_message is not None:
        await reply_plain(update.effective_message, views.welcome(deps(context).work.landlord))


async def receive(update: Update, context: Context) -> None:
    """A text or photo message: store it, commit, send the receipt, then post its staff card."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return
    if await writing_as_staff(update, context):  # active staff get the staff commands; nothing is stored
        return
    triage = deps(context)
    incoming = ChatIncoming(
        chat_id=message.chat_id,
        message_id=message.message_id,
        user_id=user.id,
        user_name=user.full_name or None,
        text=message.text or message.caption or "",
        received_at=message.date,
        photos=await photos_of(message, triage.settings.max_photo_bytes),
    )
    state = await asyncio.to_thread(
        chat_state, triage.engine, telegram_user_id=user.id, source_key=incoming.source_key, now=triage.clock()
    )
    if (
        state.link_answer
        and message.text
        and await linking.take_answer(update, context, state.link_step, incoming.source_key)
    ):
        return  # an answer in the linking conversation, not a new message
    if state.survey_reply and not message.photo:  # a photo goes to staff as a report; the survey stays open
        await survey_replies.receive(update, context, message, incoming)
        return
    try:
        stored = await asyncio.to_thread(
            queries.store_message, triage.engine, incoming, now=triage.clock(), classifier=triage.classifier
        )
    except Exception:
        await message.reply_text(views.NOT_SAVED)
        raise  # to the error handler, which logs it
    # A new resident's first receipt carries the offer to add their details (made once: see linking).
    offer = (
        state.may_offer_link
        and stored.created
        and await asyncio.to_thread(linking.claim_offer, triage.engine, telegram_user_id=user.id, now=triage.clock())
    )
    await message.reply_text(views.receipt(stored.reference), reply_markup=linking.OFFER_BUTTONS if offer else None)
    post_cards_soon(context, update)


async def photos_of(message: Message, max_bytes: int) -> tuple[ChatPhoto, ...]:
    """The largest size of the message's photo, downloaded when small enough; else its file id only."""
    if not message.photo:
        return ()
    largest = message.photo[-1]
    content: bytes | None = None
    if largest.file_size is None or largest.file_size <= max_bytes:
        try:
            file = await largest.get_file()
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning(
                "could not download the photo of chat message %s (%s); keeping its file id", message.message_id, exc
            )
    if content is not None and len(content) > max_bytes:
        content = None
    size = len(content) if content is not None else largest.file_size or 0
    return (ChatPhoto(file_id=largest.file_id, content=content, size=size),)


async def other_kind(update: Update, context: Context) -> None:
    """Stickers, voice notes, files and the like: we can only read text and photos."""
    if update.message is not None:
        await update.message.reply_text(views.ONLY_TEXT_AND_PHOTOS)


async def edited(update: Update, context: Context) -> None:
    """An edit to a message we already stored: the stored message stays as first sent."""
    if update.edited_message is not None:
        await update.edited_message.reply_text(views.EDITS_NOT_READ)


async def unknown_command(update: Update, context: Context) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(views.UNKNOWN_COMMAND)


async def status(update: Update, context: Context) -> None:
    """/status: this resident's own cases, found by their Telegram user id, and nobody else's."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    triage = deps(context)
    found = await asyncio.to_thread(queries.resident_status, triage.engine, telegram_user_id=user.id)
    await reply_plain(message, "\n".join(views.resident_status(found, triage.work.calendar.zone)))
