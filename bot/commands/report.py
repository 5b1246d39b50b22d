"""`triage report` and `triage self-assess`: complaints performance for a period, from the configured database.

The report only reads, in one read-only transaction (on SQLite it never takes the write lock, so the
running service is not held up), and writes a file: HTML (one self-contained page), CSV (a folder with
one file per table) or JSON (the machine form, to stdout unless --out is given).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.commands.context import checked_engine, console, now
from bot.settings import TriageSettings, load_settings
from models.database import read_only
from models.errors import DomainError
from reports.build import Report, build_report, report_json
from reports.evidence import evidence
from reports.html import render_report_html, render_self_assessment_html
from reports.period import Period, PeriodError
from reports.scope import Scope
from reports.self_assess import Assessment, self_assess
from reports.settings import ReportSettings
from reports.tables import report_tables, self_assessment_table, write_csv, write_tables
from scheduler.calendar import WorkingCalendar


class ReportInputError(DomainError):
    """A period or option on the command line that the report cannot use."""


class ReportFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    JSON = "json"


class AssessmentFormat(StrEnum):
    HTML = "html"
    CSV = "csv"


FromOption = Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD (local date).")]
ToOption = Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD, included.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Where to write: a file (HTML, JSON) or a folder (CSV).")]


def parse_period(first: str, last: str) -> Period:
    try:
        return Period(date.fromisoformat(first), date.fromisoformat(last))
    except PeriodError as exc:
        raise ReportInputError(str(exc)) from None
    except ValueError:
        raise ReportInputError(f"--from {first!r} and --to {last!r} must be dates like 2026-04-01") from None


def run_report(
    engine: Engine, *, period: Period, settings: ReportSettings, calendar: WorkingCalendar, as_of: datetime
) -> tuple[Report, list[Assessment]]:
    """The report and the self-assessment, read in one read-only transaction so the figures agree.

    SQLite's read transaction keeps one snapshot from its first read; PostgreSQL needs REPEATABLE READ for
    that (its default gives each statement a new one, so counts taken moments apart could disagree).
    """
    reader = read_only(engine)
    if engine.dialect.name == "postgresql":
        reader = reader.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with Session(reader) as session, session.begin():
        report = build_report(session, period=period, settings=settings, calendar=calendar, as_of=as_of)
        facts = evidence(Scope.build(session, period, settings, calendar, as_of))
    return report, self_assess(report, facts)


def _load(first: str, last: str) -> tuple[TriageSettings, Period, Report, list[Assessment]]:
    period = parse_period(first, last)
    settings = load_settings()
    with checked_engine(settings) as engine:
        report, rows = run_report(
            engine, period=period, settings=settings.report(), calendar=settings.calendar(), as_of=now()
        )
    return settings, period, report, rows


def report(
    first: FromOption,
    last: ToOption,
    output_format: Annotated[ReportFormat, typer.Option("--format", help="html, csv or json.")] = ReportFormat.HTML,
    out: OutOption = None,
) -> None:
    """Complaints performance (Code 8.1, 9.x; TSM CH01/CH02), themes, registers and triage quality."""
    _, period, built, _ = _load(first, last)
    stem = f"complaints-report-{period.first}-to-{period.last}"
    if output_format is ReportFormat.JSON:
        text = json.dumps(report_json(built), indent=2)
        if out is None:
            typer.echo(text)
            return
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"Wrote {out}")
    elif output_format is ReportFormat.CSV:
        files = write_tables(report_tables(built), out or Path(stem))
        console.print(f"Wrote {len(files)} CSV files to {files[0].parent}")
    else:
        path = out or Path(f"{stem}.html")
        path.write_text(render_report_html(built), encoding="utf-8")
        console.print(f"Wrote {path}")


def self_assess_command(
    first: FromOption,
    last: ToOption,
    output_format: Annotated[AssessmentFormat, typer.Option("--format", help="html or csv.")] = AssessmentFormat.HTML,
    out: OutOption = None,
) -> None:
    """The Code's self-assessment, 1.2 to 9.8, with the evidence this system's data holds for the period."""
    _, period, built, rows = _load(first, last)
    stem = f"self-assessment-{period.first}-to-{period.last}"
    if output_format is AssessmentFormat.CSV:
        path = write_csv(self_assessment_table(rows), out or Path(f"{stem}.csv"))
    else:
        path = out or Path(f"{stem}.html")
        path.write_text(render_self_assessment_html(built, rows), encoding="utf-8")
    console.print(f"Wrote {path}")


def html_writer(calendar: WorkingCalendar, settings: ReportSettings | None = None) -> HtmlWriter:
    """A writer with the demo's signature (engine, start, end, path): the report for those days as HTML."""
    return HtmlWriter(calendar, settings or ReportSettings())


class HtmlWriter:
    def __init__(self, calendar: WorkingCalendar, settings: ReportSettings) -> None:
        self.calendar = calendar
        self.settings = settings

    def __call__(self, engine: Engine, start: datetime, end: datetime, path: Path) -> None:
        zone = self.calendar.zone
        period = Period(start.astimezone(zone).date(), end.astimezone(zone).date())
        built, _ = run_report(engine, period=period, settings=self.settings, calendar=self.calendar, as_of=end)
        path.write_text(render_report_html(built), encoding="utf-8")
