"""Hazard, vulnerability, third-party and exclusion flags: table of written examples, date rules, and the
soundness of the literal prefilter that keeps the rules fast."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.flags import (
    HAZARD_RULES,
    INDEX,
    LEGAL_RULE,
    PREVIOUS_RULE,
    THIRD_PARTY_RULE,
    VULNERABILITY_RULE,
    flags_for,
    months_between,
    over_twelve_months,
)
from classifier.prefilter import required_literals

TABLE = json.loads((Path(__file__).parent / "fixtures" / "flags.json").read_text(encoding="utf-8"))
RECEIVED = date.fromisoformat(TABLE["received"])
ALL_RULES = [*HAZARD_RULES, VULNERABILITY_RULE, THIRD_PARTY_RULE, LEGAL_RULE, PREVIOUS_RULE]
CLAUSES = [(rule.name, clause) for rule in ALL_RULES for clause in rule.clauses]


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["text"][:40] for c in TABLE["cases"]])
def test_flags_table(case: dict[str, object]) -> None:
    flags = flags_for(str(case["text"]), RECEIVED)
    for name in ("hazard", "vulnerability", "third_party", "exclusion_hint"):
        if name in case:
            assert getattr(flags, name) == case[name], name


@pytest.mark.parametrize(("rule_name", "clause"), CLAUSES, ids=[f"{n}-{c.id}" for n, c in CLAUSES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_string_a_clause_matches_passes_its_prefilter(
    rule_name: str, clause: object, data: st.DataObject
) -> None:
    """Soundness: the literals are required by the pattern, so no match is ever skipped."""
    pattern: re.Pattern[str] = clause.pattern  # type: ignore[attr-defined]
    text = data.draw(st.from_regex(pattern))
    lowered = text.lower()
    if pattern.search(lowered) is None:
        return  # the drawn text only matched thanks to case; our rules see lower-case text
    assert clause.id in INDEX.candidates(lowered), rule_name  # type: ignore[attr-defined]


def test_required_literals_examples() -> None:
    assert required_literals(r"\b(please|pls|plz)\s+fix") == frozenset({"please", "pls", "plz"})
    assert required_literals(r"\bmou?ld\b") == frozenset({"mould", "mold"})
    assert required_literals(r"\bno (hot )?water\b") == frozenset({"no water", "no hot water"})
    assert required_literals(r"[a-z]+@x") is None  # nothing long enough is required


@given(st.integers(2015, 2030), st.integers(1, 12), st.dates(date(2016, 1, 1), date(2031, 12, 31)))
def test_over_twelve_months_follows_the_dates_in_the_text(year: int, month: int, received: date) -> None:
    names = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    text = f"the fence was damaged by your contractor in {names[month - 1]} {year}".lower()
    mentioned = date(year, month, 1)
    expected = mentioned <= received and months_between(mentioned, received) > 12
    assert over_twelve_months(text, received) is expected


def test_a_recent_mention_cancels_the_over_twelve_months_hint() -> None:
    assert over_twelve_months("the leak started in june 2024", date(2026, 11, 24))
    assert not over_twelve_months("the leak started in june 2024 and it is still leaking", date(2026, 11, 24))
    assert not over_twelve_months("the leak started in june 2026", date(2026, 11, 24))
    assert over_twelve_months("this happened two years ago", date(2026, 11, 24))
