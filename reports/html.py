"""The report and the self-assessment as one self-contained HTML file each: inline CSS, inline SVG charts,
every piece of text escaped (Jinja2 autoescape; staff and resident text never reaches the page raw)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from itertools import groupby

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from models.enums import StageDecision
from reports import charts
from reports.build import Report
from reports.registers import AGE_BANDS
from reports.self_assess import Assessment


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0%}"


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".removesuffix(".0")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def _moment(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=_pct, signed_pct=_signed_pct, num=_num, days=_days, rate=_rate, hours=_hours, day=_day, moment=_moment
    )
    return env


def report_charts(report: Report) -> dict[str, Markup]:
    p = report.performance
    decisions = [d.value for d in StageDecision]
    outcome_counts = [p.outcomes.decisions["stage1"][d] + p.outcomes.decisions["stage2"][d] for d in decisions]
    svgs = {
        "timeliness": charts.shares(
            "Share on time at each step",
            [
                "stage 1 acknowledged",
                "stage 2 acknowledged",
                "stage 1 responded (CH02)",
                "stage 2 responded (CH02)",
            ],
            [
                p.acknowledged["stage1"].share,
                p.acknowledged["stage2"].share,
                report.ch02.stage1.share,
                report.ch02.stage2.share,
            ],
        ),
        "outcomes": charts.counts(
            "Decisions at stage 1 and stage 2", [d.replace("_", " ") for d in decisions], outcome_counts, "decision"
        ),
        "categories": charts.complaints_by_month(report.themes.months, report.themes.by_month, report.themes.top),
        "ages": charts.counts(
            "Open service requests by age",
            [label for label, _, _ in AGE_BANDS],
            [report.service_requests.age_bands[label] for label, _, _ in AGE_BANDS],
            "working days open",
        ),
        "triage": charts.shares(
            "Classifier labels changed by staff",
            [q.label.replace("_", " ") for q in report.triage_quality.by_label],
            [q.changed_share for q in report.triage_quality.by_label],
        ),
    }
    # Markup: matplotlib's SVG, with its text XML-escaped by matplotlib (see reports.charts).
    return {name: Markup(svg) for name, svg in svgs.items()}  # noqa: S704


def render_report_html(report: Report) -> str:
    acknowledged = report.performance.acknowledged.values()
    due = sum(a.due for a in acknowledged)
    return (
        environment()
        .get_template("report.html")
        .render(
            r=report,
            previous=report.period.previous(),
            ack_total=sum(a.on_time for a in acknowledged) / due if due else None,
            charts=report_charts(report),
        )
    )


def render_self_assessment_html(report: Report, rows: list[Assessment]) -> str:
    sections = [(name, list(group)) for name, group in groupby(rows, key=lambda a: a.section)]
    counts = Counter({"yes": 0, "no": 0, "no data": 0, "policy": 0})
    counts.update(a.status for a in rows)
    return (
        environment()
        .get_template("self_assessment.html")
        .render(period=report.period, as_of=report.as_of, sections=sections, counts=counts)
    )
