"""Sending answers that may be long: cut under Telegram's limit, staff HTML without link previews."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode

from bot.telegram.views import chunk_lines
from scheduler.senders import split_text

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def reply_plain(message: Message, text: str) -> None:
    """Plain text (no parse mode): what residents get, so nothing in it can break the markup."""
    for part in split_text(text):
        await message.reply_text(part, link_preview_options=NO_PREVIEW)


async def reply_html(message: Message, lines: Sequence[str]) -> None:
    """HTML lines (each complete in itself), in as few messages as fit."""
    for part in chunk_lines(lines):
        await message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
