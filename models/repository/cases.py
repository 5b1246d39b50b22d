from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models.cases import Case, Deadline, Extension, ReferenceCounter, StageResponse
from models.classification import Classification, TriageDecision
from models.enums import CaseKind, CaseStatus, DeadlineKind, Hazard
from models.lifecycle import initial_status
from models.messages import InboundMessage
from models.people import Resident
from models.records import AuditEvent, Correspondence
from models.references import PREFIXES, format_reference, parse_reference
from models.repository.audit import events_for_case
from models.repository.messages import messages_for_case
from models.types import row_id

CLOSED_STATUSES = (CaseStatus.CLOSED, CaseStatus.EXCLUDED)


def next_reference(session: Session, *, kind: CaseKind, year: int) -> str:
    """Hand out the next reference for the kind and year; safe with several writers."""
    prefix = PREFIXES[kind]
    table = sa.table("reference_counter", sa.column("prefix"), sa.column("year"), sa.column("last_value"))
    bump = (
        sa.update(table)
        .where(table.c.prefix == prefix, table.c.year == year)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    )
    for _ in range(3):
        value = session.execute(bump).scalar()
        if value is not None:
            return format_reference(kind, year, int(value))
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(prefix=prefix, year=year, last_value=1))
        except IntegrityError:
            continue  # another writer created the row first; bump it instead
        return format_reference(kind, year, 1)
    raise RuntimeError(f"could not allocate a {prefix} reference")  # pragma: no cover


def create_case(
    session: Session,
    *,
    kind: CaseKind,
    received_at: datetime,
    now: datetime,
    resident_id: int | None = None,
    definition: str | None = None,
    outcomes_sought: str | None = None,
    categories: list[str] | None = None,
    hazard: Hazard | None = None,
) -> Case:
    case = Case(
        kind=kind,
        reference=next_reference(session, kind=kind, year=received_at.year),
        status=initial_status(kind),
        resident_id=resident_id,
        definition=definition,
        outcomes_sought=outcomes_sought,
        categories=categories or [],
        hazard=hazard,
        received_at=received_at,
        created_at=now,
    )
    session.add(case)
    session.flush()
    return case


def case_by_reference(session: Session, *, reference: str, for_update: bool = False) -> Case | None:
    """The case, or None. `for_update` locks its row until the transaction ends (PostgreSQL; SQLite's
    transactions already hold the write lock), so two staff acting on one case at once take turns and each
    sees the other's change: two extensions cannot both pass the Code's limit."""
    parsed = parse_reference(reference)
    if parsed is None:
        return None
    query = select(Case).where(Case.reference == str(parsed))
    return session.exec(query.with_for_update() if for_update else query).first()


def cases_by_references(session: Session, *, references: Sequence[str]) -> dict[str, Case]:
    wanted = sorted({str(parsed) for r in references if (parsed := parse_reference(r)) is not None})
    if not wanted:
        return {}
    return {c.reference: c for c in session.exec(select(Case).where(col(Case.reference).in_(wanted)))}


@dataclass(frozen=True)
class CaseRow:
    case: Case
    next_due_at: datetime | None


