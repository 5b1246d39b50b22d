"""The report as CSV: one file per table, named for what it holds, for spreadsheets and the regulator's
returns. Shares are fractions (0-1) as in the JSON; empty cells mean "no data"."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reports.build import Report
from reports.registers import AGE_BANDS
from reports.self_assess import Assessment

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str
    header: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]


def report_tables(report: Report) -> list[Table]:
    p = report.performance
    stages = ("stage1", "stage2")
    ch01 = [
        (
            "all homes",
            report.ch01.homes["total"],
            report.ch01.stage1,
            report.ch01.stage1_per_1000_homes,
            report.ch01.stage2,
            report.ch01.stage2_per_1000_homes,
        )
    ]
    for name, s in (report.ch01.by_stock or {}).items():
        ch01.append((name, s.homes, s.stage1, s.stage1_per_1000_homes, s.stage2, s.stage2_per_1000_homes))
    timings = [
        (measure, stage, d.count, d.median, d.p90, d.max)
        for measure, by_stage in (("acknowledge", p.to_acknowledge), ("respond", p.to_respond))
        for stage, d in by_stage.items()
    ]
    sr = report.service_requests
    sf = report.survey_feedback
    hz = report.themes.hazards
    q = report.triage_quality
    return [
        Table(
            "complaints_received",
            ("stage", "received", "refused"),
            [("stage1", p.received.stage1, p.refusals.stage1), ("stage2", p.received.stage2, p.refusals.stage2)],
        ),
        Table("ch01", ("stock", "homes", "stage1", "stage1_per_1000_homes", "stage2", "stage2_per_1000_homes"), ch01),
        Table(
            "ch02",
            ("stage", "responded", "within_original", "within_extension", "late", "on_time", "share"),
            [
                (s, r.responded, r.within_original, r.within_extension, r.late, r.on_time, r.share)
                for s, r in (("stage1", report.ch02.stage1), ("stage2", report.ch02.stage2))
            ],
        ),
        Table(
            "acknowledged_within_timescale",
            ("stage", "due", "on_time", "late", "pending", "share"),
            [(s, a.due, a.on_time, a.late, a.pending, a.share) for s, a in p.acknowledged.items()],
        ),
        Table(
            "late",
            ("step", "stage", "reference"),
            [("acknowledge", s, ref) for s, a in p.acknowledged.items() for ref in a.late_references]
            + [("respond", s, ref) for s, r in p.responded.items() for ref in r.late_references],
        ),
        Table("working_days", ("measure", "stage", "complaints", "median", "p90", "max"), timings),
        Table(
            "extensions",
            ("stage", "extensions", "working_days", "with_good_reason"),
            [
                (s, e["count"], e["working_days"], e["with_good_reason"])
                for s, e in (("stage1", p.extensions.stage1), ("stage2", p.extensions.stage2))
            ],
        ),
        Table(
            "extension_reasons",
            ("stage", "reason", "count"),
            [(x.stage, x.reason, x.count) for x in p.extensions.reasons],
        ),
        Table(
            "escalation",
            ("stage1_responded", "escalated", "rate"),
            [(p.escalation.stage1_responded, p.escalation.escalated, p.escalation.rate)],
        ),
        Table(
            "outcomes",
            ("stage", "decision", "count"),
            [(s, d, n) for s in stages for d, n in p.outcomes.decisions[s].items()],
        ),
        Table(
            "remedies",
            ("stage", "responses", "with_remedy"),
            [(s, p.outcomes.remedies[s]["responses"], p.outcomes.remedies[s]["with_remedy"]) for s in stages],
        ),
        Table("refusals", ("stage", "reason", "count"), [(x.stage, x.reason, x.count) for x in p.refusals.reasons]),
        Table(
            "categories",
            ("category", "count", "previous", "change", "change_share"),
            [(t.category, t.count, t.previous, t.change, t.change_share) for t in report.themes.categories],
        ),
        Table(
            "categories_by_month",
            ("month", "category", "count"),
            [(m.month, m.category, m.count) for m in report.themes.by_month],
        ),
        Table("hazards", ("hazard", "flagged", "triaged"), [(h.hazard, h.flagged, h.confirmed) for h in hz.by_hazard]),
        Table(
            "hazard_triage",
            (
                "flagged",
                "triaged",
                "awaiting_review",
                "median_hours",
                "p90_hours",
                "within_24_hours",
                "within_24_hours_share",
            ),
            [
                (
                    hz.flagged,
                    hz.confirmed,
                    hz.awaiting_review,
                    hz.hours_to_confirm.median,
                    hz.hours_to_confirm.p90,
                    hz.confirmed_within_24_hours,
                    hz.confirmed_within_24_hours_share,
                )
            ],
        ),
        Table(
            "service_requests",
            ("measure", "value"),
            [
                ("received", sr.received),
                ("still_open", sr.still_open),
                ("closed", sr.closed),
                ("open_at_period_end", sr.open_at_period_end),
                ("median_age_working_days", sr.age_at_period_end.median),
                ("p90_age_working_days", sr.age_at_period_end.p90),
                ("closed_in_period", sr.closed_in_period),
                ("median_working_days_to_close", sr.working_days_to_close.median),
                ("linked_to_complaint", sr.linked_to_complaint),
                ("linked_to_complaint_share", sr.linked_to_complaint_share),
                ("linked_still_open", sr.linked_still_open),
                *((f"age_{label.replace(' ', '_')}", sr.age_bands[label]) for label, _, _ in AGE_BANDS),
            ],
        ),
        Table(
            "service_requests_oldest_open",
            ("reference", "received_on", "age_working_days", "linked_complaint"),
            [
                (o.reference, o.received_on.isoformat(), o.age_working_days, int(o.linked_complaint))
                for o in sr.oldest_open
            ],
        ),
        Table(
            "survey_feedback",
            ("received", "dissatisfied", "dissatisfied_share", "told_how_to_complain", "told_how_to_complain_share"),
            [
                (
                    sf.received,
                    sf.dissatisfied,
                    sf.dissatisfied_share,
                    sf.told_how_to_complain,
                    sf.told_how_to_complain_share,
                )
            ],
        ),
        Table(
            "triage_quality",
            ("label", "decisions", "changed", "changed_share"),
            [(x.label, x.decisions, x.changed, x.changed_share) for x in q.by_label],
        ),
        Table(
            "triage_changes", ("predicted", "decided", "count"), [(c.predicted, c.decided, c.count) for c in q.changes]
        ),
    ]


def self_assessment_table(rows: list[Assessment]) -> Table:
    return Table(
        "self_assessment",
        ("provision", "section", "requirement", "complies", "evidence", "references"),
        [(a.provision, a.section, a.requirement, a.status, a.evidence, " ".join(a.references)) for a in rows],
    )


def write_csv(table: Table, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.header)
        writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    return path


def write_tables(tables: list[Table], directory: Path) -> list[Path]:
    """One CSV per table in `directory` (created if needed); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    return [write_csv(t, directory / f"{t.name}.csv") for t in tables]
