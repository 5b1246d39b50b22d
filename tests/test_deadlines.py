"""Code deadlines from a receipt time, reminder days, the calendar settings and `triage deadlines`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import TriageSettings
from models.timescales import CODE_2024, StageTimescale, Timescales
from scheduler.calendar import NATIONS, CalendarError, WorkingCalendar
from scheduler.deadlines import CodeDeadlines, code_deadlines, due_at, reminder_days

LONDON = ZoneInfo("Europe/London")
CALENDARS = {nation: WorkingCalendar(nation) for nation in NATIONS}
ENG, NIR = CALENDARS["ENG"], CALENDARS["NIR"]
FIELDS = [
    "received_day",
    "stage1_ack_due",
    "stage1_response_due",
    "stage1_extension_limit",
    "stage2_ack_due",
    "stage2_response_due",
    "stage2_extension_limit",
]


def d(text: str) -> date:
    return date.fromisoformat(text)


def at(text: str) -> datetime:
    """An ISO moment; without an offset, London local time (as the CLI reads it)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


def deadlines(received: str, acknowledged: str | None = None, cal: WorkingCalendar = ENG) -> dict[str, str]:
    ack = d(acknowledged) if acknowledged else None
    return code_deadlines(at(received), calendar=cal, timescales=CODE_2024, acknowledged=ack).as_json()


# --- hand-worked cases --------------------------------------------------------------------------
# Counting: (n) is the n-th working day, [..] the days skipped. England unless stated.

# Mon 2 Mar 2026, 09:30 GMT: counts from Mon 2 Mar.
#   ack +5: Tue 3 (1) Wed 4 Thu 5 Fri 6 Mon 9 (5)                                 -> Mon 9 Mar
#   stage 1 response, ack due +10: 10 (1) 11 12 13 16 (5) 17 18 19 20 23 (10)        -> Mon 23 Mar
#   stage 1 extension +10: 24 (1) 25 26 27 30 31 Apr 1 2 (8) [Good Fri 3, Easter Mon 6] 7 (9) 8 (10)
#   stage 2 response, ack due +20: the 10 to 23 Mar, then 24 Mar ... 8 Apr as above  -> Wed 8 Apr
#   stage 2 extension +20: Apr 9 (1) 10 13 14 15 16 17 (7) 20-24 (12) 27-30 (16) May 1 (17)
#                          [Mon 4 May early May bank holiday] 5 (18) 6 (19) 7 (20)   -> Thu 7 May
MARCH = {
    "received_day": "2026-03-02",
    "stage1_ack_due": "2026-03-09",
    "stage1_response_due": "2026-03-23",
    "stage1_extension_limit": "2026-04-08",
    "stage2_ack_due": "2026-03-09",
    "stage2_response_due": "2026-04-08",
    "stage2_extension_limit": "2026-05-07",
}

# Fri 22 May 2026 at 17:30 BST, after the cut-off, before the spring bank holiday (Mon 25 May):
#   counts from [Sat 23, Sun 24, Mon 25] Tue 26 May.
#   ack +5: Wed 27 (1) Thu 28 Fri 29 Mon 1 Jun Tue 2 (5)                          -> Tue 2 Jun
#   stage 1 response +10: Jun 3 (1) 4 5 8 9 10 11 12 15 16 (10)                  -> Tue 16 Jun
#   stage 1 extension +10: 17 (1) 18 19 22 23 24 25 26 29 30 (10)                  -> Tue 30 Jun
#   stage 2 response +20 from 2 Jun: 16 Jun is the 10th, 30 Jun the 20th          -> Tue 30 Jun
#   stage 2 extension +20: Jul 1-3 (3) 6-10 (8) 13-17 (13) 20-24 (18) 27 (19) 28 (20) -> Tue 28 Jul
LATE_FRIDAY = {
    "received_day": "2026-05-26",
    "stage1_ack_due": "2026-06-02",
    "stage1_response_due": "2026-06-16",
    "stage1_extension_limit": "2026-06-30",
    "stage2_ack_due": "2026-06-02",
    "stage2_response_due": "2026-06-30",
    "stage2_extension_limit": "2026-07-28",
}

