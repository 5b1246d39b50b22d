"""Shares and percentiles over counted values: SQL counts, these weigh the counts.

Percentiles interpolate linearly between the two nearest values (numpy's default and PostgreSQL's
percentile_cont), so a median of 4 and 5 working days is 4.5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    count: int
    median: float | None
    p90: float | None
    max: float | None


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction, or None when there is nothing to divide (never a fake 0% or 100%)."""
    return part / whole if whole else None


def percentile(counts: Mapping[float, int], q: float) -> float | None:
    """The q-th quantile (0 <= q <= 1) of values given as {value: how many times it occurs}."""
    items = sorted((v, n) for v, n in counts.items() if n > 0)
    total = sum(n for _, n in items)
    if total == 0:
        return None
    position = q * (total - 1)
    below = int(position)
    fraction = position - below
    lower = _at(items, below)
    if fraction == 0:
        return float(lower)
    upper = _at(items, below + 1)
    return float(lower + (upper - lower) * fraction)


def _at(items: list[tuple[float, int]], index: int) -> float:
    """The value at `index` of the expanded, sorted list, without expanding it."""
    seen = 0
    for value, n in items:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)  # pragma: no cover - callers stay within the total


def distribution(counts: Mapping[float, int]) -> Distribution:
    present = [v for v, n in counts.items() if n > 0]
    return Distribution(
        count=sum(n for n in counts.values() if n > 0),
        median=percentile(counts, 0.5),
        p90=percentile(counts, 0.9),
        max=float(max(present)) if present else None,
    )


def tally(pairs: Iterable[tuple[float, int]]) -> dict[float, int]:
    """Add up (value, count) pairs that may repeat a value."""
    counts: dict[float, int] = {}
    for value, n in pairs:
        counts[value] = counts.get(value, 0) + n
    return counts
