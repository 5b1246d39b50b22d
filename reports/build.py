"""One report: every section built from the database for a period, and its JSON form.

`build_report` takes a session, the period, the settings, the working-day calendar and `as_of` (the
moment the report is taken, for what is still pending); it reads nothing else. The JSON form is the
machine form the CSV and HTML are drawn from and the tests read: shares are fractions from 0 to 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from reports.complaints import Performance, performance
from reports.period import Period
from reports.quality import TriageQuality, triage_quality
from reports.registers import ServiceRequests, SurveyFeedback, service_requests, survey_feedback
from reports.scope import Scope
from reports.settings import ReportSettings
from reports.themes import Themes, themes
from reports.tsm import Ch01, Ch02, ch01, ch02
from scheduler.calendar import WorkingCalendar


@dataclass(frozen=True)
class Report:
    period: Period
    as_of: datetime
    timezone: str
    nation: str
    performance: Performance
    ch01: Ch01
    ch02: Ch02
    themes: Themes
    service_requests: ServiceRequests
    survey_feedback: SurveyFeedback
    triage_quality: TriageQuality


def build_report(
    session: Session, *, period: Period, settings: ReportSettings, calendar: WorkingCalendar, as_of: datetime
) -> Report:
    scope = Scope.build(session, period, settings, calendar, as_of)
    figures = performance(scope)
    return Report(
        period=period,
        as_of=as_of,
        timezone=calendar.zone.key,
        nation=calendar.nation,
        performance=figures,
        ch01=ch01(figures.received, settings),
        ch02=ch02(figures.responded),
        themes=themes(scope),
        service_requests=service_requests(scope),
        survey_feedback=survey_feedback(scope),
        triage_quality=triage_quality(scope),
    )


def jsonable(value: Any) -> Any:
    """Dataclasses to dicts, dates to ISO strings, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def report_json(report: Report) -> dict[str, Any]:
    """The machine form. Top-level keys are the issue's: period, complaints, ch01, ch02,
    acknowledged_within_timescale, themes, service_requests, survey_feedback, triage_quality."""
    p = report.performance
    acknowledged = jsonable(p.acknowledged)
    due = sum(a.due for a in p.acknowledged.values())
    on_time = sum(a.on_time for a in p.acknowledged.values())
    acknowledged["total"] = {"due": due, "on_time": on_time, "share": on_time / due if due else None}
    return {
        "period": {
            **report.period.to_json(),
            "previous": report.period.previous().to_json(),
            "as_of": report.as_of.isoformat(),
            "timezone": report.timezone,
            "nation": report.nation,
        },
        "complaints": {
            "received": {"stage1": p.received.stage1, "stage2": p.received.stage2, "total": p.received.total},
            "working_days_to_acknowledge": jsonable(p.to_acknowledge),
            "working_days_to_respond": jsonable(p.to_respond),
            "extensions": jsonable(p.extensions),
            "escalation": jsonable(p.escalation),
            "outcomes": jsonable(p.outcomes.decisions),
            "remedies": jsonable(p.outcomes.remedies),
            "refused": {**jsonable(p.refusals), "total": p.refusals.total},
        },
        "ch01": jsonable(report.ch01),
        "ch02": jsonable(report.ch02),
        "acknowledged_within_timescale": acknowledged,
        "themes": jsonable(report.themes),
        "service_requests": jsonable(report.service_requests),
        "survey_feedback": jsonable(report.survey_feedback),
        "triage_quality": jsonable(report.triage_quality),
    }
