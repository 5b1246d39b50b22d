"""The working-day calendar: properties, hand-worked tables per nation, and a cross-check with numpy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.calendar import NATIONS, CalendarError, ReceiptRule, WorkingCalendar

LONDON = ZoneInfo("Europe/London")
CALENDARS = {nation: WorkingCalendar(nation) for nation in NATIONS}
ENG, WLS, SCT, NIR = (CALENDARS[n] for n in NATIONS)
# A landlord shut on Christmas Eve and New Year's Eve every year, and on one odd Wednesday.
CLOSURES = frozenset(
    [date(y, 12, 24) for y in range(2000, 2076)] + [date(y, 12, 31) for y in range(2000, 2076)] + [date(2026, 3, 4)]
)
CLOSED = WorkingCalendar("ENG", closures=CLOSURES)
ALL = [*CALENDARS.values(), CLOSED]
BANK_HOLIDAYS = {n: holidays.country_holidays("GB", subdiv=n, years=range(2000, 2076)) for n in NATIONS}

calendars = st.sampled_from(ALL)
days = st.dates(date(2002, 1, 1), date(2073, 12, 31))  # room to add or subtract 300 working days
counts = st.integers(0, 300)
zones = st.sampled_from([UTC, LONDON, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))])
moments = st.datetimes(datetime(2000, 1, 2), datetime(2075, 12, 1), timezones=zones)  # noqa: DTZ001 (bounds are naive)


def d(text: str) -> date:
    return date.fromisoformat(text)


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# --- properties ---------------------------------------------------------------------------------


@given(calendars, days, st.integers(1, 300))
def test_adding_never_lands_on_a_weekend_bank_holiday_or_closure(cal: WorkingCalendar, start: date, n: int) -> None:
    end = cal.add_working_days(start, n)
    assert end > start
    assert end.weekday() < 5
    assert end not in BANK_HOLIDAYS[cal.nation]
    assert cal is not CLOSED or end not in CLOSURES
    assert cal.is_working_day(end)


@given(calendars, days, counts)
def test_counting_undoes_adding(cal: WorkingCalendar, start: date, n: int) -> None:
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    assert cal.working_days_between(cal.add_working_days(start, n), start) == -n


@given(calendars, days, counts, counts)
def test_more_days_are_never_earlier(cal: WorkingCalendar, start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert cal.add_working_days(start, low) <= cal.add_working_days(start, high)
    if low < high:
        assert cal.add_working_days(start, low) < cal.add_working_days(start, high)


@given(calendars, days, days, counts)
def test_a_later_start_is_never_earlier(cal: WorkingCalendar, a: date, b: date, n: int) -> None:
    early, late = sorted((a, b))
    assert cal.add_working_days(early, n) <= cal.add_working_days(late, n)


@given(calendars, days, counts)
def test_subtracting_mirrors_adding(cal: WorkingCalendar, start: date, n: int) -> None:
    back = cal.subtract_working_days(start, n)
    assert back <= start
    # From a non-working day the first step back is free: it lands on the last working day before.
    assert cal.working_days_between(back, start) == (n if cal.is_working_day(start) or n == 0 else n - 1)
    if cal.is_working_day(start):
        assert cal.add_working_days(back, n) == start
        assert cal.subtract_working_days(cal.add_working_days(start, n), n) == start
    if n:
        assert cal.is_working_day(back)


@given(calendars, moments)
def test_received_day_is_a_working_day_on_or_after_the_local_date(cal: WorkingCalendar, moment: datetime) -> None:
    local = moment.astimezone(LONDON)
    day = cal.received_day(moment)
    assert cal.is_working_day(day)
    assert local.date() <= day <= cal.next_working_day(local.date())
    same_day = cal.is_working_day(local.date()) and local.time() < time(17, 0)
    assert (day == local.date()) is same_day


@given(days)
def test_end_of_day_is_the_last_microsecond_in_london(day: date) -> None:
    end = ENG.end_of_day(day)
    assert end.tzinfo is UTC
    assert end.astimezone(LONDON).replace(tzinfo=None) == datetime.combine(day, time(23, 59, 59, 999999))
    assert (end + timedelta(microseconds=1)).astimezone(LONDON).replace(tzinfo=None) == datetime.combine(
        day + timedelta(days=1), time(0)
    )


# --- hand-worked tables -------------------------------------------------------------------------
# Each row: calendar, start, working days to add, expected; the comment counts the days (n) and
# puts the days skipped in [brackets].

ADDING = [
    # Christmas 2021 (25 Sat, 26 Sun: substitutes Mon 27, Tue 28) into New Year 2022 (1 Sat: Mon 3).
    # Thu 23 Dec: Fri 24 (1) [25-28] Wed 29 (2) Thu 30 (3) Fri 31 (4) [Sat 1 Jan, Sun 2, Mon 3] Tue 4 (5)
    (ENG, "2021-12-23", 5, "2022-01-04"),
    (WLS, "2021-12-23", 5, "2022-01-04"),
    (NIR, "2021-12-23", 5, "2022-01-04"),
    # Scotland also has 2 January (a Sunday in 2022, so Tue 4 Jan as well): ... Fri 31 (4) [1-4 Jan] Wed 5 (5)
    (SCT, "2021-12-23", 5, "2022-01-05"),
    # Christmas 2022: 25 Sun (substitute Tue 27), Boxing Day Mon 26; New Year 2023: 1 Sun (Mon 2 Jan).
    # Fri 23 Dec: [Sat 24, 25, 26, 27] Wed 28 (1) Thu 29 (2) Fri 30 (3) [Sat 31, Sun 1, Mon 2] Tue 3 Jan (4)
    (ENG, "2022-12-23", 3, "2022-12-30"),
    (ENG, "2022-12-23", 4, "2023-01-03"),
    # Scotland 2023: Mon 2 Jan (both holidays fall on it) and Tue 3 Jan substitute: Wed 4 Jan (4)
    (SCT, "2022-12-23", 4, "2023-01-04"),
    # Christmas 2027 (25 Sat, 26 Sun: Mon 27, Tue 28) and New Year 2028 (1 Sat: Mon 3; Scotland 2 Sun: Tue 4).
    # Fri 24 Dec: Wed 29 (1) Thu 30 (2) Fri 31 (3) [Sat 1, Sun 2, Mon 3] Tue 4 (4) Wed 5 (5)
    (ENG, "2027-12-24", 5, "2028-01-05"),
    # ... Fri 31 (3) [1-4 Jan] Wed 5 (4) Thu 6 (5)
    (SCT, "2027-12-24", 5, "2028-01-06"),
    # Easter 2026: Good Friday 3 Apr everywhere; Easter Monday 6 Apr except in Scotland.
    # Thu 2 Apr: [Fri 3, Sat 4, Sun 5, Mon 6] Tue 7 (1) Wed 8 (2) Thu 9 (3) Fri 10 (4) Mon 13 (5)
    (ENG, "2026-04-02", 1, "2026-04-07"),
    (WLS, "2026-04-02", 1, "2026-04-07"),
    (NIR, "2026-04-02", 1, "2026-04-07"),
    (ENG, "2026-04-02", 5, "2026-04-13"),
    # Scotland: [Fri 3, Sat 4, Sun 5] Mon 6 (1) Tue 7 (2) Wed 8 (3) Thu 9 (4) Fri 10 (5)
    (SCT, "2026-04-02", 1, "2026-04-06"),
    (SCT, "2026-04-02", 5, "2026-04-10"),
    # Scotland's 2 January on a weekday: Wed 31 Dec 2025: [Thu 1 Jan] Fri 2 (1) in England;
    # [Thu 1, Fri 2, Sat 3, Sun 4] Mon 5 (1) in Scotland.
    (ENG, "2025-12-31", 1, "2026-01-02"),
    (SCT, "2025-12-31", 1, "2026-01-05"),
    # St Andrew's Day 2025 is a Sunday, so Scotland has Mon 1 Dec off: Fri 28 Nov: [Sat, Sun, Mon 1] Tue 2 (1)
    (ENG, "2025-11-28", 1, "2025-12-01"),
    (SCT, "2025-11-28", 1, "2025-12-02"),
    # ... and on a weekday (Mon 30 Nov 2026): Fri 27 Nov: [Sat, Sun, Mon 30] Tue 1 Dec (1)
    (SCT, "2026-11-27", 1, "2026-12-01"),
    # Summer bank holiday: first Monday of August in Scotland (3 Aug 2026), last elsewhere (31 Aug).
    # Fri 31 Jul: [Sat, Sun, Mon 3] Tue 4 Aug (1) in Scotland; Mon 3 Aug (1) in England.
    (SCT, "2026-07-31", 1, "2026-08-04"),
    (ENG, "2026-07-31", 1, "2026-08-03"),
    (ENG, "2026-08-28", 1, "2026-09-01"),
    (SCT, "2026-08-28", 1, "2026-08-31"),
    # Northern Ireland, St Patrick's Day Tue 17 Mar 2026: Mon 16: [Tue 17] Wed 18 (1)
    (NIR, "2026-03-16", 1, "2026-03-18"),
    (ENG, "2026-03-16", 1, "2026-03-17"),
    # ... on a Sunday in 2024, so Mon 18 Mar: Fri 15: [Sat, Sun, Mon 18] Tue 19 (1)
    (NIR, "2024-03-15", 1, "2024-03-19"),
    # Battle of the Boyne, Mon 12 Jul 2027: Fri 9: [Sat, Sun, Mon 12] Tue 13 (1)
    (NIR, "2027-07-09", 1, "2027-07-13"),
    (ENG, "2027-07-09", 1, "2027-07-12"),
    # ... on a Sunday in 2026, so Mon 13 Jul: Fri 10: [Sat, Sun 12, Mon 13] Tue 14 (1)
    (NIR, "2026-07-10", 1, "2026-07-14"),
    # Landlord closures (24 and 31 Dec). Wed 23 Dec 2026: [Thu 24 closed, Fri 25, Sat 26, Sun 27,
    # Mon 28 Boxing Day substitute] Tue 29 (1) Wed 30 (2) [Thu 31 closed, Fri 1 Jan, Sat, Sun] Mon 4 (3)
    (CLOSED, "2026-12-23", 1, "2026-12-29"),
    (CLOSED, "2026-12-23", 3, "2027-01-04"),
    # Without the closures: Thu 24 (1) ... Tue 29 (2) Wed 30 (3)
    (ENG, "2026-12-23", 1, "2026-12-24"),
    (ENG, "2026-12-23", 3, "2026-12-30"),
    # A one-off closure, Wed 4 Mar 2026: Tue 3: [Wed 4] Thu 5 (1) Fri 6 (2)
    (CLOSED, "2026-03-03", 2, "2026-03-06"),
    # Zero days is the start itself, even a non-working one.
    (ENG, "2026-04-03", 0, "2026-04-03"),
    # From a weekend, the Monday is the first day: Sat 7 Mar 2026: Mon 9 (1)
    (ENG, "2026-03-07", 1, "2026-03-09"),
]


@pytest.mark.parametrize(("cal", "start", "n", "expected"), ADDING)
def test_adding_working_days(cal: WorkingCalendar, start: str, n: int, expected: str) -> None:
    assert cal.add_working_days(d(start), n) == d(expected)
    if n:
        assert cal.subtract_working_days(d(expected), n) <= d(start)
        assert cal.working_days_between(d(start), d(expected)) == n


SUBTRACTING = [
    # Tue 7 Apr 2026 back over Easter: [Mon 6, Sun, Sat, Fri 3] Thu 2 (1) Wed 1 (2) Tue 31 Mar (3)
    (ENG, "2026-04-07", 1, "2026-04-02"),
    (ENG, "2026-04-07", 3, "2026-03-31"),
    # Scotland works Easter Monday: Mon 6 (1) [Sun, Sat, Fri 3] Thu 2 (2) Wed 1 (3)
    (SCT, "2026-04-07", 1, "2026-04-06"),
    (SCT, "2026-04-07", 3, "2026-04-01"),
    # Tue 4 Jan 2022: [Mon 3, Sun, Sat] Fri 31 Dec (1) Thu 30 (2) Wed 29 (3)
    (ENG, "2022-01-04", 3, "2021-12-29"),
    # With closures, Mon 4 Jan 2027: [Sun 3, Sat 2, Fri 1, Thu 31 closed] Wed 30 (1) Tue 29 (2)
    # [Mon 28 substitute, Sun 27, Sat 26, Fri 25, Thu 24 closed] Wed 23 (3)
    (CLOSED, "2027-01-04", 3, "2026-12-23"),
    # From a non-working day, the last working day before it is the first: Sun 8 Mar 2026: Fri 6 (1)
    (ENG, "2026-03-08", 1, "2026-03-06"),
    (ENG, "2026-03-08", 0, "2026-03-08"),
]


@pytest.mark.parametrize(("cal", "start", "n", "expected"), SUBTRACTING)
def test_subtracting_working_days(cal: WorkingCalendar, start: str, n: int, expected: str) -> None:
    assert cal.subtract_working_days(d(start), n) == d(expected)


def test_working_days_between_counts_the_end_but_not_the_start() -> None:
    # Thu 23 Dec 2021 to Tue 4 Jan 2022: Fri 24, Wed 29, Thu 30, Fri 31, Tue 4.
    assert ENG.working_days_between(d("2021-12-23"), d("2022-01-04")) == 5
    assert ENG.working_days_between(d("2022-01-04"), d("2021-12-23")) == -5
    assert ENG.working_days_between(d("2026-04-03"), d("2026-04-03")) == 0
    # Good Friday to Easter Monday: none in England, Monday in Scotland.
    assert ENG.working_days_between(d("2026-04-03"), d("2026-04-06")) == 0
    assert SCT.working_days_between(d("2026-04-03"), d("2026-04-06")) == 1


def test_next_working_day_is_strictly_after() -> None:
    assert ENG.next_working_day(d("2026-04-02")) == d("2026-04-07")  # Thu before Easter
    assert ENG.next_working_day(d("2026-04-07")) == d("2026-04-08")
    assert NIR.next_working_day(d("2026-03-16")) == d("2026-03-18")  # over St Patrick's Day


def test_is_working_day_by_nation() -> None:
    easter_monday, boyne, st_andrew, jan_2 = d("2026-04-06"), d("2027-07-12"), d("2026-11-30"), d("2026-01-02")
    assert [c.is_working_day(easter_monday) for c in (ENG, WLS, SCT, NIR)] == [False, False, True, False]
    assert [c.is_working_day(boyne) for c in (ENG, WLS, SCT, NIR)] == [True, True, True, False]
    assert [c.is_working_day(st_andrew) for c in (ENG, WLS, SCT, NIR)] == [True, True, False, True]
    assert [c.is_working_day(jan_2) for c in (ENG, WLS, SCT, NIR)] == [True, True, False, True]
    assert not CLOSED.is_working_day(d("2026-03-04")) and ENG.is_working_day(d("2026-03-04"))


# --- the receipt rule and BST -------------------------------------------------------------------
# Clocks go forward on Sun 29 Mar 2026 (GMT to BST) and back on Sun 25 Oct 2026. The cut-off is
# 17:00 London time whatever the offset, so the same UTC time can fall either side of it.

RECEIVED = [
    # Friday before the spring switch, still GMT (UTC+0).
    ("2026-03-27T16:59:00+00:00", "2026-03-27"),
    ("2026-03-27T17:01:00+00:00", "2026-03-30"),  # after the cut-off: [Sat, Sun] Mon
    # The switch day itself is a Sunday: either side of the cut-off it counts from Monday.
    ("2026-03-29T16:59:00+01:00", "2026-03-30"),
    ("2026-03-29T17:01:00+01:00", "2026-03-30"),
    # Monday after, in BST (UTC+1): 15:59Z is 16:59 local, 16:01Z is 17:01 local.
    ("2026-03-30T15:59:00+00:00", "2026-03-30"),
    ("2026-03-30T16:01:00+00:00", "2026-03-31"),
    ("2026-03-30T16:30:00+00:00", "2026-03-31"),  # 17:30 BST: late, though 16:30 in UTC
    # Friday before the autumn switch, still BST.
    ("2026-10-23T15:59:00+00:00", "2026-10-23"),
    ("2026-10-23T16:01:00+00:00", "2026-10-26"),
    # The switch day (Sunday 25 Oct 2026), either side of the cut-off: Monday.
    ("2026-10-25T16:59:00+00:00", "2026-10-26"),
    ("2026-10-25T17:01:00+00:00", "2026-10-26"),
    # Monday after, GMT again: 16:59Z is 16:59 local.
    ("2026-10-26T16:59:00+00:00", "2026-10-26"),
    ("2026-10-26T17:01:00+00:00", "2026-10-27"),
    # Exactly the cut-off is late; midnight is early.
    ("2026-03-02T17:00:00+00:00", "2026-03-03"),
    ("2026-03-02T00:00:00+00:00", "2026-03-02"),
    # A UTC time that is already tomorrow in London: 23:30Z on Mon 29 Jun is 00:30 BST Tue 30 Jun.
    ("2026-06-29T23:30:00+00:00", "2026-06-30"),
    # Friday evening before a bank holiday Monday (spring bank holiday 25 May 2026): [Sat, Sun, Mon] Tue.
    ("2026-05-22T17:30:00+01:00", "2026-05-26"),
    # Christmas Eve afternoon 2026 (Thu): [Fri 25, Sat, Sun, Mon 28] Tue 29.
    ("2026-12-24T17:05:00+00:00", "2026-12-29"),
]


@pytest.mark.parametrize(("moment", "expected"), RECEIVED)
def test_received_day(moment: str, expected: str) -> None:
    assert ENG.received_day(datetime.fromisoformat(moment)) == d(expected)


def test_receipt_rule_is_configurable() -> None:
    early = WorkingCalendar("ENG", receipt=ReceiptRule(cutoff=time(16, 30)))
    assert early.received_day(london("2026-03-02T16:45")) == d("2026-03-03")
    assert ENG.received_day(london("2026-03-02T16:45")) == d("2026-03-02")
    # In a landlord's own time zone, the cut-off is its local 17:00.
    belfast_is_london = WorkingCalendar("NIR", receipt=ReceiptRule(timezone="Europe/Belfast"))
    assert belfast_is_london.received_day(datetime(2026, 7, 1, 16, 30, tzinfo=UTC)) == d("2026-07-02")


def test_received_on_a_closure_day_counts_from_the_next_working_day() -> None:
    assert CLOSED.received_day(london("2026-03-04T10:00")) == d("2026-03-05")


END_OF_DAY = [
    ("2026-02-05", "2026-02-05T23:59:59.999999+00:00"),  # winter: GMT is UTC
    ("2026-07-15", "2026-07-15T22:59:59.999999+00:00"),  # summer: BST is UTC+1
    ("2026-03-28", "2026-03-28T23:59:59.999999+00:00"),  # the day before the spring switch
    ("2026-03-29", "2026-03-29T22:59:59.999999+00:00"),  # the switch day ends in BST
    ("2026-10-24", "2026-10-24T22:59:59.999999+00:00"),  # the day before the autumn switch
    ("2026-10-25", "2026-10-25T23:59:59.999999+00:00"),  # the switch day ends in GMT
]


@pytest.mark.parametrize(("day", "expected"), END_OF_DAY)
def test_end_of_day_in_utc(day: str, expected: str) -> None:
    assert ENG.end_of_day(d(day)) == datetime.fromisoformat(expected)
    assert ENG.end_of_day(d(day)).tzinfo is UTC


# --- errors -------------------------------------------------------------------------------------


def test_bad_settings_and_inputs_are_calendar_errors() -> None:
    with pytest.raises(CalendarError, match="nation must be one of ENG, WLS, SCT, NIR, not 'UK'"):
        WorkingCalendar("UK")
    with pytest.raises(CalendarError, match="unknown time zone 'Europe/Lundun'"):
        WorkingCalendar(receipt=ReceiptRule(timezone="Europe/Lundun"))
    with pytest.raises(CalendarError, match="local time of day"):
        WorkingCalendar(receipt=ReceiptRule(cutoff=time(17, 0, tzinfo=UTC)))
    with pytest.raises(CalendarError, match="timezone-aware"):
        ENG.received_day(datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 (the naive time is the point)
    with pytest.raises(CalendarError, match="must not be negative"):
        ENG.add_working_days(d("2026-03-02"), -1)
    with pytest.raises(CalendarError, match="must not be negative"):
        ENG.subtract_working_days(d("2026-03-02"), -1)
    with pytest.raises(CalendarError, match="outside the calendar's years 2000-2075"):
        ENG.is_working_day(d("1999-12-31"))
    with pytest.raises(CalendarError, match="outside the calendar's years 2000-2075"):
        ENG.add_working_days(d("2075-12-01"), 30)
    with pytest.raises(CalendarError, match="outside the calendar's years 2000-2075"):
        ENG.subtract_working_days(d("2000-01-10"), 30)
    assert issubclass(CalendarError, ValueError)


# --- cross-check with numpy's business-day functions over 2020-2035 -----------------------------
# numpy counts differently at the edges, so the rules are translated: for a working-day start,
# add_working_days(d, n) is busday_offset(d, n, roll="forward"); from any start with n >= 1 it is
# roll="backward" (a weekend rolls back to Friday, whose next working day is ours too); and
# working_days_between(a, b), counting (a, b], is busday_count(a + 1, b + 1), which counts [a, b).

STARTS = np.arange("2020-01-01", "2036-01-01", dtype="datetime64[D]")


def numpy_calendar(nation: str, closures: frozenset[date] = frozenset()) -> np.busdaycalendar:
    listed = holidays.country_holidays("GB", subdiv=nation, years=range(2020, 2038))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(sorted({*listed, *closures}), dtype="datetime64[D]"))


NUMPY_CASES = [(CALENDARS[n], numpy_calendar(n)) for n in NATIONS] + [(CLOSED, numpy_calendar("ENG", CLOSURES))]


@pytest.mark.parametrize(("cal", "busdays"), NUMPY_CASES, ids=[*NATIONS, "ENG+closures"])
def test_agrees_with_numpy_busday_functions(cal: WorkingCalendar, busdays: np.busdaycalendar) -> None:
    starts = [s.item() for s in STARTS]
    working = np.is_busday(STARTS, busdaycal=busdays)
    assert [cal.is_working_day(s) for s in starts] == working.tolist()
    for n in range(26):
        forward = np.busday_offset(STARTS, n, roll="forward", busdaycal=busdays)
        backward = np.busday_offset(STARTS, n, roll="backward", busdaycal=busdays)
        ours = np.array([cal.add_working_days(s, n) for s in starts], dtype="datetime64[D]")
        assert (ours[working] == forward[working]).all(), n
        if n:
            assert (ours == backward).all(), n
    ends = STARTS[::7] + np.arange(len(STARTS[::7])) % 45
    counted = np.busday_count(STARTS[::7] + 1, ends + 1, busdaycal=busdays)
    assert [cal.working_days_between(a.item(), b.item()) for a, b in zip(STARTS[::7], ends, strict=True)] == (
        counted.tolist()
    )
