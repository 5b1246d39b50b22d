"""Themes and trends (Code 9.2, 9.4): complaint categories by month, against the previous period; and
the hazards intake flagged (Awaab's Law) with how fast a person confirmed the message.

Categories are a JSON list on each case. SQL groups complaints by (list as text, month), which gives a
few hundred rows at most; Python splits each list and adds its count to every category in it, so a
complaint about repairs and damp counts once under each. A complaint with no category counts under
"uncategorised".
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from models.cases import Case
from models.classification import Classification, TriageDecision
from models.enums import CaseKind
from models.messages import InboundMessage
from reports.complaints import stage_cohort
from reports.period import Period
from reports.scope import Scope
from reports.stats import Distribution, distribution, share

UNCATEGORISED = "uncategorised"
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class CategoryTrend:
    category: str
    count: int
    previous: int
    change: int
    # change / previous; None when the category is new this period.
    change_share: float | None


@dataclass(frozen=True)
class MonthCount:
    month: str
    category: str
    count: int


@dataclass(frozen=True)
class HazardCount:
    hazard: str
    flagged: int
    confirmed: int


@dataclass(frozen=True)
class Hazards:
    flagged: int
    confirmed: int
    awaiting_review: int
    by_hazard: list[HazardCount]
    hours_to_confirm: Distribution
    confirmed_within_24_hours: int
    confirmed_within_24_hours_share: float | None


@dataclass(frozen=True)
class Themes:
    months: list[str]
    categories: list[CategoryTrend]
    top: list[CategoryTrend]
    by_month: list[MonthCount]
    hazards: Hazards


def _split(categories_json: str | None) -> list[str]:
    names = json.loads(categories_json) if categories_json else []
    return [str(n) for n in names] or [UNCATEGORISED]


def _category_counts(scope: Scope, period: Period | None, by_month: bool) -> Counter[tuple[str, str]]:
    as_text = sa.cast(col(Case.categories), sa.Text)
    month = scope.local.month(col(Case.received_at)) if by_month else sa.literal("")
    query = (
        sa.select(as_text, month, sa.func.count())
        .where(col(Case.kind) == CaseKind.COMPLAINT, stage_cohort(scope, 1, period))
        .group_by(as_text, month)
    )
    counts: Counter[tuple[str, str]] = Counter()
    for categories, month_name, n in scope.session.execute(query):
        for name in _split(categories):
            counts[(name, str(month_name))] += int(n)
    return counts


def categories(scope: Scope) -> tuple[list[CategoryTrend], list[MonthCount]]:
    monthly = _category_counts(scope, None, by_month=True)
    previous = Counter({name: n for (name, _), n in _category_counts(scope, scope.period.previous(), False).items()})
    current: Counter[str] = Counter()
    for (name, _), n in monthly.items():
        current[name] += n
    trends = [
        CategoryTrend(
            category=name,
            count=n,
            previous=previous[name],
            change=n - previous[name],
            change_share=(n - previous[name]) / previous[name] if previous[name] else None,
        )
        for name, n in sorted(current.items(), key=lambda item: (-item[1], item[0]))
    ]
    by_month = [
        MonthCount(month, name, n) for (name, month), n in sorted(monthly.items(), key=lambda i: (i[0][1], i[0][0]))
    ]
    return trends, by_month


def hazards(scope: Scope) -> Hazards:
    """Messages received in the period that intake flagged with a possible hazard, and their triage.

    A message classified more than once counts once, under the first hazard name in alphabetical order.
    "Confirmed" means a person made the triage decision on it; the time is from receipt to that decision.
    The flagged classifications are grouped first (a few percent of them), then joined to their messages
    and the period: the plan follows the flagged few, not every message of the year.
    """
    flagged = (
        sa.select(
            col(Classification.message_id).label("message_id"), sa.func.min(col(Classification.hazard)).label("hazard")
        )
        .where(col(Classification.hazard).is_not(None))
        .group_by(col(Classification.message_id))
        .subquery("flagged")
    )
    minutes = scope.local.whole_minutes_between(col(InboundMessage.received_at), col(TriageDecision.decided_at))
    query = (
        sa.select(flagged.c.hazard, minutes, sa.func.count())
        .select_from(flagged)
        .join(InboundMessage, col(InboundMessage.id) == flagged.c.message_id)
        .join(TriageDecision, col(TriageDecision.message_id) == flagged.c.message_id, isouter=True)
        .where(scope.within(col(InboundMessage.received_at)))
        .group_by(flagged.c.hazard, minutes)
    )
    per_hazard: dict[str, list[int]] = {}
    waits: dict[float, int] = {}
    for hazard, waited, n in scope.session.execute(query):
        counts = per_hazard.setdefault(str(hazard), [0, 0])
        counts[0] += int(n)
        if waited is not None:
            counts[1] += int(n)
            hours = max(0, int(waited)) / 60
            waits[hours] = waits.get(hours, 0) + int(n)
    total = sum(f for f, _ in per_hazard.values())
    confirmed = sum(c for _, c in per_hazard.values())
    within_day = sum(n for hours, n in waits.items() if hours * 60 <= DAY_MINUTES)
    return Hazards(
        flagged=total,
        confirmed=confirmed,
        awaiting_review=total - confirmed,
        by_hazard=[
            HazardCount(name, f, c) for name, (f, c) in sorted(per_hazard.items(), key=lambda i: (-i[1][0], i[0]))
        ],
        hours_to_confirm=distribution(waits),
        confirmed_within_24_hours=within_day,
        confirmed_within_24_hours_share=share(within_day, confirmed),
    )


def themes(scope: Scope) -> Themes:
    trends, by_month = categories(scope)
    return Themes(
        months=scope.period.months(),
        categories=trends,
        top=trends[: scope.settings.top_categories],
        by_month=by_month,
        hazards=hazards(scope),
    )
