"""Facts for the self-assessment that the performance report does not already hold, counted in SQL.

Each is about the complaints of the period (stage 1 received, not refused, as in reports.complaints)
or the records the Code asks to be kept under review (support needs 5.10, contact restrictions 5.15).
Lists of references stop at the settings' list limit; the counts do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.cases import Case, Deadline, Extension
from models.classification import Classification, TriageDecision
from models.enums import CaseKind, Channel
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import ContactRestriction, SupportNeed
from reports.complaints import stage_cohort
from reports.registers import has_triage_decision, told_how_to_complain
from reports.scope import Scope


@dataclass(frozen=True)
class Listed:
    """How many, and which (up to the list limit)."""

    count: int
    references: list[str]


@dataclass(frozen=True)
class Evidence:
    logged: int
    without_the_word_complaint: int
    third_party: int
    without_definition: Listed
    without_original_message: Listed
    refusals_without_letter: Listed
    refusals_without_decider: Listed
    extensions_resident_not_told: dict[str, Listed]
    stage2_same_handler: Listed
    surveys_not_told: Listed
    support_needs_active: int
    support_needs_review_overdue: int
    restrictions_active: int
    restrictions_review_overdue: int
    channels: dict[str, int]


def _listed(scope: Scope, condition: ColumnElement[bool], *joins: Any) -> Listed:
    base = sa.select(col(Case.reference)).select_from(Case)
    for target, on in joins:
        base = base.join(target, on)
    base = base.where(condition)
    count = scope.session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    refs = scope.session.execute(base.order_by(col(Case.reference)).limit(scope.settings.list_limit)).scalars()
    return Listed(int(count), list(refs))


def _message_flags(scope: Scope) -> Any:
    """Per complaint of the period: did any of its messages say "complain", was any written by a third party.

    One grouped pass over the decisions that filed messages on those complaints (a triage decision names
    its case), instead of a subquery per case.
    """
    said = sa.case((sa.func.lower(col(InboundMessage.body_text)).contains("complain"), 1), else_=0)
    third = sa.case((col(Classification.third_party).is_(True), 1), else_=0)
    return (
        sa.select(
            col(TriageDecision.case_id).label("case_id"),
            sa.func.max(said).label("said"),
            sa.func.max(third).label("third_party"),
        )
        .join(Case, col(Case.id) == col(TriageDecision.case_id))
        .join(InboundMessage, col(InboundMessage.id) == col(TriageDecision.message_id))
        .join(Classification, col(Classification.id) == col(TriageDecision.classification_id), isouter=True)
        .where(col(Case.kind) == CaseKind.COMPLAINT, stage_cohort(scope, 1))
        .group_by(col(TriageDecision.case_id))
        .subquery("message_flags")
    )


def evidence(scope: Scope) -> Evidence:
    complaint = sa.and_(col(Case.kind) == CaseKind.COMPLAINT, stage_cohort(scope, 1))
    flags = _message_flags(scope)
    logged = scope.session.execute(sa.select(sa.func.count()).where(complaint)).scalar_one()
    said_it, by_third = scope.session.execute(
        sa.select(sa.func.sum(flags.c.said), sa.func.sum(flags.c.third_party))
    ).one()
    plain = int(logged) - int(said_it or 0)

    definition = col(Case.definition)
    # Correlated EXISTS, used negated (see reports.registers.has_triage_decision); inbound_message.case_id
    # has an index to probe.
    has_message = sa.or_(
        sa.select(sa.literal(1)).where(col(InboundMessage.case_id) == col(Case.id)).exists(),
        has_triage_decision(),
    )
    refused = sa.and_(
        col(Case.kind) == CaseKind.COMPLAINT,
        col(Case.exclusion_reason).is_not(None),
        scope.within(col(Case.excluded_at)),
    )
    letter = (
        sa.select(sa.literal(1))
        .where(col(OutboxItem.case_id) == col(Case.id), col(OutboxItem.idempotency_key).startswith("exclusion:"))
        .exists()
    )
    survey_reply = told_how_to_complain()
    surveys_not_told = _listed(
        scope,
        sa.and_(col(Case.kind) == CaseKind.SURVEY_FEEDBACK, scope.within(col(Case.received_at)), sa.not_(survey_reply)),
    )
    not_told: dict[str, Listed] = {}
    for stage in (1, 2):
        not_told[f"stage{stage}"] = _listed(
            scope,
            sa.and_(
                col(Deadline.stage) == stage,
                scope.within(col(Extension.decided_at)),
                col(Extension.resident_informed_at).is_(None),
            ),
            (Deadline, col(Deadline.case_id) == col(Case.id)),
            (Extension, col(Extension.deadline_id) == col(Deadline.id)),
        )
    today = scope.as_of_day
    active_need = col(SupportNeed.ended_at).is_(None)
    needs, needs_overdue = scope.session.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((col(SupportNeed.review_on) < today, 1), else_=0))).where(
            active_need
        )
    ).one()
    active_restriction = col(ContactRestriction.ended_at).is_(None)
    restrictions, restrictions_overdue = scope.session.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((col(ContactRestriction.review_on) < today, 1), else_=0))).where(
            active_restriction
        )
    ).one()
    channel = col(InboundMessage.channel)
    channels = {
        Channel(name).value: int(n)
        for name, n in scope.session.execute(
            sa.select(channel, sa.func.count(sa.distinct(col(TriageDecision.case_id))))
            .select_from(TriageDecision)
            .join(Case, col(Case.id) == col(TriageDecision.case_id))
            .join(InboundMessage, col(InboundMessage.id) == col(TriageDecision.message_id))
            .where(complaint)
            .group_by(channel)
        )
    }
    return Evidence(
        logged=int(logged),
        without_the_word_complaint=plain,
        third_party=int(by_third or 0),
        without_definition=_listed(
            scope, sa.and_(complaint, sa.or_(definition.is_(None), sa.func.trim(definition) == ""))
        ),
        without_original_message=_listed(scope, sa.and_(complaint, sa.not_(has_message))),
        refusals_without_letter=_listed(scope, sa.and_(refused, sa.not_(letter))),
        refusals_without_decider=_listed(scope, sa.and_(refused, col(Case.excluded_by_id).is_(None))),
        extensions_resident_not_told=not_told,
        stage2_same_handler=_listed(
            scope,
            sa.and_(
                col(Case.kind) == CaseKind.COMPLAINT,
                stage_cohort(scope, 2),
                col(Case.stage2_handler_id) == col(Case.stage1_handler_id),
            ),
        ),
        surveys_not_told=surveys_not_told,
        support_needs_active=int(needs),
        support_needs_review_overdue=int(needs_overdue or 0),
        restrictions_active=int(restrictions),
        restrictions_review_overdue=int(restrictions_overdue or 0),
        channels=channels,
    )
