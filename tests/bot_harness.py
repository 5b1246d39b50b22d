"""What the bot tests share: the landlord's casework, the staff chat, a movable clock, and the application
built as production builds it (`build_application`) against the loopback Bot API server, started without
polling so that a test hands it one update at a time with `handle`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from telegram import Update

from bot.telegram.app import TriageApplication, build_application
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.letters import LandlordDetails
from tests.servers.telegram_api import BotApiServer

STAFF_CHAT = -1001234567890
RESIDENT = 555_000_111
WORK = Casework(
    calendar=WorkingCalendar(),
    message_id_domain="triage.test",
    staff_chat_id=STAFF_CHAT,
    landlord=LandlordDetails(
        name="Riverside Homes", complaints_email="complaints@riverside.example", complaints_phone="0161 000 0000"
    ),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    """The application's clock, which a test moves on."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@asynccontextmanager
async def started_application(
    api: BotApiServer,
    engine: sa.Engine,
    classifier: Classifier | None,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[TriageApplication]:
    """The application, started but not polling; the card job slowed right down so only a test posts cards."""
    settings = BotSettings(
        token=api.token,
        staff_chat_id=STAFF_CHAT,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        card_poll_seconds=3600,
    )
    application = build_application(settings, engine=engine, casework=WORK, classifier=classifier, clock=clock)
    async with application:
        await application.start()
        try:
            yield application
        finally:
            await application.stop()


async def handle(app: TriageApplication, update_id: int) -> Update:
    """Fetch the update the server queued as `update_id` (acknowledging earlier ones) and process it."""
    (update,) = await app.bot.get_updates(offset=update_id, limit=1, timeout=0)
    assert update.update_id == update_id
    await app.process_update(update)
    return update
