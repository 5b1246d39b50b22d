"""Report speed: the annual report over 1,000,000 inbound messages and 50,000 cases. Prints figures; it is
not a test.

    python -m benchmarks.bench_report [--messages 1000000] [--cases 50000] [--database-url URL ...]

Without --database-url it runs on a SQLite file in a temporary folder and on a throwaway PostgreSQL
cluster (when PostgreSQL's server binaries are installed, as for the tests). The synthetic year is
shaped like a 100,000-home landlord's: a fifth of the cases are complaints (a fifth of those escalated,
one in ten extended, a few refused), most are service requests, some survey feedback; every message is
classified, 3% with a possible hazard. It is bulk-inserted with SQLAlchemy Core. Timed: building the
report (every figure, as `triage report --format json` does), the self-assessment's extra evidence,
and rendering the HTML with its charts.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.commands.report import run_report
from models.cases import Case, Deadline, Extension, StageResponse
from models.classification import Classification, TriageDecision
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    DeadlineKind,
    Hazard,
    Label,
    MessageStatus,
    OutboxChannel,
    OutboxStatus,
    StaffRole,
    StageDecision,
)
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import Resident, StaffMemberCreate
from models.references import PREFIXES
from models.repository.staff import add_staff
from reports.html import render_report_html
from reports.period import Period
from reports.settings import ReportSettings
from scheduler.calendar import WorkingCalendar
from tests.servers.postgres import start_postgres

PERIOD = Period(date(2026, 4, 1), date(2027, 3, 31))
AS_OF = datetime(2027, 4, 1, 9, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)  # a month before the period, so the previous period has data too
SPAN_SECONDS = int((datetime(2027, 4, 1, tzinfo=UTC) - START).total_seconds())
CATEGORIES = ("repairs", "damp_mould", "heating_hot_water", "asb", "staff_conduct", "communication", "rent_charges")
REASONS = (
    "Waiting for the contractor's report",
    "Specialist survey needed",
    "Awaiting information from the resident",
    "Complex case across several teams",
)
REFUSALS = ("Over 12 months since the issue", "Legal proceedings started", "Previously considered")
HAZARDS = tuple(Hazard)
CHUNK = 10_000


def chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class Year:
    """The synthetic rows, built in memory first so that insert time is all the database's."""

    def __init__(self, messages: int, cases: int, calendar: WorkingCalendar, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.calendar = calendar
        self.rows: dict[Any, list[dict[str, Any]]] = {
            t: [] for t in (Resident, Case, InboundMessage, Classification, TriageDecision, Deadline)
        }
        self.rows.update({StageResponse: [], Extension: [], OutboxItem: []})
        self.residents = max(1, cases // 2)
        self.build(messages, cases)

    def moment(self) -> datetime:
        return START + timedelta(seconds=self.rng.randrange(SPAN_SECONDS))

    def later(self, moment: datetime, max_days: int) -> datetime:
        return moment + timedelta(seconds=self.rng.randrange(3600, max_days * 86400))

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar.zone).date()

    def deadline(self, case_id: int, stage: int, kind: DeadlineKind, due: date, met: datetime | None) -> int:
        rows = self.rows[Deadline]
        rows.append(
            {
                "id": len(rows) + 1,
                "case_id": case_id,
                "stage": stage,
                "kind": kind.value,
                "due_on": due,
                "due_at": self.calendar.end_of_day(due),
                "original_due_on": due,
                "met_at": met,
            }
        )
        return len(rows)

    def stage(self, case_id: int, stage: int, received: datetime, staff: int) -> datetime | None:
        """Acknowledge, maybe extend, maybe respond; returns when the response was given."""
        ack_days, respond_days = (5, 10) if stage == 1 else (5, 20)
        received_day = self.calendar.received_day(received)
        acked = self.later(received, 8)
        self.deadline(
            case_id, stage, DeadlineKind.ACKNOWLEDGE, self.calendar.add_working_days(received_day, ack_days), acked
        )
        due = self.calendar.add_working_days(self.day(acked), respond_days)
        responded = self.later(acked, 35) if self.rng.random() < 0.9 else None
        respond_id = self.deadline(case_id, stage, DeadlineKind.RESPOND, due, responded)
        if self.rng.random() < 0.1:
            extra = self.rng.choice((5, 10))
            row = self.rows[Deadline][respond_id - 1]
            row["due_on"] = self.calendar.add_working_days(due, extra)
            row["due_at"] = self.calendar.end_of_day(row["due_on"])
            self.rows[Extension].append(
                {
                    "deadline_id": respond_id,
                    "working_days": extra,
                    "reason": self.rng.choice(REASONS),
                    "decided_by_id": staff,
                    "decided_at": acked + timedelta(days=5),
                    "resident_informed_at": acked + timedelta(days=5),
                }
            )
        if responded is not None:
            remedy = self.rng.choice((None, None, "An apology", "£50 compensation"))
            self.rows[StageResponse].append(
                {
                    "case_id": case_id,
                    "stage": stage,
                    "decision": self.rng.choice(tuple(StageDecision)).value,
                    "reasons": "We looked at each point.",
                    "remedy": remedy,
                    "responded_by_id": staff,
                    "responded_at": responded,
                }
            )
        return responded

    def build(self, messages: int, cases: int) -> None:
        rng = self.rng
        for n in range(1, self.residents + 1):
            self.rows[Resident].append(
                {"id": n, "email": f"r{n}@resident.example", "tenancy_ref": f"T-{n:06d}", "created_at": START}
            )
        sr_ids: list[int] = []
        case_messages: dict[int, tuple[int, CaseKind, datetime]] = {}
        for n in range(1, cases + 1):
            roll = rng.random()
            kind = (
                CaseKind.COMPLAINT
                if roll < 0.2
                else CaseKind.SURVEY_FEEDBACK
                if roll < 0.3
                else CaseKind.SERVICE_REQUEST
            )
            received = self.moment()
            row: dict[str, Any] = {
                "id": n,
                "kind": kind.value,
                "reference": f"{PREFIXES[kind]}-2026-{n:06d}",
                "status": CaseStatus.OPEN.value,
                "stage": None,
                "resident_id": rng.randint(1, self.residents),
                "definition": "The resident is unhappy that the repair is late.",
                "categories": rng.sample(CATEGORIES, rng.choice((0, 1, 1, 1, 2))),
                "hazard": rng.choice(HAZARDS).value if rng.random() < 0.03 else None,
                "received_at": received,
                "created_at": received,
                "stage1_handler_id": 2,
            }
            self.rows[Case].append(row)
            case_messages[n] = (n, kind, received)  # the case's first message has the case's id
            if kind is CaseKind.SERVICE_REQUEST:
                sr_ids.append(n)
                if rng.random() < 0.7:
                    row["status"], row["closed_at"] = CaseStatus.CLOSED.value, self.later(received, 60)
            elif kind is CaseKind.SURVEY_FEEDBACK:
                self.rows[OutboxItem].append(
                    {
                        "idempotency_key": f"survey:{row['reference']}",
                        "channel": OutboxChannel.EMAIL.value,
                        "recipient": "r@resident.example",
                        "body_text": "How to complain ...",
                        "case_id": n,
                        "status": OutboxStatus.SENT.value,
                        "next_attempt_at": received,
                        "created_at": received,
                    }
                )
            else:
                self.complaint(row, received, sr_ids)
        self.messages(messages, case_messages)

    def complaint(self, row: dict[str, Any], received: datetime, sr_ids: list[int]) -> None:
        rng = self.rng
        case_id = row["id"]
        if rng.random() < 0.03:
            row.update(
                status=CaseStatus.EXCLUDED.value,
                exclusion_reason=rng.choice(REFUSALS),
                excluded_by_id=2,
                excluded_at=self.later(received, 5),
            )
            return
        if sr_ids and rng.random() < 0.05:
            row["linked_service_request_id"] = rng.choice(sr_ids)
        row.update(stage=1, status=CaseStatus.STAGE1_OPEN.value)
        responded = self.stage(case_id, 1, received, staff=2)
        if responded is None:
            return
        row["status"] = CaseStatus.STAGE1_RESPONDED.value
        if rng.random() < 0.2:
            escalated = self.later(responded, 20)
            row.update(stage=2, status=CaseStatus.STAGE2_OPEN.value, escalation_requested_at=escalated)
            row["stage2_handler_id"] = 3
            if self.stage(case_id, 2, escalated, staff=3) is not None:
                row["status"] = CaseStatus.STAGE2_RESPONDED.value

    def messages(self, count: int, case_messages: dict[int, tuple[int, CaseKind, datetime]]) -> None:
        rng = self.rng
        labels = {
            CaseKind.COMPLAINT: Label.COMPLAINT,
            CaseKind.SERVICE_REQUEST: Label.SERVICE_REQUEST,
            CaseKind.SURVEY_FEEDBACK: Label.SURVEY_FEEDBACK,
        }
        texts = ("2/5 he never turned up", "5 stars, great job", "All fine thanks", "Still leaking, not happy")
        for n in range(1, count + 1):
            case = case_messages.get(n)
            received = case[2] if case else self.moment()
            predicted = labels[case[1]] if case else rng.choice(tuple(Label))
            if case and rng.random() < 0.1:  # staff corrected the classifier on one in ten
                predicted = rng.choice(tuple(Label))
            text = rng.choice(texts) if case and case[1] is CaseKind.SURVEY_FEEDBACK else f"Message {n} about a repair"
            self.rows[InboundMessage].append(
                {
                    "id": n,
                    "channel": Channel.EMAIL.value if n % 3 else Channel.CHAT.value,
                    "source_key": f"bench:{n}",
                    "content_hash": f"{n:064d}",
                    "received_at": received,
                    "sender_address": f"r{n % self.residents}@resident.example",
                    "body_text": text,
                    "new_text": text,
                    "raw_size": len(text),
                    "case_id": case[0] if case else None,
                    "status": MessageStatus.TRIAGED.value if case else MessageStatus.AWAITING_REVIEW.value,
                    "created_at": received,
                }
            )
            self.rows[Classification].append(
                {
                    "id": n,
                    "message_id": n,
                    "model_version": "bench",
                    "label": predicted.value,
                    "confidence": 0.8,
                    "scores": {"complaint": 0.1},
                    "categories": [],
                    "hazard": rng.choice(HAZARDS).value if rng.random() < 0.03 else None,
                    "created_at": received,
                }
            )
            if case:
                self.rows[TriageDecision].append(
                    {
                        "message_id": n,
                        "classification_id": n,
                        "staff_id": 1,
                        "decided_at": received + timedelta(minutes=rng.randrange(5, 3000)),
                        "label": labels[case[1]].value,
                        "case_id": case[0],
                    }
                )

    def insert(self, engine: sa.Engine) -> None:
        with engine.begin() as conn:
            for model, rows in self.rows.items():
                keys = {key for row in rows for key in row}  # executemany needs the same keys in every row
                for chunk in chunks(rows):
                    conn.execute(sa.insert(model.__table__), [{k: row.get(k) for k in keys} for row in chunk])
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))


