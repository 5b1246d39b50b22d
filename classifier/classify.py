"""Classify messages: the model's heads and the readable flag rules, combined by the decision rule.

Pure over its inputs: the received date is passed in (for the over-12-months hint), never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from classifier.corpus import LABELS
from classifier.definition import Definition, draft_definition
from classifier.flags import Flags, exclusion_hint_for, flags_for
from classifier.model import NO_HAZARD, DecisionRule, HeadScores, TriageModel
from classifier.textprep import prepare


@dataclass(frozen=True)
class MessageIn:
    id: str
    channel: str
    subject: str | None
    text: str


@dataclass(frozen=True)
class Result:
    id: str
    label: str
    confidence: float
    scores: dict[str, float]
    needs_review: bool
    categories: list[str]
    hazard: str | None
    vulnerability: bool
    third_party: bool
    exclusion_hint: str | None
    definition: Definition | None
    model_version: str

    def to_json(self) -> dict[str, Any]:
        """The `triage classify` output contract (keep stable: the product owner's evaluation reads it)."""
        return {
            "id": self.id,
            "label": self.label,
            "confidence": self.confidence,
            "scores": self.scores,
            "needs_review": self.needs_review,
            "categories": self.categories,
            "hazard": self.hazard,
            "vulnerability": self.vulnerability,
            "third_party": self.third_party,
            "exclusion_hint": self.exclusion_hint,
            "definition": self.definition.to_json() if self.definition else None,
        }


def flag_text(subject: str | None, new_text: str) -> str:
    return f"{subject}\n{new_text}" if subject else new_text


def combine_hazard(rule_hazard: str | None, probs: np.ndarray, classes: list[str], threshold: float) -> str | None:
    """The rule's hazard when one matches; otherwise the model's when P(some hazard) reaches the threshold."""
    if rule_hazard is not None:
        return rule_hazard
    none_index = classes.index(NO_HAZARD)
    if 1.0 - float(probs[none_index]) < threshold:
        return None
    ranked = np.argsort(-probs)
    return str(next(classes[i] for i in ranked if i != none_index))


def decide(
    index: int, scores: HeadScores, rules: Flags, rule: DecisionRule
) -> tuple[str, float, dict[str, float], bool, list[str], str | None, bool, bool]:
    label_scores = {name: round(float(p), 4) for name, p in zip(LABELS, scores.label[index], strict=True)}
    label, needs_review = rule.label(label_scores)
    hazard = combine_hazard(rules.hazard, scores.hazard[index], scores.hazard_classes, rule.hazard_threshold)
    vulnerability = rules.vulnerability or bool(scores.vulnerability[index] >= rule.vulnerability_threshold)
    third_party = rules.third_party or bool(scores.third_party[index] >= rule.third_party_threshold)
    cat_probs = scores.categories[index]
    categories = [n for n, p in zip(scores.category_names, cat_probs, strict=True) if p >= rule.category_threshold]
    if not categories:
        categories = [scores.category_names[int(np.argmax(cat_probs))]]
    return label, label_scores[label], label_scores, needs_review, categories, hazard, vulnerability, third_party


class Classifier:
    def __init__(self, model: TriageModel) -> None:
        self.model = model

    @property
    def version(self) -> str:
        return self.model.version

    def classify_many(self, messages: Sequence[MessageIn], *, received: date) -> list[Result]:
        if not messages:
            return []
        prepared = [prepare(m.channel, m.subject, m.text) for m in messages]
        scores = self.model.score([p.model_input for p in prepared])
        results = []
        for i, (message, prep) in enumerate(zip(messages, prepared, strict=True)):
            new_text = prep.new_text
            text_for_rules = flag_text(message.subject, new_text)
            rules = flags_for(text_for_rules, received, with_exclusion=False)
            label, confidence, label_scores, review, categories, hazard, vulnerable, third = decide(
                i, scores, rules, self.model.rule
            )
            definition = draft_definition(message.subject, new_text) if label == "complaint" else None
            results.append(
                Result(
                    id=message.id,
                    label=label,
                    confidence=confidence,
                    scores=label_scores,
                    needs_review=review,
                    categories=categories,
                    hazard=hazard,
                    vulnerability=vulnerable,
                    third_party=third,
                    exclusion_hint=exclusion_hint_for(text_for_rules, received) if label == "complaint" else None,
                    definition=definition,
                    model_version=self.model.version,
                )
            )
        return results

    def classify(self, message: MessageIn, *, received: date) -> Result:
        return self.classify_many([message], received=received)[0]
