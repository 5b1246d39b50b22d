"""Scheduler speed: one sweep over 100,000 open complaints with deadlines, and outbox throughput to a
loopback SMTP server. Prints figures; it is not a test.

    python -m benchmarks.bench_scheduler [--cases 100000] [--database-url URL] [--outbox 2000]

The first sweep of a day enqueues every reminder newly due (rendering each letter); later sweeps the
same day find nothing new, and that steady-state sweep is the one that runs every minute.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from models.cases import Case, Deadline
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import CaseKind, CaseStatus, DeadlineKind, OutboxChannel, StaffRole
from models.people import StaffMemberCreate
from models.repository.outbox import NewMessage, enqueue_many
from models.repository.staff import add_staff
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.delivery import OutboxWorker
from scheduler.jobs import remind_handlers
from scheduler.letters import LandlordDetails
from scheduler.mail_settings import DeliverySettings, Security, SmtpSettings
from scheduler.senders import SmtpSender
from tests.servers.smtp import RecordingHandler, SmtpServer

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 12, 9)  # a Wednesday


def seed(engine: sa.Engine, cases: int, calendar: WorkingCalendar) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    chance = random.Random(7)
    with Session(engine) as session:
        handlers = [
            add_staff(
                session,
                data=StaffMemberCreate(name=f"Handler {n}", email=f"h{n}@landlord.example", roles=[StaffRole.HANDLER]),
                now=now,
            ).id
            for n in range(40)
        ]
        add_staff(
            session,
            data=StaffMemberCreate(
                name="Officer", email="officer@landlord.example", roles=[StaffRole.COMPLAINTS_OFFICER]
            ),
            now=now,
        )
        session.commit()
    case_rows, deadline_rows = [], []
    for n in range(1, cases + 1):
        due = (
            calendar.add_working_days(TODAY, chance.randint(0, 25))
            if chance.random() < 0.97
            else calendar.subtract_working_days(TODAY, chance.randint(1, 5))
        )
        case_rows.append(
            {
                "id": n,
                "kind": CaseKind.COMPLAINT.value,
                "reference": f"CMP-2026-{n:06d}",
                "status": CaseStatus.STAGE1_OPEN.value,
                "stage": 1,
                "categories": [],
                "definition": "The boiler has failed three times since October and nobody came back.",
                "received_at": now,
                "created_at": now,
                "stage1_handler_id": chance.choice(handlers),
            }
        )
        deadline_rows.append(
            {
                "case_id": n,
                "stage": 1,
                "kind": DeadlineKind.ACKNOWLEDGE.value,
                "due_on": TODAY,
                "due_at": calendar.end_of_day(TODAY),
                "original_due_on": TODAY,
                "met_at": now,
            }
        )
        deadline_rows.append(
            {
                "case_id": n,
                "stage": 1,
                "kind": DeadlineKind.RESPOND.value,
                "due_on": due,
                "due_at": calendar.end_of_day(due),
                "original_due_on": due,
                "met_at": None,
            }
        )
    with engine.begin() as conn:
        for chunk in range(0, len(case_rows), 5000):
            conn.execute(
                sa.insert(Case.__table__),  # type: ignore[attr-defined]
                case_rows[chunk : chunk + 5000],
            )
        for chunk in range(0, len(deadline_rows), 10000):
            conn.execute(
                sa.insert(Deadline.__table__),  # type: ignore[attr-defined]
                deadline_rows[chunk : chunk + 10000],
            )
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('triage_case', 'id'), :n)"), {"n": cases})
            conn.execute(sa.text("ANALYZE"))


def sweep(engine: sa.Engine, work: Casework, hour: int) -> tuple[float, int]:
    moment = datetime(TODAY.year, TODAY.month, TODAY.day, hour, tzinfo=LONDON)
    start = time.perf_counter()
    with Session(engine) as session:
        report = remind_handlers(session, now=moment, work=work)
        session.commit()
    return time.perf_counter() - start, report.reminders + report.overdue_notices


def outbox_throughput(engine: sa.Engine, count: int) -> None:
    """Deliver `count` enqueued emails to an aiosmtpd server on 127.0.0.1 and time it."""
    now = datetime(2026, 12, 9, 9, tzinfo=UTC)
    with Session(engine) as session:
        enqueue_many(
            session,
            now=now,
            messages=[
                NewMessage(
                    key=f"bench:{n}",
                    channel=OutboxChannel.EMAIL,
                    recipient=f"r{n}@resident.example",
                    subject=f"Your complaint CMP-2026-{n:06d}",
                    body_text="We have received your complaint. " * 20,
                    body_html="<p>We have received your complaint.</p>" * 20,
                    message_id_header=f"<bench-{n}@bench.example>",
                )
                for n in range(count)
            ],
        )
        session.commit()
    server = SmtpServer(RecordingHandler())
    server.start()
    try:
        sender = SmtpSender(
            SmtpSettings(
                host="127.0.0.1",
                port=server.port,
                security=Security.PLAIN,
                from_address="c@bench.example",
                from_name="Bench",
                message_id_domain="bench.example",
            )
        )
        worker = OutboxWorker(engine, {OutboxChannel.EMAIL: sender}, DeliverySettings(batch_size=100), lambda: now)
        start = time.perf_counter()
        while worker.deliver_due().claimed:
            pass
        seconds = time.perf_counter() - start
        print(
            f"outbox to loopback SMTP: {len(server.received):,} messages in {seconds:.2f} s = "
            f"{len(server.received) / seconds:,.0f} messages/s"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    parser.add_argument("--outbox", type=int, default=2000, help="emails for the outbox throughput run")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-sched-')}/triage.db"
    upgrade(DatabaseSettings(url))
    engine = make_engine(DatabaseSettings(url))
    calendar = WorkingCalendar()
    work = Casework(
        calendar=calendar,
        message_id_domain="bench.example",
        landlord=LandlordDetails(
            name="Bench Homes",
            complaints_email="c@bench.example",
            complaints_phone="0100",
            complaints_policy_url=None,
            address=None,
        ),
    )
    start = time.perf_counter()
    seed(engine, args.cases, calendar)
    print(
        f"{engine.dialect.name}: seeded {args.cases:,} open complaints ({2 * args.cases:,} deadlines) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    seconds, sent = sweep(engine, work, 8)
    print(
        f"first sweep of the day: {seconds * 1000:.0f} ms, {sent:,} reminders and overdue notices enqueued "
        f"({seconds / max(sent, 1) * 1000:.2f} ms each)"
    )
    timings = [sweep(engine, work, 9 + n) for n in range(5)]
    best = min(t for t, _ in timings)
    print(
        f"steady-state sweep (nothing new): {best * 1000:.1f} ms (best of 5; "
        f"{', '.join(f'{t * 1000:.0f}' for t, _ in timings)} ms), {sum(n for _, n in timings)} enqueued"
    )
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM outbox_item"))
    outbox_throughput(engine, args.outbox)
    engine.dispose()


if __name__ == "__main__":
    main()
