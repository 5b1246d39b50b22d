"""`triage self-assess`: the Code's provisions in order, judged from the world's data where software can."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli import app
from reports.build import build_report
from reports.evidence import evidence
from reports.html import render_self_assessment_html
from reports.scope import Scope
from reports.self_assess import POLICY_EVIDENCE, PROVISIONS, Assessment, self_assess
from reports.settings import ReportSettings
from reports.tables import self_assessment_table, write_csv
from tests.test_report_output import Page, with_world
from tests.test_report_world import AS_OF, CALENDAR, PERIOD, World, build_world

SETTINGS = ReportSettings(homes_low_cost_rental=2000)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def assess(session: Session) -> dict[str, Assessment]:
    report = build_report(session, period=PERIOD, settings=SETTINGS, calendar=CALENDAR, as_of=AS_OF)
    rows = self_assess(report, evidence(Scope.build(session, PERIOD, SETTINGS, CALENDAR, AS_OF)))
    return {row.provision: row for row in rows}


def test_the_provisions_run_in_the_codes_order_from_1_2_to_9_8() -> None:
    numbers = [number for number, _, _ in PROVISIONS]
    assert numbers[0] == "1.2" and numbers[-1] == "9.8"
    as_tuples = [tuple(int(part) for part in n.split(".")) for n in numbers]
    assert as_tuples == sorted(as_tuples) and len(set(numbers)) == len(numbers)
    # No gaps inside a section: 6.1 to 6.20, 9.1 to 9.8.
    assert [n for n in numbers if n.startswith("6.")] == [f"6.{i}" for i in range(1, 21)]
    assert [n for n in numbers if n.startswith("9.")] == [f"9.{i}" for i in range(1, 9)]


def test_timescales_are_judged_with_the_late_cases_listed(world: World) -> None:
    rows = assess(world.session)
    r = world.refs
    # 6 of 7 stage 1 complaints acknowledged in time: 85.7%; B late.
    assert rows["6.2"].status == "no"
    assert rows["6.2"].evidence == "85.7% of 7 complaints acknowledged within 5 working days; 1 late, listed"
    assert rows["6.2"].references == [r["B"]]
    # CH02 stage 1: 5 of 7 = 71.4%, C and P late.
    assert rows["6.3"].status == "no" and rows["6.3"].evidence.startswith("71.4% of 7 responses within 10 working days")
    assert rows["6.3"].references == sorted([r["C"], r["P"]])
    # Stage 2: D answered within its extension; H's acknowledgement late, A's not yet due.
    assert rows["6.14"].status == "yes"
    assert rows["6.11"].status == "no" and "(1 not yet due)" in rows["6.11"].evidence
    assert rows["6.11"].references == [r["H"]]


def test_records_the_code_asks_for_are_judged(world: World) -> None:
    rows = assess(world.session)
    # Code 1.6: SV5's reply to say how to complain failed to send.
    assert rows["1.6"].status == "no" and rows["1.6"].references == [world.refs["SV5"]]
    assert "4 survey replies, 2 expressing dissatisfaction; 75.0% told how to complain" in rows["1.6"].evidence
    # Code 1.3: of A B C D E H J, A and E used the word "complaint"; J was written by a relative.
    assert rows["1.3"].status == "yes"
    assert "5 of them never used the word 'complaint'; 1 made by a third party" in rows["1.3"].evidence
    # Code 2.1/2.4: F refused before stage 1, E's escalation refused; both with letters and a named person.
    assert rows["2.1"].evidence.startswith("1 of 8 stage 1 complaints refused (12.5%) and 1 escalation refused")
    assert rows["2.4"].status == "yes"
    # Code 5.10: one of the two recorded adjustments was due for review on 1 May.
    assert (rows["5.10"].status, rows["5.10"].evidence) == (
        "no",
        "2 needs and adjustments on record, 1 past their review date",
    )
    assert rows["5.15"].status == "no data"
    assert rows["6.5"].status == "yes" and rows["6.5"].evidence.startswith("2 extensions at stage 1")


def test_what_software_cannot_judge_says_so(world: World) -> None:
    rows = assess(world.session)
    for number in ("1.2", "3.1", "4.1", "7.1", "9.5"):
        assert (rows[number].status, rows[number].evidence) == ("policy", POLICY_EVIDENCE)
    assert {row.status for row in rows.values()} <= {"yes", "no", "no data", "policy"}


def test_html_and_csv(world: World, tmp_path: Path) -> None:
    report = build_report(world.session, period=PERIOD, settings=SETTINGS, calendar=CALENDAR, as_of=AS_OF)
    rows = self_assess(report, evidence(Scope.build(world.session, PERIOD, SETTINGS, CALENDAR, AS_OF)))
    page = Page()
    page.feed(render_self_assessment_html(report, rows))
    assert all(f"provision-{number}" in page.ids for number, _, _ in PROVISIONS)
    assert [f"section-{i}" for i in range(1, 10)] == [k for k in page.ids if k.startswith("section-")]
    path = write_csv(self_assessment_table(rows), tmp_path / "self.csv")
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [row["provision"] for row in table] == [number for number, _, _ in PROVISIONS]
    six_two = next(row for row in table if row["provision"] == "6.2")
    assert six_two["complies"] == "no" and six_two["references"] == world.refs["B"]


def test_triage_self_assess_writes_html_and_csv(tmp_path: Path) -> None:
    url = with_world(f"sqlite:///{tmp_path}/triage.db")
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": url, "TRIAGE_DEBUG": None, "TRIAGE_CONFIG": None}
    runner = CliRunner()
    html, table = tmp_path / "sa.html", tmp_path / "sa.csv"
    period = ["--from", "2026-04-01", "--to", "2026-05-31"]
    result = runner.invoke(app, ["self-assess", *period, "--out", str(html)], env=env)
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["self-assess", *period, "--format", "csv", "--out", str(table)], env=env)
    assert result.exit_code == 0, result.stderr
    assert "provision-9.8" in html.read_text(encoding="utf-8")
    assert (
        table.read_text(encoding="utf-8").splitlines()[0]
        == "provision,section,requirement,complies,evidence,references"
    )
