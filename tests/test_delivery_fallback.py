"""A letter that cannot go by chat goes by email instead, through the real worker, Bot API server and SMTP.

The worker is built by `bot.wiring.outbox_worker` as the service builds it (its `on_failure` is the
production one), with a TelegramSender talking to the loopback Bot API server and SMTP to aiosmtpd.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select
from telegram import Bot

import models.tables  # noqa: F401  (registers every table)
from bot import wiring
from bot.settings import TriageSettings
from models.case_actions import Actor
from models.cases import Case
from models.database import DatabaseSettings, make_engine
from models.enums import (
    Channel,
    ContactChannel,
    Direction,
    Label,
    OutboxChannel,
    OutboxStatus,
    Party,
    StaffRole,
)
from models.messages import InboundMessageCreate
from models.outbox import OutboxItem
from models.people import Resident, ResidentCreate, StaffMember, StaffMemberCreate
from models.records import AuditEvent, Correspondence
from models.repository.messages import store_inbound
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from scheduler.actions import confirm_triage, extend
from scheduler.delivery import OutboxWorker
from scheduler.fallback import FALLBACK_SUFFIX, fall_back_to_email, fallback_key
from scheduler.mail_settings import DeliverySettings, Security
from scheduler.senders import TelegramSender
from tests.bot_harness import RESIDENT, STAFF_CHAT, WORK, Clock
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import BotApiServer

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    SQLModel.metadata.create_all(eng)
    with Session(eng) as session:
        add_staff(
            session,
            data=StaffMemberCreate(
                name="Olga", email="olga@riverside.example", roles=[StaffRole.COMPLAINTS_OFFICER, StaffRole.HANDLER]
            ),
            now=T0,
        )
        session.commit()
    try:
        yield eng
    finally:
        eng.dispose()


def worker(
    api: BotApiServer,
    smtp: SmtpServer,
    engine: sa.Engine,
    clock: Clock,
    settings: DeliverySettings | None = None,
) -> OutboxWorker:
    """The production worker and its on_failure, sending by chat through the loopback Bot API server."""

    async def send_text(chat_id: int, text: str) -> None:
        async with Bot(api.token, base_url=api.base_url) as bot:
            await bot.send_message(chat_id, text)

    config = TriageSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security=Security.PLAIN,
        smtp_from_address="complaints@riverside.example",
        message_id_domain="triage.test",
    )

    def build(*args: Any, **kwargs: Any) -> OutboxWorker:
        if settings is not None:
            args = (*args[:2], settings, *args[3:])
        return OutboxWorker(*args, **kwargs)

    built = wiring.outbox_worker(
        config,
        engine,
        WORK,
        extra_senders={OutboxChannel.TELEGRAM: TelegramSender(send_text)},
        clock=clock,
        worker_type=build,
    )
    assert built is not None
    return built


def acknowledged_by_chat(engine: sa.Engine, *, email: str | None) -> str:
    """A chat resident's complaint, confirmed by staff: its acknowledgement waits in the outbox for the chat."""
    with Session(engine) as session:
        kelly = add_resident(
            session,
            data=ResidentCreate(
                name="Kelly", telegram_user_id=RESIDENT, email=email, preferred_channel=ContactChannel.CHAT
            ),
            now=T0,
        )
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.CHAT,
                source_key=f"telegram:{RESIDENT}:1",
                content_hash="h",
                received_at=T0,
                sender_address=f"telegram:{RESIDENT}",
                body_text="Nobody has come about the mould for three weeks.",
                new_text="Nobody has come about the mould for three weeks.",
            ),
            now=T0,
        )
        message.resident_id = kelly.id
        olga = session.exec(select(StaffMember)).one()
        outcome = confirm_triage(session, message=message, staff=olga, label=Label.COMPLAINT, now=T0, work=WORK)
        session.commit()
        assert outcome.case is not None and outcome.sent[0].channel is OutboxChannel.TELEGRAM
        return outcome.case.reference


