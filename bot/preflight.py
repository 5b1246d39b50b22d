"""Start-up checks for `triage run`: every problem found at once, one line each, before anything starts.

Errors stop the start; warnings are printed and the service runs anyway (no SMTP server: the outbox
waits). No line ever shows a secret's value.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.runner.roles import Roles
from bot.settings import TriageSettings
from classifier.model import META_FILE, MODEL_FILE
from intake.settings import Security
from models.database import DatabaseError, make_engine, require_current_schema

# Values people leave in example files. Compared whole and case-blind, so "my-password-2026" is fine.
PLACEHOLDERS = frozenset(
    "changeme change-me change_me change.me password passw0rd pass secret token xxx xxxx todo tbd fixme "
    "replaceme replace-me replace_me placeholder example dummy none null your-token-here your_token_here "
    "yourtoken your-password-here your_password_here".split()
)
_PLACEHOLDER_SHAPES = re.compile(
    r"x{3,}|\*{3,}|\.{3,}|<[^>]*>|\$\{?[a-z_]+\}?|(your|my|the)[-_ .]?\w*[-_ .]?here|change[-_ .]?me\w*"
)
# What @BotFather hands out: the bot's numeric id, a colon, then 35 URL-safe characters.
BOT_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Problem:
    message: str
    fatal: bool = True

    @property
    def line(self) -> str:
        return f"{'error' if self.fatal else 'warning'}: {self.message}"


def error(message: str) -> Problem:
    return Problem(message, fatal=True)


def warning(message: str) -> Problem:
    return Problem(message, fatal=False)


def is_placeholder(value: str) -> bool:
    text = value.strip().lower()
    return text in PLACEHOLDERS or _PLACEHOLDER_SHAPES.fullmatch(text) is not None


def check(
    settings: TriageSettings, roles: Roles, *, config_file: Path | None = None, database: bool = True
) -> list[Problem]:
    """Every problem with these settings for these roles; `database=False` skips connecting to it."""
    checks: list[Callable[[TriageSettings, Roles], list[Problem]]] = [
        _roles,
        _placeholders,
        _telegram,
        _imap,
        _smtp,
        _classifier,
    ]
    problems = [problem for run in checks for problem in run(settings, roles)]
    if config_file is not None:
        problems += _config_file(config_file)
    if database:
        problems += _database(settings)
    return problems


def _roles(_settings: TriageSettings, roles: Roles) -> list[Problem]:
    return [] if roles.any() else [error("nothing to run: every part is switched off (--no-bot, --no-intake, ...)")]


def _placeholders(settings: TriageSettings, _roles: Roles) -> list[Problem]:
    return [
        error(f"{name} is a placeholder, not a real secret: set the real value")
        for name, value in settings.secret_values().items()
        if is_placeholder(value)
    ]


def _telegram(settings: TriageSettings, roles: Roles) -> list[Problem]:
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    problems = []
    if token and not is_placeholder(token) and not BOT_TOKEN_SHAPE.fullmatch(token):
        problems.append(
            error(
                "TRIAGE_TELEGRAM_TOKEN is not a bot token: expected the bot's number, a colon and 35 letters, "
                "digits, - or _, as @BotFather gives it"
            )
        )
    if token and roles.bot and settings.staff_chat_id is None:
        problems.append(
            error("TRIAGE_STAFF_CHAT_ID is not set: the bot posts triage cards and alerts to the staff chat")
        )
    if not token and settings.staff_chat_id is not None:
        problems.append(warning("TRIAGE_STAFF_CHAT_ID is set but TRIAGE_TELEGRAM_TOKEN is not: staff chat alerts wait"))
    elif not token and roles.bot:
        problems.append(warning("TRIAGE_TELEGRAM_TOKEN is not set: the Telegram bot is off"))
    return problems


def _imap(settings: TriageSettings, _roles: Roles) -> list[Problem]:
    problems = []
    if settings.imap_host:
        if not settings.imap_username:
            problems.append(error("TRIAGE_IMAP_HOST is set but TRIAGE_IMAP_USERNAME is not"))
        if not _filled(settings.imap_password) and not _filled(settings.imap_oauth2_token):
            problems.append(
                error("TRIAGE_IMAP_HOST is set but neither TRIAGE_IMAP_PASSWORD nor TRIAGE_IMAP_OAUTH2_TOKEN is")
            )
        if settings.imap_security is Security.PLAIN and not _loopback(settings.imap_host):
            problems.append(
                warning(f"TRIAGE_IMAP_SECURITY=plain: the mailbox password goes unencrypted to {settings.imap_host}")
            )
    else:
        given = {
            "TRIAGE_IMAP_USERNAME": bool(settings.imap_username),
            "TRIAGE_IMAP_PASSWORD": _filled(settings.imap_password),
            "TRIAGE_IMAP_OAUTH2_TOKEN": _filled(settings.imap_oauth2_token),
            "TRIAGE_IMAP_MOVE_TO": bool(settings.imap_move_to),
            "TRIAGE_IMAP_CA_FILE": settings.imap_ca_file is not None,
        }
        problems += [
            error(f"{name} is set but TRIAGE_IMAP_HOST is not: email intake would stay off")
            for name, present in given.items()
            if present
        ]
    if settings.imap_ca_file is not None and not settings.imap_ca_file.is_file():
        problems.append(error(f"TRIAGE_IMAP_CA_FILE {settings.imap_ca_file} is not a file"))
    return problems


def _smtp(settings: TriageSettings, roles: Roles) -> list[Problem]:
    problems = []
    has_password = _filled(settings.smtp_password)
    if settings.smtp_host:
        if settings.smtp_username and not has_password:
            problems.append(error("TRIAGE_SMTP_USERNAME is set but TRIAGE_SMTP_PASSWORD is not"))
        if has_password and not settings.smtp_username:
            problems.append(error("TRIAGE_SMTP_PASSWORD is set but TRIAGE_SMTP_USERNAME is not"))
        if settings.smtp_security is Security.PLAIN and settings.smtp_username and not _loopback(settings.smtp_host):
            problems.append(
                warning(f"TRIAGE_SMTP_SECURITY=plain: the SMTP password goes unencrypted to {settings.smtp_host}")
            )
    else:
        problems += [
            error(f"{name} is set but TRIAGE_SMTP_HOST is not")
            for name, present in (
                ("TRIAGE_SMTP_USERNAME", bool(settings.smtp_username)),
                ("TRIAGE_SMTP_PASSWORD", has_password),
            )
            if present
        ]
        if roles.outbox:
            problems.append(warning("TRIAGE_SMTP_HOST is not set: emails wait in the outbox until it is"))
    if settings.smtp_ca_file is not None and not settings.smtp_ca_file.is_file():
        problems.append(error(f"TRIAGE_SMTP_CA_FILE {settings.smtp_ca_file} is not a file"))
    return problems


def _classifier(settings: TriageSettings, _roles: Roles) -> list[Problem]:
    configured = settings.classifier()
    current = configured.current_dir()
    missing = [name for name in (MODEL_FILE, META_FILE) if not (current / name).is_file()]
    if missing:
        return [error(f"no classifier model in {current} ({', '.join(missing)} missing): reinstall housing-triage")]
    own = configured.model_dir
    if own is not None and own.is_dir() and any(own.iterdir()) and current != own:
        return [warning(f"{own} holds no {MODEL_FILE}: classifying with the bundled model")]
    return []


def _config_file(path: Path) -> list[Problem]:
    """A TOML file that holds secrets must not be readable by other users."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # load_settings has said what is wrong with it already
    fields = TriageSettings.model_fields
    secret_keys = [key for key in data if key in fields and fields[key].annotation in (SecretStr, SecretStr | None)]
    if "database_url" in data and _has_password(str(data["database_url"])):
        secret_keys.append("database_url")
    if secret_keys and mode & 0o077:
        return [warning(f"config file {path} holds secrets and other users may read it: chmod 600 {path}")]
    return []


