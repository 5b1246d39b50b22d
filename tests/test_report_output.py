"""The report's HTML (parsed, no screenshots), its CSV files, and `triage report` end to end."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.commands.report import html_writer
from models.cases import Case
from models.database import DatabaseSettings, make_engine, upgrade
from reports.build import Report, build_report
from reports.html import render_report_html
from reports.settings import ReportSettings
from reports.tables import report_tables, write_tables
from tests.test_report_world import AS_OF, CALENDAR, EVIL, PERIOD, World, at, build_world

SECTIONS = (
    "summary",
    "performance",
    "complaints-received",
    "ch01",
    "ch02",
    "acknowledgements",
    "timings",
    "extensions",
    "escalation",
    "outcomes",
    "refusals",
    "themes",
    "hazards",
    "registers",
    "service-requests",
    "survey-feedback",
    "triage-quality",
)
CHARTS = ("chart-timeliness", "chart-outcomes", "chart-categories", "chart-service-request-ages", "chart-triage")
EVIL_CATEGORY = "<img src=x onerror=alert(1)>"


class Page(HTMLParser):
    """What a reader (or a screen reader) gets: elements by id, charts and their SVG, all the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: dict[str, str] = {}
        self.charts: dict[str, dict[str, object]] = {}
        self._figure: str | None = None
        self._in: list[str] = []
        self.text: list[str] = []
        self.style = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in.append(tag)
        if attributes.get("id"):
            self.ids[str(attributes["id"])] = tag
        if tag == "figure" and attributes.get("class") == "chart":
            self._figure = str(attributes["id"])
            self.charts[self._figure] = {"svg": None, "title": "", "texts": []}
        elif tag == "svg" and self._figure is not None:
            self.charts[self._figure]["svg"] = attributes

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass
        if tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
            return
        self.text.append(data)
        if self._figure is not None and "svg" in self._in:
            chart = self.charts[self._figure]
            if self._in[-1] == "title" and not chart["title"]:
                chart["title"] = data
            texts = chart["texts"]
            assert isinstance(texts, list)
            texts.append(data)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def built(world: World) -> Report:
    return build_report(
        world.session,
        period=PERIOD,
        settings=ReportSettings(homes_low_cost_rental=2000),
        calendar=CALENDAR,
        as_of=AS_OF,
    )


def page_of(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_the_html_has_every_section_and_chart_readable_on_a_phone_and_in_print(world: World) -> None:
    page = page_of(render_report_html(built(world)))
    assert all(page.ids.get(name) == "section" for name in SECTIONS), set(SECTIONS) - set(page.ids)
    assert set(page.charts) == set(CHARTS)
    for name, chart in page.charts.items():
        svg = chart["svg"]
        assert isinstance(svg, dict), f"{name} has no inline SVG"
        # Scales to the screen: a viewBox and no fixed size; a title for screen readers.
        assert svg.get("viewbox") and "width" not in svg and svg.get("role") == "img"
        assert chart["title"]
    assert "Stage 1 complaints received each month, by category" in page.charts["chart-categories"]["title"]  # type: ignore[operator]
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in page.tags
    assert "@media print" in page.style and "@media (max-width" in page.style
    # Self-contained: nothing fetched from anywhere, no script.
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _, a in page.tags if any(str(v).startswith(("http", "//")) for k, v in a.items() if k == "src")]


def test_the_html_shows_the_figures_a_complaints_officer_reads(world: World) -> None:
    text = " ".join(page_of(render_report_html(built(world))).text)
    assert "85.7%" in text  # stage 1 acknowledged within 5 working days: 6 of 7
    assert "71.4%" in text  # CH02 stage 1: 5 of 7
    assert "3.50" in text  # CH01: 7 stage 1 complaints per 2,000 homes = 3.50 per 1,000
    assert world.refs["B"] in text  # the late acknowledgement, listed


def test_staff_and_resident_text_is_escaped_in_tables_and_charts(world: World) -> None:
    case = world.session.exec(select(Case).where(col(Case.reference) == world.refs["J"])).one()
    case.categories = [EVIL_CATEGORY]
    world.session.add(case)
    world.session.commit()
    html = render_report_html(built(world))
    page = page_of(html)
    assert "<script" not in html and "<img" not in html
    assert EVIL in "".join(page.text)  # the refusal reason, shown as the words typed
    assert EVIL_CATEGORY in page.charts["chart-categories"]["texts"]  # type: ignore[operator]
    assert EVIL_CATEGORY in page.text  # and in the category table


