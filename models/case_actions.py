"""Staff and resident actions on a case: load the state, apply the pure rule, store, audit.

Each function changes the case, writes its audit event, and flushes, all in the caller's transaction.
Deadline arithmetic is not done here: a `WorkingDays` calendar (the scheduler's) is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlmodel import Session

from models import lifecycle
from models.cases import Case, Extension, StageResponse
from models.enums import CaseKind, CaseStatus, DeadlineKind, StageDecision
from models.errors import NotFoundError
from models.lifecycle import ComplaintState, LifecycleError
from models.people import StaffMember
from models.repository.audit import record_event
from models.repository.cases import deadline_for, extension_days
from models.timescales import Timescales
from models.types import row_id


class WorkingDays(Protocol):
    def add_working_days(self, start: date, days: int) -> date: ...

    def end_of_day(self, day: date) -> datetime: ...


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff member, the resident, or a named system job."""

    kind: str
    staff_id: int | None = None

    @classmethod
    def staff(cls, member: StaffMember) -> Actor:
        return cls("staff", member.id)

    @classmethod
    def system(cls, job: str = "system") -> Actor:
        return cls(job)

    @classmethod
    def resident(cls) -> Actor:
        return cls("resident")


def state_of(session: Session, case: Case) -> ComplaintState:
    if case.kind is not CaseKind.COMPLAINT:
        raise LifecycleError(f"{case.reference} is a {case.kind.value.replace('_', ' ')}, not a complaint.")
    case_id = row_id(case)
    return ComplaintState(
        status=case.status,
        stage=case.stage,
        stage1_handler=case.stage1_handler_id,
        stage2_handler=case.stage2_handler_id,
        stage1_extension_days=extension_days(session, case_id=case_id, stage=1),
        stage2_extension_days=extension_days(session, case_id=case_id, stage=2),
        exclusion_reason=case.exclusion_reason,
    )