def items(engine: sa.Engine) -> dict[str, OutboxItem]:
    with Session(engine) as session:
        return {i.idempotency_key: i for i in session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))}


def rows(engine: sa.Engine, model: type[Any], *where: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model).where(*where)))


def kelly(engine: sa.Engine) -> Resident:
    with Session(engine) as session:
        return session.exec(select(Resident).where(Resident.telegram_user_id == RESIDENT)).one()


def test_a_blocked_chat_gets_its_letter_by_email_once_and_keeps_getting_email(
    api: BotApiServer, smtp: SmtpServer, engine: sa.Engine
) -> None:
    reference = acknowledged_by_chat(engine, email="kelly@example.org")
    api.block_chat(RESIDENT)  # the resident blocked the bot
    clock = Clock(T0 + timedelta(minutes=1))
    run = worker(api, smtp, engine, clock)

    first = run.deliver_due()
    second = run.deliver_due()  # the email and the staff alerts
    third = run.deliver_due()

    assert (first.claimed, first.failed) == (1, 1)
    assert second.sent == 3 and third.claimed == 0
    ack_key = f"ack:{reference}:stage1"
    stored = items(engine)
    chat, by_email = stored[ack_key], stored[ack_key + FALLBACK_SUFFIX]
    assert (
        chat.status is OutboxStatus.FAILED
        and chat.last_error == "Telegram refused: Forbidden: bot was blocked by the user"
    )
    assert (by_email.status, by_email.channel, by_email.recipient) == (
        OutboxStatus.SENT,
        OutboxChannel.EMAIL,
        "kelly@example.org",
    )
    # What the resident sees: the same acknowledgement, by email, threading back to the case.
    (letter,) = [r.message for r in smtp.received if r.rcpt_tos == ("kelly@example.org",)]
    assert letter["Subject"] == f"Your complaint {reference}: we have received it (stage 1)"
    assert letter.get_content() == chat.body_text
    assert letter["Message-ID"] == by_email.message_id_header and "@triage.test>" in letter["Message-ID"]
    assert api.sent_messages(RESIDENT) == []
    # Staff are told, by email and in the staff chat (the existing alert).
    assert any(r.rcpt_tos == ("olga@riverside.example",) for r in smtp.received)
    (alert,) = api.sent_messages(STAFF_CHAT)
    assert alert.text is not None and alert.text.startswith("A message could not be delivered.")
    # On the record: the failure, the fallback and the email as correspondence (Code 5.12).
    case = rows(engine, Case, Case.reference == reference)[0]
    actions = [e.action for e in rows(engine, AuditEvent, AuditEvent.case_id == case.id)]
    assert "delivery_failed" in actions and "delivery_fallback" in actions
    (fallback,) = rows(engine, AuditEvent, AuditEvent.action == "delivery_fallback")
    assert fallback.detail["outcome"] == "sent by email instead" and fallback.detail["chat_refused"] is True
    sent_letters = rows(
        engine, Correspondence, Correspondence.case_id == case.id, Correspondence.party == Party.RESIDENT
    )
    assert [(c.direction, c.channel, c.outbox_item_id) for c in sent_letters] == [
        (Direction.OUTBOUND, ContactChannel.EMAIL, by_email.id)
    ]
    assert kelly(engine).preferred_channel is ContactChannel.EMAIL

    # Once only: the same failure handled again adds nothing.
    with Session(engine, expire_on_commit=False) as session:
        again = session.get(OutboxItem, chat.id)
        assert again is not None
        outcome = fall_back_to_email(session, again, now=clock(), work=WORK)
        session.commit()
    assert outcome is not None and outcome.email_item is not None and outcome.email_item.id == by_email.id
    assert len(items(engine)) == len(stored)

    # Later letters go by email from the start.
    with Session(engine) as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        olga = session.exec(select(StaffMember)).one()
        _, notice = extend(
            session,
            case=case,
            stage=1,
            working_days=5,
            reason="We are waiting for a damp survey.",
            good_reason=None,
            actor=Actor.staff(olga),
            now=clock(),
            work=WORK,
        )
        session.commit()
        assert (notice.channel, notice.recipient) == (OutboxChannel.EMAIL, "kelly@example.org")


