"""Learning from staff: confirmed triage decisions become training examples, and a retrained model
replaces the current one only if it is at least as good on the fixed test split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from classifier.classify import Classifier
from classifier.corpus import Example, load_written, split
from classifier.model import TriageModel
from classifier.settings import ClassifierSettings, load_current
from classifier.training import evaluate, train
from models.repository.classification import decisions_with_messages


def decision_examples(session: Session) -> list[Example]:
    """Staff decisions as label-only examples (they carry no flag annotations)."""
    examples = []
    for decision, message in decisions_with_messages(session):
        examples.append(
            Example(
                id=f"decision-{decision.id}",
                batch=f"decisions-{(message.id or 0) % 5}",
                channel=message.channel.value,
                subject=message.subject,
                text=message.new_text or message.body_text,
                label=decision.label.value,
                kind="staff_decision",
                categories=(),
                outcome=None,
                third_party=False,
                vulnerability=False,
                hazard=None,
                exclusion_hint=None,
                annotated=False,
            )
        )
    return examples


@dataclass(frozen=True)
class RetrainOutcome:
    promoted: bool
    candidate_version: str
    current_version: str
    candidate: dict[str, float]
    current: dict[str, float]
    reason: str


def _headline(report: dict[str, Any]) -> dict[str, float]:
    overall = report["overall"]
    return {"macro_f1": float(overall["macro_f1"]), "complaint_recall": float(overall["complaint_recall"])}


def at_least_as_good(candidate: dict[str, float], current: dict[str, float]) -> bool:
    return candidate["macro_f1"] >= current["macro_f1"] and candidate["complaint_recall"] >= current["complaint_recall"]


def retrain(
    *,
    decisions: Sequence[Example],
    out_dir: Path,
    current: TriageModel | None,
    now: datetime,
    seed: int = 0,
    force: bool = False,
) -> RetrainOutcome:
    """Train on the written training split plus `decisions`; save to `out_dir` if promoted."""
    train_split, test_split = split(load_written())
    candidate = train([*train_split, *decisions], now=now, seed=seed, decisions_included=len(decisions))
    report = evaluate(Classifier(candidate), test_split)
    candidate.metadata.metrics = report
    cand = _headline(report)
    cur = _headline(evaluate(Classifier(current), test_split)) if current is not None else {}
    if current is None or force or at_least_as_good(cand, cur):
        candidate.save(out_dir)
        reason = "forced" if force and current is not None and not at_least_as_good(cand, cur) else "at least as good"
        if current is None:
            reason = "no current model"
        return RetrainOutcome(True, candidate.version, current.version if current else "", cand, cur, reason)
    return RetrainOutcome(
        False, candidate.version, current.version, cand, cur, "worse than the current model on the test split"
    )


def weekly_retrain(session: Session, *, settings: ClassifierSettings, out_dir: Path, now: datetime) -> RetrainOutcome:
    """What the scheduler calls each week: learn from every decision so far, promote only if no worse."""
    return retrain(decisions=decision_examples(session), out_dir=out_dir, current=load_current(settings), now=now)