# The same Friday at 16:59, before the cut-off: counts from Fri 22 May.
#   ack +5: [Sat, Sun, Mon 25] Tue 26 (1) 27 28 29 Mon 1 Jun (5); every later date a day earlier.
EARLY_FRIDAY = {
    "received_day": "2026-05-22",
    "stage1_ack_due": "2026-06-01",
    "stage1_response_due": "2026-06-15",
    "stage1_extension_limit": "2026-06-29",
    "stage2_ack_due": "2026-06-01",
    "stage2_response_due": "2026-06-29",
    "stage2_extension_limit": "2026-07-27",
}

# Wed 23 Dec 2026 at noon, over Christmas (Fri 25; Boxing Day Sat 26, substitute Mon 28) and New Year (Fri 1):
#   ack +5: Thu 24 (1) [25-28] Tue 29 (2) Wed 30 (3) Thu 31 (4) [Fri 1, Sat, Sun] Mon 4 Jan 2027 (5)
#   stage 1 response +10: Jan 5-8 (4) 11-15 (9) 18 (10)                           -> Mon 18 Jan
#   stage 1 extension +10: 19-22 (4) 25-29 (9) Feb 1 (10)                          -> Mon 1 Feb
#   stage 2 extension +20 from 1 Feb: 2-5 (4) 8-12 (9) 15-19 (14) 22-26 (19) Mar 1 (20)
CHRISTMAS = {
    "received_day": "2026-12-23",
    "stage1_ack_due": "2027-01-04",
    "stage1_response_due": "2027-01-18",
    "stage1_extension_limit": "2027-02-01",
    "stage2_ack_due": "2027-01-04",
    "stage2_response_due": "2027-02-01",
    "stage2_extension_limit": "2027-03-01",
}

# Northern Ireland, Mon 16 Mar 2026 at 10:00 GMT (St Patrick's Day Tue 17; Easter 3 and 6 Apr):
#   ack +5: [Tue 17] Wed 18 (1) 19 20 23 24 (5)                                   -> Tue 24 Mar
#   stage 1 response +10: 25 (1) 26 27 30 31 Apr 1 2 (7) [3, 6] 7 8 9 (10)         -> Thu 9 Apr
#   stage 1 extension +10: 10 (1) 13-17 (6) 20-23 (10)                            -> Thu 23 Apr
#   stage 2 extension +20 from 23 Apr: 24 (1) 27-30 (5) May 1 (6) [Mon 4] 5-8 (10) 11-15 (15) 18-22 (20)
NORTHERN_IRELAND = {
    "received_day": "2026-03-16",
    "stage1_ack_due": "2026-03-24",
    "stage1_response_due": "2026-04-09",
    "stage1_extension_limit": "2026-04-23",
    "stage2_ack_due": "2026-03-24",
    "stage2_response_due": "2026-04-23",
    "stage2_extension_limit": "2026-05-22",
}

CASES = [
    ("2026-03-02T09:30:00+00:00", "ENG", MARCH),
    ("2026-05-22T17:30", "ENG", LATE_FRIDAY),
    ("2026-05-22T16:30:00Z", "ENG", LATE_FRIDAY),  # 16:30 UTC is 17:30 BST: late
    ("2026-05-22T16:59", "ENG", EARLY_FRIDAY),
    ("2026-12-23T12:00", "ENG", CHRISTMAS),
    ("2026-03-16T10:00", "NIR", NORTHERN_IRELAND),
]


@pytest.mark.parametrize(("received", "nation", "expected"), CASES)
def test_code_deadlines(received: str, nation: str, expected: dict[str, str]) -> None:
    assert deadlines(received, cal=CALENDARS[nation]) == expected


