"""The rule that says whether a survey reply expressed dissatisfaction (Code 1.6), on replies it was not
written from: the hard cases were written separately and never used to build the rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.textprep import split_reply
from reports.dissatisfaction import expresses_dissatisfaction, written_rating

HARD_CASES = Path(__file__).parent / "fixtures" / "hard_cases.jsonl"


def surveys(kind: str) -> list[str]:
    rows = [json.loads(line) for line in HARD_CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [split_reply(r["text"])[0] for r in rows if r.get("label") == "survey_feedback" and r.get("kind") == kind]


def test_every_negative_hard_case_is_flagged_and_no_positive_one() -> None:
    negative, positive = surveys("negative_survey"), surveys("positive_survey")
    assert len(negative) == 4 and len(positive) == 4
    assert [expresses_dissatisfaction(t) for t in negative] == [True] * 4
    assert [expresses_dissatisfaction(t) for t in positive] == [False] * 4


@pytest.mark.parametrize(
    ("text", "score", "unhappy"),
    [
        ("2/5 the plumber never turned up", None, True),
        ("5 stars, lovely job", None, False),
        ("9/10, only not 10 cos he was an hour late", None, False),  # a high score outweighs a grumble
        ("Score 3. Took nearly three weeks to get him out", None, True),  # middling score: the words decide
        ("Score 3. Fine.", None, False),
        ("Fine", 1, True),  # the survey's recorded score decides
        ("Terrible, nobody came", 5, False),
        ("How satisfied or dissatisfied are you? Very satisfied", None, False),  # the question's own words
        ("1. How was the visit? Great, thanks", None, False),  # a numbered question is not a score of 1
    ],
)
def test_the_rule(text: str, score: int | None, unhappy: bool) -> None:
    assert expresses_dissatisfaction(text, score) is unhappy


@pytest.mark.parametrize(
    ("text", "rating"),
    [("3 out of 10", 0.3), ("★★☆☆☆", 0.4), ("one star", 0.2), ("i'd give it a 1", 0.2), ("no score here", None)],
)
def test_written_ratings(text: str, rating: float | None) -> None:
    assert written_rating(text) == (pytest.approx(rating) if rating is not None else None)
