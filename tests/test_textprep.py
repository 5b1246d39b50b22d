"""Splitting new text from quoted history and signatures; normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifier.textprep import normalise, prepare, split_reply

CASES = json.loads((Path(__file__).parent / "fixtures" / "replies.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reply_splitting_table(case: dict[str, str]) -> None:
    new, quoted = split_reply(case["text"])
    assert new == case["new"]
    assert case["quoted_starts"] in quoted if case["quoted_starts"] else quoted == ""


lines = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    max_size=40,
)


@given(st.lists(lines, max_size=12))
def test_splitting_never_loses_a_line(parts: list[str]) -> None:
    text = "\n".join(parts)
    new, quoted = split_reply(text)
    for line in parts:
        if line.strip():
            assert line.strip() in new or line.strip() in quoted or line.lstrip(" >").strip() in new


@given(st.text(max_size=300))
def test_normalise_is_idempotent_and_lower_case(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.lower()


def test_placeholders_and_markers() -> None:
    text = "Paid £150.50, see www.example.org or email Sue@Example.org about CMP-2026-00042"
    assert normalise(text) == (
        "paid £150.50, see urltoken or email emailtoken about cmp-2026-00042 moneytoken casereftoken"
    )


def test_the_model_sees_the_subject_and_only_the_new_text() -> None:
    prepared = prepare("email", "Re: Leak", "Still leaking.\n\nOn 1 Nov 2026, Repairs wrote:\n> booked for Tuesday")
    assert prepared.new_text == "Still leaking."
    assert prepared.model_input == "chanemail subj re: leak body still leaking."
    assert "booked" not in prepared.model_input