def test_acknowledging_moves_only_the_response_dates() -> None:
    # Acknowledged Wed 4 Mar 2026, before its deadline of Mon 9 Mar.
    #   stage 1 response +10 from 4 Mar: 5 (1) 6 9 10 11 12 13 16 17 18 (10)        -> Wed 18 Mar
    #   stage 1 extension +10: 19 (1) 20 23 24 25 26 27 30 31 Apr 1 (10)            -> Wed 1 Apr
    #   stage 2 response +20 from 4 Mar: 18 Mar is the 10th, 1 Apr the 20th         -> Wed 1 Apr
    #   stage 2 extension +20: Apr 2 (1) [3, 6] 7-10 (5) 13-17 (10) 20-24 (15) 27-30 (19) May 1 (20)
    assert deadlines("2026-03-02T09:30:00Z", acknowledged="2026-03-04") == {
        **MARCH,
        "stage1_response_due": "2026-03-18",
        "stage1_extension_limit": "2026-04-01",
        "stage2_response_due": "2026-04-01",
        "stage2_extension_limit": "2026-05-01",
    }
    # Acknowledged the same Friday evening it arrived after the cut-off: responses count from that Friday.
    #   +10 from Fri 22 May: [Mon 25] 26 (1) 27 28 29 Jun 1 2 3 4 5 8 (10)        -> Mon 8 Jun
    assert deadlines("2026-05-22T17:30", acknowledged="2026-05-22")["stage1_response_due"] == "2026-06-08"


def test_acknowledged_before_receipt_is_refused() -> None:
    message = "acknowledged on 2026-03-01, before the message was received on 2026-03-02"
    with pytest.raises(CalendarError, match=message):
        deadlines("2026-03-02T09:30:00Z", acknowledged="2026-03-01")


def test_a_stricter_policy_is_used_as_given() -> None:
    strict = Timescales(
        stage1=StageTimescale(acknowledge=2, respond=3, extension_limit=1),
        stage2=StageTimescale(acknowledge=1, respond=4, extension_limit=2),
    )
    # Mon 2 Mar 2026: +2 Wed 4; +3 Mon 9; +1 Tue 10. Stage 2: +1 Tue 3; +4 Mon 9; +2 Wed 11.
    got = code_deadlines(at("2026-03-02T09:30:00Z"), calendar=ENG, timescales=strict)
    days = ["2026-03-02", "2026-03-04", "2026-03-09", "2026-03-10", "2026-03-03", "2026-03-09", "2026-03-11"]
    assert got == CodeDeadlines(*(d(day) for day in days))


