"""Everything one report run shares: the session, the period, the calendar, the settings and `as_of`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from reports.localtime import Column, LocalTime
from reports.period import Period
from reports.settings import ReportSettings
from scheduler.calendar import WorkingCalendar


@dataclass(frozen=True)
class Scope:
    session: Session
    period: Period
    settings: ReportSettings
    calendar: WorkingCalendar
    # When the report is run: what is not yet due then is "pending", not late. Passed in, never read here.
    as_of: datetime
    local: LocalTime
    start: datetime
    end: datetime

    @classmethod
    def build(
        cls, session: Session, period: Period, settings: ReportSettings, calendar: WorkingCalendar, as_of: datetime
    ) -> Scope:
        start, end = period.bounds(calendar.zone)
        dialect = session.get_bind().dialect.name
        return cls(
            session, period, settings, calendar, as_of, LocalTime(dialect, calendar.zone, max(as_of, end)), start, end
        )

    def within(self, column: Column, period: Period | None = None) -> ColumnElement[bool]:
        """The timestamp falls in the period (this one unless another is given)."""
        start, end = (self.start, self.end) if period is None else period.bounds(self.calendar.zone)
        return sa.and_(column >= start, column < end)

    @property
    def as_of_day(self) -> date:
        return self.as_of.astimezone(self.calendar.zone).date()

    def working_days(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; 0 when `end` is not after `start`."""
        return max(0, self.calendar.working_days_between(start, end))
