"""`triage report` figures, on SQLite and PostgreSQL, against values worked out by hand.

The cases are described in tests/test_report_world.py. Working days: 1 Apr 2026 is a Wednesday; Good
Friday (3 Apr), Easter Monday (6 Apr), 4 May and 25 May are bank holidays. "n WD" below counts the
working days after the first date up to and including the second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from models.enums import StageDecision
from models.timescales import StageTimescale, Timescales
from models.types import UTCDateTime
from reports.build import build_report, report_json
from reports.localtime import LocalTime
from reports.period import Period
from reports.settings import ReportSettings
from reports.stats import distribution, percentile
from tests.test_report_world import AS_OF, CALENDAR, EVIL, LONDON, PERIOD, World, at, build_world

SETTINGS = ReportSettings(homes_low_cost_rental=1400, homes_low_cost_home_ownership=600)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def figures(session: Session, settings: ReportSettings = SETTINGS) -> dict[str, Any]:
    return report_json(build_report(session, period=PERIOD, settings=settings, calendar=CALENDAR, as_of=AS_OF))


def test_the_hand_worked_dates_are_the_calendars() -> None:
    """The working in the world's docstring and below, checked once against the calendar."""
    add, between = CALENDAR.add_working_days, CALENDAR.working_days_between
    assert add(date(2026, 4, 2), 5) == date(2026, 4, 13)  # B's acknowledgement due (3 and 6 Apr are holidays)
    assert add(date(2026, 4, 28), 5) == date(2026, 5, 6)  # B's extended response date (4 May a holiday)
    assert add(date(2026, 5, 19), 10) == date(2026, 6, 3)  # D's extended stage 2 date (25 May a holiday)
    assert between(date(2026, 4, 2), date(2026, 5, 5)) == 20  # B: received to response
    assert between(date(2026, 4, 15), date(2026, 5, 28)) == 29  # D: escalation to stage 2 response
    assert between(date(2026, 3, 12), date(2026, 5, 31)) == 52  # SR3's age at the end of May


def test_the_top_level_keys_and_period(world: World) -> None:
    report = figures(world.session)
    assert {
        "period",
        "complaints",
        "ch01",
        "ch02",
        "acknowledged_within_timescale",
        "service_requests",
        "survey_feedback",
        "themes",
        "triage_quality",
    } <= set(report)
    assert report["period"]["from"] == "2026-04-01" and report["period"]["to"] == "2026-05-31"
    # Two whole months, so the two whole months before: February and March.
    assert report["period"]["previous"] == {"from": "2026-02-01", "to": "2026-03-31"}
    assert report["period"]["as_of"] == "2026-06-01T08:00:00+00:00"  # 09:00 BST
    assert (report["period"]["timezone"], report["period"]["nation"]) == ("Europe/London", "ENG")


def test_complaints_received_and_ch01(world: World) -> None:
    report = figures(world.session)
    # Stage 1: A B C D E H J (F refused before stage 1; P, Q, R, Z are earlier).
    # Stage 2: escalations of D (15 Apr), H (19 May), A (29 May); E's escalation was refused.
    assert report["complaints"]["received"] == {"stage1": 7, "stage2": 3, "total": 10}
    ch01 = report["ch01"]
    assert ch01["homes"] == {"low_cost_rental": 1400, "low_cost_home_ownership": 600, "total": 2000}
    assert ch01["stage1_per_1000_homes"] == pytest.approx(3.5)  # 7 * 1000 / 2000
    assert ch01["stage2_per_1000_homes"] == pytest.approx(1.5)  # 3 * 1000 / 2000
    assert ch01["by_stock"] is None  # both stocks configured, but nothing tells their residents apart


def test_ch01_by_stock_type_when_lcho_residents_can_be_told_apart(world: World) -> None:
    settings = ReportSettings(
        homes_low_cost_rental=1400, homes_low_cost_home_ownership=600, lcho_tenancy_prefixes=("SO-",)
    )
    by_stock = figures(world.session, settings)["ch01"]["by_stock"]
    # C and D have SO- tenancies: LCHO stage 1 = 2, stage 2 = 1 (D); rental: A B E H J and H, A.
    lcho, lcra = by_stock["low_cost_home_ownership"], by_stock["low_cost_rental"]
    assert (lcho["stage1"], lcho["stage2"], lcra["stage1"], lcra["stage2"]) == (2, 1, 5, 2)
    assert lcho["stage1_per_1000_homes"] == pytest.approx(2000 / 600)
    assert lcra["stage2_per_1000_homes"] == pytest.approx(2000 / 1400)


