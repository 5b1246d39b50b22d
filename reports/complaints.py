"""Complaints performance (Code 8.1, 9.7; TSM CH01/CH02), counted in SQL.

Who is counted where:
- Stage 1 received: complaints received in the period, less those refused before stage 1 (Code 2).
  Stage 2 received: escalation requests received in the period, less refused escalations.
- Acknowledgements: the complaints received at each stage in the period; on time when acknowledged by
  the end of the due working day; late when acknowledged after it, or not yet acknowledged and past it
  at `as_of`; pending otherwise (not in the share).
- CH02 and outcomes: stage responses given in the period (the TSM counts complaints responded to).
  On time within the original timescale, or within an extension the Code allows (at most 10/20 working
  days, or more with a recorded good reason: Code 6.4, 6.15); the two are shown apart. An extension
  counts only if every extension on the deadline was decided (local date) on or before the original
  due date: one recorded after the deadline had passed cannot make a late response on time.
- Working days are counted with the working-day calendar from the day the complaint (or escalation)
  counts as received to the local day of the acknowledgement or response. SQL groups cases by
  (local date received, received before the cut-off, day done); Python applies the calendar's receipt
  rule and turns each distinct triple into working days once, weighed by its count, so 50,000 cases
  cost a few thousand calendar look-ups, not 50,000 rows.
- Escalation rate: of the stage 1 complaints received in the period that have had a stage 1 response,
  the share whose resident asked for stage 2 (refused escalations included: the resident was still
  dissatisfied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.cases import Case, Deadline, Extension, StageResponse
from models.enums import CaseKind, DeadlineKind, StageDecision
from models.people import Resident
from reports.localtime import Column, as_date
from reports.period import Period
from reports.scope import Scope
from reports.stats import Distribution, distribution, share

STAGES = (1, 2)


def refused_before_stage1() -> ColumnElement[bool]:
    return sa.and_(col(Case.exclusion_reason).is_not(None), col(Case.escalation_requested_at).is_(None))


def refused_at_stage2() -> ColumnElement[bool]:
    return sa.and_(col(Case.exclusion_reason).is_not(None), col(Case.escalation_requested_at).is_not(None))


def stage_cohort(scope: Scope, stage: int, period: Period | None = None) -> ColumnElement[bool]:
    """Complaints received at `stage` in the period (the report's unless another is given), not refused there."""
    if stage == 1:
        return sa.and_(scope.within(col(Case.received_at), period), sa.not_(refused_before_stage1()))
    return sa.and_(scope.within(col(Case.escalation_requested_at), period), sa.not_(refused_at_stage2()))


@dataclass(frozen=True)
class Received:
    stage1: int
    stage2: int
    # By stock type ("low_cost_rental" / "low_cost_home_ownership") when the settings split stock.
    by_stock: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.stage1 + self.stage2


def received(scope: Scope) -> Received:
    is_complaint = col(Case.kind) == CaseKind.COMPLAINT
    stage1 = sa.func.sum(sa.case((stage_cohort(scope, 1), 1), else_=0))
    stage2 = sa.func.sum(sa.case((stage_cohort(scope, 2), 1), else_=0))
    prefixes = scope.settings.lcho_tenancy_prefixes
    if scope.settings.splits_stock:
        tenure: ColumnElement[str] = sa.case(
            (sa.or_(*(col(Resident.tenancy_ref).startswith(p, autoescape=True) for p in prefixes)), "lcho"),
            else_="lcra",
        )
    else:
        tenure = sa.literal("all")
    query = (
        sa.select(tenure, stage1, stage2)
        .select_from(Case)
        .join(Resident, col(Resident.id) == col(Case.resident_id), isouter=True)
        .where(
            is_complaint, sa.or_(scope.within(col(Case.received_at)), scope.within(col(Case.escalation_requested_at)))
        )
        .group_by(tenure)
    )
    rows = {str(t): (int(a or 0), int(b or 0)) for t, a, b in scope.session.execute(query)}
    by_stock = {}
    if scope.settings.splits_stock:
        names = {"lcra": "low_cost_rental", "lcho": "low_cost_home_ownership"}
        by_stock = {
            names[key]: {"stage1": rows.get(key, (0, 0))[0], "stage2": rows.get(key, (0, 0))[1]} for key in names
        }
    return Received(stage1=sum(a for a, _ in rows.values()), stage2=sum(b for _, b in rows.values()), by_stock=by_stock)


@dataclass(frozen=True)
class Acknowledged:
    due: int
    on_time: int
    late: int
    pending: int
    share: float | None
    late_references: list[str]


def acknowledgements(scope: Scope) -> dict[str, Acknowledged]:
    """Code 6.2 / 6.11: acknowledged and logged within the timescale, per stage."""
    on_time = sa.and_(col(Deadline.met_at).is_not(None), col(Deadline.met_at) <= col(Deadline.due_at))
    late = sa.and_(sa.not_(on_time), sa.or_(col(Deadline.met_at).is_not(None), col(Deadline.due_at) < scope.as_of))
    timing = sa.case((on_time, "on_time"), (late, "late"), else_="pending")
    result: dict[str, Acknowledged] = {}
    for stage in STAGES:
        base = (
            sa.select(timing, sa.func.count())
            .select_from(Deadline)
            .join(Case, col(Case.id) == col(Deadline.case_id))
            .where(
                col(Deadline.kind) == DeadlineKind.ACKNOWLEDGE, col(Deadline.stage) == stage, stage_cohort(scope, stage)
            )
        )
        counts = {str(k): int(n) for k, n in scope.session.execute(base.group_by(timing))}
        late_refs = scope.session.execute(
            sa.select(col(Case.reference))
            .select_from(Deadline)
            .join(Case, col(Case.id) == col(Deadline.case_id))
            .where(
                col(Deadline.kind) == DeadlineKind.ACKNOWLEDGE,
                col(Deadline.stage) == stage,
                stage_cohort(scope, stage),
                late,
            )
            .order_by(col(Case.reference))
            .limit(scope.settings.list_limit)
        ).scalars()
        n_on, n_late = counts.get("on_time", 0), counts.get("late", 0)
        result[f"stage{stage}"] = Acknowledged(
            due=n_on + n_late,
            on_time=n_on,
            late=n_late,
            pending=counts.get("pending", 0),
            share=share(n_on, n_on + n_late),
            late_references=list(late_refs),
        )
    return result


def working_days_to_acknowledge(scope: Scope) -> dict[str, Distribution]:
    met_day = scope.local.date(col(Deadline.met_at))
    result: dict[str, Distribution] = {}
    for stage in STAGES:
        received_on, early = _received(scope, stage)
        query = (
            sa.select(received_on, early, met_day, sa.func.count())
            .select_from(Deadline)
            .join(Case, col(Case.id) == col(Deadline.case_id))
            .where(
                col(Deadline.kind) == DeadlineKind.ACKNOWLEDGE,
                col(Deadline.stage) == stage,
                col(Deadline.met_at).is_not(None),
                stage_cohort(scope, stage),
            )
            .group_by(received_on, early, met_day)
        )
        result[f"stage{stage}"] = _from_received(scope, scope.session.execute(query))
    return result


def _received(scope: Scope, stage: int) -> tuple[Column, Column]:
    """SQL for when the complaint (stage 1) or escalation (stage 2) arrived: its local date, and whether
    it was before the receipt cut-off."""
    moment: Column = col(Case.received_at)
    if stage == 2:
        moment = sa.func.coalesce(col(Case.escalation_requested_at), moment)
    return scope.local.date(moment), scope.local.before(moment, scope.calendar.receipt.cutoff)


def _from_received(scope: Scope, rows: Any) -> Distribution:
    """Working days from the day it counts as received (the calendar's receipt rule) to the day done."""
    calendar = scope.calendar
    counts: dict[float, int] = {}
    for arrived, early, done, n in rows:
        # A moment on that local date on the same side of the cut-off gets the same received day.
        moment = datetime.combine(as_date(arrived), time.min if early else calendar.receipt.cutoff, calendar.zone)
        days = scope.working_days(calendar.received_day(moment), as_date(done))
        counts[days] = counts.get(days, 0) + int(n)
    return distribution(counts)


@dataclass(frozen=True)
class Responded:
    responded: int
    within_original: int
    within_extension: int
    late: int
    on_time: int
    share: float | None
    late_references: list[str]


def _extension_totals(scope: Scope) -> Any:
    # Decided after the original due date had passed (local dates): too late to extend (see the docstring).
    decided_late = scope.local.date(col(Extension.decided_at)) > col(Deadline.original_due_on)
    return (
        sa.select(
            col(Extension.deadline_id).label("deadline_id"),
            sa.func.sum(col(Extension.working_days)).label("days"),
            sa.func.count(col(Extension.good_reason)).label("good_reasons"),
            sa.func.sum(sa.case((decided_late, 1), else_=0)).label("decided_late"),
        )
        .select_from(Extension)
        .join(Deadline, col(Deadline.id) == col(Extension.deadline_id))
        .group_by(col(Extension.deadline_id))
        .subquery("extension_totals")
    )


def _response_timing(scope: Scope) -> tuple[ColumnElement[str], Any]:
    """CASE giving 'original', 'extension' or 'late' for a stage response joined to its deadline."""
    ext = _extension_totals(scope)
    limit = sa.case(
        (col(StageResponse.stage) == 1, scope.settings.timescales.stage1.extension_limit),
        else_=scope.settings.timescales.stage2.extension_limit,
    )
    responded_at = col(StageResponse.responded_at)
    within_code = sa.and_(ext.c.decided_late == 0, sa.or_(ext.c.days <= limit, ext.c.good_reasons > 0))
    timing = sa.case(
        (sa.and_(ext.c.days.is_(None), responded_at <= col(Deadline.due_at)), "original"),
        (
            sa.and_(ext.c.days.is_not(None), scope.local.date(responded_at) <= col(Deadline.original_due_on)),
            "original",
        ),
        (sa.and_(ext.c.days.is_not(None), responded_at <= col(Deadline.due_at), within_code), "extension"),
        else_="late",
    )
    return timing, ext


def _responses_with_deadlines(scope: Scope, ext: Any, *columns: Any) -> Any:
    return (
        sa.select(*columns)
        .select_from(StageResponse)
        .join(
            Deadline,
            sa.and_(
                col(Deadline.case_id) == col(StageResponse.case_id),
                col(Deadline.stage) == col(StageResponse.stage),
                col(Deadline.kind) == DeadlineKind.RESPOND,
            ),
        )
        .join(ext, ext.c.deadline_id == col(Deadline.id), isouter=True)
        .where(scope.within(col(StageResponse.responded_at)))
    )


def responses(scope: Scope) -> dict[str, Responded]:
    """CH02 (Code 6.3, 6.14): responses given in the period within the Code's timescales."""
    timing, ext = _response_timing(scope)
    query = _responses_with_deadlines(scope, ext, col(StageResponse.stage), timing, sa.func.count()).group_by(
        col(StageResponse.stage), timing
    )
    counts = {(int(stage), str(kind)): int(n) for stage, kind, n in scope.session.execute(query)}
    result: dict[str, Responded] = {}
    for stage in STAGES:
        late_query = (
            _responses_with_deadlines(scope, ext, col(Case.reference))
            .join(Case, col(Case.id) == col(StageResponse.case_id))
            .where(col(StageResponse.stage) == stage, timing == "late")
            .order_by(col(Case.reference))
            .limit(scope.settings.list_limit)
        )
        original, extension, late = (counts.get((stage, k), 0) for k in ("original", "extension", "late"))
        total = original + extension + late
        result[f"stage{stage}"] = Responded(
            responded=total,
            within_original=original,
            within_extension=extension,
            late=late,
            on_time=original + extension,
            share=share(original + extension, total),
            late_references=list(scope.session.execute(late_query).scalars()),
        )
    return result


def working_days_to_respond(scope: Scope) -> dict[str, Distribution]:
    """From the day the complaint (stage 1) or escalation (stage 2) counts as received to the response."""
    responded_day = scope.local.date(col(StageResponse.responded_at))
    result: dict[str, Distribution] = {}
    for stage in STAGES:
        received_on, early = _received(scope, stage)
        query = (
            sa.select(received_on, early, responded_day, sa.func.count())
            .select_from(StageResponse)
            .join(Case, col(Case.id) == col(StageResponse.case_id))
            .where(col(StageResponse.stage) == stage, scope.within(col(StageResponse.responded_at)))
            .group_by(received_on, early, responded_day)
        )
        result[f"stage{stage}"] = _from_received(scope, scope.session.execute(query))
    return result


@dataclass(frozen=True)
class ReasonCount:
    stage: int
    reason: str
    count: int


@dataclass(frozen=True)
class Extensions:
    stage1: dict[str, int]
    stage2: dict[str, int]
    reasons: list[ReasonCount]


def extensions(scope: Scope) -> Extensions:
    """Extensions decided in the period (Code 6.4, 6.15), with their reasons as staff recorded them."""
    stage = col(Deadline.stage)
    joined = (
        sa.select(
            stage,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(col(Extension.working_days)), 0),
            sa.func.count(col(Extension.good_reason)),
        )
        .select_from(Extension)
        .join(Deadline, col(Deadline.id) == col(Extension.deadline_id))
        .where(scope.within(col(Extension.decided_at)))
    )
    totals = {
        int(s): {"count": int(n), "working_days": int(days), "with_good_reason": int(good)}
        for s, n, days, good in scope.session.execute(joined.group_by(stage))
    }
    empty = {"count": 0, "working_days": 0, "with_good_reason": 0}
    reason = col(Extension.reason)
    reasons = scope.session.execute(
        sa.select(stage, reason, sa.func.count())
        .select_from(Extension)
        .join(Deadline, col(Deadline.id) == col(Extension.deadline_id))
        .where(scope.within(col(Extension.decided_at)))
        .group_by(stage, reason)
        .order_by(sa.func.count().desc(), stage, reason)
        .limit(scope.settings.list_limit)
    )
    return Extensions(
        stage1=totals.get(1, empty),
        stage2=totals.get(2, empty),
        reasons=[ReasonCount(int(s), str(r), int(n)) for s, r, n in reasons],
    )


