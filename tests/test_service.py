"""`triage run` as a real process against loopback servers: it starts what is configured, does the work,
records heartbeats, and stops on SIGTERM with exit 0 and nothing lost (SQLite and PostgreSQL).

The Telegram Bot API (tests/servers/telegram_api.py), SMTP (aiosmtpd) and IMAP (Dovecot) servers run on
127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from telegram.error import Conflict

from bot.runner.roles import Roles
from bot.runner.service import TriageService
from bot.settings import TriageSettings
from models.blobs import MailboxCheckpoint
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import Channel, OutboxChannel, OutboxStatus
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import StaffMemberCreate
from models.repository.outbox import enqueue
from models.repository.staff import add_staff
from models.service import ServiceHeartbeat
from tests.servers.dovecot import PASSWORD, USER, DovecotServer, append
from tests.servers.service_process import START_SECONDS, STOP_SECONDS, environment, running, wait_until
from tests.servers.smtp import RecordingHandler, SmtpServer
from tests.servers.telegram_api import BotApiServer

pytestmark = pytest.mark.slow

STAFF_CHAT = -1009876543210
RESIDENT = 555_000_333
TESS = 700_010
COMPLAINT = "The boiler has been broken for two weeks and nobody came back. I want it repaired this week."


def utc_now() -> datetime:
    return datetime.now(UTC)


def bot_env(api: BotApiServer) -> dict[str, str]:
    return {
        "TRIAGE_TELEGRAM_TOKEN": api.token,
        "TRIAGE_TELEGRAM_BASE_URL": api.base_url,
        "TRIAGE_TELEGRAM_BASE_FILE_URL": api.base_file_url,
        "TRIAGE_STAFF_CHAT_ID": str(STAFF_CHAT),
    }


def smtp_env(smtp: SmtpServer) -> dict[str, str]:
    return {"TRIAGE_SMTP_HOST": "127.0.0.1", "TRIAGE_SMTP_PORT": str(smtp.port), "TRIAGE_SMTP_SECURITY": "plain"}


def prepared(database_url: str, letters: int = 1) -> sa.Engine:
    """A migrated database with Tess on the staff and `letters` emails waiting in the outbox."""
    upgrade(DatabaseSettings(database_url))
    engine = make_engine(DatabaseSettings(database_url))
    with Session(engine) as session:
        add_staff(
            session,
            data=StaffMemberCreate(name="Tess", email="tess@riverside.example", telegram_user_id=TESS),
            now=utc_now(),
        )
        for n in range(letters):
            enqueue(
                session,
                key=f"test:letter:{n}",
                channel=OutboxChannel.EMAIL,
                recipient=f"resident{n}@resident.example",
                subject="Your complaint",
                body_text="We have received your complaint.",
                now=utc_now(),
            )
        session.commit()
    return engine


def outbox_statuses(engine: sa.Engine) -> list[OutboxStatus]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem.status).order_by(col(OutboxItem.id))))


def heartbeat_names(engine: sa.Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(ServiceHeartbeat.name)))


def chat_messages(engine: sa.Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(InboundMessage).where(InboundMessage.channel == Channel.CHAT)
        return int(session.exec(query).one())


def test_run_serves_chat_delivers_mail_records_heartbeats_and_stops_cleanly(
    database_url: str, tmp_path: Path, api: BotApiServer, smtp: SmtpServer
) -> None:
    engine = prepared(database_url)
    env = environment(database_url, tmp_path, **bot_env(api), **smtp_env(smtp))
    try:
        with running(env) as service:
            service.wait_for_log("triage service running")
            started = time.monotonic()
            api.push_message(RESIDENT, RESIDENT, COMPLAINT, first_name="Kelly")
            (receipt,) = api.wait_for(lambda: api.sent_messages(RESIDENT), timeout=10)
            (card,) = api.wait_for(lambda: api.sent_messages(STAFF_CHAT), timeout=10)
            card_seconds = time.monotonic() - started
            (mail,) = wait_until(lambda: smtp.received, 15, "the outbox email")
            wait_until(
                lambda: heartbeat_names(engine) >= {"telegram", "outbox", "scheduler"}, 15, "heartbeats of each part"
            )
            # Two more messages with the stop right behind them: each is answered or still waits on the server.
            for n in range(2):
                api.push_message(RESIDENT + 1 + n, RESIDENT + 1 + n, f"Still no hot water ({n}).")
            code, stop_seconds = service.stop()
    finally:
        engine.dispose()

    print(f"\ncard {card_seconds:.2f} s after the message; stopped in {stop_seconds:.2f} s")
    assert code == 0, service.log
    assert stop_seconds < STOP_SECONDS
    assert receipt.text is not None and "Your reference is MSG-" in receipt.text
    assert card.text is not None and "message MSG-" in card.text
    assert mail.rcpt_tos == ("resident0@resident.example",) and mail.message["Subject"] == "Your complaint"
    engine = make_engine(DatabaseSettings(database_url))
    try:
        assert outbox_statuses(engine) == [OutboxStatus.SENT]
        stored = chat_messages(engine)
    finally:
        engine.dispose()
    assert stored + api.pending_updates >= 3  # nothing lost
    assert stored == len({m.chat_id for m in api.sent_messages() if m.chat_id != STAFF_CHAT})  # each one answered

    entries = service.entries()  # every line is JSON
    messages = [str(e["message"]) for e in entries]
    assert any(m.startswith("triage service running: telegram bot (@triage_test_bot)") for m in messages)
    assert messages[-1] == "stopped cleanly"
    assert api.token not in service.log and api.token.split(":")[1] not in service.log
    assert COMPLAINT not in service.log  # no message body in the log


def test_sigterm_lets_the_send_in_hand_finish(tmp_path: Path) -> None:
    """The SMTP server has taken the message but not yet answered when SIGTERM comes: the answer is waited for
    and recorded, so the letter is neither lost nor sent twice."""
    smtp = SmtpServer(RecordingHandler(delay_seconds=2.0))
    smtp.start()
    url = f"sqlite:///{tmp_path}/triage.db"
    engine = prepared(url)
    try:
        with running(environment(url, tmp_path, **smtp_env(smtp)), "--no-bot", "--no-scheduler") as service:
            service.wait_for_log("triage service running")
            wait_until(lambda: smtp.received, 15, "the message at the SMTP server")
            code, seconds = service.stop()
        assert code == 0, service.log
        assert 1.0 < seconds < STOP_SECONDS
        assert outbox_statuses(engine) == [OutboxStatus.SENT]
        assert len(smtp.received) == 1
    finally:
        smtp.stop()
        engine.dispose()


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    smtp = SmtpServer(RecordingHandler(delay_seconds=8.0))
    smtp.start()
    url = f"sqlite:///{tmp_path}/triage.db"
    engine = prepared(url)
    try:
        with running(environment(url, tmp_path, **smtp_env(smtp)), "--no-bot", "--no-scheduler") as service:
            service.wait_for_log("triage service running")
            wait_until(lambda: smtp.received, 15, "the message at the SMTP server")
            service.signal(signal.SIGTERM)
            service.wait_for_log("SIGTERM: stopping", timeout=5)
            started = time.monotonic()
            service.signal(signal.SIGTERM)
            code = service.wait(timeout=5)
        assert code == 3, service.log
        assert time.monotonic() - started < 3
        assert "second SIGTERM: exiting at once" in service.log
        # Claimed but never recorded: it stays claimed until its lease runs out, then it is sent again.
        assert outbox_statuses(engine) == [OutboxStatus.SENDING]
    finally:
        smtp.stop()
        engine.dispose()


def email(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Maria <maria@resident.example>"
    message["To"] = "complaints@landlord.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@resident.example>"
    message.set_content("The bins have not been collected for three weeks.")
    return bytes(message)


def test_email_intake_runs_in_its_thread_and_leaves_idle_at_once(
    tmp_path: Path, dovecot: DovecotServer, folder: str
) -> None:
    append(dovecot, folder, [email("Bins not collected")])
    url = f"sqlite:///{tmp_path}/triage.db"
    engine = prepared(url, letters=0)
    env = environment(
        url,
        tmp_path,
        TRIAGE_IMAP_HOST="127.0.0.1",
        TRIAGE_IMAP_PORT=str(dovecot.port),
        TRIAGE_IMAP_SECURITY="plain",
        TRIAGE_IMAP_USERNAME=USER,
        TRIAGE_IMAP_PASSWORD=PASSWORD,
        TRIAGE_IMAP_FOLDER=folder,
    )
    try:
        with running(env, "--no-bot", "--no-scheduler", "--no-outbox") as service:
            service.wait_for_log("triage service running")

            def checkpoint() -> MailboxCheckpoint | None:
                with Session(engine) as session:
                    found = session.exec(select(MailboxCheckpoint)).first()
                return found if found is not None and found.last_success_at is not None else None

            wait_until(checkpoint, 30, "the mailbox checkpoint")
            append(dovecot, folder, [email("Bins still not collected")])  # news during IDLE

            def stored() -> int:
                with Session(engine) as session:
                    return int(session.exec(select(func.count()).select_from(InboundMessage)).one())

            wait_until(lambda: stored() == 2, 15, "both emails stored")
            time.sleep(1.5)  # back in IDLE, which waits up to a minute unless told to stop
            code, seconds = service.stop()
        assert code == 0, service.log
        assert seconds < 5, f"took {seconds:.1f} s to leave IDLE"
        assert PASSWORD not in service.log
    finally:
        engine.dispose()


def test_a_refused_token_is_one_line_and_exit_1(tmp_path: Path, api: BotApiServer) -> None:
    url = f"sqlite:///{tmp_path}/triage.db"
    prepared(url, letters=0).dispose()
    wrong = api.token.split(":")[0] + ":" + "Q" * 35
    env = environment(url, tmp_path, **{**bot_env(api), "TRIAGE_TELEGRAM_TOKEN": wrong})
    with running(env, "--no-outbox") as service:
        code = service.wait(timeout=START_SECONDS)
    assert code == 1
    assert (
        service.lines[-1] == "error: Telegram refused the bot token (TRIAGE_TELEGRAM_TOKEN): check it with @BotFather"
    )
    assert wrong not in service.log and "Q" * 35 not in service.log


@pytest.mark.postgres
def test_two_instances_share_the_outbox_on_postgresql(
    postgres_database: str, tmp_path: Path, api: BotApiServer, smtp: SmtpServer
) -> None:
    """The documented pair: one instance runs everything, the other only delivers. Each letter goes once."""
    engine = prepared(postgres_database, letters=12)
    env = environment(postgres_database, tmp_path, **bot_env(api), **smtp_env(smtp))
    try:
        with running(env) as first, running(env, "--no-bot", "--no-intake", "--no-scheduler") as second:
            first.wait_for_log("triage service running")
            second.wait_for_log("triage service running: outbox delivery (email, telegram)")
            wait_until(lambda: len(smtp.received) >= 12, 20, "twelve letters")
            time.sleep(1)  # room for a duplicate to show up, if there were one
            codes = [first.stop()[0], second.stop()[0]]
        assert codes == [0, 0], first.log + second.log
        assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(
            f"resident{n}@resident.example" for n in range(12)
        )
        assert outbox_statuses(engine) == [OutboxStatus.SENT] * 12
        assert "another process is polling" not in first.log + second.log
    finally:
        engine.dispose()


def test_a_second_bot_on_the_same_token_is_named_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Telegram answers 409 Conflict to two long pollers; the service says what to do about it."""
    service = TriageService(TriageSettings(data_dir=tmp_path), Roles())
    with caplog.at_level(logging.WARNING, logger="bot.runner.service"):

        async def poll_errors() -> None:
            service._polling_error(Conflict("terminated by other getUpdates request"))
            service._polling_error(Conflict("terminated by other getUpdates request"))  # once a minute at most

        asyncio.run(poll_errors())
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "another process is polling with this bot token" in record.getMessage()
    assert "--no-bot" in record.getMessage()
