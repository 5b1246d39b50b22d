"""The hand-written corpus: schema, size, mix, the fixed split, and no near-duplicates."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.corpus import LABELS, WRITTEN_DIR, Example, load_written, split
from classifier.data.check_batch import problems

HARD_CASES = Path(__file__).parent / "fixtures" / "hard_cases.jsonl"
NEAR_DUPLICATE = 0.6  # cosine of word 1-3-gram TF-IDF; the closest pair written so far is under 0.6
HARD_KINDS = {
    "complaint": [
        "plain_complaint",
        "explicit_complaint",
        "sr_handling",
        "staff_conduct",
        "charges_complaint",
        "asb_handling",
        "sarcasm",
        "representative",
        "survey_asks_complaint",
        "escalation_request",
        "communication_failure",
    ],
    "service_request": ["plain_request", "frustrated_first_report", "asb_report", "hazard_report", "change_request"],
    "survey_feedback": ["negative_survey", "positive_survey", "neutral_survey"],
    "other": ["thanks", "question", "wrong_org", "spam", "admin_update"],
}


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_written()


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_record_follows_the_labelling_schema() -> None:
    paths = [*sorted(WRITTEN_DIR.glob("*.jsonl")), HARD_CASES]
    found = {f"{p.name}:{r['id']}": problems(r) for p in paths for r in records(p)}
    assert {k: v for k, v in found.items() if v} == {}
    ids = [r["id"] for p in paths for r in records(p)]
    assert len(ids) == len(set(ids))


def test_size_label_mix_and_channels(corpus: list[Example]) -> None:
    assert len(corpus) >= 2500
    labels = Counter(e.label for e in corpus)
    assert set(labels) == set(LABELS) and min(labels.values()) >= 300
    email_share = sum(e.channel == "email" for e in corpus) / len(corpus)
    assert 0.5 <= email_share <= 0.6
    assert all(e.subject is not None for e in corpus if e.channel == "email")


def test_every_hard_case_kind_is_there_in_quantity_under_its_label(corpus: list[Example]) -> None:
    kinds = Counter((e.label, e.kind) for e in corpus)
    for label, names in HARD_KINDS.items():
        for kind in names:
            assert kinds[(label, kind)] >= 20, (label, kind)


def test_flags_are_annotated_in_useful_numbers(corpus: list[Example]) -> None:
    assert sum(e.hazard is not None for e in corpus) >= 400
    assert len({e.hazard for e in corpus if e.hazard}) == 8
    assert sum(e.vulnerability for e in corpus) >= 300 and sum(e.third_party for e in corpus) >= 150
    hints = Counter(e.exclusion_hint for e in corpus if e.exclusion_hint)
    assert min(hints.values()) >= 25 and len(hints) == 3
    complaints = [e for e in corpus if e.label == "complaint"]
    assert sum(e.outcome is not None for e in complaints) / len(complaints) > 0.5


def test_the_split_is_by_writing_batch_and_holds_out_about_a_quarter(corpus: list[Example]) -> None:
    train, test = split(corpus)
    assert {e.batch for e in train}.isdisjoint({e.batch for e in test})
    assert 0.2 <= len(test) / len(corpus) <= 0.3
    assert set(Counter(e.label for e in test)) == set(LABELS)


def test_no_near_duplicates_in_the_corpus_or_between_it_and_the_held_out_hard_cases(corpus: list[Example]) -> None:
    hard = [Example.from_json(r) for r in records(HARD_CASES)]
    texts = [e.text for e in corpus] + [e.text for e in hard]
    ids = [e.id for e in corpus] + [e.id for e in hard]
    matrix = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    similarity = (matrix @ matrix.T).tocoo()
    close = [
        (ids[i], ids[j], round(float(v), 3))
        for i, j, v in zip(similarity.row, similarity.col, similarity.data, strict=True)
        if i < j and v > NEAR_DUPLICATE
    ]
    assert close == []
    assert np.isfinite(similarity.data).all()
