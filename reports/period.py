"""The reporting period: whole local days, inclusive at both ends, and the period just before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class PeriodError(ValueError):
    """A period that cannot be reported on; the message is fit to show a person."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last."""
        start = datetime.combine(self.first, time.min, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        """The period just before this one, ending the day before it starts (for trends, Code 9.4).

        Whole calendar months (a month, a quarter, a financial year) step back by the same number of
        whole months, so March compares with February; any other period with the same number of days.
        """
        last = self.first - timedelta(days=1)
        months = self.whole_months()
        if months is None:
            return Period(last - timedelta(days=self.days - 1), last)
        index = self.first.year * 12 + self.first.month - 1 - months
        return Period(date(index // 12, index % 12 + 1, 1), last)

    def whole_months(self) -> int | None:
        """How many calendar months the period is when it runs from a 1st to a month end, else None."""
        if self.first.day != 1 or (self.last + timedelta(days=1)).day != 1:
            return None
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def months(self) -> list[str]:
        """Every month the period touches, as YYYY-MM, in order."""
        found: list[str] = []
        day = self.first.replace(day=1)
        while day <= self.last:
            found.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return found

    def to_json(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}