def _store(
    session: Session,
    case: Case,
    state: ComplaintState,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    before = case.status
    case.status = state.status
    case.stage = state.stage
    case.stage1_handler_id = state.stage1_handler
    case.stage2_handler_id = state.stage2_handler
    case.exclusion_reason = state.exclusion_reason
    session.add(case)
    event_detail = {"from": before.value, "to": state.status.value, **(detail or {})}
    _audit(session, case, actor=actor, action=action, now=now, detail=event_detail)


def _audit(session: Session, case: Case, *, actor: Actor, action: str, now: datetime, detail: dict[str, Any]) -> None:
    record_event(
        session, action=action, actor=actor.kind, actor_staff_id=actor.staff_id, now=now, case_id=case.id, detail=detail
    )


def _meet(session: Session, case: Case, stage: int, kind: DeadlineKind, now: datetime) -> None:
    deadline = deadline_for(session, case_id=row_id(case), stage=stage, kind=kind)
    if deadline is not None and deadline.met_at is None:
        deadline.met_at = now
        session.add(deadline)


def open_stage1(session: Session, *, case: Case, actor: Actor, now: datetime) -> None:
    """Logged and acknowledged at stage 1: the acknowledgement deadline is met now."""
    _store(session, case, lifecycle.open_stage1(state_of(session, case)), actor=actor, action="open_stage1", now=now)
    _meet(session, case, 1, DeadlineKind.ACKNOWLEDGE, now)
    session.flush()


def assign_handler(
    session: Session, *, case: Case, stage: int, handler: StaffMember, actor: Actor, now: datetime
) -> None:
    if not handler.active:
        raise LifecycleError(f"{handler.name} is not an active staff member.")
    handler_id = row_id(handler)
    state = lifecycle.assign_handler(state_of(session, case), stage=stage, staff_id=handler_id)
    _store(
        session,
        case,
        state,
        actor=actor,
        action="assign_handler",
        now=now,
        detail={"stage": stage, "handler_id": handler_id},
    )
    session.flush()


def record_response(
    session: Session,
    *,
    case: Case,
    stage: int,
    decision: StageDecision,
    reasons: str,
    remedy: str | None,
    outstanding_actions: str | None,
    actor: Actor,
    now: datetime,
) -> StageResponse:
    """Code 6.9/6.19: the stage response with its decision, reasons, remedy and outstanding actions."""
    if actor.staff_id is None:
        raise LifecycleError("A stage response is given by a member of staff.")
    if not reasons.strip():
        raise LifecycleError("The reasons for the decision must be recorded (Code 6.9).")
    state = lifecycle.record_response(state_of(session, case), stage=stage, responder_id=actor.staff_id)
    response = StageResponse(
        case_id=row_id(case),
        stage=stage,
        decision=decision,
        reasons=reasons.strip(),
        remedy=remedy,
        outstanding_actions=outstanding_actions,
        responded_by_id=actor.staff_id,
        responded_at=now,
    )
    session.add(response)
    _store(
        session, case, state, actor=actor, action=f"respond_stage{stage}", now=now, detail={"decision": decision.value}
    )
    _meet(session, case, stage, DeadlineKind.RESPOND, now)
    session.flush()
    return response


def request_escalation(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    requested_at: datetime | None = None,
) -> None:
    """The resident asked for stage 2 (Code 6.10, 6.12: no reason needed). `requested_at` is when their request
    reached us (a message's receipt), which starts the stage 2 clock; `now` when staff recorded it."""
    state = lifecycle.request_escalation(state_of(session, case), reason=reason)
    case.escalation_requested_at = requested_at or now
    case.closed_at = None
    _store(
        session,
        case,
        state,
        actor=actor,
        action="request_escalation",
        now=now,
        detail={"reason": reason} if reason else None,
    )
    session.flush()


def open_stage2(session: Session, *, case: Case, actor: Actor, now: datetime) -> None:
    _store(session, case, lifecycle.open_stage2(state_of(session, case)), actor=actor, action="open_stage2", now=now)
    _meet(session, case, 2, DeadlineKind.ACKNOWLEDGE, now)
    session.flush()


def extend(
    session: Session,
    *,
    case: Case,
    stage: int,
    working_days: int,
    reason: str,
    good_reason: str | None,
    actor: Actor,
    now: datetime,
    timescales: Timescales,
    calendar: WorkingDays,
) -> Extension:
    """Extend the stage's response deadline by working days (Code 6.4, 6.15)."""
    if actor.staff_id is None:
        raise LifecycleError("Extensions are decided by a member of staff.")
    state = lifecycle.extend(
        state_of(session, case),
        stage=stage,
        working_days=working_days,
        reason=reason,
        good_reason=good_reason,
        timescales=timescales,
    )
    deadline = deadline_for(session, case_id=row_id(case), stage=stage, kind=DeadlineKind.RESPOND)
    if deadline is None or deadline.id is None:
        raise NotFoundError(f"{case.reference} has no stage {stage} response deadline to extend.")
    deadline.due_on = calendar.add_working_days(deadline.due_on, working_days)
    deadline.due_at = calendar.end_of_day(deadline.due_on)
    session.add(deadline)
    extension = Extension(
        deadline_id=deadline.id,
        working_days=working_days,
        reason=reason.strip(),
        good_reason=(good_reason or "").strip() or None,
        decided_by_id=actor.staff_id,
        decided_at=now,
    )
    session.add(extension)
    _store(
        session,
        case,
        state,
        actor=actor,
        action="extend",
        now=now,
        detail={"stage": stage, "working_days": working_days, "new_due_on": deadline.due_on.isoformat()},
    )
    session.flush()
    return extension


def exclude(session: Session, *, case: Case, reason: str, actor: Actor, now: datetime) -> None:
    """A person's decision, with reasons, not to accept the complaint or escalation (Code 2.1-2.4)."""
    if actor.staff_id is None:
        raise LifecycleError("Only a member of staff can decide to exclude a complaint (Code 2.5).")
    state = lifecycle.exclude(state_of(session, case), reason=reason)
    case.excluded_by_id = actor.staff_id
    case.excluded_at = now
    _store(session, case, state, actor=actor, action="exclude", now=now)
    session.flush()


def close(session: Session, *, case: Case, actor: Actor, now: datetime) -> None:
    if case.kind is CaseKind.COMPLAINT:
        state = lifecycle.close(state_of(session, case))
        case.closed_at = now
        _store(session, case, state, actor=actor, action="close", now=now)
    else:
        before = case.status
        case.status = lifecycle.close_simple(case.kind, case.status)
        case.closed_at = now
        session.add(case)
        _audit(
            session,
            case,
            actor=actor,
            action="close",
            now=now,
            detail={"from": before.value, "to": CaseStatus.CLOSED.value},
        )
    session.flush()


def link_service_request(
    session: Session, *, complaint: Case, service_request: Case, actor: Actor, now: datetime
) -> None:
    """Code 1.5: link a complaint to the service request it is about; the request is left as it is."""
    lifecycle.check_link(complaint.kind, service_request.kind)
    complaint.linked_service_request_id = service_request.id
    session.add(complaint)
    _audit(
        session,
        complaint,
        actor=actor,
        action="link_service_request",
        now=now,
        detail={"service_request": service_request.reference},
    )
    session.flush()
