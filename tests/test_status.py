"""`triage status`: every figure on a database built with known contents (SQLite and PostgreSQL), and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli import app
from models.blobs import MailboxCheckpoint
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import CaseKind, CaseStatus, Channel, DeadlineKind, MessageStatus, OutboxChannel, OutboxStatus
from models.messages import InboundMessageCreate
from models.outbox import OutboxItem
from models.repository.cases import create_case, set_deadline
from models.repository.messages import store_inbound
from models.repository.status import record_heartbeat, service_status
from models.types import row_id

# Monday 2 March 2026, 09:30 UTC (GMT): the oldest message's acknowledgement is due five working days on.
NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
OLDEST = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def message(session: Session, n: int, status: MessageStatus, received_at: datetime) -> None:
    stored, _ = store_inbound(
        session,
        data=InboundMessageCreate(
            channel=Channel.EMAIL if n % 2 else Channel.CHAT,
            source_key=f"test:{n}",
            content_hash=f"h{n}",
            received_at=received_at,
            sender_address=f"r{n}@resident.example",
            body_text="text",
            new_text="text",
        ),
        now=received_at,
    )
    stored.status = status
    session.add(stored)


def outbox(session: Session, key: str, status: OutboxStatus, created_at: datetime, error: str | None = None) -> None:
    session.add(
        OutboxItem(
            idempotency_key=key,
            channel=OutboxChannel.EMAIL,
            recipient="r@resident.example",
            body_text="letter",
            status=status,
            next_attempt_at=created_at,
            created_at=created_at,
            last_error=error,
        )
    )


def build(session: Session) -> dict[str, str]:
    """Known contents; returns the references of the cases by role."""
    # Messages: three awaiting review (the oldest on Monday 2 March, a chat one), and one of each other kind.
    message(session, 2, MessageStatus.AWAITING_REVIEW, OLDEST)
    message(session, 3, MessageStatus.AWAITING_REVIEW, OLDEST + timedelta(days=2))
    message(session, 5, MessageStatus.AWAITING_REVIEW, OLDEST + timedelta(days=4))
    message(session, 7, MessageStatus.QUARANTINED, OLDEST)
    message(session, 9, MessageStatus.NEW, OLDEST)
    message(session, 11, MessageStatus.TRIAGED, OLDEST)

    refs: dict[str, str] = {}
    # An open complaint with seven deadlines past (only five are listed) and one still to come.
    open_case = create_case(session, kind=CaseKind.COMPLAINT, received_at=OLDEST, now=OLDEST)
    open_case.status, open_case.stage = CaseStatus.STAGE1_OPEN, 1
    refs["open"] = open_case.reference
    for days_late in range(1, 8):
        due = NOW - timedelta(days=days_late)
        set_deadline(
            session,
            case_id=row_id(open_case),
            stage=days_late,  # one deadline per (stage, kind): the stage number only keeps them apart here
            kind=DeadlineKind.RESPOND,
            due_on=due.date(),
            due_at=due,
        )
    set_deadline(
        session,
        case_id=row_id(open_case),
        stage=1,
        kind=DeadlineKind.ACKNOWLEDGE,
        due_on=date(2099, 3, 20),
        due_at=datetime(2099, 3, 20, 23, 59, tzinfo=UTC),
    )
    # A met deadline and a closed case's missed one do not count as overdue.
    met = create_case(session, kind=CaseKind.COMPLAINT, received_at=OLDEST, now=OLDEST)
    met.status, met.stage = CaseStatus.STAGE1_RESPONDED, 1
    done = set_deadline(
        session, case_id=row_id(met), stage=1, kind=DeadlineKind.RESPOND, due_on=date(2026, 3, 3), due_at=OLDEST
    )
    done.met_at = OLDEST
    closed = create_case(session, kind=CaseKind.COMPLAINT, received_at=OLDEST, now=OLDEST)
    closed.status = CaseStatus.CLOSED
    set_deadline(
        session, case_id=row_id(closed), stage=1, kind=DeadlineKind.RESPOND, due_on=date(2026, 3, 3), due_at=OLDEST
    )
    request = create_case(session, kind=CaseKind.SERVICE_REQUEST, received_at=OLDEST, now=OLDEST)
    session.add_all([open_case, met, closed, request, done])

    outbox(session, "p1", OutboxStatus.PENDING, NOW)
    outbox(session, "p2", OutboxStatus.PENDING, NOW)
    outbox(session, "s1", OutboxStatus.SENDING, NOW)
    outbox(session, "f-new", OutboxStatus.FAILED, NOW - timedelta(hours=1), "550 no such user")
    outbox(session, "f-old", OutboxStatus.FAILED, NOW - timedelta(days=2), "gave up after 30 attempts: timeout")
    for n in range(3):
        outbox(session, f"sent{n}", OutboxStatus.SENT, NOW)

    session.add(MailboxCheckpoint(mailbox="complaints@imap.test/INBOX", uidvalidity=1, last_uid=4, last_success_at=NOW))
    record_heartbeat(session, name="outbox", now=NOW - timedelta(minutes=5), detail="first")
    record_heartbeat(session, name="outbox", now=NOW - timedelta(seconds=3), detail="claimed 2, sent 2")
    record_heartbeat(session, name="telegram", now=NOW - timedelta(seconds=1), detail="x" * 900)
    session.commit()
    return refs


def test_every_figure_on_known_contents(session: Session) -> None:
    refs = build(session)
    status = service_status(session, now=NOW)

    assert status.awaiting_review == 4  # three classified, one the classifier never labelled: all wait for staff
    assert status.messages[MessageStatus.QUARANTINED] == 1 and status.messages[MessageStatus.NEW] == 1
    assert status.oldest_awaiting is not None
    assert (status.oldest_awaiting.channel, status.oldest_awaiting.received_at) == (Channel.CHAT, OLDEST)
    assert [(c.kind, c.status, c.count) for c in status.open_cases] == [
        (CaseKind.COMPLAINT, CaseStatus.STAGE1_OPEN, 1),
        (CaseKind.COMPLAINT, CaseStatus.STAGE1_RESPONDED, 1),
        (CaseKind.SERVICE_REQUEST, CaseStatus.OPEN, 1),
    ]
    assert status.overdue == 7
    assert [d.due_at for d in status.most_overdue] == [NOW - timedelta(days=n) for n in (7, 6, 5, 4, 3)]
    assert {d.reference for d in status.most_overdue} == {refs["open"]}
    assert status.outbox == {
        OutboxStatus.PENDING: 2,
        OutboxStatus.SENDING: 1,
        OutboxStatus.FAILED: 2,
        OutboxStatus.SENT: 3,
    }
    assert status.oldest_failure is not None
    assert (status.oldest_failure.key, status.oldest_failure.last_error) == (
        "f-old",
        "gave up after 30 attempts: timeout",
    )
    assert [(m.mailbox, m.last_success_at) for m in status.mailboxes] == [("complaints@imap.test/INBOX", NOW)]
    assert set(status.heartbeats) == {"outbox", "telegram"}
    outbox_beat = status.heartbeats["outbox"]
    assert (outbox_beat.last_ok_at, outbox_beat.detail) == (NOW - timedelta(seconds=3), "claimed 2, sent 2")
    assert len(status.heartbeats["telegram"].detail or "") == 500  # cut to the column's size


def test_an_empty_database(session: Session) -> None:
    status = service_status(session, now=NOW)
    assert (status.awaiting_review, status.oldest_awaiting, status.overdue, status.most_overdue) == (0, None, 0, [])
    assert (status.outbox, status.oldest_failure, status.mailboxes, status.heartbeats) == ({}, None, [], {})


def migrated(tmp_path: Path) -> sa.Engine:
    url = f"sqlite:///{tmp_path}/triage.db"
    upgrade(DatabaseSettings(url))
    return make_engine(DatabaseSettings(url))


def test_cli_json_and_tables(tmp_path: Path) -> None:
    engine = migrated(tmp_path)
    with Session(engine, expire_on_commit=False) as session:
        refs = build(session)
    engine.dispose()
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": None, "TRIAGE_CONFIG": None}

    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    oldest = report["messages"]["oldest_awaiting_review"]
    # Received Monday 2 March: acknowledged by the end of Monday 9 March (Code 6.2, five working days).
    assert oldest["received_at"] == OLDEST.isoformat()
    assert oldest["acknowledge_by"] == "2026-03-09T23:59:59.999999+00:00"
    assert report["messages"]["awaiting_review"] == 4
    assert report["overdue_deadlines"]["count"] == 7
    assert len(report["overdue_deadlines"]["most_overdue"]) == 5
    assert report["overdue_deadlines"]["most_overdue"][0]["reference"] == refs["open"]
    assert {k: report["outbox"][k] for k in ("pending", "sending", "failed", "sent")} == {
        "pending": 2,
        "sending": 1,
        "failed": 2,
        "sent": 3,
    }
    assert report["outbox"]["oldest_failure"]["key"] == "f-old"
    assert report["last_imap_success"] == {"complaints@imap.test/INBOX": NOW.isoformat()}
    assert report["heartbeats"]["scheduler"] is None  # never ran: shown, not left out
    assert report["heartbeats"]["outbox"]["detail"] == "claimed 2, sent 2"

    result = CliRunner().invoke(app, ["status"], env=env)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for expected in ("awaiting review", "Most overdue deadlines", refs["open"], "f-old", "email intake"):
        assert expected in out, expected


def test_cli_refuses_a_missing_database(tmp_path: Path) -> None:
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": None, "TRIAGE_CONFIG": None}
    result = CliRunner().invoke(app, ["status"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no database at") and "triage db upgrade" in result.stderr
    assert result.stderr.count("\n") == 1
