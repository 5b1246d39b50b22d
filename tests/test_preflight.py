"""Start-up checks of `triage run`: each problem is found and told in one line, and the TOML settings file."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import app
from bot.preflight import check, is_placeholder
from bot.runner.roles import Roles
from bot.settings import SettingsError, TriageSettings, load_settings
from models.database import DatabaseSettings, alembic_config, head_revision, upgrade
from tests.servers.common import free_port

TOKEN = "7000000001:" + "AbCdEfGhIj" * 3 + "kLmNo"
NO_BOT = Roles(bot=False)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings come from the test alone, never from the machine's TRIAGE_* variables."""
    for name in list(os.environ):
        if name.startswith("TRIAGE_") and not name.startswith("TRIAGE_TEST_"):
            monkeypatch.delenv(name)
    yield


def settings(tmp_path: Path, **changes: Any) -> TriageSettings:
    """A configuration with nothing wrong: bot with its staff chat, SMTP, no email intake."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "telegram_token": TOKEN,
        "staff_chat_id": -1001234567890,
        "smtp_host": "smtp.landlord.example",
    }
    values.update(changes)
    return TriageSettings(**values)


def lines(tmp_path: Path, roles: Roles | None = None, **changes: Any) -> list[str]:
    return [p.line for p in check(settings(tmp_path, **changes), roles or Roles(), database=False)]


IMAP = {"imap_host": "imap.landlord.example", "imap_username": "complaints@landlord.example"}

CASES = [
    pytest.param({}, Roles(), None, id="nothing wrong"),
    pytest.param(
        {"telegram_token": "12345:short"}, Roles(), "error: TRIAGE_TELEGRAM_TOKEN is not a bot token", id="bad token"
    ),
    pytest.param(
        {"telegram_token": "your-token-here"},
        Roles(),
        "error: TRIAGE_TELEGRAM_TOKEN is a placeholder, not a real secret",
        id="placeholder token",
    ),
    pytest.param(
        {"staff_chat_id": None}, Roles(), "error: TRIAGE_STAFF_CHAT_ID is not set", id="bot without staff chat"
    ),
    pytest.param({"staff_chat_id": None}, NO_BOT, None, id="no staff chat needed without the bot"),
    pytest.param(
        {"telegram_token": None, "staff_chat_id": None},
        Roles(),
        "warning: TRIAGE_TELEGRAM_TOKEN is not set: the Telegram bot is off",
        id="no token",
    ),
    pytest.param(
        {"telegram_token": None},
        Roles(),
        "warning: TRIAGE_STAFF_CHAT_ID is set but TRIAGE_TELEGRAM_TOKEN is not",
        id="staff chat without token",
    ),
    pytest.param(
        {"smtp_host": None},
        Roles(),
        "warning: TRIAGE_SMTP_HOST is not set: emails wait in the outbox until it is",
        id="no smtp",
    ),
    pytest.param({"smtp_host": None}, Roles(outbox=False), None, id="no smtp needed without the outbox"),
    pytest.param(
        {"smtp_username": "mailer"},
        Roles(),
        "error: TRIAGE_SMTP_USERNAME is set but TRIAGE_SMTP_PASSWORD is not",
        id="smtp user without password",
    ),
    pytest.param(
        {"smtp_host": None, "smtp_username": "mailer", "smtp_password": "a-real-one-77"},
        Roles(outbox=False),
        [
            "error: TRIAGE_SMTP_USERNAME is set but TRIAGE_SMTP_HOST is not",
            "error: TRIAGE_SMTP_PASSWORD is set but TRIAGE_SMTP_HOST is not",
        ],
        id="smtp login without host",
    ),
    pytest.param(
        {"smtp_username": "mailer", "smtp_password": "changeme"},
        Roles(),
        "error: TRIAGE_SMTP_PASSWORD is a placeholder",
        id="placeholder smtp password",
    ),
    pytest.param(
        {"imap_host": "imap.landlord.example", "imap_password": "a-real-one-77"},
        Roles(),
        "error: TRIAGE_IMAP_HOST is set but TRIAGE_IMAP_USERNAME is not",
        id="imap host without user",
    ),
    pytest.param(
        IMAP,
        Roles(),
        "error: TRIAGE_IMAP_HOST is set but neither TRIAGE_IMAP_PASSWORD nor TRIAGE_IMAP_OAUTH2_TOKEN is",
        id="imap without password",
    ),
    pytest.param(
        {"imap_username": "complaints@landlord.example"},
        Roles(),
        "error: TRIAGE_IMAP_USERNAME is set but TRIAGE_IMAP_HOST is not: email intake would stay off",
        id="imap user without host",
    ),
    pytest.param(
        {**IMAP, "imap_password": "xxx"}, Roles(), "error: TRIAGE_IMAP_PASSWORD is a placeholder", id="imap xxx"
    ),
    pytest.param(
        {**IMAP, "imap_oauth2_token": "${IMAP_TOKEN}"},
        Roles(),
        "error: TRIAGE_IMAP_OAUTH2_TOKEN is a placeholder",
        id="unexpanded variable",
    ),
    pytest.param(
        {**IMAP, "imap_password": "a-real-one-77", "imap_security": "plain"},
        Roles(),
        "warning: TRIAGE_IMAP_SECURITY=plain: the mailbox password goes unencrypted to imap.landlord.example",
        id="imap plain to a remote host",
    ),
    pytest.param(
        {"database_url": "postgresql+psycopg://triage:password@db.internal/triage"},
        Roles(),
        "error: TRIAGE_DATABASE_URL is a placeholder",
        id="placeholder database password",
    ),
    pytest.param(
        {}, Roles(bot=False, intake=False, scheduler=False, outbox=False), "error: nothing to run", id="all off"
    ),
]


@pytest.mark.parametrize(("changes", "roles", "expected"), CASES)
def test_each_problem_is_one_line(
    tmp_path: Path, changes: dict[str, Any], roles: Roles, expected: str | list[str] | None
) -> None:
    found = lines(tmp_path, roles, **changes)
    if expected is None:
        assert found == []
    elif isinstance(expected, list):
        assert found == expected
    else:
        assert len(found) == 1, found
        assert found[0].startswith(expected), found


def test_missing_ca_file(tmp_path: Path) -> None:
    found = lines(tmp_path, **IMAP, imap_password="a-real-one-77", imap_ca_file=tmp_path / "ca.pem")
    assert found == [f"error: TRIAGE_IMAP_CA_FILE {tmp_path / 'ca.pem'} is not a file"]


def test_a_model_directory_without_a_model_falls_back_to_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("half-copied")
    assert lines(tmp_path) == [
        f"warning: {tmp_path / 'model'} holds no model.skops: classifying with the bundled model"
    ]


def test_no_secret_value_is_ever_shown(tmp_path: Path) -> None:
    secret = "changeme"
    found = lines(tmp_path, **IMAP, imap_password=secret, smtp_username="u", smtp_password=secret)
    assert len(found) == 2 and not any(secret in line for line in found)


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("changeme", True),
        ("ChangeMe123", True),
        ("your-token-here", True),
        ("YOUR_PASSWORD_HERE", True),
        ("xxx", True),
        ("xxxxxxxx", True),
        ("password", True),
        ("<bot token>", True),
        ("${SMTP_PASSWORD}", True),
        ("...", True),
        ("loopback-only-password", False),
        ("s3cret-Pa55-2026", False),
        (TOKEN, False),
    ],
)
def test_placeholders(value: str, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


# -- the database ------------------------------------------------------------------------------------


def db_lines(tmp_path: Path, **changes: Any) -> list[str]:
    return [p.line for p in check(settings(tmp_path, **changes), Roles())]


def test_database_missing(tmp_path: Path) -> None:
    (line,) = db_lines(tmp_path)
    assert line == f"error: no database at {tmp_path.resolve() / 'triage.db'}: run `triage db upgrade` to create it"


def test_database_without_schema(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "triage.db").close()
    (line,) = db_lines(tmp_path)
    assert line.startswith("error: the database at sqlite:///") and line.endswith(
        "has no schema: run `triage db upgrade`"
    )


def test_database_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/triage.db"
    command.upgrade(alembic_config(url), "0003")
    (line,) = db_lines(tmp_path)
    assert line.startswith("error: the database is at schema revision 0003 but this version needs ")
    assert line.endswith(f"{head_revision()}: run `triage db upgrade` (database {url})")


def test_database_ready(tmp_path: Path) -> None:
    upgrade(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    assert db_lines(tmp_path) == []


def test_unreachable_database_hides_the_password(tmp_path: Path) -> None:
    password = "hunter2-Not-Shown"
    url = f"postgresql+psycopg://triage:{password}@127.0.0.1:{free_port()}/triage"
    (line,) = db_lines(tmp_path, database_url=url)
    assert line.startswith("error: cannot connect to the database") and "127.0.0.1" in line
    assert password not in line and "***" in line


def test_database_url_that_is_not_one(tmp_path: Path) -> None:
    (line,) = db_lines(tmp_path, database_url="not a url")
    assert line.startswith("error: TRIAGE_DATABASE_URL is not a database URL")


# -- `triage run` ------------------------------------------------------------------------------------


def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["run", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_run_prints_every_problem_then_exits_1(tmp_path: Path) -> None:
    env = {
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_TELEGRAM_TOKEN": "not-a-token-at-all",
        "TRIAGE_IMAP_HOST": "imap.landlord.example",
        "TRIAGE_IMAP_USERNAME": "complaints@landlord.example",
        "TRIAGE_IMAP_PASSWORD": "changeme",
    }
    code, out, err = run(env=env)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error: TRIAGE_IMAP_PASSWORD is a placeholder, not a real secret: set the real value",
        "error: TRIAGE_TELEGRAM_TOKEN is not a bot token: expected the bot's number, a colon and 35 letters, "
        "digits, - or _, as @BotFather gives it",
        "error: TRIAGE_STAFF_CHAT_ID is not set: the bot posts triage cards and alerts to the staff chat",
        "warning: TRIAGE_SMTP_HOST is not set: emails wait in the outbox until it is",
        f"error: no database at {tmp_path.resolve() / 'triage.db'}: run `triage db upgrade` to create it",
    ]
    assert "Traceback" not in err


def test_run_check_on_a_ready_configuration(tmp_path: Path) -> None:
    upgrade(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_SMTP_HOST": "smtp.landlord.example"}
    code, out, err = run("--check", "--no-bot", env=env)
    assert (code, err) == (0, "")
    assert out.startswith("Configuration and database are ready")


# -- the TOML file -----------------------------------------------------------------------------------


def test_the_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "triage.toml"
    config.write_text(
        f'smtp_host = "smtp.from-file.example"\nstaff_chat_id = -42\ntelegram_token = "{TOKEN}"\n'
        'closure_days = ["2026-12-24"]\n'
    )
    monkeypatch.setenv("TRIAGE_SMTP_HOST", "smtp.from-env.example")
    loaded = load_settings(config)
    assert (loaded.smtp_host, loaded.staff_chat_id) == ("smtp.from-env.example", -42)
    assert [d.isoformat() for d in loaded.closure_days] == ["2026-12-24"]
    assert isinstance(loaded.telegram_token, SecretStr) and TOKEN not in repr(loaded)

    monkeypatch.setenv("TRIAGE_CONFIG", str(config))  # the same file named by the environment
    assert load_settings().staff_chat_id == -42


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("imap_hots = 'x'\n", "error: config file {path}: unknown setting 'imap_hots'"),
        ("smtp_host = \n", "error: config file {path} is not valid TOML: "),
        (
            "smtp_port = 'port-sekrit-value'\n",
            "error: TRIAGE_SMTP_PORT (or smtp_port in {path}): Input should be a valid integer",
        ),
        (None, "error: config file {path} not found"),
    ],
    ids=["unknown key", "bad toml", "bad value", "missing"],
)
def test_file_problems_are_one_line(tmp_path: Path, content: str | None, expected: str) -> None:
    config = tmp_path / "triage.toml"
    if content is not None:
        config.write_text(content)
    code, out, err = run("--config", str(config), env={"TRIAGE_DATA_DIR": str(tmp_path)})
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(expected.format(path=config)), line
    assert "sekrit" not in line


def test_settings_error_lists_every_bad_value(tmp_path: Path) -> None:
    config = tmp_path / "triage.toml"
    config.write_text("smtp_port = 'a'\nimap_port = 'b'\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(config)
    assert [p.split(" (or ")[0] for p in raised.value.problems] == ["TRIAGE_IMAP_PORT", "TRIAGE_SMTP_PORT"]


def test_a_file_holding_secrets_must_be_private(tmp_path: Path) -> None:
    upgrade(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    config = tmp_path / "triage.toml"
    config.write_text(f'telegram_token = "{TOKEN}"\nstaff_chat_id = -42\nsmtp_host = "smtp.landlord.example"\n')
    env = {"TRIAGE_DATA_DIR": str(tmp_path)}
    config.chmod(0o644)
    code, _, err = run("--config", str(config), "--check", env=env)
    assert code == 0
    assert err.splitlines() == [
        f"warning: config file {config} holds secrets and other users may read it: chmod 600 {config}"
    ]
    config.chmod(0o600)
    code, _, err = run("--config", str(config), "--check", env=env)
    assert (code, err) == (0, "")
