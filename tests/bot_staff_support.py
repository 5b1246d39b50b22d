"""Shared by the staff-side bot tests (test_bot_staff_commands, test_bot_prompts): the application built as
production builds it, against the loopback Bot API server, with a fixed clock so dates are known.

Complaints received on Monday 2 November 2026 are acknowledged on Tuesday 3 November (`NOW`), so their stage
1 response is due on Tuesday 17 November (10 working days). Test modules bind the fixtures to their own
names (`api = support.api`, ...) so pytest finds them.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

import models.tables  # noqa: F401  (registers every table)
from bot.telegram.app import TriageApplication
from classifier.classify import Classifier
from models.cases import Case, Deadline
from models.database import DatabaseSettings, make_engine
from models.enums import DeadlineKind, Label
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import StaffMember, StaffMemberCreate
from models.repository.staff import add_staff
from scheduler.actions import confirm_triage
from tests.bot_harness import STAFF_CHAT, WORK, Clock, handle, started_application
from tests.servers.telegram_api import BotApiServer, BotMessage
from tests.test_bot_handlers import GONE, SAM, TESS, at, seed_message, texts

PRIYA = 700_004
USERNAMES = {TESS: "tess_t", SAM: "SamH", PRIYA: "priya_s", GONE: "gone_g"}
NAMES = {TESS: "Tess", SAM: "Sam", PRIYA: "Priya <P> Shah", GONE: "Gone"}
EMAILS = {user: f"{name.split()[0].lower()}@riverside.example" for user, name in NAMES.items()}
RECEIVED = at(date(2026, 11, 2))  # Monday 10:00 in London
NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # Tuesday
STAFF_ONLY = "Sorry, that is for staff only. If you are a resident, just send us your message here."


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """Tess, Sam and Priya (active, with @usernames) and Gone (inactive), on a SQLite file."""
    eng = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    SQLModel.metadata.create_all(eng)
    with Session(eng) as session:
        for user_id, name in NAMES.items():
            add_staff(
                session,
                data=StaffMemberCreate(
                    name=name,
                    email=EMAILS[user_id],
                    telegram_user_id=user_id,
                    telegram_username=USERNAMES[user_id],
                    active=user_id != GONE,
                ),
                now=NOW,
            )
        session.commit()
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def app(
    api: BotApiServer, engine: sa.Engine, classifier: Classifier, clock: Clock
) -> AsyncIterator[TriageApplication]:
    async with started_application(api, engine, classifier, clock) as application:
        yield application


async def staff_says(
    app: TriageApplication,
    api: BotApiServer,
    text: str,
    *,
    user: int = TESS,
    private: bool = False,
    username: str | None = None,
) -> None:
    """A staff member (or anyone) writing in the staff chat, or privately to the bot, with their @username."""
    name, username = NAMES.get(user, "Kelly"), username or USERNAMES.get(user)
    if private:
        await handle(app, api.push_message(user, user, text, first_name=name, username=username))
    else:
        update_id = api.push_message(
            STAFF_CHAT, user, text, chat_type="supergroup", chat_title="Triage", first_name=name, username=username
        )
        await handle(app, update_id)


def last(api: BotApiServer, chat_id: int = STAFF_CHAT) -> str:
    return texts(api, chat_id)[-1]


def complaint(engine: sa.Engine, key: str = "a") -> str:
    """A complaint received on Monday 2 November by e-mail, triaged by Tess on the 3rd: open at stage 1."""
    message_id = seed_message(engine, RECEIVED, f"The mould is back ({key})", key=key)
    return triage_as(engine, message_id, Label.COMPLAINT)


def triage_as(engine: sa.Engine, message_id: int, label: Label) -> str:
    with Session(engine) as session:
        tess = session.exec(select(StaffMember).where(StaffMember.telegram_user_id == TESS)).one()
        message = session.get(InboundMessage, message_id)
        assert message is not None
        outcome = confirm_triage(session, message=message, staff=tess, label=label, now=NOW, work=WORK)
        assert outcome.case is not None
        session.commit()
        return outcome.case.reference


def case_of(engine: sa.Engine, reference: str) -> Case:
    with Session(engine) as session:
        return session.exec(select(Case).where(Case.reference == reference)).one()


def staff_id(engine: sa.Engine, user: int) -> int:
    with Session(engine) as session:
        member = session.exec(select(StaffMember).where(StaffMember.telegram_user_id == user)).one()
        assert member.id is not None
        return member.id


def outbox(engine: sa.Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def due(engine: sa.Engine, reference: str, stage: int, kind: DeadlineKind) -> Deadline:
    case = case_of(engine, reference)
    with Session(engine) as session:
        return session.exec(
            select(Deadline).where(Deadline.case_id == case.id, Deadline.stage == stage, Deadline.kind == kind)
        ).one()


def shown(text: str | None) -> str:
    """What Telegram shows for a parse_mode HTML text: the tags gone, the entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


_replies = iter(range(50_000, 10**9))


async def reply_to(
    app: TriageApplication,
    api: BotApiServer,
    replied: BotMessage,
    text: str,
    *,
    user: int = TESS,
    sender_is_bot: bool = True,
) -> None:
    """Someone in the replied-to message's chat answering it, as Telegram delivers a reply: the message
    answered comes along as `reply_to_message`, with the text as shown and who sent it."""
    chat_id = int(replied.chat_id)
    chat = (
        {"id": chat_id, "type": "supergroup", "title": "Triage"}
        if chat_id < 0
        else {"id": chat_id, "type": "private", "first_name": NAMES.get(chat_id, "Kelly")}
    )
    author = api.bot_user if sender_is_bot else {"id": SAM, "is_bot": False, "first_name": "Sam"}
    sender = {"id": user, "is_bot": False, "first_name": NAMES.get(user, "Kelly")}
    if user in USERNAMES:
        sender["username"] = USERNAMES[user]
    now = int(time.time())
    message = {
        "message_id": next(_replies),
        "date": now,
        "chat": chat,
        "from": sender,
        "text": text,
        "reply_to_message": {
            "message_id": replied.message_id,
            "date": now,
            "chat": chat,
            "from": author,
            "text": shown(replied.text),
        },
    }
    await handle(app, api.push_update({"message": message}))
