"""The scheduler's sweeps: handler reminders, overdue notices, unreviewed-message alerts, the weekly
service request digest. Each reads the database state and `now`, and enqueues through the outbox
under an idempotency key, so a restart, a missed tick or a second instance changes nothing.

The decisions themselves are pure functions (`reminder_due`, `unreviewed_alert_due`); the sweeps
only fetch the few rows that could need something today, with SQL doing the narrowing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.cases import Case, Deadline
from models.classification import Classification
from models.enums import (
    AWAITING_STAFF,
    CaseKind,
    CaseStatus,
    DeadlineKind,
    OutboxChannel,
    Party,
    StaffRole,
)
from models.lifecycle import NO_DEADLINES
from models.messages import InboundMessage
from models.people import Resident, StaffMember
from models.repository.outbox import NewMessage, enqueue, enqueue_many
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.letters import (
    HandlerReminder,
    OverdueNotice,
    Rendered,
    ServiceRequestDigest,
    UnreviewedAlert,
    render_handler_reminder,
    render_overdue_notice,
    render_service_request_digest,
    render_unreviewed_alert,
)

CLOSED = tuple(sorted(status.value for status in NO_DEADLINES))


def reminder_due(today: date, due: date, offsets: Sequence[int], calendar: WorkingCalendar) -> int | None:
    """The most urgent reminder whose day has come: the smallest offset o with today on or after the day
    o working days before `due`. None before the first reminder day, and after the due date (overdue)."""
    if today > due:
        return None
    for offset in sorted(offsets):
        if today >= calendar.subtract_working_days(due, offset):
            return offset
    return None


def unreviewed_alert_due(received_at: datetime, today: date, calendar: WorkingCalendar, acknowledge_days: int) -> bool:
    """Code 6.2's clock runs from receipt: alert when the acknowledgement is one working day away or late."""
    ack_due = calendar.add_working_days(calendar.received_day(received_at), acknowledge_days)
    return today >= calendar.subtract_working_days(ack_due, 1)


@dataclass(frozen=True)
class SweepReport:
    reminders: int = 0
    overdue_notices: int = 0
    alerts: int = 0
    digests: int = 0


def complaints_officers(session: Session) -> list[StaffMember]:
    officers = session.exec(select(StaffMember).where(col(StaffMember.active).is_(True))).all()
    return [s for s in officers if s.has_role(StaffRole.COMPLAINTS_OFFICER)]