def test_ch01_without_a_homes_count_gives_no_rate(world: World) -> None:
    ch01 = figures(world.session, ReportSettings())["ch01"]
    assert ch01["stage1_per_1000_homes"] is None and ch01["stage1"] == 7
    assert "No homes count configured" in ch01["note"]


def test_ch02_counts_extensions_within_the_code_as_on_time_and_apart(world: World) -> None:
    ch02 = figures(world.session)["ch02"]
    r = world.refs
    # Stage 1 responses in the period: A (17 Apr, due 20 Apr), D (13 Apr, due 23 Apr), E (10 Apr, due 23 Apr),
    # H (23 Apr, due 29 Apr): within the timescale. B (5 May; due 28 Apr, extended 5 WD to 6 May): within
    # the extension. C (00:30 BST on 6 May, due 5 May) and P (9 Apr, due 8 Apr): late.
    one = ch02["stage1"]
    assert (one["responded"], one["within_original"], one["within_extension"], one["late"]) == (7, 4, 1, 2)
    assert one["on_time"] == 5 and one["share"] == pytest.approx(5 / 7)
    assert one["late_references"] == sorted([r["C"], r["P"]])
    # Stage 2: D on 28 May, after 19 May but within its 10 WD extension to 3 June.
    two = ch02["stage2"]
    assert (two["responded"], two["within_original"], two["within_extension"], two["late"]) == (1, 0, 1, 0)
    assert two["share"] == 1.0
    assert ch02["total"] == {"responded": 8, "on_time": 6, "share": 0.75}


def test_ch02_an_extension_recorded_after_the_deadline_passed_does_not_make_the_response_on_time(
    world: World,
) -> None:
    """Code 6.4: the resident must be told of an extension before the response is due, not after."""
    w, d = world, StageDecision
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    # K: received and acknowledged Mon 2 Mar, response due Mon 16 Mar (10 WD). Nothing by then; on Tue 24 Mar
    # an extension of 10 WD is recorded (to Mon 30 Mar) and the response goes out Wed 25 Mar: LATE.
    k = w.complaint("K", at(3, 2, 10), at(3, 2, 11), "Lift broken for a month")
    w.extend(k, 1, 10, when=at(3, 24, 10), reason="Waiting for the lift engineer")
    w.respond(k, 1, at(3, 25, 12), d.NOT_UPHELD)
    # L: acknowledged Tue 3 Mar, due Tue 17 Mar; extended 5 WD on Mon 16 Mar (in time) to Tue 24 Mar and
    # answered Mon 23 Mar: within the extension.
    el = w.complaint("L", at(3, 3, 10), at(3, 3, 11), "Lift broken again")
    w.extend(el, 1, 5, when=at(3, 16, 10), reason="Waiting for the lift engineer")
    w.respond(el, 1, at(3, 23, 12), d.NOT_UPHELD)
    w.session.commit()
    as_of = datetime(2026, 4, 1, 9, tzinfo=LONDON).astimezone(UTC)
    report = report_json(build_report(w.session, period=march, settings=SETTINGS, calendar=CALENDAR, as_of=as_of))
    one = report["ch02"]["stage1"]
    assert (one["responded"], one["within_original"], one["within_extension"], one["late"]) == (2, 0, 1, 1)
    assert one["late_references"] == [w.refs["K"]]
    assert one["share"] == 0.5


def test_acknowledgements_within_five_working_days(world: World) -> None:
    ack = figures(world.session)["acknowledged_within_timescale"]
    r = world.refs
    # Stage 1: all seven acknowledged when triaged; only B late (14 Apr, due 13 Apr).
    assert ack["stage1"] == {
        "due": 7,
        "on_time": 6,
        "late": 1,
        "pending": 0,
        "share": pytest.approx(6 / 7),
        "late_references": [r["B"]],
    }
    # Stage 2: D on time (20 Apr, due 22 Apr); H never acknowledged, due 27 May, late on 1 June;
    # A's escalation (29 May) is due 5 June: pending, not in the share.
    assert ack["stage2"] == {
        "due": 2,
        "on_time": 1,
        "late": 1,
        "pending": 1,
        "share": 0.5,
        "late_references": [r["H"]],
    }
    assert ack["total"] == {"due": 9, "on_time": 7, "share": pytest.approx(7 / 9)}


