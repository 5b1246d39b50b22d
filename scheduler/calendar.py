"""Working days: Monday to Friday less the nation's bank holidays and the landlord's closure days.

Built once and then pure: no clock reads, no queries. Working days are held as a sorted list of
ordinals, so adding or counting working days is a binary search rather than a day-by-day walk.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

NATIONS = ("ENG", "WLS", "SCT", "NIR")
FIRST_YEAR, LAST_YEAR = 2000, 2075


class CalendarError(ValueError):
    """A date or setting the calendar cannot work with; the message is fit to show a person."""


@dataclass(frozen=True)
class ReceiptRule:
    """When a message counts as received: on a working day before the cut-off, that day; else the next."""

    cutoff: time = time(17, 0)
    timezone: str = "Europe/London"


class WorkingCalendar:
    def __init__(
        self,
        nation: str = "ENG",
        closures: Iterable[date] = (),
        receipt: ReceiptRule | None = None,
    ) -> None:
        if nation not in NATIONS:
            raise CalendarError(f"nation must be one of {', '.join(NATIONS)}, not {nation!r}")
        self.nation = nation
        self.receipt = receipt or ReceiptRule()
        try:
            self.zone = ZoneInfo(self.receipt.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown time zone {self.receipt.timezone!r}") from None
        if self.receipt.cutoff.tzinfo is not None:
            raise CalendarError("the receipt cut-off is a local time of day, without a time zone")
        # The subdivision matters: plain GB leaves out Easter Monday and the summer bank holiday.
        bank_holidays = holidays.country_holidays("GB", subdiv=nation, years=range(FIRST_YEAR, LAST_YEAR + 1))
        self.non_working: frozenset[date] = frozenset(bank_holidays) | frozenset(closures)
        start, end = date(FIRST_YEAR, 1, 1).toordinal(), date(LAST_YEAR, 12, 31).toordinal()
        self._ordinals: list[int] = [
            o
            for o in range(start, end + 1)
            if date.fromordinal(o).weekday() < 5 and date.fromordinal(o) not in self.non_working
        ]

    def _check(self, day: date) -> None:
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise CalendarError(f"{day} is outside the calendar's years {FIRST_YEAR}-{LAST_YEAR}")

    def _at(self, index: int) -> date:
        if not 0 <= index < len(self._ordinals):
            raise CalendarError(f"the answer falls outside the calendar's years {FIRST_YEAR}-{LAST_YEAR}")
        return date.fromordinal(self._ordinals[index])

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        i = bisect.bisect_left(self._ordinals, day.toordinal())
        return i < len(self._ordinals) and self._ordinals[i] == day.toordinal()

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        self._check(day)
        return self._at(bisect.bisect_right(self._ordinals, day.toordinal()))

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself never counts; 0 returns `start`)."""
        if days < 0:
            raise CalendarError("working days to add must not be negative")
        self._check(start)
        if days == 0:
            return start
        return self._at(bisect.bisect_right(self._ordinals, start.toordinal()) + days - 1)

    def subtract_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day before `start` (`start` itself never counts; 0 returns `start`)."""
        if days < 0:
            raise CalendarError("working days to subtract must not be negative")
        self._check(start)
        if days == 0:
            return start
        return self._at(bisect.bisect_left(self._ordinals, start.toordinal()) - days)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        self._check(start)
        self._check(end)
        if end < start:
            return -self.working_days_between(end, start)
        return bisect.bisect_right(self._ordinals, end.toordinal()) - bisect.bisect_right(
            self._ordinals, start.toordinal()
        )

    def received_day(self, received_at: datetime) -> date:
        """The working day a message counts as received on, under the receipt rule."""
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise CalendarError("received_at must be timezone-aware")
        local = received_at.astimezone(self.zone)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.receipt.cutoff:
            return day
        return self.next_working_day(day)

    def end_of_day(self, day: date) -> datetime:
        """The last moment of `day` in the landlord's time zone, in UTC (BST handled by zoneinfo)."""
        return datetime.combine(day, time.max, tzinfo=self.zone).astimezone(UTC)
