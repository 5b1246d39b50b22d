"""`triage demo`: the bundled sample messages through the production code, start to finish, in a minute.

Nothing here is demo-only logic: emails go through EmailIntake (from a directory instead of IMAP),
chat messages through the chat intake, decisions through confirm_triage, letters through the outbox
worker (into files instead of SMTP and Telegram), reminders through the scheduler's sweep, and the
report through `reports`. Only the clock and the staff member's taps are the demo's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.demo import views
from bot.telegram.cards import CardData
from bot.telegram.queries import awaiting_review
from classifier.classify import Classifier
from intake.chat import ChatIncoming, store_chat_message
from intake.folder import DirectoryMailbox
from intake.ingest import EmailIntake
from intake.settings import IntakeSettings
from models.case_actions import Actor, assign_handler
from models.cases import Case, Deadline
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import CaseKind, DeadlineKind, Label, OutboxChannel, StaffRole
from models.errors import DomainError
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import StaffMember, StaffMemberCreate
from models.repository.staff import add_staff
from scheduler.actions import confirm_triage
from scheduler.casework import Casework
from scheduler.delivery import OutboxWorker
from scheduler.file_senders import DirectoryChatSender, DirectoryEmailSender
from scheduler.mail_settings import DeliverySettings, SmtpSettings
from scheduler.senders import Sender
from scheduler.service import SchedulerService

SAMPLES = Path(__file__).with_name("samples")
# Files the demo owns in its directory: removed and made again on each run, nothing else is touched.
OWNED = ("triage.db", "triage.db-wal", "triage.db-shm", "report.html")
STAFF = (
    StaffMemberCreate(
        name="Priya Shah", email="priya.shah@landlord.example", roles=[StaffRole.COMPLAINTS_OFFICER, StaffRole.TRIAGE]
    ),
    StaffMemberCreate(name="Tom Reid", email="tom.reid@landlord.example", roles=[StaffRole.HANDLER]),
    StaffMemberCreate(name="Aisha Khan", email="aisha.khan@landlord.example", roles=[StaffRole.HANDLER]),
)


@dataclass
class DemoOutcome:
    """What the demo did, for its closing summary and for tests."""

    directory: Path
    emails: int = 0
    chats: int = 0
    auto_generated: int = 0
    triaged: int = 0
    agreed: int = 0  # predicted label equal to the answer key's
    disagreements: list[str] = field(default_factory=list)
    cases: dict[str, int] = field(default_factory=dict)  # by kind
    letters: list[Path] = field(default_factory=list)
    reminders: list[Path] = field(default_factory=list)
    report: Path | None = None


@dataclass(frozen=True)
class DemoClock:
    """The demo's 'now': the real time at start, moved on by `advance` to show what happens later."""

    start: datetime

    def at(self, moment: datetime) -> Callable[[], datetime]:
        return lambda: moment


MARKER = ".triage-demo"


class NotADemoDirectoryError(DomainError):
    """The directory holds a triage database the demo did not make: it may be someone's real data."""


def prepare(directory: Path) -> DatabaseSettings:
    """A fresh SQLite database in `directory` (only the demo's own files are replaced, and only in a
    directory the demo made: a marker file says so, so a real data directory is never wiped)."""
    if (directory / "triage.db").exists() and not (directory / MARKER).exists():
        raise NotADemoDirectoryError(
            f"{directory} already holds a triage database that the demo did not make; "
            "choose another --dir (the demo replaces its own database on every run)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `triage demo`; its files here are replaced on each run\n")
    for name in OWNED:
        (directory / name).unlink(missing_ok=True)
    outbox = directory / "outbox"
    if outbox.is_dir():
        for old in [*outbox.glob("*.eml"), *outbox.glob("*.txt")]:
            old.unlink()
    settings = DatabaseSettings(f"sqlite:///{(directory / 'triage.db').resolve()}")
    upgrade(settings)
    return settings


def add_demo_staff(engine: Engine, now: datetime) -> list[StaffMember]:
    with Session(engine, expire_on_commit=False) as session:
        people = [add_staff(session, data=data, now=now) for data in STAFF]
        session.commit()
    return people


def email_receipt_times(
    directory: Path, now: datetime, span: timedelta = timedelta(days=3)
) -> Callable[[Path, bytes], datetime]:
    """Keep the samples' order, squeezed into the `span` before now (the newest 20 minutes ago), so
    that the demo shows a queue still within its acknowledgement deadlines, as a well-run one is."""
    dates: dict[str, datetime] = {}
    for path in directory.glob("*.eml"):
        dates[path.name] = _date_header(path.read_bytes()) or now
    newest = max(dates.values(), default=now)
    oldest = min(dates.values(), default=now)
    squeeze = min(1.0, span / (newest - oldest)) if newest > oldest else 1.0
    end = now - timedelta(minutes=20)

    def received(path: Path, _raw: bytes) -> datetime:
        return end - (newest - dates.get(path.name, newest)) * squeeze

    return received