def list_cases(
    session: Session,
    *,
    kind: CaseKind | None = None,
    overdue_at: datetime | None = None,
    include_closed: bool = True,
    limit: int = 500,
) -> list[CaseRow]:
    """Cases with their next open deadline, newest first; `overdue_at` keeps only those past due then."""
    next_due = (
        select(Deadline.case_id, func.min(Deadline.due_at).label("next_due_at"))
        .where(col(Deadline.met_at).is_(None))
        .group_by(col(Deadline.case_id))
        .subquery()
    )
    query = (
        select(Case, next_due.c.next_due_at)
        .join(next_due, next_due.c.case_id == Case.id, isouter=True)
        .order_by(col(Case.received_at).desc(), col(Case.id).desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(Case.kind == kind)
    if not include_closed or overdue_at is not None:
        query = query.where(col(Case.status).not_in(CLOSED_STATUSES))
    if overdue_at is not None:
        query = query.where(next_due.c.next_due_at < overdue_at)
    rows = session.execute(query).all()
    return [CaseRow(case=row[0], next_due_at=_aware(row[1])) for row in rows]


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back a naive UTC value here.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def set_deadline(
    session: Session,
    *,
    case_id: int,
    stage: int,
    kind: DeadlineKind,
    due_on: date,
    due_at: datetime,
) -> Deadline:
    """Create the deadline, or return the existing one unchanged: a deadline is set once per stage."""
    existing = deadline_for(session, case_id=case_id, stage=stage, kind=kind)
    if existing is not None:
        return existing
    deadline = Deadline(case_id=case_id, stage=stage, kind=kind, due_on=due_on, due_at=due_at, original_due_on=due_on)
    session.add(deadline)
    session.flush()
    return deadline


def deadline_for(session: Session, *, case_id: int, stage: int, kind: DeadlineKind) -> Deadline | None:
    query = select(Deadline).where(Deadline.case_id == case_id, Deadline.stage == stage, Deadline.kind == kind)
    return session.exec(query).first()


def extension_days(session: Session, *, case_id: int, stage: int) -> int:
    query = (
        select(func.coalesce(func.sum(Extension.working_days), 0))
        .join(Deadline, col(Deadline.id) == col(Extension.deadline_id))
        .where(Deadline.case_id == case_id, Deadline.stage == stage)
    )
    return int(session.exec(query).one())


@dataclass
class CaseRecord:
    """Everything held about a case: the full record Code 5.12 asks for."""

    case: Case
    resident: Resident | None
    messages: list[InboundMessage]
    classifications: dict[int, list[Classification]]
    decisions: list[TriageDecision]
    deadlines: list[Deadline]
    extensions: dict[int, list[Extension]]
    responses: list[StageResponse]
    correspondence: list[Correspondence]
    audit: list[AuditEvent] = field(default_factory=list)


def load_record(session: Session, *, case: Case) -> CaseRecord:
    case_id = row_id(case)
    messages = messages_for_case(session, case_id=case_id)
    message_ids = [m.id for m in messages if m.id is not None]
    classifications: dict[int, list[Classification]] = {}
    decisions: list[TriageDecision] = []
    if message_ids:
        for item in session.exec(
            select(Classification)
            .where(col(Classification.message_id).in_(message_ids))
            .order_by(col(Classification.created_at))
        ):
            classifications.setdefault(item.message_id, []).append(item)
        decisions = list(
            session.exec(
                select(TriageDecision)
                .where(col(TriageDecision.message_id).in_(message_ids))
                .order_by(col(TriageDecision.decided_at))
            )
        )
    deadlines = list(
        session.exec(
            select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.stage), col(Deadline.kind))
        )
    )
    extensions: dict[int, list[Extension]] = {}
    deadline_ids = [d.id for d in deadlines if d.id is not None]
    if deadline_ids:
        for ext in session.exec(
            select(Extension).where(col(Extension.deadline_id).in_(deadline_ids)).order_by(col(Extension.decided_at))
        ):
            extensions.setdefault(ext.deadline_id, []).append(ext)
    return CaseRecord(
        case=case,
        resident=session.get(Resident, case.resident_id) if case.resident_id else None,
        messages=messages,
        classifications=classifications,
        decisions=decisions,
        deadlines=deadlines,
        extensions=extensions,
        responses=list(
            session.exec(
                select(StageResponse).where(StageResponse.case_id == case_id).order_by(col(StageResponse.stage))
            )
        ),
        correspondence=list(
            session.exec(
                select(Correspondence)
                .where(Correspondence.case_id == case.id)
                .order_by(col(Correspondence.occurred_at), col(Correspondence.id))
            )
        ),
        audit=events_for_case(session, case_id=case_id),
    )
