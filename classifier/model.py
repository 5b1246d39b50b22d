"""The trained model: one TF-IDF vectoriser shared by several linear heads, and the decision rule.

Vectorising once and scoring five heads on the same sparse row keeps batch classification fast.
Saved with skops (never pickle) beside a JSON metadata file; loading trusts only the types listed here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from classifier.corpus import LABELS
from classifier.fastvec import FastWordTfidf

BUNDLED_DIR = Path(__file__).with_name("artifacts")
MODEL_FILE = "model.skops"
META_FILE = "model.json"
NO_HAZARD = "none"
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b"  # noqa: S105  (a regular expression, not a secret)

# The only types a model file may contain; anything else is refused at load time.
TRUSTED_TYPES = [
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._label.MultiLabelBinarizer",
    "numpy.dtype",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "builtins.slice",
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "builtins.NoneType",
]


def new_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=TOKEN_PATTERN, dtype=np.float32
    )


def new_linear(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


@dataclass(frozen=True)
class DecisionRule:
    """Turns scores into decisions. A missed complaint costs more than a false alarm, so a complaint
    is called at a probability well below one half; low-confidence items are marked for review."""

    complaint_threshold: float = 0.35
    review_below: float = 0.6
    review_margin: float = 0.1
    hazard_threshold: float = 0.3
    vulnerability_threshold: float = 0.5
    third_party_threshold: float = 0.5
    category_threshold: float = 0.35

    def label(self, scores: dict[str, float]) -> tuple[str, bool]:
        """(label, needs_review) from per-label probabilities."""
        best = max(scores, key=lambda k: scores[k])
        complaint = scores["complaint"]
        label = "complaint" if complaint >= self.complaint_threshold else best
        confidence = scores[label]
        near_threshold = abs(complaint - self.complaint_threshold) < self.review_margin
        return label, confidence < self.review_below or near_threshold


@dataclass
class Heads:
    vectorizer: TfidfVectorizer
    label: LogisticRegression
    hazard: LogisticRegression
    vulnerability: LogisticRegression
    third_party: LogisticRegression
    categories: OneVsRestClassifier
    category_names: MultiLabelBinarizer

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class CompiledHeads:
    """Every head's coefficients stacked into one matrix, so scoring is one sparse product.

    Equal to each head's `predict_proba` (tests check it): softmax for the multinomial heads
    (label, hazard), sigmoid for the binary ones (vulnerability, third party, each category).
    """

    def __init__(self, heads: Heads) -> None:
        self.vectorizer = FastWordTfidf(heads.vectorizer)
        label_order = [list(heads.label.classes_).index(name) for name in LABELS]
        categories = heads.categories.estimators_
        if not all(isinstance(e, LogisticRegression) for e in categories):
            raise ValueError("every category needs a fitted logistic regression (one had a single class)")
        blocks = [
            (heads.label.coef_[label_order], heads.label.intercept_[label_order]),
            (heads.hazard.coef_, heads.hazard.intercept_),
            (heads.vulnerability.coef_, heads.vulnerability.intercept_),
            (heads.third_party.coef_, heads.third_party.intercept_),
            *((e.coef_, e.intercept_) for e in categories),
        ]
        self.weights = np.ascontiguousarray(np.vstack([w for w, _ in blocks]).T, dtype=np.float64)
        self.bias = np.concatenate([b for _, b in blocks])
        self.hazard_classes = [str(c) for c in heads.hazard.classes_]
        self.category_names = [str(c) for c in heads.category_names.classes_]
        n_hazard = len(self.hazard_classes)
        self.slices = {
            "label": slice(0, 4),
            "hazard": slice(4, 4 + n_hazard),
            "vulnerability": 4 + n_hazard,
            "third_party": 5 + n_hazard,
            "categories": slice(6 + n_hazard, 6 + n_hazard + len(categories)),
        }

    def score(self, texts: list[str]) -> HeadScores:
        logits = self.vectorizer.transform(texts) @ self.weights + self.bias
        return HeadScores(
            label=_softmax(logits[:, self.slices["label"]]),
            hazard=_softmax(logits[:, self.slices["hazard"]]),
            hazard_classes=self.hazard_classes,
            vulnerability=_sigmoid(logits[:, self.slices["vulnerability"]]),
            third_party=_sigmoid(logits[:, self.slices["third_party"]]),
            categories=_sigmoid(logits[:, self.slices["categories"]]),
            category_names=self.category_names,
        )


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass
class HeadScores:
    """Per-message probabilities from every head, for a batch."""

    label: np.ndarray  # (n, 4) in LABELS order
    hazard: np.ndarray  # (n, k) in hazard_classes order
    hazard_classes: list[str]
    vulnerability: np.ndarray  # (n,)
    third_party: np.ndarray  # (n,)
    categories: np.ndarray  # (n, c)
    category_names: list[str]


def score(heads: Heads, texts: list[str]) -> HeadScores:
    """Scores through sklearn's own `predict_proba` (training, and the reference the fast path is tested on)."""
    matrix: csr_matrix = heads.vectorizer.transform(texts)
    label_probs = heads.label.predict_proba(matrix)
    order = [list(heads.label.classes_).index(name) for name in LABELS]
    return HeadScores(
        label=label_probs[:, order],
        hazard=heads.hazard.predict_proba(matrix),
        hazard_classes=[str(c) for c in heads.hazard.classes_],
        vulnerability=heads.vulnerability.predict_proba(matrix)[:, 1],
        third_party=heads.third_party.predict_proba(matrix)[:, 1],
        categories=heads.categories.predict_proba(matrix),
        category_names=[str(c) for c in heads.category_names.classes_],
    )


@dataclass
class ModelMetadata:
    version: str
    trained_at: str
    training_data_hash: str
    training_examples: int
    decisions_included: int
    seed: int
    sklearn_version: str
    rule: dict[str, float]
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class TriageModel:
    heads: Heads
    rule: DecisionRule
    metadata: ModelMetadata
    compiled: CompiledHeads | None = field(default=None, repr=False)

    def score(self, texts: list[str]) -> HeadScores:
        """The fast scoring path used at inference."""
        if self.compiled is None:
            self.compiled = CompiledHeads(self.heads)
        return self.compiled.score(texts)

    @property
    def version(self) -> str:
        return self.metadata.version

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp_model = directory / (MODEL_FILE + ".tmp")
        sio.dump(self.heads.as_dict(), tmp_model)
        tmp_meta = directory / (META_FILE + ".tmp")
        tmp_meta.write_text(json.dumps(asdict(self.metadata), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        # Replace both only once both are written, so a crash never leaves a half-saved model.
        tmp_model.replace(directory / MODEL_FILE)
        tmp_meta.replace(directory / META_FILE)

    @classmethod
    def load(cls, directory: Path = BUNDLED_DIR) -> TriageModel:
        path = directory / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(f"no model at {path}: run `triage train`")
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ValueError(f"refusing to load {path}: it contains unexpected types {sorted(untrusted)}")
        parts = sio.load(path, trusted=TRUSTED_TYPES)
        metadata = ModelMetadata(**json.loads((directory / META_FILE).read_text(encoding="utf-8")))
        return cls(heads=Heads(**parts), rule=DecisionRule(**metadata.rule), metadata=metadata)
