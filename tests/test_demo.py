"""`triage demo`, the README's first command, and the pieces it adds: a directory as a mailbox, files as an outbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, col, select

import models.tables  # noqa: F401  (registers every table)
from bot.demo.run import SAMPLES
from classifier.classify import Classifier
from intake.folder import DirectoryMailbox
from intake.ingest import EmailIntake
from intake.settings import IntakeSettings
from models.cases import Case
from models.database import DatabaseSettings, make_engine
from models.enums import CaseKind, MessageStatus
from models.messages import InboundMessage

OMBUDSMAN_PHONE = "0300 111 3000"


def test_the_bundled_samples_cover_every_label_and_the_hard_cases() -> None:
    key = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    emails = sorted((SAMPLES / "email").glob("*.eml"))
    chats = (SAMPLES / "chat.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(emails) + len(chats) >= 40
    assert sorted(key["email"]) == [p.name for p in emails]
    assert [entry["line"] for entry in key["chat"]] == list(range(1, len(chats) + 1))
    labels = Counter(e["label"] for e in [*key["email"].values(), *key["chat"]])
    assert set(labels) == {"complaint", "service_request", "survey_feedback", "other"}
    assert sum(e["auto_generated"] for e in key["email"].values()) == 2
    assert sum(e["hazard"] for e in [*key["email"].values(), *key["chat"]]) >= 4


def triage_demo(directory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a newcomer runs it: no TRIAGE_* settings unless given here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--dir", str(directory)],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The installed command, as a newcomer runs it, in a clean environment with nothing configured."""
    directory = tmp_path_factory.mktemp("demo") / "triage-demo"
    # A configured database must never be touched by the demo.
    result = triage_demo(directory, TRIAGE_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/not-this-one")
    assert result.returncode == 0, result.stderr
    return directory, result.stdout


def test_the_demo_builds_a_database_of_cases_from_the_samples(demo_run: tuple[Path, str]) -> None:
    directory, _ = demo_run
    key = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    engine = make_engine(DatabaseSettings(f"sqlite:///{directory / 'triage.db'}"))
    with Session(engine) as session:
        messages = list(session.exec(select(InboundMessage)))
        cases = list(session.exec(select(Case)))
    engine.dispose()
    assert len(messages) == len(key["email"]) + len(key["chat"])
    automatic = [m for m in messages if m.status is MessageStatus.AUTO_GENERATED]
    assert len(automatic) == 2
    assert all(m.status is MessageStatus.TRIAGED for m in messages if m not in automatic)
    kinds = Counter(c.kind for c in cases)
    assert kinds[CaseKind.COMPLAINT] >= 15 and kinds[CaseKind.SERVICE_REQUEST] >= 8
    assert all(c.stage1_handler_id is not None for c in cases if c.kind is CaseKind.COMPLAINT)


def test_the_demo_writes_each_acknowledgement_as_an_email_with_the_codes_details(demo_run: tuple[Path, str]) -> None:
    directory, _ = demo_run
    acks = sorted((directory / "outbox").glob("*-ack-cmp-*.eml"))
    chat_acks = sorted((directory / "outbox").glob("*-ack-cmp-*.txt"))
    engine = make_engine(DatabaseSettings(f"sqlite:///{directory / 'triage.db'}"))
    with Session(engine) as session:
        complaints = list(session.exec(select(Case.reference).where(Case.kind == CaseKind.COMPLAINT)))
    engine.dispose()
    assert len(acks) + len(chat_acks) == len(complaints)
    for path in acks:
        letter = message_from_bytes(path.read_bytes(), policy=default)
        body = letter.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        reference = letter["Subject"].split()[2].rstrip(":")
        assert reference in complaints
        assert f"Your reference is {reference}." in text
        assert "We will send you our full response by" in text
        assert OMBUDSMAN_PHONE in text
        assert letter["Auto-Submitted"] == "auto-replied"


def test_the_demo_moves_the_clock_on_and_handlers_get_reminders(demo_run: tuple[Path, str]) -> None:
    directory, stdout = demo_run
    reminders = sorted((directory / "outbox").glob("*-remind-cmp-*.eml"))
    assert reminders
    letter = message_from_bytes(reminders[0].read_bytes(), policy=default)
    assert letter["To"].addresses[0].addr_spec in {"tom.reid@landlord.example", "aisha.khan@landlord.example"}
    assert "reminder" in stdout.lower()


def test_the_demo_writes_the_performance_report_for_its_cases(demo_run: tuple[Path, str]) -> None:
    directory, _ = demo_run
    html = (directory / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # charts drawn inline: the page is one self-contained file
    assert "CH01" in html and "CH02" in html
    assert "<script" not in html


def test_the_demo_prints_the_queue_and_how_often_the_classifier_agreed(demo_run: tuple[Path, str]) -> None:
    _, stdout = demo_run
    assert "Awaiting review: 46" in stdout
    assert "HAZARD" in stdout
    assert "The classifier agreed with the samples' answer key on" in stdout


def test_running_the_demo_again_starts_afresh(demo_run: tuple[Path, str]) -> None:
    directory, _ = demo_run
    (directory / "notes.txt").write_text("mine", encoding="utf-8")
    result = triage_demo(directory)
    assert result.returncode == 0, result.stderr
    assert "Awaiting review: 46" in result.stdout  # not 0: the old database was replaced, not added to
    assert (directory / "notes.txt").read_text(encoding="utf-8") == "mine"  # and nothing else was touched


def test_a_directory_mailbox_feeds_intake_and_a_second_drain_takes_only_new_files(
    tmp_path: Path, classifier: Classifier
) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    samples = sorted((SAMPLES / "email").glob("*.eml"))
    for path in samples[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/t.db"))
    SQLModel.metadata.create_all(engine)
    moment = datetime(2026, 11, 24, 10, tzinfo=UTC)

    def drain() -> int:
        intake = EmailIntake(
            mailbox=DirectoryMailbox(folder, received_at=lambda _p, _r: moment),
            mailbox_name="folder",
            engine=engine,
            classifier=classifier,
            settings=IntakeSettings(),
            clock=lambda: moment,
        )
        return intake.drain().stored

    assert drain() == 3
    assert drain() == 0
    (folder / samples[3].name).write_bytes(samples[3].read_bytes())
    assert drain() == 1
    with Session(engine) as session:
        stored = list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))
    engine.dispose()
    assert len(stored) == 4 and all(m.received_at == moment for m in stored)


def test_the_demo_refuses_a_directory_holding_a_database_it_did_not_make(tmp_path: Path) -> None:
    real = tmp_path / "triage-data"
    real.mkdir()
    (real / "triage.db").write_bytes(b"somebody's real data")
    result = triage_demo(real)
    assert result.returncode == 1
    assert "already holds a triage database that the demo did not make" in result.stderr
    assert (real / "triage.db").read_bytes() == b"somebody's real data"