@dataclass(frozen=True)
class Escalation:
    stage1_responded: int
    escalated: int
    rate: float | None


def escalation(scope: Scope) -> Escalation:
    query = (
        sa.select(
            sa.func.count(),
            sa.func.count(col(Case.escalation_requested_at)),
        )
        .select_from(Case)
        .join(StageResponse, sa.and_(col(StageResponse.case_id) == col(Case.id), col(StageResponse.stage) == 1))
        .where(col(Case.kind) == CaseKind.COMPLAINT, stage_cohort(scope, 1))
    )
    responded, escalated = scope.session.execute(query).one()
    return Escalation(int(responded), int(escalated), share(int(escalated), int(responded)))


@dataclass(frozen=True)
class Outcomes:
    """Decisions and remedies at each stage for the responses given in the period (Code 6.9, 5.13, 7)."""

    decisions: dict[str, dict[str, int]]
    remedies: dict[str, dict[str, int]]


def outcomes(scope: Scope) -> Outcomes:
    remedy = col(StageResponse.remedy)
    has_remedy = sa.case((sa.and_(remedy.is_not(None), sa.func.trim(remedy) != ""), 1), else_=0)
    query = (
        sa.select(col(StageResponse.stage), col(StageResponse.decision), sa.func.count(), sa.func.sum(has_remedy))
        .where(scope.within(col(StageResponse.responded_at)))
        .group_by(col(StageResponse.stage), col(StageResponse.decision))
    )
    decisions = {f"stage{s}": {d.value: 0 for d in StageDecision} for s in STAGES}
    remedies = {f"stage{s}": {"responses": 0, "with_remedy": 0} for s in STAGES}
    for stage, decision, n, with_remedy in scope.session.execute(query):
        key = f"stage{int(stage)}"
        decisions[key][StageDecision(decision).value] = int(n)
        remedies[key]["responses"] += int(n)
        remedies[key]["with_remedy"] += int(with_remedy or 0)
    return Outcomes(decisions, remedies)


