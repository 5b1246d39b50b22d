"""Posting a triage card to the staff chat for every message awaiting review that has none yet.

Run by a repeating job and right after a resident's chat message is stored. Runs never overlap (one
lock), and each card is recorded (an AuditEvent "card_posted") as soon as Telegram has accepted it, so
a card is posted once; if the process dies between the two, that one card is posted again (at least once).

Cards are paced by a `SendWindow` (at most so many a minute into the staff group, Telegram's limit
being about 20): what is over the budget waits for a later run, oldest acknowledgement deadline first.

A card Telegram refuses for its content (a Bad Request about the message, not the chat) is set aside
with an AuditEvent "card_failed" so it cannot block the cards behind it; the message stays in /queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.telegram import queries
from bot.telegram.cards import card_keyboard, render_card
from bot.telegram.replies import NO_PREVIEW
from scheduler.casework import Casework

log = logging.getLogger(__name__)


class SendWindow:
    """At most `per_period` sends in any `period` seconds. Told the time on each call, so tests need no sleeping."""

    def __init__(self, per_period: int, period: float = 60.0) -> None:
        self.per_period = per_period
        self.period = period
        self._sent: deque[float] = deque()

    def available(self, now: float) -> int:
        while self._sent and now - self._sent[0] >= self.period:
            self._sent.popleft()
        return max(0, self.per_period - len(self._sent))

    def record(self, now: float) -> None:
        self._sent.append(now)


async def post_new_cards(
    bot: Bot,
    *,
    engine: Engine,
    work: Casework,
    chat_id: int,
    clock: Callable[[], datetime],
    limit: int = 20,
    window: SendWindow | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Post up to `limit` new cards (fewer if `window` has less room), oldest message first; returns how many."""
    if window is not None:
        limit = min(limit, window.available(monotonic()))
    if limit <= 0:
        return 0
    cards = await asyncio.to_thread(queries.unposted_cards, engine, work, limit=limit)
    posted = 0
    for card in cards:
        if window is not None:
            window.record(monotonic())
        try:
            sent = await bot.send_message(
                chat_id,
                render_card(card, work.calendar.zone),
                parse_mode=ParseMode.HTML,
                reply_markup=card_keyboard(card.message_id),
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            if _about_the_chat(exc):
                raise
            log.exception("Telegram refused the card for message %s; set aside, still in /queue", card.message_id)
            await asyncio.to_thread(
                queries.record_card_failed, engine, message_id=card.message_id, error=exc.message, now=clock()
            )
            continue
        await asyncio.to_thread(
            queries.record_card,
            engine,
            message_id=card.message_id,
            chat_id=chat_id,
            card_message_id=sent.message_id,
            now=clock(),
        )
        posted += 1
    return posted


def _about_the_chat(exc: BadRequest) -> bool:
    """A refusal every card would get (wrong chat id, no rights there): an outage, not this card's fault."""
    text = exc.message.lower()
    return "chat" in text or "rights" in text


class CardPoster:
    """Runs `post_new_cards` one at a time, waits out flood control, and logs an outage once."""

    def __init__(
        self,
        *,
        engine: Engine,
        work: Casework,
        chat_id: int | None,
        clock: Callable[[], datetime],
        limit: int = 20,
        per_minute: int = 15,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.work = work
        self.chat_id = chat_id
        self.clock = clock
        self.limit = limit
        self.window = SendWindow(per_minute)
        self.monotonic = monotonic
        self._lock = asyncio.Lock()
        self._resume_at = 0.0
        self._failing = False

    async def run(self, bot: Bot) -> int:
        if self.chat_id is None or self.monotonic() < self._resume_at:
            return 0
        async with self._lock:
            try:
                posted = await post_new_cards(
                    bot,
                    engine=self.engine,
                    work=self.work,
                    chat_id=self.chat_id,
                    clock=self.clock,
                    limit=self.limit,
                    window=self.window,
                    monotonic=self.monotonic,
                )
            except RetryAfter as exc:
                seconds = _retry_after_seconds(exc)
                self._resume_at = self.monotonic() + seconds
                self._trouble(f"Telegram flood control: waiting {seconds:.0f} s")
                return 0
            except (TelegramError, SQLAlchemyError) as exc:
                self._trouble(f"{type(exc).__name__}: {exc}")
                return 0
        if self._failing:
            log.info("posting triage cards again")
            self._failing = False
        return posted

    def _trouble(self, what: str) -> None:
        if not self._failing:
            log.warning("cannot post triage cards (%s); retrying quietly until it works", what)
        self._failing = True


def _retry_after_seconds(exc: RetryAfter) -> float:
    # python-telegram-bot 22 gives an int with a deprecation warning, or a timedelta with PTB_TIMEDELTA set.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
