"""Training, threshold tuning and evaluation: reproducible (fixed seeds, fixed split, hashed data).

Thresholds are tuned on cross-validated predictions over the training split only (folds grouped by
writing batch), so the held-out test split stays a fair measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from classifier.classify import Classifier, MessageIn, combine_hazard, flag_text
from classifier.corpus import LABELS, Example, fingerprint
from classifier.flags import flags_for
from classifier.model import (
    NO_HAZARD,
    DecisionRule,
    Heads,
    HeadScores,
    ModelMetadata,
    TriageModel,
    new_linear,
    new_vectorizer,
    score,
)
from classifier.textprep import model_text, split_reply

# The evaluation date for the fixed corpus: its messages were written as if received in late 2026.
CORPUS_RECEIVED = date(2026, 11, 24)
TARGET_COMPLAINT_RECALL = 0.97
TARGET_HAZARD_RECALL = 0.97


def fit_heads(examples: Sequence[Example]) -> Heads:
    texts = [model_text(e.channel, e.subject, e.text) for e in examples]
    vectorizer = new_vectorizer()
    matrix = vectorizer.fit_transform(texts)
    annotated = [i for i, e in enumerate(examples) if e.annotated]
    flagged = matrix[annotated]
    rows = [examples[i] for i in annotated]
    names = MultiLabelBinarizer()
    category_targets = names.fit_transform([list(e.categories) for e in rows])
    return Heads(
        vectorizer=vectorizer,
        label=new_linear(20.0).fit(matrix, [e.label for e in examples]),
        hazard=new_linear(10.0).fit(flagged, [e.hazard or NO_HAZARD for e in rows]),
        vulnerability=new_linear(10.0).fit(flagged, [e.vulnerability for e in rows]),
        third_party=new_linear(10.0).fit(flagged, [e.third_party for e in rows]),
        categories=OneVsRestClassifier(new_linear(10.0)).fit(flagged, category_targets),
        category_names=names,
    )


def cross_validated_scores(examples: Sequence[Example], folds: int = 5) -> list[tuple[int, HeadScores]]:
    """Out-of-fold head scores for every example, grouped by writing batch."""
    groups = [e.batch for e in examples]
    out: list[tuple[int, HeadScores]] = []
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(examples, groups=groups):
        heads = fit_heads([examples[i] for i in train_idx])
        held = [examples[i] for i in test_idx]
        scores = score(heads, [model_text(e.channel, e.subject, e.text) for e in held])
        out.extend((int(i), _row(scores, k)) for k, i in enumerate(test_idx))
    return out


def _row(scores: HeadScores, k: int) -> HeadScores:
    return HeadScores(
        label=scores.label[k : k + 1],
        hazard=scores.hazard[k : k + 1],
        hazard_classes=scores.hazard_classes,
        vulnerability=scores.vulnerability[k : k + 1],
        third_party=scores.third_party[k : k + 1],
        categories=scores.categories[k : k + 1],
        category_names=scores.category_names,
    )


def tune_rule(examples: Sequence[Example], oof: list[tuple[int, HeadScores]]) -> DecisionRule:
    """Pick thresholds on out-of-fold scores: complaint and hazard recall first, then macro-F1."""
    gold = np.array([examples[i].label for i, _ in oof])
    probs = np.vstack([s.label for _, s in oof])
    best_threshold, best_f1 = 0.5, -1.0
    for threshold in np.arange(0.20, 0.51, 0.025):
        pred = np.array(LABELS)[probs.argmax(1)]
        pred[probs[:, 0] >= threshold] = "complaint"
        recall = float(np.mean(pred[gold == "complaint"] == "complaint"))
        f1 = float(f1_score(gold, pred, average="macro"))
        if recall >= TARGET_COMPLAINT_RECALL and f1 > best_f1:
            best_threshold, best_f1 = float(threshold), f1
    rule = replace(DecisionRule(), complaint_threshold=round(best_threshold, 3))

    oof = [(i, s) for i, s in oof if examples[i].annotated]
    flag_rules = [
        flags_for(flag_text(examples[i].subject, split_reply(examples[i].text)[0]), CORPUS_RECEIVED) for i, _ in oof
    ]
    has_hazard = np.array([examples[i].hazard is not None for i, _ in oof])
    hazard_threshold = 0.5
    for threshold in np.arange(0.5, 0.04, -0.025):
        found = np.array(
            [
                combine_hazard(f.hazard, s.hazard[0], s.hazard_classes, float(threshold)) is not None
                for f, (_, s) in zip(flag_rules, oof, strict=True)
            ]
        )
        hazard_threshold = float(threshold)
        if float(np.mean(found[has_hazard])) >= TARGET_HAZARD_RECALL:
            break
    rule = replace(rule, hazard_threshold=round(hazard_threshold, 3))

    for name in ("vulnerability", "third_party"):
        truth = np.array([getattr(examples[i], name) for i, _ in oof])
        by_rule = np.array([getattr(f, name) for f in flag_rules])
        model = np.concatenate([getattr(s, name) for _, s in oof])
        best = max(
            np.arange(0.2, 0.81, 0.05),
            key=lambda t: f1_score(truth, by_rule | (model >= t)),
        )
        rule = replace(rule, **{f"{name}_threshold": round(float(best), 3)})
    return rule


def train(examples: Sequence[Example], *, now: datetime, seed: int = 0, decisions_included: int = 0) -> TriageModel:
    """Fit on `examples` (the training split plus any staff decisions), tuning the rule by CV."""
    np.random.seed(seed)
    ordered = sorted(examples, key=lambda e: e.id)
    rule = tune_rule(ordered, cross_validated_scores(ordered))
    heads = fit_heads(ordered)
    data_hash = fingerprint(ordered)
    metadata = ModelMetadata(
        version=f"{now:%Y%m%d-%H%M}-{data_hash[:8]}",
        trained_at=now.isoformat(),
        training_data_hash=data_hash,
        training_examples=len(ordered),
        decisions_included=decisions_included,
        seed=seed,
        sklearn_version=sklearn.__version__,
        rule={k: float(v) for k, v in asdict(rule).items()},
    )
    return TriageModel(heads=heads, rule=rule, metadata=metadata)


def evaluate(classifier: Classifier, examples: Sequence[Example]) -> dict[str, Any]:
    """Per-label precision/recall/F1, macro-F1 and complaint recall, overall and per channel; hazard recall."""
    results = classifier.classify_many(
        [MessageIn(e.id, e.channel, e.subject, e.text) for e in examples], received=CORPUS_RECEIVED
    )
    report: dict[str, Any] = {"n": len(examples), "overall": _label_metrics(examples, results)}
    for channel in ("email", "chat"):
        subset = [(e, r) for e, r in zip(examples, results, strict=True) if e.channel == channel]
        report[channel] = _label_metrics([e for e, _ in subset], [r for _, r in subset])
    hazard_gold = [(e, r) for e, r in zip(examples, results, strict=True) if e.hazard]
    no_hazard = [(e, r) for e, r in zip(examples, results, strict=True) if not e.hazard]
    report["hazard"] = {
        "recall_any": _share(r.hazard is not None for _, r in hazard_gold),
        "recall_exact_type": _share(r.hazard == e.hazard for e, r in hazard_gold),
        "false_alarm_rate": _share(r.hazard is not None for _, r in no_hazard),
        "n": len(hazard_gold),
    }
    for name in ("vulnerability", "third_party"):
        truth = [bool(getattr(e, name)) for e in examples]
        pred = [bool(getattr(r, name)) for r in results]
        p, rc, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
        report[name] = {"precision": round(float(p), 3), "recall": round(float(rc), 3), "f1": round(float(f), 3)}
    report["needs_review_share"] = _share(r.needs_review for r in results)
    return report


def _share(flags: object) -> float:
    values = list(flags)  # type: ignore[call-overload]
    return round(sum(values) / len(values), 3) if values else 0.0


def _label_metrics(examples: Sequence[Example], results: Sequence[object]) -> dict[str, object]:
    gold = [e.label for e in examples]
    pred = [r.label for r in results]  # type: ignore[attr-defined]
    p, r, f, support = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    return {
        "macro_f1": round(float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)), 3),
        "complaint_recall": round(float(r[0]), 3),
        "per_label": {
            label: {
                "precision": round(float(p[i]), 3),
                "recall": round(float(r[i]), 3),
                "f1": round(float(f[i]), 3),
                "support": int(support[i]),
            }
            for i, label in enumerate(LABELS)
        },
        "confusion": {"labels": list(LABELS), "matrix": confusion_matrix(gold, pred, labels=list(LABELS)).tolist()},
    }