def test_working_days_to_acknowledge_and_respond(world: World) -> None:
    c = figures(world.session)["complaints"]
    # To acknowledge at stage 1: A 1, B 6, C 0 (received after the cut-off on Friday 17 Apr: counts from
    # Monday 20 Apr, acknowledged that day), D 2, E 1, H 2, J 2 -> sorted 0 1 1 2 2 2 6.
    # Median: the 4th, 2. 90th percentile: position 0.9 * 6 = 5.4, between 2 and 6: 2 + 0.4 * 4 = 3.6.
    assert c["working_days_to_acknowledge"]["stage1"] == {
        "count": 7,
        "median": 2.0,
        "p90": pytest.approx(3.6),
        "max": 6.0,
    }
    # Stage 2: only D's was made: escalation received Wed 15 Apr, acknowledged Mon 20 Apr = 3 WD.
    assert c["working_days_to_acknowledge"]["stage2"] == {"count": 1, "median": 3.0, "p90": 3.0, "max": 3.0}
    # To respond, from the received day: A 10, B 20, C 11, D 4, E 2, H 8, P 11 -> 2 4 8 10 11 11 20.
    # Median 10; 90th percentile 11 + 0.4 * (20 - 11) = 14.6.
    assert c["working_days_to_respond"]["stage1"] == {
        "count": 7,
        "median": 10.0,
        "p90": pytest.approx(14.6),
        "max": 20.0,
    }
    assert c["working_days_to_respond"]["stage2"]["median"] == 29.0  # D: 15 Apr to 28 May


def test_working_days_are_counted_from_receipt_whatever_acknowledgement_timescale_is_set_now(world: World) -> None:
    """A landlord who later shortens its acknowledgement timescale to 3 working days still sees how long
    April's complaints took: from the day each was received, not from its 5-day deadline less 3 days."""
    stricter = Timescales(
        stage1=StageTimescale(acknowledge=3, respond=10, extension_limit=10),
        stage2=StageTimescale(acknowledge=3, respond=20, extension_limit=20),
    )
    c = figures(world.session, ReportSettings(timescales=stricter))["complaints"]
    # The same as under the Code's timescales (see the test above): A 1, B 6, C 0, D 2, E 1, H 2, J 2.
    assert c["working_days_to_acknowledge"]["stage1"] == {
        "count": 7,
        "median": 2.0,
        "p90": pytest.approx(3.6),
        "max": 6.0,
    }
    assert c["working_days_to_acknowledge"]["stage2"] == {"count": 1, "median": 3.0, "p90": 3.0, "max": 3.0}
    assert c["working_days_to_respond"]["stage1"] == {
        "count": 7,
        "median": 10.0,
        "p90": pytest.approx(14.6),
        "max": 20.0,
    }
    assert c["working_days_to_respond"]["stage2"]["median"] == 29.0


def test_extensions_escalation_outcomes_remedies_and_refusals(world: World) -> None:
    c = figures(world.session)["complaints"]
    # Stage 1: B +5 and J +12 (past the 10 WD limit, with a good reason); stage 2: D +10.
    assert c["extensions"]["stage1"] == {"count": 2, "working_days": 17, "with_good_reason": 1}
    assert c["extensions"]["stage2"] == {"count": 1, "working_days": 10, "with_good_reason": 0}
    assert c["extensions"]["reasons"] == [
        {"stage": 1, "reason": "Waiting for the contractor's report", "count": 2},
        {"stage": 2, "reason": "An independent damp survey is needed", "count": 1},
    ]
    # Of A B C D E H J, all but J were answered at stage 1; A, D, E and H asked for stage 2: 4 / 6.
    assert c["escalation"] == {"stage1_responded": 6, "escalated": 4, "rate": pytest.approx(4 / 6)}
    # Stage 1 responses: A upheld; B, E partly; C, D, H, P not upheld. Remedies: A and E. Stage 2: D upheld.
    assert c["outcomes"] == {
        "stage1": {"upheld": 1, "partly_upheld": 2, "not_upheld": 4},
        "stage2": {"upheld": 1, "partly_upheld": 0, "not_upheld": 0},
    }
    assert c["remedies"] == {
        "stage1": {"responses": 7, "with_remedy": 2},
        "stage2": {"responses": 1, "with_remedy": 1},
    }
    assert c["refused"] == {
        "stage1": 1,
        "stage2": 1,
        "total": 2,
        "reasons": [
            {"stage": 1, "reason": "The issue arose more than 12 months ago", "count": 1},
            {"stage": 2, "reason": EVIL, "count": 1},
        ],
    }