def test_without_an_email_address_staff_are_told_and_the_record_says_so(
    api: BotApiServer, smtp: SmtpServer, engine: sa.Engine
) -> None:
    reference = acknowledged_by_chat(engine, email=None)
    api.block_chat(RESIDENT)
    run = worker(api, smtp, engine, Clock(T0 + timedelta(minutes=1)))
    run.deliver_due()
    run.deliver_due()

    stored = items(engine)
    assert f"ack:{reference}:stage1{FALLBACK_SUFFIX}" not in stored
    (fallback,) = rows(engine, AuditEvent, AuditEvent.action == "delivery_fallback")
    assert fallback.detail["outcome"] == "no email address on record: reach them another way"
    assert fallback.detail["email_item_id"] is None
    assert [r.rcpt_tos for r in smtp.received] == [("olga@riverside.example",)]  # the alert still goes
    assert kelly(engine).preferred_channel is ContactChannel.CHAT


def test_a_chat_letter_that_ran_out_of_attempts_goes_by_email_but_chat_stays_preferred(
    api: BotApiServer, smtp: SmtpServer, engine: sa.Engine
) -> None:
    reference = acknowledged_by_chat(engine, email="kelly@example.org")
    api.stop()  # Telegram unreachable, for longer than the attempts last
    clock = Clock(T0 + timedelta(minutes=1))
    run = worker(api, smtp, engine, clock, DeliverySettings(max_attempts=2, backoff_seconds_min=1))
    run.deliver_due()
    clock.now += timedelta(minutes=5)
    run.deliver_due()  # the second and last attempt: given up; the email goes in the outbox
    clock.now += timedelta(minutes=5)
    run.deliver_due()

    stored = items(engine)
    assert stored[f"ack:{reference}:stage1"].status is OutboxStatus.FAILED
    assert stored[f"ack:{reference}:stage1{FALLBACK_SUFFIX}"].status is OutboxStatus.SENT
    assert any(r.rcpt_tos == ("kelly@example.org",) for r in smtp.received)
    (fallback,) = rows(engine, AuditEvent, AuditEvent.action == "delivery_fallback")
    assert fallback.detail["chat_refused"] is False
    assert kelly(engine).preferred_channel is ContactChannel.CHAT  # Telegram was down, the chat is not gone


def test_the_rule_leaves_staff_messages_and_email_alone(engine: sa.Engine) -> None:
    with Session(engine) as session:
        for key, channel, party in (
            ("alert:1:chat", OutboxChannel.TELEGRAM, Party.STAFF),
            ("ack:x:stage1", OutboxChannel.EMAIL, Party.RESIDENT),
        ):
            item = OutboxItem(
                idempotency_key=key,
                channel=channel,
                recipient=str(RESIDENT),
                body_text="x",
                party=party,
                next_attempt_at=T0,
                created_at=T0,
            )
            assert fall_back_to_email(session, item, now=T0, work=WORK) is None


def chat_item(key: str, number: int) -> OutboxItem:
    return OutboxItem(
        id=number,
        idempotency_key=key,
        channel=OutboxChannel.TELEGRAM,
        recipient="1",
        body_text="x",
        next_attempt_at=T0,
        created_at=T0,
    )


@pytest.mark.parametrize("length", [10, 185, 199])
def test_the_fallback_key_fits_the_column_and_stays_unique(length: int) -> None:
    one = fallback_key(chat_item("k" * length + "a", 1))
    two = fallback_key(chat_item("k" * length + "b", 2))
    assert len(one) <= 200 and len(two) <= 200
    assert one.endswith(FALLBACK_SUFFIX) and one != two
