"""The `triage` CLI: the README's first steps, and one-line errors with a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from models.database import head_revision
from tests.servers.common import free_port

runner = CliRunner()


def triage(*args: str, data_dir: Path, url: str | None = None) -> tuple[int, str, str]:
    env = {"TRIAGE_DATA_DIR": str(data_dir), "TRIAGE_DATABASE_URL": url, "TRIAGE_DEBUG": None}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_upgrade_then_list_on_a_fresh_directory(tmp_path: Path) -> None:
    code, out, _ = triage("db", "upgrade", data_dir=tmp_path)
    assert code == 0 and f"upgraded from empty to schema {head_revision()}" in out
    assert (tmp_path / "triage.db").exists()
    code, out, _ = triage("db", "upgrade", data_dir=tmp_path)
    assert code == 0 and f"already at schema {head_revision()}; nothing to do" in out
    code, out, _ = triage("cases", "list", data_dir=tmp_path)
    assert (code, out.strip()) == (0, "No cases yet.")


def test_staff_add_and_list(tmp_path: Path) -> None:
    triage("db", "upgrade", data_dir=tmp_path)
    code, out, _ = triage(
        "staff",
        "add",
        "--name",
        "Priya Shah",
        "--email",
        "priya@landlord.example",
        "--role",
        "handler",
        "--role",
        "triage",
        "--telegram-id",
        "777",
        data_dir=tmp_path,
    )
    assert code == 0 and "Added Priya Shah (id 1) as handler, triage." in out
    code, _, err = triage(
        "staff", "add", "--name", "P S", "--email", "PRIYA@landlord.example", "--role", "handler", data_dir=tmp_path
    )
    assert code == 1 and err.startswith("error: a staff member with email") and err.count("\n") == 1
    code, out, _ = triage("staff", "list", data_dir=tmp_path)
    assert code == 0 and "Priya Shah" in out and "handler, triage" in out


def test_missing_database_says_which_command_to_run(tmp_path: Path) -> None:
    code, out, err = triage("cases", "list", data_dir=tmp_path / "empty")
    assert code == 1 and out == ""
    expected = tmp_path.resolve() / "empty" / "triage.db"
    assert err == f"error: no database at {expected}: run `triage db upgrade` to create it\n"


def test_bad_reference_is_one_line(tmp_path: Path) -> None:
    triage("db", "upgrade", data_dir=tmp_path)
    code, _, err = triage("cases", "show", "CMP-2026-00042", data_dir=tmp_path)
    assert (code, err) == (1, "error: no case with reference 'CMP-2026-00042'\n")
    code, _, err = triage("cases", "show", "rubbish", data_dir=tmp_path)
    assert (code, err) == (1, "error: no case with reference 'rubbish'\n")


def test_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = triage("cases", "list", "--kind", "gripe", data_dir=tmp_path)
    assert code == 2 and "gripe" in err and "Traceback" not in err


@pytest.mark.postgres
def test_the_same_commands_work_on_postgresql(tmp_path: Path, postgres_database: str) -> None:
    assert triage("db", "upgrade", data_dir=tmp_path, url=postgres_database)[0] == 0
    code, out, _ = triage("cases", "list", data_dir=tmp_path, url=postgres_database)
    assert (code, out.strip()) == (0, "No cases yet.")
    assert not (tmp_path / "triage.db").exists()


def test_unreachable_database_hides_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://triage:s3cret-pw@127.0.0.1:{free_port()}/triage"
    code, _, err = triage("cases", "list", data_dir=tmp_path, url=url)
    assert code == 1 and err.startswith("error: cannot connect to the database") and "s3cret-pw" not in err


def test_the_installed_entry_point_never_prints_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "TRIAGE_DATA_DIR": str(tmp_path)}
    env.pop("TRIAGE_DATABASE_URL", None)
    env.pop("TRIAGE_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "cases", "show", "SR-2026-00001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: no database at") and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "db" in done.stdout and "cases" in done.stdout


def test_sweep_and_deliver_check_the_database_and_say_what_they_did(tmp_path: Path) -> None:
    assert triage("sweep", data_dir=tmp_path)[2].strip() == (
        f"error: no database at {tmp_path / 'triage.db'}: run `triage db upgrade` to create it"
    )
    triage("db", "upgrade", data_dir=tmp_path)
    code, out, _ = triage("sweep", "--at", "2026-12-08T10:00", data_dir=tmp_path)
    assert (code, out.strip()) == (0, "reminders 0, overdue notices 0, alerts 0, digests 0 enqueued")
    code, _, err = triage("deliver", data_dir=tmp_path)
    assert code == 1 and "no SMTP server is configured" in err