def test_themes_by_category_and_month_against_the_previous_period(world: World) -> None:
    themes = figures(world.session)["themes"]
    # April: A (repairs, damp), B (repairs), C (communication), D (damp), E (none), H (repairs);
    # May: J (repairs, heating). Previous period: R and Q (damp), P (repairs); Z (29 Jan) is before it.
    assert themes["months"] == ["2026-04", "2026-05"]
    assert [(t["category"], t["count"], t["previous"], t["change"], t["change_share"]) for t in themes["top"]] == [
        ("repairs", 4, 1, 3, 3.0),
        ("damp_mould", 2, 2, 0, 0.0),
        ("communication", 1, 0, 1, None),
        ("heating_hot_water", 1, 0, 1, None),
        ("uncategorised", 1, 0, 1, None),
    ]
    assert themes["categories"] == themes["top"]  # five categories, all in the top five
    assert {(m["month"], m["category"]): m["count"] for m in themes["by_month"]} == {
        ("2026-04", "repairs"): 3,
        ("2026-04", "damp_mould"): 2,
        ("2026-04", "communication"): 1,
        ("2026-04", "uncategorised"): 1,
        ("2026-05", "repairs"): 1,
        ("2026-05", "heating_hot_water"): 1,
    }


def test_hazards_flagged_at_intake_and_how_fast_a_person_saw_them(world: World) -> None:
    hazards = figures(world.session)["themes"]["hazards"]
    # SR1 no heating: 09:00 -> 11:30 = 2.5 h; SR2 gas: 22:00 -> 08:00 next day = 10 h; D damp: Tue 09:00 ->
    # Thu 10:00 = 49 h; the electrical one (29 May) is still waiting. P's (fire, March) is outside the period.
    assert (hazards["flagged"], hazards["confirmed"], hazards["awaiting_review"]) == (4, 3, 1)
    # Median 10 h; 90th percentile 10 + 0.8 * (49 - 10) = 41.2 h. Within 24 hours: 2 of 3.
    assert hazards["hours_to_confirm"] == {"count": 3, "median": 10.0, "p90": pytest.approx(41.2), "max": 49.0}
    assert hazards["confirmed_within_24_hours"] == 2
    assert hazards["confirmed_within_24_hours_share"] == pytest.approx(2 / 3)
    assert [(h["hazard"], h["flagged"], h["confirmed"]) for h in hazards["by_hazard"]] == [
        ("damp_mould", 1, 1),
        ("electrical", 1, 0),
        ("gas", 1, 1),
        ("no_heating", 1, 1),
    ]


