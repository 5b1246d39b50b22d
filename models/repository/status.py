"""What `triage status` shows, from the database alone, and the heartbeats the running service writes.

A handful of grouped counts and small ordered look-ups (never a query per row), so the command stays
quick on a large database and can be run by a monitoring check every minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from models.blobs import MailboxCheckpoint
from models.cases import Case, Deadline
from models.enums import (
    AWAITING_STAFF,
    CaseKind,
    CaseStatus,
    Channel,
    DeadlineKind,
    MessageStatus,
    OutboxChannel,
    OutboxStatus,
)
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.repository.cases import CLOSED_STATUSES
from models.service import ServiceHeartbeat

DETAIL_LIMIT = 500


@dataclass(frozen=True)
class WaitingMessage:
    """The oldest message still waiting for a person to triage it."""

    id: int
    channel: Channel
    received_at: datetime


@dataclass(frozen=True)
class OpenCases:
    kind: CaseKind
    status: CaseStatus
    count: int


@dataclass(frozen=True)
class OverdueDeadline:
    reference: str
    case_kind: CaseKind
    stage: int
    kind: DeadlineKind
    due_at: datetime


@dataclass(frozen=True)
class OutboxFailure:
    id: int
    key: str
    channel: OutboxChannel
    created_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class MailboxPoll:
    mailbox: str
    last_success_at: datetime | None


@dataclass(frozen=True)
class Heartbeat:
    name: str
    last_ok_at: datetime
    detail: str | None


@dataclass(frozen=True)
class ServiceStatus:
    messages: dict[MessageStatus, int]
    oldest_awaiting: WaitingMessage | None
    open_cases: list[OpenCases]
    overdue: int
    most_overdue: list[OverdueDeadline]
    outbox: dict[OutboxStatus, int]
    oldest_failure: OutboxFailure | None
    mailboxes: list[MailboxPoll]
    heartbeats: dict[str, Heartbeat]

    @property
    def awaiting_review(self) -> int:
        return sum(self.messages.get(status, 0) for status in AWAITING_STAFF)


def service_status(session: Session, *, now: datetime, overdue_limit: int = 5) -> ServiceStatus:
    """Everything `triage status` reports, as of `now`."""
    return ServiceStatus(
        messages=message_counts(session),
        oldest_awaiting=oldest_awaiting_review(session),
        open_cases=open_case_counts(session),
        overdue=overdue_count(session, now=now),
        most_overdue=most_overdue(session, now=now, limit=overdue_limit),
        outbox=outbox_status_counts(session),
        oldest_failure=oldest_outbox_failure(session),
        mailboxes=mailbox_polls(session),
        heartbeats=heartbeats(session),
    )


def message_counts(session: Session) -> dict[MessageStatus, int]:
    rows = session.exec(select(InboundMessage.status, func.count()).group_by(col(InboundMessage.status)))
    return {MessageStatus(status): int(n) for status, n in rows}


def oldest_awaiting_review(session: Session) -> WaitingMessage | None:
    row = session.exec(
        select(InboundMessage.id, InboundMessage.channel, InboundMessage.received_at)
        .where(col(InboundMessage.status).in_(AWAITING_STAFF))
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
        .limit(1)
    ).first()
    if row is None:
        return None
    message_id, channel, received_at = row
    return WaitingMessage(id=int(message_id or 0), channel=Channel(channel), received_at=received_at)


def open_case_counts(session: Session) -> list[OpenCases]:
    """Cases not closed or excluded, counted by kind and status."""
    rows = session.exec(
        select(Case.kind, Case.status, func.count())
        .where(col(Case.status).not_in(CLOSED_STATUSES))
        .group_by(col(Case.kind), col(Case.status))
        .order_by(col(Case.kind), col(Case.status))
    )
    return [OpenCases(kind=CaseKind(kind), status=CaseStatus(status), count=int(n)) for kind, status, n in rows]


def _overdue(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(col(Deadline.met_at).is_(None), col(Deadline.due_at) < now, col(Case.status).not_in(CLOSED_STATUSES))


def overdue_count(session: Session, *, now: datetime) -> int:
    """Open deadlines already past on open cases."""
    query = select(func.count()).select_from(Deadline).join(Case, col(Case.id) == col(Deadline.case_id))
    return int(session.exec(query.where(_overdue(now))).one())


def most_overdue(session: Session, *, now: datetime, limit: int) -> list[OverdueDeadline]:
    rows = session.execute(
        sa.select(col(Case.reference), col(Case.kind), col(Deadline.stage), col(Deadline.kind), col(Deadline.due_at))
        .join(Case, col(Case.id) == col(Deadline.case_id))
        .where(_overdue(now))
        .order_by(col(Deadline.due_at), col(Deadline.id))
        .limit(limit)
    )
    return [
        OverdueDeadline(reference=ref, case_kind=CaseKind(ck), stage=stage, kind=DeadlineKind(dk), due_at=due)
        for ref, ck, stage, dk, due in rows
    ]


def outbox_status_counts(session: Session) -> dict[OutboxStatus, int]:
    rows = session.exec(select(OutboxItem.status, func.count()).group_by(col(OutboxItem.status)))
    return {OutboxStatus(status): int(n) for status, n in rows}


def oldest_outbox_failure(session: Session) -> OutboxFailure | None:
    item = session.exec(
        select(OutboxItem)
        .where(OutboxItem.status == OutboxStatus.FAILED)
        .order_by(col(OutboxItem.created_at), col(OutboxItem.id))
        .limit(1)
    ).first()
    if item is None:
        return None
    return OutboxFailure(
        id=item.id or 0,
        key=item.idempotency_key,
        channel=item.channel,
        created_at=item.created_at,
        last_error=item.last_error,
    )


def mailbox_polls(session: Session) -> list[MailboxPoll]:
    rows = session.exec(select(MailboxCheckpoint).order_by(col(MailboxCheckpoint.mailbox)))
    return [MailboxPoll(mailbox=c.mailbox, last_success_at=c.last_success_at) for c in rows]


def heartbeats(session: Session) -> dict[str, Heartbeat]:
    rows = session.exec(select(ServiceHeartbeat).order_by(col(ServiceHeartbeat.name)))
    return {h.name: Heartbeat(name=h.name, last_ok_at=h.last_ok_at, detail=h.detail) for h in rows}


def record_heartbeat(session: Session, *, name: str, now: datetime, detail: str | None = None) -> None:
    """Note that the part `name` did its work at `now`: one upsert, safe with several instances at once."""
    table = ServiceHeartbeat.__table__  # type: ignore[attr-defined]
    values = {"name": name, "last_ok_at": now.astimezone(UTC), "detail": detail[:DETAIL_LIMIT] if detail else None}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(**values)
        statement: sa.Executable = pg.on_conflict_do_update(
            index_elements=[table.c.name], set_={"last_ok_at": pg.excluded.last_ok_at, "detail": pg.excluded.detail}
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(**values)
        statement = lite.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"last_ok_at": lite.excluded.last_ok_at, "detail": lite.excluded.detail},
        )
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"heartbeats on {dialect}")
    session.execute(statement)
