"""The landlord's local date and month of a stored UTC timestamp, as SQL, on SQLite and PostgreSQL.

Deadlines are local dates ("by the end of the 5th working day"), so a response sent at 23:30 in
British Summer Time on the due day is on time although it is stored as the next day in UTC.
PostgreSQL converts with `timezone(zone, ts)`. SQLite has no time zones, so the offset is a CASE over
the zone's transitions (from zoneinfo), newest first, so that recent rows match within a few tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement

from models.types import UTCDateTime

FIRST_YEAR = 1970
# A column or an expression over columns, as SQLModel's `col()` or SQLAlchemy hand them out.
Column = ColumnElement[Any] | Mapped[Any]


def offset_segments(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(from_utc, offset_seconds)] covering [start, end): each offset holds until the next entry."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    segments = [(start, offset(start))]
    day = start
    while day < end:
        nxt = day + timedelta(days=1)
        if offset(nxt) != segments[-1][1]:
            lo, hi = int(day.timestamp()), int(nxt.timestamp())  # the change is in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == segments[-1][1]:
                    lo = mid
                else:
                    hi = mid
            moment = datetime.fromtimestamp(hi, UTC)
            segments.append((moment, offset(moment)))
        day = nxt
    return segments


class LocalTime:
    """Builds the SQL for one dialect and zone; `until` bounds the transitions SQLite is given."""

    def __init__(self, dialect: str, zone: ZoneInfo, until: datetime) -> None:
        self.dialect = dialect
        self.zone = zone
        self._segments: list[tuple[datetime, int]] = []
        if dialect != "postgresql":
            start = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
            self._segments = offset_segments(zone, start, until + timedelta(days=800))

    def _sqlite_modifier(self, column: Column) -> Column:
        whens = [
            (column >= sa.literal(moment, UTCDateTime()), f"{seconds:+d} seconds")
            for moment, seconds in reversed(self._segments[1:])
        ]
        return sa.case(*whens, else_=f"{self._segments[0][1]:+d} seconds")

    def timestamp(self, column: Column) -> Column:
        """Local wall-clock time, without a zone."""
        if self.dialect == "postgresql":
            return sa.func.timezone(self.zone.key, column)
        return sa.func.datetime(column, self._sqlite_modifier(column))

    def date(self, column: Column) -> Column:
        """The local calendar date (comes back as a `date` on both databases)."""
        if self.dialect == "postgresql":
            return sa.cast(sa.func.timezone(self.zone.key, column), sa.Date)
        return sa.type_coerce(sa.func.date(column, self._sqlite_modifier(column)), sa.Date)

    def before(self, column: Column, cutoff: time) -> Column:
        """Whether the local time of day is before `cutoff` (a whole-second time, as the receipt cut-off is).

        SQLite's time() drops fractions of a second, which gives the same answer for a whole-second cut-off.
        """
        if self.dialect == "postgresql":
            return sa.cast(sa.func.timezone(self.zone.key, column), sa.Time) < sa.literal(cutoff, sa.Time)
        return sa.func.time(column, self._sqlite_modifier(column)) < cutoff.strftime("%H:%M:%S")

    def month(self, column: Column) -> Column:
        """The local month as YYYY-MM."""
        if self.dialect == "postgresql":
            return sa.func.to_char(sa.func.timezone(self.zone.key, column), "YYYY-MM")
        return sa.func.strftime("%Y-%m", column, self._sqlite_modifier(column))

    def whole_minutes_between(self, earlier: Column, later: Column) -> Column:
        """Whole minutes from `earlier` to `later` (rounded down)."""
        if self.dialect == "postgresql":
            return sa.cast(sa.func.floor(sa.extract("epoch", later - earlier) / 60), sa.Integer)
        # Whole seconds since the epoch, exactly (julianday's fractions of a day lose whole minutes to rounding).
        seconds = sa.cast(sa.func.strftime("%s", later), sa.Integer) - sa.cast(
            sa.func.strftime("%s", earlier), sa.Integer
        )
        return seconds // 60


def as_date(value: date | str) -> date:
    """A date from either database (type_coerce covers SQLite; this guards raw rows)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