def _database(settings: TriageSettings) -> list[Problem]:
    db = settings.database()
    secrets = list(settings.secret_values().values())
    try:
        display = db.display_url
        options = {} if db.is_sqlite else {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}
        engine = make_engine(db, **options)
    except ArgumentError:
        return [error("TRIAGE_DATABASE_URL is not a database URL (e.g. postgresql+psycopg://user:password@host/db)")]
    except (NoSuchModuleError, ImportError) as exc:
        driver = _hide(make_url(db.url).drivername, secrets)
        return [
            error(f"cannot use {driver} databases here ({type(exc).__name__}): pip install 'housing-triage[postgres]'")
        ]
    try:
        require_current_schema(db, engine)
    except DatabaseError as exc:
        path = db.sqlite_path()
        named = display in exc.message or (path is not None and str(path) in exc.message)
        message = exc.message if named else f"{exc.message} (database {display})"
        return [error(_hide(message, secrets))]
    except Exception as exc:  # a driver error not wrapped as DatabaseError: still one line, still no password
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return [error(_hide(f"cannot use the database {display}: {type(exc).__name__}: {first}", secrets))]
    finally:
        engine.dispose()
    return []


def _hide(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def _has_password(url: str) -> bool:
    try:
        return bool(make_url(url).password)
    except ArgumentError:
        return False


def _filled(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