def add_people(engine: sa.Engine) -> None:
    with Session(engine) as session:
        for name, role in (("Tess", StaffRole.TRIAGE), ("Hal", StaffRole.HANDLER), ("Sam", StaffRole.HANDLER)):
            add_staff(
                session,
                data=StaffMemberCreate(name=name, email=f"{name.lower()}@bench.example", roles=[role]),
                now=START,
            )
        session.commit()


def bench(url: str, messages: int, cases: int, repeat: int) -> None:
    upgrade(DatabaseSettings(url))
    engine = make_engine(DatabaseSettings(url))
    calendar = WorkingCalendar()
    try:
        add_people(engine)
        started = time.perf_counter()
        year = Year(messages, cases, calendar)
        built = time.perf_counter()
        year.insert(engine)
        print(
            f"{engine.dialect.name}: {messages:,} messages, {cases:,} cases, "
            f"{len(year.rows[Deadline]):,} deadlines, {len(year.rows[StageResponse]):,} responses: "
            f"made in {built - started:.1f} s, inserted in {time.perf_counter() - built:.1f} s"
        )
        settings = ReportSettings(homes_low_cost_rental=100_000)
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            report, rows = run_report(engine, period=PERIOD, settings=settings, calendar=calendar, as_of=AS_OF)
            middle = time.perf_counter()
            html = render_report_html(report)
            timings.append((middle - start, time.perf_counter() - middle))
        best = min(t for t, _ in timings)
        print(
            f"  report and self-assessment evidence for {PERIOD.first} to {PERIOD.last}: {best:.2f} s "
            f"(best of {repeat}: {', '.join(f'{t:.2f}' for t, _ in timings)} s); "
            f"HTML with charts: {min(h for _, h in timings):.2f} s, {len(html) / 1024:.0f} KiB"
        )
        p = report.performance
        print(
            f"  {p.received.stage1:,} stage 1 and {p.received.stage2:,} stage 2 complaints, CH02 stage 1 "
            f"{report.ch02.stage1.share or 0:.1%}, {report.themes.hazards.flagged:,} hazards flagged, "
            f"{report.triage_quality.decisions:,} triage decisions, {sum(r.status != 'policy' for r in rows)} "
            "provisions judged from data"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url", action="append", default=None, help="default: a temporary SQLite file and PostgreSQL"
    )
    args = parser.parse_args()
    if args.database_url:
        for url in args.database_url:
            bench(url, args.messages, args.cases, args.repeat)
        return
    bench(f"sqlite:///{tempfile.mkdtemp(prefix='bench-report-')}/triage.db", args.messages, args.cases, args.repeat)
    server = start_postgres()
    if server is None:
        print("PostgreSQL is not installed here: skipped (pass --database-url to use a server)")
        return
    try:
        bench(server.url(), args.messages, args.cases, args.repeat)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