def remind_handlers(session: Session, *, now: datetime, work: Casework) -> SweepReport:
    """Reminders at the configured working-day offsets before each open deadline, then a daily overdue
    notice to the handler and the complaints officer. Unassigned cases go to the complaints officer."""
    calendar = work.calendar
    today = now.astimezone(calendar.zone).date()
    if not calendar.is_working_day(today):
        return SweepReport()
    horizon = calendar.add_working_days(today, max(work.reminder_offsets))
    d, c = Deadline.__table__, Case.__table__  # type: ignore[attr-defined]
    # Which reminder applies today, in SQL, so a sweep with nothing new returns no rows: offset o applies
    # to deadlines due on or before the o-th working day from today (the Python check below decides).
    applicable = sa.case(
        *((d.c.due_on <= calendar.add_working_days(today, o), o) for o in sorted(work.reminder_offsets)),
        else_=max(work.reminder_offsets) + 1,
    )
    handler_for_stage = sa.case((d.c.stage == 1, c.c.stage1_handler_id), else_=c.c.stage2_handler_id)
    rows = session.execute(
        sa.select(
            d.c.id,
            d.c.stage,
            d.c.kind,
            d.c.due_on,
            d.c.reminded_offset,
            d.c.overdue_notice_on,
            c.c.reference,
            c.c.definition,
            c.c.resident_id,
            handler_for_stage.label("handler_id"),
        )
        .join(c, c.c.id == d.c.case_id)
        .where(
            d.c.met_at.is_(None),
            d.c.due_on <= horizon,
            c.c.status.not_in(CLOSED),
            sa.or_(
                sa.and_(d.c.due_on >= today, sa.or_(d.c.reminded_offset.is_(None), d.c.reminded_offset > applicable)),
                sa.and_(d.c.due_on < today, sa.or_(d.c.overdue_notice_on.is_(None), d.c.overdue_notice_on < today)),
            ),
        )
    ).all()
    if not rows:
        return SweepReport()
    staff = {s.id: s for s in session.exec(select(StaffMember))}
    officers = complaints_officers(session)
    residents = _names(session, [r.resident_id for r in rows])
    outgoing: list[NewMessage] = []
    reminded: list[dict[str, object]] = []
    noticed: list[dict[str, object]] = []
    for row in rows:
        handler = staff.get(row.handler_id) if row.handler_id else None
        handler = handler if handler is not None and handler.active else None
        summary = (row.definition or "")[:300]
        offset = reminder_due(today, row.due_on, work.reminder_offsets, calendar)
        kind = DeadlineKind(row.kind).value
        if offset is not None and (row.reminded_offset is None or row.reminded_offset > offset):
            for person in [handler] if handler else officers:
                letter = render_handler_reminder(
                    HandlerReminder(
                        handler_name=person.name,
                        reference=row.reference,
                        stage=row.stage,
                        deadline_kind=kind,
                        due=row.due_on,
                        working_days_left=offset,
                        summary=summary,
                        resident_name=residents.get(row.resident_id),
                    ),
                    work.landlord,
                )
                key = f"remind:{row.reference}:stage{row.stage}:{kind}:T-{offset}:{person.id}"
                outgoing.append(staff_email(person, key, letter, work))
            reminded.append({"deadline_id": row.id, "offset": offset})
        if row.due_on < today and (row.overdue_notice_on is None or row.overdue_notice_on < today):
            late = calendar.working_days_between(row.due_on, today)
            for person in {p.id: p for p in [*([handler] if handler else []), *officers]}.values():
                letter = render_overdue_notice(
                    OverdueNotice(
                        handler_name=person.name,
                        reference=row.reference,
                        stage=row.stage,
                        deadline_kind=kind,
                        due=row.due_on,
                        working_days_overdue=late,
                        summary=summary,
                        resident_name=residents.get(row.resident_id),
                        unassigned=handler is None,
                    ),
                    work.landlord,
                )
                key = f"overdue:{row.reference}:stage{row.stage}:{kind}:{today.isoformat()}:{person.id}"
                outgoing.append(staff_email(person, key, letter, work))
            noticed.append({"deadline_id": row.id, "day": today})
    if reminded:
        session.execute(
            sa.update(d).where(d.c.id == sa.bindparam("deadline_id")).values(reminded_offset=sa.bindparam("offset")),
            reminded,
        )
    if noticed:
        session.execute(
            sa.update(d).where(d.c.id == sa.bindparam("deadline_id")).values(overdue_notice_on=sa.bindparam("day")),
            noticed,
        )
    enqueue_many(session, messages=outgoing, now=now)
    session.flush()
    return SweepReport(
        reminders=sum(m.key.startswith("remind:") for m in outgoing),
        overdue_notices=sum(m.key.startswith("overdue:") for m in outgoing),
    )


