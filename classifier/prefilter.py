"""Literal prefilters for regular expressions, derived from the pattern itself.

For a pattern, find a set of literal strings such that every match contains at least one of them.
Checking those with `in` (C speed) lets most texts skip the regular expression entirely. Derived
from the parse tree, so the rules stay plain regular expressions and nobody maintains keyword lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import ahocorasick

MIN_USEFUL = 3  # a shorter literal ("a", "no") filters out too little to be worth checking


def required_literals(pattern: str) -> frozenset[str] | None:
    """Literals one of which every match of `pattern` contains, or None when none can be found."""
    found = _sequence(list(sre_parse.parse(pattern)))
    if found is None or min(len(s) for s in found) < MIN_USEFUL:
        return None
    return found


MAX_SET = 256  # beyond this many spelled-out strings a run is not worth expanding


def _quality(found: frozenset[str]) -> int:
    return min(map(len, found))


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if _quality(a) >= _quality(b) else b


def _union_of_branches(
    branches: list[Any], of: Callable[[list[tuple[Any, Any]]], frozenset[str] | None]
) -> frozenset[str] | None:
    """An alternation needs one of its branches: the union of theirs, or nothing if a branch has none."""
    found: set[str] = set()
    for branch in branches:
        part = of(list(branch))
        if part is None:
            return None
        found |= part
    return frozenset(found)


def _finite(op: Any, value: Any) -> frozenset[str] | None:  # noqa: PLR0911  (a return per element kind)
    """Every string this element can match, when that is a small finite set; else None."""
    if op is sre.LITERAL:
        return frozenset({chr(value)})
    if op is sre.IN:
        if all(kind is sre.LITERAL for kind, _ in value):
            return frozenset(chr(v) for _, v in value)
        return None
    if op is sre.SUBPATTERN:
        return _finite_sequence(list(value[-1]))
    if op is sre.BRANCH:
        return _union_of_branches(value[1], _finite_sequence)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and value[0] == 0 and value[1] == 1:
        inner = _finite_sequence(list(value[2]))
        return None if inner is None else inner | {""}
    return None


def _finite_sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    result = frozenset({""})
    for op, value in items:
        if op is sre.AT:
            continue  # anchors match no characters
        part = _finite(op, value)
        if part is None or len(result) * len(part) > MAX_SET:
            return None
        result = frozenset(a + b for a in result for b in part)
    return result


def _sequence(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """Best required-literal set for a sequence: a run of finite pieces spelled out, or a sub-element's."""
    best: frozenset[str] | None = None
    run = frozenset({""})

    def close_run() -> None:
        nonlocal best, run
        if "" not in run:
            best = _better(best, run)
        run = frozenset({""})

    for op, value in items:
        if op is sre.AT:
            continue
        part = _finite(op, value)
        if part is not None and len(run) * len(part) <= MAX_SET:
            run = frozenset(a + b for a in run for b in part)
            continue
        close_run()
        best = _better(best, _item(op, value))
    close_run()
    return best


def _item(op: Any, value: Any) -> frozenset[str] | None:
    if op is sre.SUBPATTERN:
        return _sequence(list(value[-1]))
    if op is sre.BRANCH:
        return _union_of_branches(value[1], _sequence)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _high, sub = value
        return _sequence(list(sub)) if low >= 1 else None
    return None  # open-ended classes, any-character: no literal is required


class LiteralIndex:
    """An Aho-Corasick automaton over every clause's required literals: one pass over a text says
    which clauses could match, so only those regular expressions run."""

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._owners: dict[str, list[int]] = {}
        self.always: set[int] = set()

    def add(self, clause_id: int, literals: frozenset[str] | None) -> None:
        if literals is None:
            self.always.add(clause_id)
            return
        for literal in literals:
            self._owners.setdefault(literal, []).append(clause_id)

    def build(self) -> None:
        for literal, owners in self._owners.items():
            self._automaton.add_word(literal, tuple(owners))
        if self._owners:
            self._automaton.make_automaton()

    def candidates(self, text: str) -> set[int]:
        found = set(self.always)
        if self._owners:
            for _end, owners in self._automaton.iter(text):
                found.update(owners)
        return found


class Prefiltered:
    """A compiled pattern that first checks, case-insensitively, for the literals every match needs."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.literals = required_literals(pattern.pattern.lower())
        self._automaton = ahocorasick.Automaton()
        for literal in self.literals or ():
            self._automaton.add_word(literal, literal)
        if self.literals:
            self._automaton.make_automaton()

    def could_match(self, text: str) -> bool:
        if self.literals is None:
            return True
        return any(True for _ in self._automaton.iter(text.lower()))

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.could_match(text) else None
