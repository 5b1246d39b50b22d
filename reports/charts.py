"""Charts as inline SVG (matplotlib, no pyplot: no global state, no display needed).

Text stays text in the SVG (svg.fonttype none), so it prints sharply, scales on a phone and can be
searched. Labels are never parsed as maths, and matplotlib escapes them as XML; the SVG is inserted
into the page as it comes, so nothing but these functions may produce it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from reports.themes import CategoryTrend, MonthCount

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "housing-triage-report",
    "text.parse_math": False,
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
PALETTE = ("#1b6ca8", "#e07b39", "#3a9d5d", "#b8443c", "#7d5ba6", "#8c8c8c")
OTHER = "other categories"
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_SIZE_ATTRIBUTE = re.compile(r'\s(width|height)="[^"]*"')


def _to_svg(figure: Figure, title: str) -> str:
    """The figure as an <svg> element that scales to its container, with an accessible title."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    opening = _SVG_OPEN.search(text)
    if opening is None:  # pragma: no cover - matplotlib always writes one
        raise RuntimeError("matplotlib wrote no <svg> element")
    tag = _SIZE_ATTRIBUTE.sub("", opening.group(0))
    tag = tag.replace("<svg", '<svg role="img" preserveAspectRatio="xMidYMid meet"', 1)
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return tag + f"<title>{safe_title}</title>" + text[opening.end() :].strip()


def _figure(height: float = 3.0) -> Figure:
    return Figure(figsize=(7.0, height), layout="constrained")


def complaints_by_month(months: Sequence[str], by_month: Sequence[MonthCount], top: Sequence[CategoryTrend]) -> str:
    """Stacked bars: complaints received each month by category (the top ones, then the rest together)."""
    with mpl.rc_context(STYLE):
        named = [t.category for t in top]
        series: dict[str, list[int]] = {name: [0] * len(months) for name in [*named, OTHER]}
        index = {m: i for i, m in enumerate(months)}
        for row in by_month:
            if row.month in index:
                series[row.category if row.category in named else OTHER][index[row.month]] += row.count
        figure = _figure()
        axes = figure.add_subplot()
        bottom = [0] * len(months)
        for colour, (name, counts) in zip(PALETTE, series.items(), strict=False):
            if not any(counts):
                continue
            axes.bar(months, counts, bottom=bottom, label=name.replace("_", " "), color=colour, width=0.7)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        axes.set_ylabel("complaints (by category)")
        axes.tick_params(axis="x", labelrotation=45 if len(months) > 6 else 0)
        if any(bottom):
            axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
        else:
            axes.text(0.5, 0.5, "no complaints in the period", ha="center", va="center", transform=axes.transAxes)
        return _to_svg(figure, "Stage 1 complaints received each month, by category")


def shares(title: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    """Horizontal bars of shares (0-1) shown as percentages; a missing share is drawn as 'no data'."""
    with mpl.rc_context(STYLE):
        figure = _figure(0.5 + 0.45 * len(labels))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        widths = [100 * v if v is not None else 0 for v in values]
        axes.barh(positions, widths, color=PALETTE[0], height=0.6)
        for y, v in zip(positions, values, strict=True):
            label = f"{v:.1%}" if v is not None else "no data"
            if v is not None and v >= 0.85:  # inside the bar's end, so it never runs off the chart
                axes.text(100 * v - 1, y, label, va="center", ha="right", color="white")
            else:
                axes.text(100 * (v or 0) + 1, y, label, va="center")
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, 100)
        axes.set_xlabel("%")
        return _to_svg(figure, title)


def counts(title: str, labels: Sequence[str], values: Sequence[int], xlabel: str) -> str:
    """Vertical bars of counts with their values on top."""
    with mpl.rc_context(STYLE):
        figure = _figure(2.6)
        axes = figure.add_subplot()
        bars = axes.bar(list(labels), list(values), color=PALETTE[0], width=0.6)
        axes.bar_label(bars, labels=[f"{v:,}" for v in values], padding=2)
        axes.set_xlabel(xlabel)
        axes.set_ylim(0, max([*values, 1]) * 1.2)
        return _to_svg(figure, title)