def test_csv_gives_one_file_per_table(world: World, tmp_path: Path) -> None:
    files = write_tables(report_tables(built(world)), tmp_path / "csv")
    names = {f.stem for f in files}
    assert {"ch01", "ch02", "acknowledged_within_timescale", "categories_by_month", "service_requests"} <= names
    assert len(names) == len(files)
    with (tmp_path / "csv" / "ch02.csv").open(newline="") as handle:
        rows = {row["stage"]: row for row in csv.DictReader(handle)}
    assert rows["stage1"]["responded"] == "7" and float(rows["stage1"]["share"]) == pytest.approx(5 / 7)
    with (tmp_path / "csv" / "late.csv").open(newline="") as handle:
        late = [(r["step"], r["reference"]) for r in csv.DictReader(handle)]
    assert ("acknowledge", world.refs["B"]) in late and ("respond", world.refs["C"]) in late


def with_world(url: str) -> str:
    """The database at `url` upgraded to the current schema, holding the world."""
    upgrade(DatabaseSettings(url))
    engine = make_engine(DatabaseSettings(url))
    try:
        with Session(engine, expire_on_commit=False) as session:
            build_world(session)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def migrated(database_url: str) -> str:
    """A migrated database holding the world, on each backend."""
    return with_world(database_url)


def triage(url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_HOMES_LOW_COST_RENTAL": "2000",
        "TRIAGE_DEBUG": None,
        "TRIAGE_CONFIG": None,
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_triage_report_writes_json_html_and_csv_from_the_configured_database(migrated: str, tmp_path: Path) -> None:
    code, out, err = triage(
        migrated, tmp_path, "report", "--from", "2026-04-01", "--to", "2026-05-31", "--format", "json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["complaints"]["received"] == {"stage1": 7, "stage2": 3, "total": 10}
    assert report["ch01"]["stage1_per_1000_homes"] == pytest.approx(3.5)
    assert report["ch02"]["total"] == {"responded": 8, "on_time": 6, "share": 0.75}

    html = tmp_path / "report.html"
    code, _, err = triage(
        migrated, tmp_path, "report", "--from", "2026-04-01", "--to", "2026-05-31", "--out", str(html)
    )
    assert code == 0, err
    assert set(CHARTS) <= set(page_of(html.read_text(encoding="utf-8")).charts)

    folder = tmp_path / "tables"
    code, out, err = triage(
        migrated,
        tmp_path,
        "report",
        "--from",
        "2026-04-01",
        "--to",
        "2026-05-31",
        "--format",
        "csv",
        "--out",
        str(folder),
    )
    assert code == 0, err
    assert (folder / "ch02.csv").exists() and "CSV files" in out


def test_a_bad_period_is_one_line_on_stderr(migrated: str, tmp_path: Path) -> None:
    code, _, err = triage(migrated, tmp_path, "report", "--from", "2026-05-31", "--to", "2026-04-01")
    assert code == 1 and err.startswith("error: the period ends (2026-04-01) before it starts") and err.count("\n") == 1
    code, _, err = triage(migrated, tmp_path, "report", "--from", "last april", "--to", "2026-04-01")
    assert code == 1 and "must be dates like 2026-04-01" in err


def test_the_report_reads_without_taking_sqlites_write_lock(tmp_path: Path) -> None:
    """The service keeps writing while a report runs: a writer holding SQLite's lock does not stop it."""
    migrated = with_world(f"sqlite:///{tmp_path}/triage.db")
    writer = make_engine(DatabaseSettings(migrated))
    try:
        with writer.begin() as conn:  # BEGIN IMMEDIATE: holds the write lock until the block ends
            conn.execute(sa.text("UPDATE triage_case SET definition = definition WHERE id = 1"))
            code, out, err = triage(
                migrated, tmp_path, "report", "--from", "2026-04-01", "--to", "2026-05-31", "--format", "json"
            )
        assert code == 0, err
        assert json.loads(out)["complaints"]["received"]["stage1"] == 7
    finally:
        writer.dispose()


def test_the_demo_writes_the_html_report_for_its_days(world: World, tmp_path: Path) -> None:
    """The demo's hook: (engine, start, end, path), the period being the local days from start to end."""
    path = tmp_path / "report.html"
    html_writer(CALENDAR)(world.session.get_bind(), at(4, 1, 0), at(5, 31, 18), path)  # type: ignore[arg-type]
    page = page_of(path.read_text(encoding="utf-8"))
    assert set(CHARTS) <= set(page.charts)
    assert "Wed 1 Apr 2026 to Sun 31 May 2026" in " ".join(page.text)
