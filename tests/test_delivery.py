"""Delivering the outbox: once each, with retries, through outages, crashes and competing workers."""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import signal
import smtplib
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import telegram.error as tg
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col, select

from models.database import DatabaseSettings, make_engine
from models.enums import CaseKind, ContactChannel, Direction, OutboxChannel, OutboxStatus, Party
from models.outbox import OutboxItem
from models.records import AuditEvent, Correspondence
from models.repository.cases import create_case
from models.repository.outbox import claim_due, enqueue, outbox_counts
from scheduler.delivery import DeliveryReport, OutboxWorker, backoff
from scheduler.mail_settings import DeliverySettings, Security, SmtpSettings
from scheduler.senders import (
    PermanentDeliveryError,
    SmtpSender,
    TelegramSender,
    TemporaryDeliveryError,
    split_text,
)
from tests.servers.common import missing_service
from tests.servers.smtp import PasswordCheck, RecordingHandler, SmtpServer, server_tls_context

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DOMAIN = "triage.landlord.example"
FROM = "complaints@landlord.example"
FROM_NAME = "Riverside Homes Complaints"
USERNAME = "triage-relay"
PASSWORD = "Relay-Pa55word-never-logged"


class Clock:
    """The worker's clock, moved by the test: backoff is checked without sleeping for it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def smtp_settings(server: SmtpServer, **changes: Any) -> SmtpSettings:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": Security.PLAIN,
        "from_address": FROM,
        "from_name": FROM_NAME,
        "message_id_domain": DOMAIN,
        "timeout_seconds": 5.0,
    }
    options.update(changes)
    return SmtpSettings(**options)


def worker_for(
    engine: sa.Engine,
    server: SmtpServer,
    clock: Clock,
    settings: DeliverySettings | None = None,
    **kwargs: Any,
) -> OutboxWorker:
    sender = SmtpSender(smtp_settings(server), clock=clock)
    return OutboxWorker(engine, {OutboxChannel.EMAIL: sender}, settings or DeliverySettings(), clock, **kwargs)


def add_email(
    session: Session,
    key: str,
    *,
    recipient: str | None = None,
    case_id: int | None = None,
    html: bool = True,
    message_id: bool = True,
    headers: dict[str, Any] | None = None,
    now: datetime = T0,
) -> OutboxItem:
    item, created = enqueue(
        session,
        key=key,
        channel=OutboxChannel.EMAIL,
        recipient=recipient or f"{key.replace(':', '-')}@resident.example",
        subject=f"About {key}",
        body_text=f"Dear resident,\n\nThis is {key}.\n",
        body_html=f"<p>Dear resident,</p><p>This is <b>{key}</b>.</p>" if html else None,
        case_id=case_id,
        message_id_header=make_msgid(idstring=key.replace(":", "."), domain=DOMAIN) if message_id else None,
        headers=headers,
        now=now,
    )
    assert created
    return item


def add_emails(engine: sa.Engine, count: int, prefix: str = "k") -> dict[int, OutboxItem]:
    with Session(engine, expire_on_commit=False) as session:
        items = [add_email(session, f"{prefix}{n:04d}", html=False) for n in range(count)]
        session.commit()
    return {i.id: i for i in items if i.id is not None}


def items_in(engine: sa.Engine) -> list[OutboxItem]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def rows(engine: sa.Engine, model: type[Any]) -> list[Any]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(model)))


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(RecordingHandler())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_engine() -> Iterator[sa.Engine]:
    """For tests where the database does not matter."""
    eng = make_engine(DatabaseSettings("sqlite://"), poolclass=StaticPool, connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


# ------------------------------------------------------------------------------------ the happy path


def test_items_are_delivered_once_each_with_their_headers_and_recorded(
    engine: sa.Engine, smtp_server: SmtpServer
) -> None:
    sent_on_telegram: list[tuple[int, str]] = []

    async def send_text(chat_id: int, text: str) -> None:
        sent_on_telegram.append((chat_id, text))

    with Session(engine, expire_on_commit=False) as session:
        case = create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
        ack = add_email(
            session,
            "ack:CMP-2026-00001:stage1",
            case_id=case.id,
            headers={
                "In-Reply-To": "<first@resident.example>",
                "References": ["<earlier@resident.example>", "<first@resident.example>"],
                "Bcc": "someone@else.example",  # never: it would add a recipient
                "template": {"name": "acknowledgement"},  # not an email header at all
            },
        )
        note = add_email(session, "note:1", html=False, message_id=False)  # no case, no Message-ID yet
        staff, _ = enqueue(
            session,
            key="reminder:CMP-2026-00001:handler",
            channel=OutboxChannel.EMAIL,
            recipient="handler@landlord.example",
            subject="Reminder",
            body_text="Respond by Friday.",
            case_id=case.id,
            message_id_header=make_msgid(domain=DOMAIN),
            party=Party.STAFF,
            now=T0,
        )
        chat, _ = enqueue(
            session,
            key="ack:CMP-2026-00001:chat",
            channel=OutboxChannel.TELEGRAM,
            recipient="4242",
            body_text="We have your complaint.",
            case_id=case.id,
            now=T0,
        )
        session.commit()

    clock = Clock(T0 + timedelta(minutes=1))
    worker = OutboxWorker(
        engine,
        {
            OutboxChannel.EMAIL: SmtpSender(smtp_settings(smtp_server), clock=clock),
            OutboxChannel.TELEGRAM: TelegramSender(send_text),
        },
        DeliverySettings(),
        clock,
    )
    assert worker.deliver_due() == DeliveryReport(claimed=4, sent=4, retried=0, failed=0)

    by_to = {r.rcpt_tos: r for r in smtp_server.received}
    assert len(smtp_server.received) == 3
    received = by_to[(ack.recipient,)]
    message = received.message
    assert received.mail_from == FROM
    assert message["Subject"] == "About ack:CMP-2026-00001:stage1"
    assert message["From"] == f"{FROM_NAME} <{FROM}>"
    assert message["To"] == ack.recipient
    assert message["Message-ID"] == ack.message_id_header
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] == "<first@resident.example>"
    assert message["References"] == "<earlier@resident.example> <first@resident.example>"
    assert message["Bcc"] is None and message["template"] is None
    assert message["Date"] is not None and message["Date"].datetime == clock.now
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content() == ack.body_text
    assert html.get_content().strip() == ack.body_html
    plain_only = by_to[(note.recipient,)].message
    assert not plain_only.is_multipart() and plain_only.get_content() == note.body_text
    assert sent_on_telegram == [(4242, "We have your complaint.")]

    stored = {i.id: i for i in items_in(engine)}
    assert all(i.status is OutboxStatus.SENT and i.sent_at == clock.now and i.attempts == 1 for i in stored.values())
    # The Message-ID made at sending time is kept, so a reply or bounce can find the item.
    assert stored[note.id].message_id_header == plain_only["Message-ID"]

    letters = {c.outbox_item_id: c for c in rows(engine, Correspondence)}
    assert set(letters) == {ack.id, staff.id, chat.id}  # the item without a case is not correspondence
    assert letters[ack.id].case_id == case.id and letters[ack.id].direction is Direction.OUTBOUND
    assert letters[ack.id].channel is ContactChannel.EMAIL and letters[ack.id].party is Party.RESIDENT
    assert letters[ack.id].subject == ack.subject and letters[ack.id].body == ack.body_text
    assert letters[ack.id].occurred_at == clock.now
    assert letters[staff.id].party is Party.STAFF
    assert letters[chat.id].channel is ContactChannel.CHAT

    clock.advance(86400)
    assert worker.deliver_due() == DeliveryReport()
    assert len(smtp_server.received) == 3 and len(sent_on_telegram) == 1


def test_backoff_doubles_from_the_minimum_up_to_the_maximum() -> None:
    settings = DeliverySettings(backoff_seconds_min=60, backoff_seconds_max=3600)
    waits = [backoff(n, settings).total_seconds() for n in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


# ---------------------------------------------------------------------------------- things going wrong


def test_an_outage_is_retried_with_growing_backoff_and_each_item_delivered_once_after(
    engine: sa.Engine, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scheduler")
    smtp_server.stop()
    add_emails(engine, 3)
    clock = Clock()
    worker = worker_for(engine, smtp_server, clock)

    waits = []
    for attempt in range(1, 5):
        assert worker.deliver_due() == DeliveryReport(claimed=3, retried=3)
        items = items_in(engine)
        assert {i.status for i in items} == {OutboxStatus.PENDING} and {i.attempts for i in items} == {attempt}
        assert all("cannot use SMTP server 127.0.0.1" in (i.last_error or "") for i in items)
        [retry_at] = {i.next_attempt_at for i in items}
        waits.append((retry_at - clock.now).total_seconds())
        clock.now = retry_at - timedelta(seconds=1)
        assert worker.deliver_due().claimed == 0  # not before its time
        clock.now = retry_at
    assert waits == [60, 120, 240, 480]

    smtp_server.start()  # back, on the same port
    assert worker.deliver_due() == DeliveryReport(claimed=3, sent=3)
    assert set(smtp_server.handler.message_id_counts().values()) == {1}
    assert {i.message_id_header for i in items_in(engine)} == set(smtp_server.handler.message_id_counts())
    clock.advance(86400)
    assert worker.deliver_due().claimed == 0 and len(smtp_server.received) == 3

    delivery_logs = [r.getMessage() for r in caplog.records if r.name == "scheduler.delivery"]
    assert len([m for m in delivery_logs if "unusable" in m]) == 1, delivery_logs
    assert len([m for m in delivery_logs if "usable again" in m]) == 1, delivery_logs
    assert len(delivery_logs) == 2, delivery_logs  # nothing per item


def test_a_permanent_refusal_fails_at_once_with_an_audit_event_and_one_alert(
    engine: sa.Engine, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse["gone@resident.example"] = "550 5.1.1 <gone@resident.example>: no such user"
    with Session(engine, expire_on_commit=False) as session:
        case = create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
        bad = add_email(session, "ack:gone", recipient="gone@resident.example", case_id=case.id)
        good = add_email(session, "ack:fine", case_id=case.id)
        session.commit()
    clock = Clock()
    alerts: list[int | None] = []

    def alert_staff(session: Session, item: OutboxItem, now: datetime) -> None:
        alerts.append(item.id)
        # What the real callback does: an alert through the outbox, committed with the failure.
        enqueue(
            session,
            key=f"alert:{item.id}",
            channel=OutboxChannel.TELEGRAM,
            recipient="-100",
            body_text="!",
            now=clock(),
        )

    worker = worker_for(engine, smtp_server, clock, on_failure=alert_staff)
    assert worker.deliver_due() == DeliveryReport(claimed=2, sent=1, failed=1)

    stored = {i.id: i for i in items_in(engine)}
    assert stored[bad.id].status is OutboxStatus.FAILED and stored[bad.id].attempts == 1
    assert "550" in (stored[bad.id].last_error or "")
    assert stored[good.id].status is OutboxStatus.SENT
    assert alerts == [bad.id]
    assert [i.idempotency_key for i in stored.values() if i.channel is OutboxChannel.TELEGRAM] == [f"alert:{bad.id}"]
    [event] = rows(engine, AuditEvent)
    assert event.action == "delivery_failed" and event.case_id == case.id and event.actor == "outbox"
    assert event.detail["outbox_item_id"] == bad.id and "550" in event.detail["error"]
    assert [c.outbox_item_id for c in rows(engine, Correspondence)] == [good.id]

    clock.advance(7 * 86400)
    worker.deliver_due()  # only the alert is due (no Telegram sender here); the failed item is left alone
    assert alerts == [bad.id]
    assert [r.rcpt_tos for r in smtp_server.received] == [(good.recipient,)]


def test_a_temporary_refusal_is_retried_and_then_delivered(engine: sa.Engine, smtp_server: SmtpServer) -> None:
    smtp_server.handler.answer = "451 4.3.0 Mailbox busy, try again later"
    [item] = add_emails(engine, 1).values()
    clock = Clock()
    worker = worker_for(engine, smtp_server, clock)

    assert worker.deliver_due() == DeliveryReport(claimed=1, retried=1)
    [stored] = items_in(engine)
    assert stored.status is OutboxStatus.PENDING and "451" in (stored.last_error or "")
    assert stored.next_attempt_at == T0 + timedelta(seconds=60)

    smtp_server.handler.answer = None
    clock.now = stored.next_attempt_at
    assert worker.deliver_due() == DeliveryReport(claimed=1, sent=1)
    assert smtp_server.handler.message_id_counts() == Counter({item.message_id_header: 1})
    [stored] = items_in(engine)
    assert stored.status is OutboxStatus.SENT and stored.attempts == 2 and stored.last_error is None


def test_an_item_fails_once_it_reaches_the_attempt_limit(engine: sa.Engine, smtp_server: SmtpServer) -> None:
    smtp_server.handler.answer = "451 4.7.1 Greylisted"
    add_emails(engine, 1)
    clock = Clock()
    alerts: list[OutboxItem] = []
    worker = worker_for(
        engine, smtp_server, clock, DeliverySettings(max_attempts=3), on_failure=lambda _s, i, _now: alerts.append(i)
    )
    outcomes = []
    for _ in range(3):
        outcomes.append(worker.deliver_due())
        [stored] = items_in(engine)
        clock.now = stored.next_attempt_at
    assert outcomes == [DeliveryReport(1, 0, 1, 0), DeliveryReport(1, 0, 1, 0), DeliveryReport(1, 0, 0, 1)]
    assert stored.status is OutboxStatus.FAILED and stored.attempts == 3
    assert (stored.last_error or "").startswith("gave up after 3 attempts: recipient refused: 451")
    assert len(alerts) == 1 and [e.action for e in rows(engine, AuditEvent)] == ["delivery_failed"]
    clock.advance(86400)
    assert worker.deliver_due().claimed == 0


def test_an_item_whose_workers_keep_dying_is_given_up_without_sending_again(
    sqlite_engine: sa.Engine, smtp_server: SmtpServer
) -> None:
    add_emails(sqlite_engine, 1)
    settings = DeliverySettings(max_attempts=2, lease_seconds=300)
    lease = timedelta(seconds=settings.lease_seconds)
    with Session(sqlite_engine) as session:  # two claims whose workers never reported back
        for n in range(2):
            assert claim_due(session, now=T0 + n * lease, limit=1, lease=lease)
            session.commit()
    worker = worker_for(sqlite_engine, smtp_server, Clock(T0 + 2 * lease), settings)
    assert worker.deliver_due() == DeliveryReport(claimed=1, failed=1)
    [stored] = items_in(sqlite_engine)
    assert stored.status is OutboxStatus.FAILED and "no outcome recorded after 2 attempts" in (stored.last_error or "")
    assert smtp_server.received == []


def test_a_sender_bug_does_not_stop_the_batch(sqlite_engine: sa.Engine, smtp_server: SmtpServer) -> None:
    class Flaky(SmtpSender):
        def send(self, item: OutboxItem) -> None:
            if item.idempotency_key == "k0000":
                raise RuntimeError("boom")
            super().send(item)

    add_emails(sqlite_engine, 3)
    clock = Clock()
    worker = OutboxWorker(
        sqlite_engine, {OutboxChannel.EMAIL: Flaky(smtp_settings(smtp_server))}, DeliverySettings(), clock
    )
    assert worker.deliver_due() == DeliveryReport(claimed=3, sent=2, retried=1)
    assert "unexpected RuntimeError: boom" in (items_in(sqlite_engine)[0].last_error or "")


def test_run_delivers_until_stopped(sqlite_engine: sa.Engine, smtp_server: SmtpServer) -> None:
    add_emails(sqlite_engine, 120)
    worker = worker_for(sqlite_engine, smtp_server, Clock(), DeliverySettings(batch_size=50))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll_seconds": 0.05})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(smtp_server.received) < 120 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(smtp_server.received) == 120
    with Session(sqlite_engine) as session:
        assert outbox_counts(session) == {OutboxStatus.SENT: 120}


# ------------------------------------------------------------------------------ crashes and competition

WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from sqlmodel import Session
    from models.database import DatabaseSettings, make_engine
    from models.enums import OutboxChannel, OutboxStatus
    from models.repository.outbox import outbox_counts
    from scheduler.delivery import OutboxWorker
    from scheduler.mail_settings import DeliverySettings, Security, SmtpSettings
    from scheduler.senders import SmtpSender

    url, port = sys.argv[1], int(sys.argv[2])
    engine = make_engine(DatabaseSettings(url))
    smtp = SmtpSettings(host="127.0.0.1", port=port, security=Security.PLAIN, from_address="c@landlord.example",
                        from_name="Complaints", message_id_domain="triage.landlord.example", timeout_seconds=10)
    settings = DeliverySettings(batch_size=20, lease_seconds=2, max_attempts=1000, backoff_seconds_min=0.1,
                                backoff_seconds_max=0.5)
    worker = OutboxWorker(engine, {OutboxChannel.EMAIL: SmtpSender(smtp)}, settings, lambda: datetime.now(UTC))
    while True:
        if worker.deliver_due().claimed:
            continue
        with Session(engine) as session:
            counts = outbox_counts(session)
        if not counts.get(OutboxStatus.PENDING) and not counts.get(OutboxStatus.SENDING):
            break
        time.sleep(0.1)  # claims of a killed worker come back when their lease runs out
    """
)