def _date_header(raw: bytes) -> datetime | None:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    for line in head.decode("ascii", "replace").splitlines():
        if line.lower().startswith("date:"):
            try:
                value = parsedate_to_datetime(line[5:].strip())
            except (TypeError, ValueError):
                return None
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def load_emails(engine: Engine, classifier: Classifier, now: datetime) -> tuple[int, int]:
    """The sample emails through EmailIntake; returns (stored, auto-generated)."""
    folder = SAMPLES / "email"
    mailbox = DirectoryMailbox(folder, received_at=email_receipt_times(folder, now))
    intake = EmailIntake(
        mailbox=mailbox,
        mailbox_name="demo:samples",
        engine=engine,
        classifier=classifier,
        settings=IntakeSettings(batch_size=10),
        clock=lambda: now,
    )
    report = intake.drain()
    return report.stored, report.auto_generated


def chat_lines() -> list[dict[str, object]]:
    path = SAMPLES / "chat.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_chats(engine: Engine, classifier: Classifier, now: datetime, advance: Callable[[], None]) -> int:
    stored = 0
    for number, line in enumerate(chat_lines(), start=1):
        user = int(str(line["user_id"]))
        incoming = ChatIncoming(
            chat_id=user,
            message_id=number,
            user_id=user,
            user_name=str(line.get("first_name") or "") or None,
            text=str(line["text"]),
            received_at=now - timedelta(minutes=int(str(line.get("minutes_ago", 5)))),
        )
        with Session(engine) as session:
            outcome = store_chat_message(session, incoming=incoming, now=now, classifier=classifier)
            session.commit()
        stored += outcome.created
        advance()
    return stored


def answer_key() -> dict[str, str]:
    """The samples' expected labels by source key, as intake names them."""
    key = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    labels: dict[str, str] = {}
    for name, entry in key.get("email", {}).items():
        labels[f"email:{name}"] = entry["label"]
    for entry in key.get("chat", []):
        labels[f"chat:{entry['line']}"] = entry["label"]
    return labels


def sample_names(engine: Engine) -> dict[int, str]:
    """Message id -> 'email:FILE' or 'chat:LINE', to compare predictions with the answer key."""
    files = sorted(p.name for p in (SAMPLES / "email").glob("*.eml"))
    names: dict[int, str] = {}
    with Session(engine) as session:
        for message in session.exec(select(InboundMessage)):
            source = message.source_key or ""
            if source.startswith("imap:demo:samples:"):
                uid = int(source.rsplit(":", 1)[1])
                names[message.id or 0] = f"email:{files[uid - 1]}"
            elif source.startswith("telegram:"):
                names[message.id or 0] = f"chat:{source.rsplit(':', 1)[1]}"
    return names


def confirm_all(
    engine: Engine,
    work: Casework,
    cards: list[CardData],
    staff: list[StaffMember],
    *,
    now: datetime,
    tick: Callable[[], None],
) -> int:
    """Confirm every card with its predicted label, as a staff member tapping would; complaints get a handler."""
    officer, *handlers = staff
    confirmed = 0
    with Session(engine, expire_on_commit=False) as session:
        for number, card in enumerate(cards):
            message = session.get(InboundMessage, card.message_id)
            if message is None or card.label is None:
                tick()
                continue
            outcome = confirm_triage(session, message=message, staff=officer, label=card.label, now=now, work=work)
            case = outcome.case
            if case is not None and case.kind is CaseKind.COMPLAINT:
                handler = handlers[number % len(handlers)]
                assign_handler(session, case=case, stage=1, handler=handler, actor=Actor.staff(officer), now=now)
            session.commit()
            confirmed += 1
            tick()
    return confirmed


def deliver(engine: Engine, work: Casework, outbox: Path, moment: datetime) -> list[Path]:
    """Everything due in the outbox, written as files; returns the new files."""
    before = set(outbox.glob("*")) if outbox.is_dir() else set()
    clock = DemoClock(moment).at(moment)
    smtp = SmtpSettings(
        host="outbox.invalid",
        from_address=work.landlord.complaints_email,
        from_name=work.landlord.name,
        message_id_domain=work.message_id_domain,
    )
    senders: dict[OutboxChannel, Sender] = {
        OutboxChannel.EMAIL: DirectoryEmailSender(outbox, smtp, clock=clock),
        OutboxChannel.TELEGRAM: DirectoryChatSender(outbox),
    }
    worker = OutboxWorker(engine, senders, DeliverySettings(batch_size=200), clock)
    while worker.deliver_due().claimed:
        pass
    return sorted(set(outbox.glob("*")) - before)


