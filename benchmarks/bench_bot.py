"""Telegram bot figures on loopback: message-to-card latency, and how fast cards could go without pacing.

Run with `python -m benchmarks.bench_bot [--messages 50] [--cards 500]`. Everything runs against our
loopback Bot API server (tests/servers/telegram_api.py) and a SQLite file in a temporary directory.

1. Latency: residents' messages are queued one at a time on the server while the bot long-polls; we time
   from queueing a message to the server receiving its receipt and its staff card (median and worst).
2. Raw card rate: emails awaiting review, posted by `post_new_cards` with no pacing, to show how far
   the bot itself is from Telegram's group limit (about 20 messages a minute), which pacing respects.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel
from telegram import Bot

import models.tables  # noqa: F401  (registers every table)
from bot.telegram.app import build_application
from bot.telegram.posting import post_new_cards
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from classifier.model import TriageModel
from models.classification import Classification
from models.database import DatabaseSettings, make_engine
from models.enums import Channel, Label, MessageStatus
from models.messages import InboundMessageCreate
from models.repository.messages import store_inbound
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.letters import LandlordDetails
from tests.servers.telegram_api import BotApiServer

STAFF_CHAT = -1001000000001
WORK = Casework(
    calendar=WorkingCalendar(),
    message_id_domain="triage.bench",
    staff_chat_id=STAFF_CHAT,
    landlord=LandlordDetails(name="Bench Homes", complaints_email="c@bench.example", complaints_phone="0"),
)
RESIDENT_TEXTS = [
    "The boiler has been off since Friday and the engineer never turned up. Third time now, I've had enough.",
    "hiya can someone come look at the back door lock it sticks",
    "Mould is back in the baby's room. You painted over it in August and it has come straight through.",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def latency(engine_dir: Path, count: int, classifier: Classifier) -> list[float]:
    engine = make_engine(DatabaseSettings(f"sqlite:///{engine_dir}/latency.db"))
    SQLModel.metadata.create_all(engine)
    seconds = []
    with BotApiServer(max_poll_seconds=2) as api:
        settings = BotSettings(
            token=api.token,
            staff_chat_id=STAFF_CHAT,
            base_url=api.base_url,
            base_file_url=api.base_file_url,
            card_poll_seconds=3600,
            # Messages arrive back to back here; lift pacing so that it is the bot's own latency we time.
            cards_per_minute=100_000,
            group_messages_per_minute=100_000,
        )
        application = build_application(settings, engine=engine, casework=WORK, classifier=classifier, clock=utc_now)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(timeout=1, poll_interval=0)
            try:
                for n in range(count):
                    user = 600_000_000 + n
                    before = len(api.sent_messages(STAFF_CHAT))
                    pushed = time.monotonic()
                    api.push_message(user, user, RESIDENT_TEXTS[n % len(RESIDENT_TEXTS)], first_name="R")
                    await api.wait_for_async(lambda b=before: api.sent_messages(STAFF_CHAT)[b:], timeout=10)
                    seconds.append(time.monotonic() - pushed)
            finally:
                await application.updater.stop()
                await application.stop()
    engine.dispose()
    return seconds


def seed_emails(engine_dir: Path, count: int) -> Path:
    path = engine_dir / "cards.db"
    engine = make_engine(DatabaseSettings(f"sqlite:///{path}"))
    SQLModel.metadata.create_all(engine)
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with Session(engine) as session:
        for n in range(count):
            received = start + timedelta(minutes=n)
            text = RESIDENT_TEXTS[n % len(RESIDENT_TEXTS)]
            message, _ = store_inbound(
                session,
                data=InboundMessageCreate(
                    channel=Channel.EMAIL,
                    source_key=f"bench:{n}",
                    content_hash=f"bench{n}",
                    received_at=received,
                    sender_address=f"r{n}@resident.example",
                    subject="Repairs",
                    body_text=text,
                    new_text=text,
                ),
                now=received,
            )
            message.status = MessageStatus.AWAITING_REVIEW
            session.add(message)
            session.flush()
            session.add(
                Classification(
                    message_id=message.id,
                    model_version="bench",
                    label=Label.COMPLAINT,
                    confidence=0.9,
                    definition_summary=text,
                    created_at=received,
                )
            )
        session.commit()
    engine.dispose()
    return path


async def raw_card_rate(engine_dir: Path, count: int) -> float:
    engine = make_engine(DatabaseSettings(f"sqlite:///{seed_emails(engine_dir, count)}"))
    with BotApiServer(max_poll_seconds=1) as api:
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        async with bot:
            started = time.perf_counter()
            posted = 0
            while posted < count:
                posted += await post_new_cards(
                    bot, engine=engine, work=WORK, chat_id=STAFF_CHAT, clock=utc_now, limit=100
                )
            elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--cards", type=int, default=500)
    args = parser.parse_args()
    classifier = Classifier(TriageModel.load())
    with tempfile.TemporaryDirectory() as tmp:
        seconds = asyncio.run(latency(Path(tmp), args.messages, classifier))
        rate = asyncio.run(raw_card_rate(Path(tmp), args.cards))
    seconds.sort()
    print(f"resident message -> staff card, {len(seconds)} messages on loopback:")
    print(
        f"  median {statistics.median(seconds):.3f} s, p95 {seconds[int(0.95 * (len(seconds) - 1))]:.3f} s, "
        f"worst {seconds[-1]:.3f} s (goal under 1 s)"
    )
    print(f"cards posted without pacing: {rate:.0f} cards/s ({args.cards} cards)")
    print("paced in production: 15 cards a minute into the staff group (Telegram allows about 20),")
    print("  the rest wait in the database with hazards first, then the oldest acknowledgement deadline")


if __name__ == "__main__":
    main()