def test_service_request_register(world: World) -> None:
    sr = figures(world.session)["service_requests"]
    r = world.refs
    # Received in the period: SR1, SR2, SR6 and SR4 (23:30 BST on 31 May); SR5 at 00:30 BST on 1 June is
    # not (its UTC date, 31 May, would wrongly put it in). SR2 and SR6 are closed.
    assert (sr["received"], sr["still_open"], sr["closed"]) == (4, 2, 2)
    # Open at the end of 31 May: SR3 (12 Mar: 52 WD), SR1 (7 Apr: 36 WD), SR4 (31 May: 0 WD).
    # Median 36; 90th percentile 36 + 0.8 * (52 - 36) = 48.8.
    assert sr["open_at_period_end"] == 3
    assert sr["age_at_period_end"] == {"count": 3, "median": 36.0, "p90": pytest.approx(48.8), "max": 52.0}
    assert sr["age_bands"] == {"0-5": 1, "6-10": 0, "11-20": 0, "21-60": 2, "over 60": 0}
    # Closed in the period: SR2 (8 Apr -> 17 Apr: 7 WD), SR6 (20 Apr -> 28 Apr: 6 WD).
    assert sr["closed_in_period"] == 2
    assert sr["working_days_to_close"] == {"count": 2, "median": 6.5, "p90": pytest.approx(6.9), "max": 7.0}
    # Code 1.5: C's complaint is about SR1, which carries on.
    assert (sr["linked_to_complaint"], sr["linked_to_complaint_share"], sr["linked_still_open"]) == (1, 0.25, 1)
    assert [
        (o["reference"], o["received_on"], o["age_working_days"], o["linked_complaint"]) for o in sr["oldest_open"]
    ] == [
        (r["SR3"], "2026-03-12", 52, False),
        (r["SR1"], "2026-04-07", 36, True),
        (r["SR4"], "2026-05-31", 0, False),
    ]


def test_open_service_requests_age_to_today_when_the_period_has_not_ended(session: Session) -> None:
    """The whole of 2026, run on Tuesday 24 November: a request received on Saturday 21 November is
    2 working days old (Mon 23, Tue 24), not the 27 it would be on 31 December."""
    w = build_world(session)
    w.request("SR7", at(11, 21, 10), at(11, 23, 9))
    session.commit()
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    as_of = datetime(2026, 11, 24, 9, tzinfo=LONDON).astimezone(UTC)
    sr = report_json(build_report(session, period=year, settings=SETTINGS, calendar=CALENDAR, as_of=as_of))[
        "service_requests"
    ]
    newest = sr["oldest_open"][-1]
    assert (newest["reference"], newest["received_on"], newest["age_working_days"]) == (w.refs["SR7"], "2026-11-21", 2)
    assert sr["age_at_period_end"]["count"] == sr["open_at_period_end"]
    assert sr["age_bands"]["0-5"] == 1  # SR7 alone; the others were received months ago


def test_survey_feedback_register(world: World) -> None:
    sf = figures(world.session)["survey_feedback"]
    # SV1 "2/5 ... never turned up" and SV3 (recorded score 1) are unhappy; SV2 (5 stars) and SV5 are not.
    # Each was sent how to complain, but SV5's reply failed: 3 of 4. SV4 is in March.
    assert (sf["received"], sf["dissatisfied"], sf["dissatisfied_share"]) == (4, 2, 0.5)
    assert (sf["told_how_to_complain"], sf["told_how_to_complain_share"]) == (3, 0.75)
    assert "40% of the scale or less" in sf["rule"]


def test_triage_quality_by_label(world: World) -> None:
    q = figures(world.session)["triage_quality"]
    # 20 decisions in the period, one (the bin-day question) on a message never classified.
    # Classifier said complaint 10 times (A C D E H J, the D A E escalations, SR2) and was overruled once
    # (SR2); service request 4 (B SR1 SR4 SR6), overruled on B; survey feedback 4 (the H escalation,
    # SV1 SV3 SV5), overruled on the H escalation; other once (SV2), overruled.
    assert (q["decisions"], q["with_classification"], q["changed"]) == (20, 19, 4)
    assert q["changed_share"] == pytest.approx(4 / 19)
    assert [(x["label"], x["decisions"], x["changed"], x["changed_share"]) for x in q["by_label"]] == [
        ("complaint", 10, 1, 0.1),
        ("service_request", 4, 1, 0.25),
        ("survey_feedback", 4, 1, 0.25),
        ("other", 1, 1, 1.0),
    ]
    assert [(c["predicted"], c["decided"], c["count"]) for c in q["changes"]] == [
        ("complaint", "service_request", 1),
        ("other", "survey_feedback", 1),
        ("service_request", "complaint", 1),
        ("survey_feedback", "complaint", 1),
    ]


