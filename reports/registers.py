"""The registers the Code asks for beside complaints: service requests (1.4, 1.5) and survey feedback (1.6).

Service request ages are working days from the local day it was received to the last day of the
period, or to the day the report is run if that is earlier (open ones), or to the day it was closed.
SQL groups requests by those days; Python turns each distinct pair into working days once (see
reports.complaints).

Survey feedback "expressed dissatisfaction" is a rule over the resident's words and the survey score
(reports.dissatisfaction); it is the one figure read row by row, because words cannot be counted in
SQL portably. Only the period's survey replies are read (a few percent of cases), streamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.cases import Case
from models.classification import TriageDecision
from models.enums import CaseKind, CaseStatus, OutboxStatus
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.surveys import SurveyRequest
from reports.dissatisfaction import expresses_dissatisfaction
from reports.localtime import as_date
from reports.scope import Scope
from reports.stats import Distribution, distribution, share

# Age bands of open service requests, in working days: (label, lowest, highest or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21-60", 21, 60),
    ("over 60", 61, None),
)
DISSATISFACTION_RULE = (
    "A survey reply expresses dissatisfaction when its score (recorded, or written in the reply) is 40% of the "
    "scale or less, or, with no score or a middling one, when it uses words of dissatisfaction "
    "(reports/dissatisfaction.py)."
)


@dataclass(frozen=True)
class OpenRequest:
    reference: str
    received_on: date
    age_working_days: int
    linked_complaint: bool


@dataclass(frozen=True)
class ServiceRequests:
    received: int
    still_open: int
    closed: int
    open_at_period_end: int
    age_at_period_end: Distribution
    age_bands: dict[str, int]
    closed_in_period: int
    working_days_to_close: Distribution
    linked_to_complaint: int
    linked_to_complaint_share: float | None
    linked_still_open: int
    oldest_open: list[OpenRequest]


def service_requests(scope: Scope) -> ServiceRequests:
    is_request = col(Case.kind) == CaseKind.SERVICE_REQUEST
    complaint: Any = aliased(Case)  # Any: SQLModel's col() does not take aliased attributes
    # An uncorrelated IN: the database builds the set of linked requests once (a correlated EXISTS would
    # scan the cases once per request, as linked_service_request_id has no index).
    linked = col(Case.id).in_(
        sa.select(complaint.linked_service_request_id).where(
            complaint.kind == CaseKind.COMPLAINT, complaint.linked_service_request_id.is_not(None)
        )
    )
    is_open = col(Case.status) == CaseStatus.OPEN
    received_row = scope.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((is_open, 1), else_=0)),
            sa.func.sum(sa.case((linked, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(linked, is_open), 1), else_=0)),
        ).where(is_request, scope.within(col(Case.received_at)))
    ).one()
    received, still_open, n_linked, linked_open = (int(v or 0) for v in received_row)

    open_at_end = sa.and_(
        is_request,
        col(Case.received_at) < scope.end,
        sa.or_(col(Case.closed_at).is_(None), col(Case.closed_at) >= scope.end),
    )
    received_day = scope.local.date(col(Case.received_at))
    # Open requests age to the period's last day, but not past today when the period is still running.
    aged_to = min(scope.period.last, scope.as_of_day)
    ages: dict[float, int] = {}
    for day, n in scope.session.execute(
        sa.select(received_day, sa.func.count()).where(open_at_end).group_by(received_day)
    ):
        age = scope.working_days(as_date(day), aged_to)
        ages[age] = ages.get(age, 0) + int(n)
    bands = {
        label: sum(n for age, n in ages.items() if low <= age and (high is None or age <= high))
        for label, low, high in AGE_BANDS
    }

    closed_day = scope.local.date(col(Case.closed_at))
    to_close: dict[float, int] = {}
    for opened, closed, n in scope.session.execute(
        sa.select(received_day, closed_day, sa.func.count())
        .where(is_request, scope.within(col(Case.closed_at)))
        .group_by(received_day, closed_day)
    ):
        days = scope.working_days(as_date(opened), as_date(closed))
        to_close[days] = to_close.get(days, 0) + int(n)

    oldest = [
        OpenRequest(
            reference=str(reference),
            received_on=_local_day(scope, received_at),
            age_working_days=scope.working_days(_local_day(scope, received_at), aged_to),
            linked_complaint=bool(is_linked),
        )
        for reference, received_at, is_linked in scope.session.execute(
            sa.select(col(Case.reference), col(Case.received_at), linked)
            .where(open_at_end)
            .order_by(col(Case.received_at), col(Case.id))
            .limit(scope.settings.list_limit)
        )
    ]
    return ServiceRequests(
        received=received,
        still_open=still_open,
        closed=received - still_open,
        open_at_period_end=sum(ages.values()),
        age_at_period_end=distribution(ages),
        age_bands=bands,
        closed_in_period=sum(to_close.values()),
        working_days_to_close=distribution(to_close),
        linked_to_complaint=n_linked,
        linked_to_complaint_share=share(n_linked, received),
        linked_still_open=linked_open,
        oldest_open=oldest,
    )


def _local_day(scope: Scope, moment: datetime) -> date:
    return moment.astimezone(scope.calendar.zone).date()


@dataclass(frozen=True)
class SurveyFeedback:
    received: int
    dissatisfied: int
    dissatisfied_share: float | None
    told_how_to_complain: int
    told_how_to_complain_share: float | None
    rule: str


def has_triage_decision() -> ColumnElement[bool]:
    """A triage decision names the case: a correlated EXISTS, for use negated (NOT EXISTS).

    PostgreSQL plans NOT EXISTS as an anti-join; NOT IN over a subquery it cannot, and NOT IN is wrong as
    soon as the subquery yields a NULL. triage_decision.case_id has no index, so the EXISTS reads the
    decided cases as one DISTINCT set, which SQLite probes through an automatic index built once (over the
    table itself it would scan every decision once per case); PostgreSQL plans it as the same anti-join.
    """
    decided = sa.select(col(TriageDecision.case_id).label("case_id")).distinct().subquery("decided")
    return sa.select(sa.literal(1)).select_from(decided).where(decided.c.case_id == col(Case.id)).exists()


def _survey_texts(scope: Scope) -> Any:
    """(case id, text, recorded score) for every message of the period's survey feedback cases.

    A message belongs to the survey case its triage decision created; a case without a decision (made
    some other way) is read through the messages filed on it.
    """
    survey_case = sa.and_(col(Case.kind) == CaseKind.SURVEY_FEEDBACK, scope.within(col(Case.received_at)))
    text = sa.func.coalesce(sa.func.nullif(col(InboundMessage.new_text), ""), col(InboundMessage.body_text))
    by_decision = (
        sa.select(col(Case.id), text, col(SurveyRequest.score))
        .select_from(Case)
        .join(TriageDecision, col(TriageDecision.case_id) == col(Case.id))
        .join(InboundMessage, col(InboundMessage.id) == col(TriageDecision.message_id))
        .join(SurveyRequest, col(SurveyRequest.answer_message_id) == col(InboundMessage.id), isouter=True)
        .where(survey_case)
    )
    has_decision = has_triage_decision()
    by_filing = (
        sa.select(col(Case.id), text, col(SurveyRequest.score))
        .select_from(Case)
        .join(InboundMessage, col(InboundMessage.case_id) == col(Case.id))
        .join(SurveyRequest, col(SurveyRequest.answer_message_id) == col(InboundMessage.id), isouter=True)
        .where(survey_case, sa.not_(has_decision))
    )
    return scope.session.execute(sa.union_all(by_decision, by_filing), execution_options={"yield_per": 1000})


def told_how_to_complain() -> sa.Exists:
    """For a survey feedback case (correlated on Case.id): the reply the system writes, which says how to
    complain (key "survey:REF"), exists and has not finally failed (Code 1.6)."""
    return (
        sa.select(sa.literal(1))
        .where(
            col(OutboxItem.case_id) == col(Case.id),
            col(OutboxItem.idempotency_key).startswith("survey:"),
            col(OutboxItem.status) != OutboxStatus.FAILED,
        )
        .exists()
    )


def survey_feedback(scope: Scope) -> SurveyFeedback:
    """Code 1.6: survey replies, the unhappy ones, and whether each was told how to complain.

    "Told how to complain" counts survey cases with the reply the system writes (key "survey:REF"),
    unless its delivery failed for good.
    """
    survey_case = sa.and_(col(Case.kind) == CaseKind.SURVEY_FEEDBACK, scope.within(col(Case.received_at)))
    replied = told_how_to_complain()
    received, told = scope.session.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((replied, 1), else_=0))).where(survey_case)
    ).one()
    unhappy: set[int] = set()
    for case_id, text, score in _survey_texts(scope):
        if case_id not in unhappy and expresses_dissatisfaction(str(text or ""), score):
            unhappy.add(int(case_id))
    received, told = int(received), int(told or 0)
    return SurveyFeedback(
        received=received,
        dissatisfied=len(unhappy),
        dissatisfied_share=share(len(unhappy), received),
        told_how_to_complain=told,
        told_how_to_complain_share=share(told, received),
        rule=DISSATISFACTION_RULE,
    )