def wall_clock() -> datetime:
    return datetime.now(UTC)


def start_worker(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, url, str(port)],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_message_in_flight(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(DatabaseSettings(database_url))
    SQLModel.metadata.create_all(engine)
    items = add_emails(engine, 200)
    server = SmtpServer(RecordingHandler(delay_seconds=0.02))
    server.start()
    log = tmp_path / "worker.log"
    rng = random.Random(20260302)
    kills, in_flight = 0, []
    try:
        for _ in range(3):
            before = len(server.received)
            process = start_worker(database_url, server.port, log)
            target = before + rng.randint(3, 40)
            deadline = time.monotonic() + 30
            while len(server.received) < target and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.02))  # land anywhere in the send-and-record cycle
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills += 1
            with Session(engine) as session:
                in_flight.append(outbox_counts(session).get(OutboxStatus.SENDING, 0))
        process = start_worker(database_url, server.port, log)
        assert process.wait(timeout=60) == 0, log.read_text()
        stored = items_in(engine)
    finally:
        server.stop()
        engine.dispose()
    assert any(in_flight), in_flight  # the kills landed mid-batch: claimed items were left unfinished
    assert len(stored) == 200 and {i.status for i in stored} == {OutboxStatus.SENT}
    by_id = {i.message_id_header: i for i in stored}
    counts = Counter(r.message_id for r in server.received)
    assert set(counts) == set(by_id) == {i.message_id_header for i in items.values()}  # every item, no strays
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= kills, (repeats, counts.most_common(5))
    for received in server.received:  # a repeat is the same message, so its Message-ID lets clients drop it
        item = by_id[received.message_id]
        assert received.rcpt_tos == (item.recipient,) and received.message["Subject"] == item.subject


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgresql_deliver_each_of_a_thousand_items_exactly_once(postgres_database: str) -> None:
    setup = make_engine(DatabaseSettings(postgres_database))
    SQLModel.metadata.create_all(setup)
    items = add_emails(setup, 1000)
    server = SmtpServer(RecordingHandler())
    server.start()
    start = threading.Barrier(2)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        engine = make_engine(DatabaseSettings(postgres_database))
        sender = SmtpSender(smtp_settings(server))
        worker = OutboxWorker(engine, {OutboxChannel.EMAIL: sender}, DeliverySettings(batch_size=50), wall_clock)
        total = 0
        try:
            start.wait(timeout=10)
            while (report := worker.deliver_due()).claimed:
                total += report.claimed
        except BaseException as exc:
            errors.append(exc)
        finally:
            claimed.append(total)
            engine.dispose()

    threads = [threading.Thread(target=work) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.stop()
    assert not errors and not any(t.is_alive() for t in threads)
    assert sorted(claimed)[0] > 0 and sum(claimed) == 1000, claimed  # both worked, no item claimed twice
    counts = server.handler.message_id_counts()
    assert set(counts) == {i.message_id_header for i in items.values()} and set(counts.values()) == {1}
    with Session(setup) as session:
        assert outbox_counts(session) == {OutboxStatus.SENT: 1000}
    setup.dispose()


# ------------------------------------------------------------------------------ security and secrets


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, our private certificate authority in these tests."""
    if shutil.which("openssl") is None:
        missing_service("openssl")
    root = tmp_path_factory.mktemp("smtp-tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


def one_item(key: str = "k") -> OutboxItem:
    return OutboxItem(
        id=1,
        idempotency_key=key,
        channel=OutboxChannel.EMAIL,
        recipient="resident@resident.example",
        subject="Hello",
        body_text="Hello.",
        message_id_header=make_msgid(domain=DOMAIN),
        next_attempt_at=T0,
        created_at=T0,
    )


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_tls_with_a_private_authority_and_a_login(certificate: tuple[str, str], security: Security) -> None:
    context = server_tls_context(*certificate)
    implicit = security is Security.TLS
    server = SmtpServer(
        implicit_tls=context if implicit else None,
        starttls=None if implicit else context,
        authenticator=PasswordCheck(USERNAME, PASSWORD),
    )
    server.start()
    try:
        settings = smtp_settings(
            server, security=security, ca_file=Path(certificate[0]), username=USERNAME, password=PASSWORD
        )
        SmtpSender(settings).send(one_item())
        assert len(server.received) == 1
        with pytest.raises(TemporaryDeliveryError, match="CERTIFICATE_VERIFY_FAILED") as unknown:
            SmtpSender(smtp_settings(server, security=security, username=USERNAME, password=PASSWORD)).send(one_item())
        assert unknown.value.outage
    finally:
        server.stop()


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporaryDeliveryError, match="STARTTLS"):
        SmtpSender(smtp_settings(smtp_server, security=Security.STARTTLS)).send(one_item())
    assert smtp_server.received == []


def test_the_password_never_appears_in_reprs_errors_or_logs(
    certificate: tuple[str, str], sqlite_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings_right = SmtpSettings(
        host="127.0.0.1", port=1, username=USERNAME, password=PASSWORD, from_address=FROM, from_name="x",
        message_id_domain=DOMAIN,
    )  # fmt: skip
    assert PASSWORD not in repr(settings_right) and PASSWORD not in str(settings_right)
    assert PASSWORD not in repr(SmtpSender(settings_right))

    server = SmtpServer(implicit_tls=server_tls_context(*certificate), authenticator=PasswordCheck(USERNAME, PASSWORD))
    server.start()
    try:
        add_emails(sqlite_engine, 2)
        clock = Clock()
        wrong = smtp_settings(
            server, security=Security.TLS, ca_file=Path(certificate[0]), username=USERNAME, password=PASSWORD[::-1]
        )
        worker = OutboxWorker(sqlite_engine, {OutboxChannel.EMAIL: SmtpSender(wrong)}, DeliverySettings(), clock)
        assert worker.deliver_due() == DeliveryReport(claimed=2, retried=2)
        errors = [i.last_error or "" for i in items_in(sqlite_engine)]
        assert all("refused the login: 535" in e for e in errors), errors

        right = smtp_settings(
            server, security=Security.TLS, ca_file=Path(certificate[0]), username=USERNAME, password=PASSWORD
        )
        worker = OutboxWorker(sqlite_engine, {OutboxChannel.EMAIL: SmtpSender(right)}, DeliverySettings(), clock)
        clock.advance(60)
        assert worker.deliver_due() == DeliveryReport(claimed=2, sent=2)
    finally:
        server.stop()
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "refused the login" in logged  # the outage was logged ...
    for secret in (PASSWORD, PASSWORD[::-1]):  # ... and neither password, right or wrong
        assert secret not in logged and all(secret not in e for e in errors)


def test_settings_choose_the_usual_port_for_their_security() -> None:
    base: dict[str, Any] = {
        "host": "smtp.landlord.example",
        "from_address": FROM,
        "from_name": "x",
        "message_id_domain": DOMAIN,
    }
    assert SmtpSettings(**base).effective_port == 465
    assert SmtpSettings(**base, security=Security.STARTTLS).effective_port == 587
    assert SmtpSettings(**base, security=Security.STARTTLS, port=2525).effective_port == 2525


def test_a_bad_address_is_permanent_and_nothing_is_sent(smtp_server: SmtpServer) -> None:
    for address in ("not an address", "a@b@c", "x@y\r\nBcc: z@w.example"):
        item = one_item()
        item.recipient = address
        with pytest.raises(PermanentDeliveryError, match="not a usable email address"):
            SmtpSender(smtp_settings(smtp_server)).send(item)
    assert smtp_server.received == []


# ------------------------------------------------------------------------------------------ telegram


def chat_item(text: str, chat: str = "4242") -> OutboxItem:
    item = one_item()
    item.channel, item.recipient, item.body_text = OutboxChannel.TELEGRAM, chat, text
    return item


def test_telegram_splits_long_bodies_into_parts_in_order() -> None:
    sent: list[tuple[int, str]] = []

    async def send_text(chat_id: int, text: str) -> None:
        sent.append((chat_id, text))

    paragraphs = [f"Paragraph {n}: " + "word " * 150 for n in range(20)]  # about 15,000 characters
    TelegramSender(send_text).send(chat_item("\n\n".join(paragraphs)))
    assert len(sent) > 3 and {chat for chat, _ in sent} == {4242}
    assert all(len(text) <= 4096 for _, text in sent)
    assert " ".join(t for _, t in sent).split() == "\n\n".join(paragraphs).split()  # nothing lost or reordered
    assert all(text.startswith("Paragraph") for _, text in sent)  # cut at paragraph ends


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 4096, ["short"]),
        ("", 4096, []),
        ("aaaa bbbb cccc", 9, ["aaaa bbbb", "cccc"]),
        ("one\ntwo three\n\nfour", 12, ["one\ntwo", "three\n\nfour"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),  # no space to cut at
        ("😀" * 5, 4, ["😀😀", "😀😀", "😀"]),  # Telegram counts UTF-16 units: an emoji is two
    ],
)
def test_split_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_text(text, limit) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (tg.Forbidden("Forbidden: bot was blocked by the user"), PermanentDeliveryError),
        (tg.BadRequest("Bad Request: chat not found"), PermanentDeliveryError),
        (tg.TimedOut(), TemporaryDeliveryError),
        (tg.NetworkError("connection reset"), TemporaryDeliveryError),
        (tg.InvalidToken(), TemporaryDeliveryError),
    ],
)
def test_telegram_errors_are_sorted_by_whose_fault_they_are(error: tg.TelegramError, expected: type[Exception]) -> None:
    async def send_text(chat_id: int, text: str) -> None:
        raise error

    with pytest.raises(expected):
        TelegramSender(send_text).send(chat_item("hello"))


def test_telegram_flood_control_asks_for_a_later_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # python-telegram-bot 22's opt-in to timedelta periods

    async def send_text(chat_id: int, text: str) -> None:
        raise tg.RetryAfter(timedelta(seconds=90))

    with pytest.raises(TemporaryDeliveryError) as raised:
        TelegramSender(send_text).send(chat_item("hello"))
    assert raised.value.retry_after == 90


def test_telegram_refuses_a_recipient_that_is_not_a_chat_id() -> None:
    async def send_text(chat_id: int, text: str) -> None:
        raise AssertionError("not called")

    with pytest.raises(PermanentDeliveryError, match="chat id"):
        TelegramSender(send_text).send(chat_item("hello", chat="resident@resident.example"))
    with pytest.raises(PermanentDeliveryError, match="empty"):
        TelegramSender(send_text).send(chat_item("  \n"))


def test_telegram_sends_through_the_bots_own_event_loop() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    seen: list[tuple[int, str, bool]] = []

    async def send_text(chat_id: int, text: str) -> None:
        seen.append((chat_id, text, asyncio.get_running_loop() is loop))

    try:
        TelegramSender(send_text, loop=loop).send(chat_item("hello", chat="-1001234"))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
    assert seen == [(-1001234, "hello", True)]


# ------------------------------------------------------------------------------------- connections


class CountingSender(SmtpSender):
    connections = 0

    def connect(self) -> smtplib.SMTP:
        self.connections += 1
        return super().connect()


def test_a_batch_uses_one_connection(sqlite_engine: sa.Engine, smtp_server: SmtpServer) -> None:
    add_emails(sqlite_engine, 5)
    sender = CountingSender(smtp_settings(smtp_server))
    worker = OutboxWorker(sqlite_engine, {OutboxChannel.EMAIL: sender}, DeliverySettings(), Clock())
    assert worker.deliver_due() == DeliveryReport(claimed=5, sent=5)
    assert sender.connections == 1 and sender._client is None  # closed at the end of the batch


def test_a_dropped_connection_is_opened_again(smtp_server: SmtpServer) -> None:
    sender = CountingSender(smtp_settings(smtp_server))
    with sender.session():
        sender.send(one_item("first"))
        smtp_server.stop()  # drops the kept connection, as a server's idle timeout would
        smtp_server.start()
        sender.send(one_item("second"))
    assert sender.connections == 2 and len(smtp_server.received) == 2