def later_working_morning(work: Casework, start: datetime, working_days: int) -> datetime:
    """9 am, `working_days` working days after `start`, in the landlord's time zone."""
    day = work.calendar.add_working_days(start.astimezone(work.calendar.zone).date(), working_days)
    return datetime.combine(day, time(9), tzinfo=work.calendar.zone).astimezone(UTC)


def case_rows(engine: Engine) -> list[tuple[Case, dict[tuple[int, DeadlineKind], Deadline], str | None]]:
    with Session(engine, expire_on_commit=False) as session:
        cases = list(session.exec(select(Case).order_by(col(Case.kind), col(Case.reference))))
        deadlines: dict[int, dict[tuple[int, DeadlineKind], Deadline]] = {}
        for deadline in session.exec(select(Deadline)):
            deadlines.setdefault(deadline.case_id, {})[(deadline.stage, deadline.kind)] = deadline
        names = {s.id: s.name for s in session.exec(select(StaffMember))}
    return [(c, deadlines.get(c.id or 0, {}), names.get(c.stage1_handler_id)) for c in cases]


def pending_items(engine: Engine) -> int:
    with Session(engine) as session:
        return len(list(session.exec(select(OutboxItem.id).where(col(OutboxItem.sent_at).is_(None)))))


@contextmanager
def progress_bar(console: Console, description: str, total: int) -> Iterator[Callable[[], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


def agreement(engine: Engine, outcome: DemoOutcome, cards: list[CardData]) -> None:
    key = answer_key()
    names = sample_names(engine)
    for card in cards:
        name = names.get(card.message_id)
        expected = key.get(name or "")
        if expected is None or card.label is None:
            continue
        if card.label == Label(expected):
            outcome.agreed += 1
        else:
            outcome.disagreements.append(f"{name}: predicted {card.label.value}, answer key {expected}")


def run_demo(
    directory: Path,
    *,
    work: Casework,
    classifier: Classifier,
    console: Console,
    now: datetime,
    write_report: Callable[[Engine, datetime, datetime, Path], None] | None = None,
) -> DemoOutcome:
    """Every step of the demo, printing as it goes; returns what it did."""
    outcome = DemoOutcome(directory=directory)
    database = prepare(directory)
    engine = make_engine(database)
    try:
        staff = add_demo_staff(engine, now)
        console.rule("1. Messages arrive")
        outcome.emails, outcome.auto_generated = load_emails(engine, classifier, now)
        lines = chat_lines()
        with progress_bar(console, "Chat messages", len(lines)) as tick:
            outcome.chats = load_chats(engine, classifier, now, tick)
        console.print(
            f"{outcome.emails} emails through email intake ({outcome.auto_generated} recognised as automatic "
            f"replies or bounces: stored, never classified, never answered) and {outcome.chats} chat messages."
        )

        console.rule("2. The triage queue staff see")
        cards, total = awaiting_review(engine, work, limit=1000)
        agreement(engine, outcome, cards)
        console.print(views.queue_table(cards, work.calendar.zone))

        console.rule("3. Staff confirm each one (here: the predicted label)")
        with progress_bar(console, "Confirming", len(cards)) as tick:
            outcome.triaged = confirm_all(engine, work, cards, staff, now=now, tick=tick)
        rows = case_rows(engine)
        for kind in CaseKind:
            outcome.cases[kind.value] = sum(1 for case, _, _ in rows if case.kind is kind)
        console.print(views.cases_table(rows))

        console.rule("4. Letters go out through the outbox")
        outbox = directory / "outbox"
        outcome.letters = deliver(engine, work, outbox, now)
        console.print(f"{len(outcome.letters)} acknowledgements and replies written to {outbox}/ (.eml and .txt).")

        console.rule("5. The clock moves on: reminders before each deadline")
        # Seven working days on, the stage 1 responses are three working days away: the first reminders.
        later = later_working_morning(work, now, 7)
        SchedulerService(engine=engine, work=work, clock=DemoClock(later).at(later)).sweep()
        outcome.reminders = deliver(engine, work, outbox, later)
        console.print(
            f"At {later.astimezone(work.calendar.zone):%a %d %b %Y %H:%M}: {len(outcome.reminders)} reminder "
            f"and notice emails to handlers and the complaints officer, also in {outbox}/."
        )
        for path in outcome.reminders[:3]:
            console.print(f"  {path.name}")

        if write_report is not None:
            console.rule("6. The performance report")
            report = directory / "report.html"
            write_report(engine, now - timedelta(days=30), later, report)
            outcome.report = report
            console.print(f"Written to {report}")

        console.rule("Summary")
        console.print(views.summary(outcome, total))
    finally:
        engine.dispose()
    return outcome
