"""Cards are paced to stay inside Telegram's limit for a group (about 20 messages a minute).

A burst of mail must not get the bot refused (429) in the staff chat, and must leave room for staff
taps and command replies: cards take at most `cards_per_minute`, the rest wait in the database, oldest
acknowledgement deadline first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select
from telegram import Bot

import models.tables  # noqa: F401  (registers every table)
from bot.telegram.posting import CardPoster, SendWindow
from bot.telegram.settings import BotSettings
from models.classification import Classification
from models.database import DatabaseSettings, make_engine
from models.enums import Channel, Hazard, Label, MessageStatus
from models.messages import InboundMessageCreate
from models.repository.messages import store_inbound
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.letters import LandlordDetails
from tests.servers.telegram_api import BotApiServer

STAFF_CHAT = -1009876543210
WORK = Casework(
    calendar=WorkingCalendar(),
    message_id_domain="triage.test",
    staff_chat_id=STAFF_CHAT,
    landlord=LandlordDetails(name="Riverside Homes", complaints_email="c@riverside.example", complaints_phone="0"),
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(
    st.integers(min_value=1, max_value=25),
    st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=200),
)
def test_a_send_window_never_allows_more_than_its_budget_in_any_period(budget: int, gaps: list[float]) -> None:
    window = SendWindow(budget, period=60.0)
    now, sent = 0.0, []
    for gap in gaps:
        now += gap
        if window.available(now) > 0:
            window.record(now)
            sent.append(now)
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60.0) <= budget


def test_a_send_window_frees_room_exactly_one_period_after_each_send() -> None:
    window = SendWindow(2, period=60.0)
    window.record(0.0)
    window.record(10.0)
    assert window.available(59.9) == 0
    assert window.available(60.0) == 1
    assert window.available(70.0) == 2


def test_settings_keep_the_card_budget_inside_the_group_limit() -> None:
    with pytest.raises(ValueError, match="cards_per_minute"):
        BotSettings(token="1:x", staff_chat_id=STAFF_CHAT, cards_per_minute=25, group_messages_per_minute=20)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    SQLModel.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def seed(engine: sa.Engine, count: int) -> list[int]:
    """`count` emails awaiting review, received a day apart, so the oldest has the earliest deadline."""
    first = datetime(2026, 10, 1, 9, tzinfo=UTC)
    ids = []
    with Session(engine) as session:
        for n in range(count):
            received = first + timedelta(days=n)
            text = f"Message number {n} about the repairs"
            message, _ = store_inbound(
                session,
                data=InboundMessageCreate(
                    channel=Channel.EMAIL,
                    source_key=f"pace:{n}",
                    content_hash=f"pace{n}",
                    received_at=received,
                    sender_address=f"r{n}@resident.example",
                    subject=f"Number {n}",
                    body_text=text,
                    new_text=text,
                ),
                now=received,
            )
            message.status = MessageStatus.AWAITING_REVIEW
            session.add(message)
            session.flush()
            assert message.id is not None
            session.add(
                Classification(
                    message_id=message.id,
                    model_version="t",
                    label=Label.SERVICE_REQUEST,
                    confidence=0.9,
                    created_at=received,
                )
            )
            ids.append(message.id)
        session.commit()
    return ids


def card_ids(api: BotApiServer) -> list[int]:
    ids = []
    for card in api.sent_messages(STAFF_CHAT):
        assert card.reply_markup is not None
        ids.append(int(card.reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[1]))
    return ids


async def test_a_burst_of_forty_messages_is_posted_fifteen_a_minute_oldest_first(engine: sa.Engine) -> None:
    ids = seed(engine, 40)
    clock = FakeMonotonic()
    with BotApiServer(max_poll_seconds=1) as api:
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        poster = CardPoster(
            engine=engine,
            work=WORK,
            chat_id=STAFF_CHAT,
            clock=lambda: datetime(2026, 11, 2, 9, tzinfo=UTC),
            limit=20,
            per_minute=15,
            monotonic=clock,
        )
        async with bot:
            assert await poster.run(bot) == 15
            clock.now += 30
            assert await poster.run(bot) == 0  # the minute's budget is spent: the rest wait
            clock.now += 30
            assert await poster.run(bot) == 15
            clock.now += 60
            assert await poster.run(bot) == 10
            clock.now += 60
            assert await poster.run(bot) == 0  # nothing left, and nothing posted twice

        assert card_ids(api) == ids
        assert len(api.sent_messages(STAFF_CHAT)) == 40


async def test_a_hazard_reported_last_is_carded_first_when_cards_must_wait(engine: sa.Engine) -> None:
    """Pacing must not leave a damp-and-mould or gas report behind a queue of routine mail (Awaab's Law)."""
    ids = seed(engine, 3)
    with Session(engine) as session:
        latest = session.exec(select(Classification).where(Classification.message_id == ids[2])).one()
        latest.hazard = Hazard.DAMP_MOULD
        session.add(latest)
        session.commit()
    with BotApiServer(max_poll_seconds=1) as api:
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        poster = CardPoster(
            engine=engine,
            work=WORK,
            chat_id=STAFF_CHAT,
            clock=lambda: datetime(2026, 11, 2, 9, tzinfo=UTC),
            per_minute=1,
            monotonic=FakeMonotonic(),
        )
        async with bot:
            assert await poster.run(bot) == 1
        assert card_ids(api) == [ids[2]]


async def test_a_message_the_classifier_could_not_label_still_gets_a_card(engine: sa.Engine) -> None:
    """Classification can fail (or be off) and the message is kept NEW: staff must still see it."""
    (labelled,) = seed(engine, 1)
    with Session(engine) as session:
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.EMAIL,
                source_key="pace:unlabelled",
                content_hash="unlabelled",
                received_at=datetime(2026, 9, 30, 9, tzinfo=UTC),
                sender_address="u@resident.example",
                subject="No label",
                body_text="The classifier never saw this one.",
                new_text="The classifier never saw this one.",
            ),
            now=datetime(2026, 9, 30, 9, tzinfo=UTC),
        )
        session.commit()
        unlabelled = message.id
    with BotApiServer(max_poll_seconds=1) as api:
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        poster = CardPoster(
            engine=engine, work=WORK, chat_id=STAFF_CHAT, clock=lambda: datetime(2026, 11, 2, 9, tzinfo=UTC)
        )
        async with bot:
            assert await poster.run(bot) == 2
        assert card_ids(api) == [unlabelled, labelled]  # received first, so its deadline is first
        first = api.sent_messages(STAFF_CHAT)[0].text or ""
        assert "The classifier never saw this one." in first and "Predicted: not classified" in first
