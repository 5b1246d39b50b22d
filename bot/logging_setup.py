"""Logging for `triage run`: JSON lines off a terminal, readable text on one, and no secret ever written.

Every record passes a redacting filter on the way out: the configured secrets (bot token, passwords,
the database password), any Telegram bot token at all (python-telegram-bot and httpx put the token in
request URLs), in the message, the arguments, extra fields and the formatted traceback. Message
bodies are never logged at INFO by the code that handles them; httpx's per-request INFO lines are
silenced as well, since each one carries the token.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import quote

from rich.console import Console
from rich.logging import RichHandler

REDACTED = "[redacted]"
# A bot token wherever it appears, configured here or not: the bot's numeric id, a colon, 30+ characters
# (in a URL it follows "/bot" directly).
BOT_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# Shorter values are not redacted (they would blank out ordinary words); preflight refuses placeholders.
MIN_SECRET_LENGTH = 4
# Libraries whose INFO lines are noise or carry secrets: httpx logs every request URL (with the token);
# APScheduler logs every run of every job (the card job runs every 2 s); Alembic each schema check.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    # python-telegram-bot logs request payloads (residents' messages) at DEBUG: never below INFO.
    "telegram": logging.INFO,
}
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

LogFormat = Literal["auto", "json", "text"]


class Redactor:
    """Replaces each known secret (and its URL-encoded form) and any bot token in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for raw in secrets:
            secret = raw.strip()
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            values.update({secret, quote(secret, safe=""), quote(secret, safe=":/")})
            _, colon, after = secret.partition(":")
            if colon and len(after) >= 8:  # a token's secret half, however its id was written
                values.add(after)
        ordered = sorted(values, key=len, reverse=True)  # the longest first, so no half-redacted leftovers
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return BOT_TOKEN.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Redacts a record in place before any handler formats it; never drops a record."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line (logging would print a traceback)
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            # Formatted here, redacted, and kept as text: no handler formats the raw exception again.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, extra fields, exception."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self.redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """The plain format, redacted once more as a whole (extra fields are not shown in text)."""

    def __init__(self, redact: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def wants_json(log_format: LogFormat, stream: TextIO) -> bool:
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (callable(isatty) and isatty())
    return log_format == "json"


def configure_logging(
    *,
    level: str = "INFO",
    log_format: LogFormat = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to `stream` (stderr), redacted; replaces a handler set up here before.

    Returns the handler, so a caller (a test) can remove it again.
    """
    out = stream if stream is not None else sys.stderr
    redact = Redactor(secrets)
    handler: logging.Handler
    if wants_json(log_format, out):
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter(redact))
    elif stream is None:
        console = Console(file=out, highlight=False, soft_wrap=True)
        handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(TextFormatter(redact, "%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(TextFormatter(redact, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redact))
    handler.set_name("triage")

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "triage"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(level)))
    return handler


def flush_logs() -> None:
    """Before `os._exit`: whatever is buffered reaches stderr."""
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: S112  (exiting anyway: one broken handler must not stop the others)
            continue
