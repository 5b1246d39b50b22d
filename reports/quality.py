"""Triage quality: how often staff changed the classifier's label (the learning loop's evidence).

Counts the triage decisions made in the period against the classification the person was shown
(the one the decision records). Decisions on messages never classified are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from models.classification import Classification, TriageDecision
from models.enums import Label
from reports.scope import Scope
from reports.stats import share


@dataclass(frozen=True)
class LabelQuality:
    label: str
    decisions: int
    changed: int
    changed_share: float | None


@dataclass(frozen=True)
class Change:
    predicted: str
    decided: str
    count: int


@dataclass(frozen=True)
class TriageQuality:
    decisions: int
    with_classification: int
    changed: int
    changed_share: float | None
    by_label: list[LabelQuality]
    changes: list[Change]


def triage_quality(scope: Scope) -> TriageQuality:
    predicted = col(Classification.label)
    decided = col(TriageDecision.label)
    query = (
        sa.select(predicted, decided, sa.func.count())
        .select_from(TriageDecision)
        .join(Classification, col(Classification.id) == col(TriageDecision.classification_id), isouter=True)
        .where(scope.within(col(TriageDecision.decided_at)))
        .group_by(predicted, decided)
    )
    pairs = {
        (Label(p).value if p is not None else None, Label(d).value): int(n) for p, d, n in scope.session.execute(query)
    }
    by_label = []
    for label in Label:
        total = sum(n for (p, _), n in pairs.items() if p == label.value)
        changed = sum(n for (p, d), n in pairs.items() if p == label.value and d != label.value)
        by_label.append(LabelQuality(label.value, total, changed, share(changed, total)))
    classified = sum(n for (p, _), n in pairs.items() if p is not None)
    changed = sum(q.changed for q in by_label)
    changes = [
        Change(str(p), d, n)
        for (p, d), n in sorted(pairs.items(), key=lambda item: (-item[1], str(item[0][0]), item[0][1]))
        if p is not None and p != d
    ]
    return TriageQuality(
        decisions=sum(pairs.values()),
        with_classification=classified,
        changed=changed,
        changed_share=share(changed, classified),
        by_label=by_label,
        changes=changes,
    )
