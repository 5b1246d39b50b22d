"""Draft complaint definitions (Code 5.6) from the resident's own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifier.definition import CLARIFYING_QUESTION, draft_definition, find_outcome
from classifier.textprep import split_reply

CASES = json.loads((Path(__file__).parent / "fixtures" / "definitions.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_definitions_table(case: dict[str, object]) -> None:
    new_text, _ = split_reply(str(case["text"]))
    definition = draft_definition(case["subject"], new_text)  # type: ignore[arg-type]
    assert definition.outcome == case["outcome"]
    for phrase in case["summary_contains"]:  # type: ignore[attr-defined]
        assert phrase in definition.summary
    assert definition.needs_clarification is (case["outcome"] is None)
    if case["outcome"] is None:
        assert definition.summary.endswith(CLARIFYING_QUESTION)
    assert set(definition.to_json()) == {"summary", "outcome", "needs_clarification"}


def test_greetings_and_signatures_are_not_points() -> None:
    text = "Dear Sir\nThe lift has been broken for three weeks and nobody has been.\nKind regards\nJohn\n07700 900456"
    definition = draft_definition(None, text)
    assert definition.points == ("The lift has been broken for three weeks and nobody has been",)


@given(st.text(max_size=400))
def test_an_outcome_is_always_an_exact_quote(text: str) -> None:
    outcome = find_outcome(text)
    assert outcome is None or outcome in text
    definition = draft_definition(None, text)
    assert len(definition.points) <= 3