moments = st.datetimes(datetime(2001, 1, 1), datetime(2073, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001


@given(st.sampled_from(list(CALENDARS.values())), moments, st.integers(0, 30))
def test_every_deadline_is_the_right_count_of_working_days(cal: WorkingCalendar, received: datetime, ack: int) -> None:
    acknowledged = cal.add_working_days(cal.received_day(received), ack) if ack else None
    got = code_deadlines(received, calendar=cal, timescales=CODE_2024, acknowledged=acknowledged)
    between = cal.working_days_between
    assert between(got.received_day, got.stage1_ack_due) == 5
    assert between(got.received_day, got.stage2_ack_due) == 5
    assert between(acknowledged or got.stage1_ack_due, got.stage1_response_due) == 10
    assert between(acknowledged or got.stage2_ack_due, got.stage2_response_due) == 20
    assert between(got.stage1_response_due, got.stage1_extension_limit) == 10
    assert between(got.stage2_response_due, got.stage2_extension_limit) == 20
    dates = [getattr(got, name) for name in FIELDS]
    assert all(cal.is_working_day(day) for day in dates)
    assert got.received_day <= got.stage1_ack_due
    assert got.stage1_response_due < got.stage1_extension_limit <= got.stage2_extension_limit


# --- due instants and reminders -----------------------------------------------------------------


def test_due_at_is_the_end_of_the_day_in_london() -> None:
    # Received Fri 20 Mar 2026 (GMT): ack due Fri 27 Mar, still GMT, so midnight London is midnight UTC.
    # Response +10 from 27 Mar: 30 (1) 31 Apr 1 2 (4) [3, 6] 7 8 9 10 13 14 (10) -> Tue 14 Apr, in BST.
    got = code_deadlines(at("2026-03-20T10:00"), calendar=ENG, timescales=CODE_2024)
    assert (got.stage1_ack_due, got.stage1_response_due) == (d("2026-03-27"), d("2026-04-14"))
    assert due_at(ENG, got.stage1_ack_due) == datetime(2026, 3, 27, 23, 59, 59, 999999, tzinfo=UTC)
    assert due_at(ENG, got.stage1_response_due) == datetime(2026, 4, 14, 22, 59, 59, 999999, tzinfo=UTC)
    assert due_at(ENG, d("2026-04-14")) + timedelta(microseconds=1) == datetime(2026, 4, 15, tzinfo=LONDON)


REMINDERS = [
    # Due Tue 7 Apr 2026: 0 before is Tue 7; 1 before [Mon 6, Sun, Sat, Fri 3] Thu 2; 3 before Tue 31 Mar.
    (ENG, "2026-04-07", (3, 1, 0), ["2026-03-31", "2026-04-02", "2026-04-07"]),
    # Scotland works Easter Monday: 1 before Mon 6; 2 before Thu 2; 3 before Wed 1.
    (CALENDARS["SCT"], "2026-04-07", (3, 1, 0), ["2026-04-01", "2026-04-06", "2026-04-07"]),
    # Due Mon 4 Jan 2027: 1 before [Fri 1 Jan] Thu 31 Dec; 3 before Tue 29 Dec [over Mon 28, 25-27].
    (ENG, "2027-01-04", (3, 1, 0), ["2026-12-29", "2026-12-31", "2027-01-04"]),
    # Any offsets; repeats collapse and the order is by date.
    (ENG, "2026-03-09", (0, 5, 0), ["2026-03-02", "2026-03-09"]),
    (ENG, "2026-03-09", (), []),
]


@pytest.mark.parametrize(("cal", "due", "offsets", "expected"), REMINDERS)
def test_reminder_days(cal: WorkingCalendar, due: str, offsets: tuple[int, ...], expected: list[str]) -> None:
    assert reminder_days(cal, d(due), offsets) == [d(x) for x in expected]


def test_reminder_days_defaults_to_three_one_and_zero() -> None:
    assert reminder_days(ENG, d("2026-04-07")) == [d("2026-03-31"), d("2026-04-02"), d("2026-04-07")]
    with pytest.raises(CalendarError):
        reminder_days(ENG, d("2026-04-07"), (-1,))


@given(st.sampled_from(list(CALENDARS.values())), st.dates(date(2001, 1, 1), date(2074, 1, 1)), st.integers(0, 40))
def test_reminders_are_working_days_the_right_distance_before(cal: WorkingCalendar, start: date, n: int) -> None:
    due = cal.add_working_days(cal.next_working_day(start), n)
    days = reminder_days(cal, due, (3, 1, 0))
    assert [cal.working_days_between(day, due) for day in days] == [3, 1, 0]
    assert all(cal.is_working_day(day) for day in days)


# --- settings -----------------------------------------------------------------------------------


def test_calendar_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_NATION", "SCT")
    monkeypatch.setenv("TRIAGE_CLOSURE_DAYS", '["2026-12-24", "2026-12-31"]')
    monkeypatch.setenv("TRIAGE_RECEIPT_CUTOFF", "16:30")
    monkeypatch.setenv("TRIAGE_TIMEZONE", "Europe/London")
    settings = TriageSettings()
    assert settings.closure_days == [d("2026-12-24"), d("2026-12-31")]
    assert settings.receipt_cutoff == time(16, 30)
    cal = settings.calendar()
    assert cal.nation == "SCT" and not cal.is_working_day(d("2026-12-24"))
    assert cal.received_day(at("2026-03-02T16:45")) == d("2026-03-03")


def test_calendar_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATION", "CLOSURE_DAYS", "RECEIPT_CUTOFF", "TIMEZONE"):
        monkeypatch.delenv(f"TRIAGE_{name}", raising=False)
    cal = TriageSettings().calendar()
    assert (cal.nation, cal.receipt.cutoff, cal.receipt.timezone) == ("ENG", time(17, 0), "Europe/London")
    assert cal.is_working_day(d("2026-12-24"))


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()
CLEAN_ENV: dict[str, str | None] = {
    "TRIAGE_NATION": None,
    "TRIAGE_CLOSURE_DAYS": None,
    "TRIAGE_RECEIPT_CUTOFF": None,
    "TRIAGE_TIMEZONE": None,
    "TRIAGE_DEBUG": None,
}


def triage(*args: str, **env: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["deadlines", *args], env={**CLEAN_ENV, **env})
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str, **env: str) -> dict[str, str]:
    code, out, err = triage(*args, "--json", **env)
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    parsed: dict[str, str] = json.loads(out)
    assert list(parsed) == FIELDS
    return parsed


@pytest.mark.parametrize(("received", "nation", "expected"), CASES)
def test_cli_json(received: str, nation: str, expected: dict[str, str]) -> None:
    assert as_json("--received", received, "--nation", nation) == expected


def test_cli_json_after_five_on_a_friday_before_a_bank_holiday() -> None:
    assert as_json("--received", "2026-05-22T17:01") == LATE_FRIDAY
    assert as_json("--received", "2026-05-22T16:01:00+00:00") == LATE_FRIDAY  # 17:01 BST


def test_cli_naive_time_is_london_time() -> None:
    # 16:30 in London (BST) is before the cut-off; 16:30 UTC is 17:30 in London, after it.
    assert as_json("--received", "2026-05-22T16:30")["received_day"] == "2026-05-22"
    assert as_json("--received", "2026-05-22T16:30:00+00:00")["received_day"] == "2026-05-26"
    assert as_json("--received", "2026-05-22 16:30")["received_day"] == "2026-05-22"


def test_cli_acknowledged_shifts_the_responses() -> None:
    got = as_json("--received", "2026-03-02T09:30Z", "--acknowledged", "2026-03-04")
    assert got["stage1_ack_due"] == MARCH["stage1_ack_due"]
    assert (got["stage1_response_due"], got["stage2_response_due"]) == ("2026-03-18", "2026-04-01")


def test_cli_nation_and_closures_from_settings() -> None:
    # Thu 2 Apr 2026 +5: in England [Fri 3, Mon 6] Tue 7 (1) 8 9 10 Mon 13 (5); with Wed 8 closed, Tue 14;
    # in Scotland, which works Easter Monday, [Fri 3] Mon 6 (1) 7 8 9 Fri 10 (5).
    assert as_json("--received", "2026-04-02T12:00")["stage1_ack_due"] == "2026-04-13"
    closed = as_json("--received", "2026-04-02T12:00", TRIAGE_CLOSURE_DAYS='["2026-04-08"]')
    assert closed["stage1_ack_due"] == "2026-04-14"
    assert as_json("--received", "2026-04-02T12:00", "--nation", "sct")["stage1_ack_due"] == "2026-04-10"
    assert as_json("--received", "2026-04-02T12:00", TRIAGE_NATION="SCT")["stage1_ack_due"] == "2026-04-10"
    # --nation wins over the setting.
    assert as_json("--received", "2026-04-02T12:00", "--nation", "ENG", TRIAGE_NATION="SCT")["stage1_ack_due"] == (
        "2026-04-13"
    )


def test_cli_table() -> None:
    code, out, err = triage("--received", "2026-05-22T17:30")
    assert (code, err) == (0, "")
    assert "Received Fri 22 May 2026 17:30 BST, so counted from Tue 26 May 2026" in out
    assert "Tue 02 Jun 2026" in out and "Tue 28 Jul 2026" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--received", "2026-02-30T10:00"], "error: --received '2026-02-30T10:00' is not an ISO 8601 date and time"),
        (["--received", "yesterday"], "error: --received 'yesterday' is not an ISO 8601 date and time"),
        (["--received", "2026-03-02T10:00", "--acknowledged", "2026-3-4x"], "error: --acknowledged '2026-3-4x'"),
        (["--received", "2026-03-02T10:00", "--nation", "UK"], "error: nation must be one of ENG, WLS, SCT, NIR"),
        (["--received", "2026-03-02T10:00", "--acknowledged", "2026-03-01"], "error: acknowledged on 2026-03-01"),
        (["--received", "1999-03-02T10:00"], "error: 1999-03-02 is outside the calendar's years"),
    ],
)
def test_cli_bad_input_is_one_line(args: list[str], message: str) -> None:
    code, out, err = triage(*args, "--json")
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_help_says_naive_times_are_london_time() -> None:
    result = runner.invoke(app, ["deadlines", "--help"], env={**CLEAN_ENV, "COLUMNS": "200"})
    assert result.exit_code == 0 and "Without an offset it is Europe/London local time" in result.stdout