def alert_unreviewed(session: Session, *, now: datetime, work: Casework) -> SweepReport:
    """Messages still waiting for a person when their acknowledgement is a working day away (or late)."""
    calendar = work.calendar
    today = now.astimezone(calendar.zone).date()
    days = work.timescales.stage1.acknowledge
    latest_receipt = calendar.end_of_day(calendar.subtract_working_days(today, days - 1))
    waiting = session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.status).in_(AWAITING_STAFF), col(InboundMessage.received_at) <= latest_receipt)
        .order_by(col(InboundMessage.received_at))
    ).all()
    officers = complaints_officers(session)
    alerts = 0
    for message in waiting:
        if not unreviewed_alert_due(message.received_at, today, calendar, days):
            continue
        predicted = session.exec(
            select(Classification.label)
            .where(Classification.message_id == message.id)
            .order_by(col(Classification.id).desc())
        ).first()
        letter = render_unreviewed_alert(
            UnreviewedAlert(
                message_id=message.id or 0,
                received_at=message.received_at,
                acknowledge_due=calendar.add_working_days(calendar.received_day(message.received_at), days),
                sender=message.sender_address,
                channel=message.channel.value,
                excerpt=(message.new_text or "")[:300],
                predicted_label=str(predicted) if predicted else None,
            ),
            work.landlord,
        )
        for person in officers:
            alerts += _staff_email(
                session, person, key=f"unreviewed:{message.id}:{person.id}", letter=letter, now=now, work=work
            )
        if work.staff_chat_id is not None:
            _, created = enqueue(
                session,
                key=f"unreviewed:{message.id}:chat",
                channel=OutboxChannel.TELEGRAM,
                recipient=str(work.staff_chat_id),
                subject=letter.subject,
                body_text=letter.text,
                party=Party.STAFF,
                now=now,
            )
            alerts += created
    session.flush()
    return SweepReport(alerts=alerts)


def digest_service_requests(session: Session, *, now: datetime, work: Casework) -> SweepReport:
    """Code 1.4: once a week (from the first working day of the ISO week), open service requests by age."""
    calendar = work.calendar
    today = now.astimezone(calendar.zone).date()
    monday = today - timedelta(days=today.weekday())
    first_working = monday if calendar.is_working_day(monday) else calendar.next_working_day(monday)
    if today < first_working or not calendar.is_working_day(today):
        return SweepReport()
    complaint = aliased(Case)
    rows = session.execute(
        select(Case, complaint.reference)
        .join(complaint, col(complaint.linked_service_request_id) == col(Case.id), isouter=True)
        .where(Case.kind == CaseKind.SERVICE_REQUEST, Case.status == CaseStatus.OPEN)
        .order_by(col(Case.received_at))
    ).all()
    year, week, _ = today.isocalendar()
    lines = [
        (
            case.reference,
            case.received_at.astimezone(calendar.zone).date(),
            calendar.working_days_between(calendar.received_day(case.received_at), today),
            case.status.value,
            (case.definition or "")[:120],
            linked,
        )
        for case, linked in rows
    ]
    letter = render_service_request_digest(ServiceRequestDigest(week_of=monday, rows=lines), work.landlord)
    sent = sum(
        _staff_email(session, person, key=f"srdigest:{year}-W{week:02d}:{person.id}", letter=letter, now=now, work=work)
        for person in complaints_officers(session)
    )
    session.flush()
    return SweepReport(digests=sent)


def staff_email(
    person: StaffMember, key: str, letter: Rendered, work: Casework, case_id: int | None = None
) -> NewMessage:
    """A letter to a member of staff by email, ready for the outbox."""
    return NewMessage(
        key=key,
        channel=OutboxChannel.EMAIL,
        recipient=person.email,
        subject=letter.subject,
        body_text=letter.text,
        body_html=letter.html,
        case_id=case_id,
        message_id_header=work.message_id(key),
        party=Party.STAFF,
    )


def _staff_email(
    session: Session, person: StaffMember, *, key: str, letter: Rendered, now: datetime, work: Casework
) -> int:
    return enqueue_many(session, messages=[staff_email(person, key, letter, work)], now=now)


def _names(session: Session, resident_ids: Sequence[int | None]) -> dict[int | None, str | None]:
    wanted = sorted({i for i in resident_ids if i is not None})
    if not wanted:
        return {}
    return {r.id: r.name for r in session.exec(select(Resident).where(col(Resident.id).in_(wanted)))}
