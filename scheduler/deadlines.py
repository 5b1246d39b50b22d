"""The Code's deadlines for one complaint as dates (Code 6.2-6.4 at stage 1, 6.11-6.15 at stage 2).

Pure functions: the calendar and the timescales are arguments and nothing reads the clock, so the
scheduler, the CLI and the tests get the same answer for the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from models.timescales import Timescales
from scheduler.calendar import CalendarError, WorkingCalendar


@dataclass(frozen=True)
class CodeDeadlines:
    """Each date is due by the end of that working day; stage 2 treats the same moment as an escalation."""

    received_day: date
    stage1_ack_due: date
    stage1_response_due: date
    stage1_extension_limit: date
    stage2_ack_due: date
    stage2_response_due: date
    stage2_extension_limit: date

    def as_json(self) -> dict[str, str]:
        """Field name to ISO date, in field order."""
        return {f.name: getattr(self, f.name).isoformat() for f in fields(self)}


def code_deadlines(
    received_at: datetime,
    *,
    calendar: WorkingCalendar,
    timescales: Timescales,
    acknowledged: date | None = None,
) -> CodeDeadlines:
    """Deadlines for a message received at `received_at` (timezone-aware).

    Responses count from the acknowledgement when it is known (its calendar date, so one sent in the
    evening counts that day), else from the acknowledgement deadline, the latest it may be.
    """
    day = calendar.received_day(received_at)
    if acknowledged is not None:
        received_on = received_at.astimezone(calendar.zone).date()
        if acknowledged < received_on:
            raise CalendarError(f"acknowledged on {acknowledged}, before the message was received on {received_on}")
    one, two = timescales.stage1, timescales.stage2
    stage1_ack = calendar.add_working_days(day, one.acknowledge)
    stage1_response = calendar.add_working_days(acknowledged or stage1_ack, one.respond)
    stage2_ack = calendar.add_working_days(day, two.acknowledge)
    stage2_response = calendar.add_working_days(acknowledged or stage2_ack, two.respond)
    return CodeDeadlines(
        received_day=day,
        stage1_ack_due=stage1_ack,
        stage1_response_due=stage1_response,
        stage1_extension_limit=calendar.add_working_days(stage1_response, one.extension_limit),
        stage2_ack_due=stage2_ack,
        stage2_response_due=stage2_response,
        stage2_extension_limit=calendar.add_working_days(stage2_response, two.extension_limit),
    )


def due_at(calendar: WorkingCalendar, day: date) -> datetime:
    """The instant a deadline falling on `day` passes: the end of that day, local time, in UTC."""
    return calendar.end_of_day(day)


def reminder_days(calendar: WorkingCalendar, due: date, offsets: Sequence[int] = (3, 1, 0)) -> list[date]:
    """The working days `offsets` working days before `due` (0 is `due` itself), earliest first, no repeats."""
    return sorted({calendar.subtract_working_days(due, k) for k in offsets})