@dataclass(frozen=True)
class Refusals:
    """Code 8.1(b): complaints refused (not accepted) in the period, and why, as the person recorded it."""

    stage1: int
    stage2: int
    reasons: list[ReasonCount]

    @property
    def total(self) -> int:
        return self.stage1 + self.stage2


def refusals(scope: Scope) -> Refusals:
    stage = sa.case((col(Case.escalation_requested_at).is_(None), 1), else_=2)
    reason = col(Case.exclusion_reason)
    query = (
        sa.select(stage, reason, sa.func.count())
        .where(col(Case.kind) == CaseKind.COMPLAINT, reason.is_not(None), scope.within(col(Case.excluded_at)))
        .group_by(stage, reason)
        .order_by(sa.func.count().desc(), stage, reason)
    )
    rows = [ReasonCount(int(s), str(r), int(n)) for s, r, n in scope.session.execute(query)]
    return Refusals(
        stage1=sum(r.count for r in rows if r.stage == 1),
        stage2=sum(r.count for r in rows if r.stage == 2),
        reasons=rows[: scope.settings.list_limit],
    )


@dataclass(frozen=True)
class Performance:
    received: Received
    acknowledged: dict[str, Acknowledged]
    responded: dict[str, Responded]
    to_acknowledge: dict[str, Distribution]
    to_respond: dict[str, Distribution]
    extensions: Extensions
    escalation: Escalation
    outcomes: Outcomes
    refusals: Refusals


def performance(scope: Scope) -> Performance:
    return Performance(
        received=received(scope),
        acknowledged=acknowledgements(scope),
        responded=responses(scope),
        to_acknowledge=working_days_to_acknowledge(scope),
        to_respond=working_days_to_respond(scope),
        extensions=extensions(scope),
        escalation=escalation(scope),
        outcomes=outcomes(scope),
        refusals=refusals(scope),
    )