def test_an_empty_period_has_no_fake_percentages(world: World) -> None:
    report = report_json(
        build_report(
            world.session,
            period=Period(date(2025, 6, 1), date(2025, 6, 30)),
            settings=SETTINGS,
            calendar=CALENDAR,
            as_of=AS_OF,
        )
    )
    assert report["complaints"]["received"]["total"] == 0
    assert report["ch02"]["stage1"]["share"] is None
    assert report["acknowledged_within_timescale"]["stage1"]["share"] is None
    assert report["complaints"]["working_days_to_respond"]["stage1"]["median"] is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ({1: 1}, 0.5, 1.0),
        ({1: 1, 2: 1}, 0.5, 1.5),  # halfway between the two
        ({0: 5, 1: 1, 6: 1}, 0.9, 3.0),  # 0 0 0 0 0 1 6: position 5.4, so 1 + 0.4 * (6 - 1)
        ({10: 3}, 0.9, 10.0),
        ({}, 0.5, None),
    ],
)
def test_weighted_percentiles_interpolate_like_percentile_cont(
    values: dict[float, int], q: float, expected: float | None
) -> None:
    got = percentile(values, q)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_a_distribution_of_counted_values() -> None:
    assert distribution({3: 2, 1: 1}) == distribution({1: 1, 3: 2})
    assert distribution({3: 2, 1: 1}).median == 3.0 and distribution({}).count == 0


@pytest.mark.parametrize(
    ("moment", "day", "month"),
    [
        (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), date(2026, 3, 29), "2026-03"),  # GMT, just before BST
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30), "2026-03"),  # 00:30 BST on the 30th
        (datetime(2026, 4, 30, 23, 30, tzinfo=UTC), date(2026, 5, 1), "2026-05"),  # 00:30 BST on 1 May
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25), "2026-10"),  # BST until 01:00 UTC
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25), "2026-10"),  # GMT again
        (datetime(1999, 7, 1, 23, 30, tzinfo=UTC), date(1999, 7, 2), "1999-07"),  # BST in 1999 too
    ],
)
def test_local_dates_in_sql_agree_with_zoneinfo(session: Session, moment: datetime, day: date, month: str) -> None:
    """The SQL conversion (timezone() on PostgreSQL, a CASE over transitions on SQLite) near the clock changes."""
    local = LocalTime(session.get_bind().dialect.name, CALENDAR.zone, AS_OF)
    value = sa.literal(moment, UTCDateTime())
    got_day, got_month = session.execute(sa.select(local.date(value), local.month(value))).one()
    assert (got_day, got_month) == (day, month)


@pytest.mark.parametrize(
    ("first", "last", "previous"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),  # March: February
        (date(2026, 4, 1), date(2026, 6, 30), (date(2026, 1, 1), date(2026, 3, 31))),  # Apr-Jun: Jan-Mar
        (date(2025, 4, 1), date(2026, 3, 31), (date(2024, 4, 1), date(2025, 3, 31))),  # financial year
        (date(2024, 3, 1), date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),  # leap February
        (date(2026, 1, 1), date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),  # over the year end
        (date(2026, 3, 10), date(2026, 3, 20), (date(2026, 2, 27), date(2026, 3, 9))),  # not whole: 11 days
        (date(2026, 3, 1), date(2026, 3, 30), (date(2026, 1, 30), date(2026, 2, 28))),  # not whole: 30 days
    ],
)
def test_the_previous_period_for_trends(first: date, last: date, previous: tuple[date, date]) -> None:
    before = Period(first, last).previous()
    assert (before.first, before.last) == previous


@given(st.dates(date(2001, 1, 1), date(2070, 12, 1)), st.integers(1, 36))
def test_whole_months_compare_with_the_same_number_of_whole_months_just_before(start: date, count: int) -> None:
    first = start.replace(day=1)
    index = first.year * 12 + first.month - 1 + count  # the month after the period
    last = date(index // 12, index % 12 + 1, 1) - timedelta(days=1)
    before = Period(first, last).previous()
    assert before.last == first - timedelta(days=1)
    assert before.first.day == 1 and (before.last + timedelta(days=1)).day == 1
    assert before.whole_months() == count


@given(st.dates(date(2001, 1, 2), date(2070, 12, 1)), st.integers(0, 400))
def test_other_periods_compare_with_as_many_days_just_before(first: date, extra: int) -> None:
    period = Period(first, first + timedelta(days=extra))
    before = period.previous()
    if period.whole_months() is None:
        assert before.days == period.days
    assert before.last == first - timedelta(days=1)
