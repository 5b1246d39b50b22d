"""Service logging: JSON lines with their fields, readable text, and no secret in any line, however it got there."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from telegram import Bot

from bot.logging_setup import (
    QUIET,
    REDACTED,
    JsonFormatter,
    RedactingFilter,
    Redactor,
    configure_logging,
    wants_json,
)
from tests.servers.telegram_api import BotApiServer

TOKEN = "7000000001:AAH3kq9Zx-b_Rw2LmN8pQ4sT6vY1cE5fG7h"
PASSWORD = "imap-Pa55-w0rd-9"
DB_PASSWORD = "db/secret@pw"
OTHER_TOKEN = "123456789:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
log = logging.getLogger("tests.service")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def capture(log_format: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(
        level="INFO",
        log_format=log_format,  # type: ignore[arg-type]
        secrets=[TOKEN, PASSWORD, DB_PASSWORD, "abc"],
        stream=stream,
    )
    return stream


def test_json_lines_carry_timestamp_level_logger_message_and_extras() -> None:
    stream = capture("json")
    log.info("sent %d letters", 3, extra={"parts": ["bot", "outbox"], "batch": 7})
    log.debug("not shown at INFO")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "tests.service" and entry["message"] == "sent 3 letters"
    assert entry["parts"] == ["bot", "outbox"] and entry["batch"] == 7
    assert entry["timestamp"].endswith("+00:00")


def test_an_exception_becomes_one_json_line_with_its_traceback() -> None:
    stream = capture("json")
    try:
        int("boom")
    except ValueError:
        log.exception("failed")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert "Traceback" in entry["exception"] and "ValueError: invalid literal" in entry["exception"]


# (how a secret is logged, whether the line's text shows where it was)
LEAKS = [
    pytest.param(lambda: log.info("token %s", TOKEN), True, id="argument"),
    pytest.param(lambda: log.info(f"POST https://api.telegram.org/bot{TOKEN}/getMe"), True, id="url in message"),
    pytest.param(lambda: log.info("url %s", f"/bot{quote(TOKEN, safe='')}/getMe"), True, id="url-encoded"),
    pytest.param(lambda: log.info("just the secret half %s", TOKEN.split(":")[1]), True, id="secret half"),
    pytest.param(lambda: log.warning("login failed for %s", PASSWORD), True, id="password"),
    pytest.param(lambda: log.warning("postgresql://u:%s@db/x", quote(DB_PASSWORD, safe="")), True, id="database url"),
    pytest.param(lambda: log.info("seen %s", 1, extra={"url": f"/bot{TOKEN}/x"}), False, id="extra field"),
    pytest.param(lambda: log.info("another bot %s", OTHER_TOKEN), True, id="unconfigured token"),
]


def _poll() -> None:
    # What python-telegram-bot and httpx do: the request URL, token and all, in the error text.
    raise ConnectionError(f"All connection attempts failed for https://api.telegram.org/bot{TOKEN}/getUpdates")


def _updater() -> None:
    try:
        _poll()
    except ConnectionError as exc:
        raise RuntimeError(f"polling failed: {exc}") from exc


def _raise_with_token() -> None:
    try:
        _updater()
    except RuntimeError:
        log.exception("error while polling")


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize(
    ("emit", "marked"), [*LEAKS, pytest.param(_raise_with_token, True, id="exception message and cause")]
)
def test_no_secret_reaches_the_log(log_format: str, emit: object, marked: bool) -> None:
    stream = capture(log_format)
    assert callable(emit)
    emit()
    written = stream.getvalue()
    assert written.strip(), "the line itself must still be written"
    for secret in (TOKEN, TOKEN.split(":")[1], PASSWORD, DB_PASSWORD, quote(DB_PASSWORD, safe=""), OTHER_TOKEN):
        assert secret not in written
    if marked or log_format == "json":  # text lines do not show extra fields
        assert REDACTED in written


def test_a_broken_format_string_is_still_written_and_redacted() -> None:
    record = logging.LogRecord("tests.service", logging.INFO, __file__, 1, "bad format %s %s", (TOKEN,), None)
    redact = Redactor([TOKEN])
    assert RedactingFilter(redact).filter(record)
    text = JsonFormatter(redact).format(record)
    assert "bad format" in text and REDACTED in text and TOKEN not in text


def test_short_values_are_not_redacted_everywhere() -> None:
    stream = capture("text")
    log.info("abc and abcdef")  # "abc" is configured, but too short to blank out of every word
    assert "abc and abcdef" in stream.getvalue()


async def test_httpx_request_lines_never_show_the_token() -> None:
    """python-telegram-bot's HTTP library logs each request URL at INFO; even turned on, the token is hidden."""
    stream = capture("json")
    logging.getLogger("httpx").setLevel(logging.INFO)
    with BotApiServer() as api:
        async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
            await bot.get_me()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [entry["message"] for entry in lines if entry["logger"] == "httpx"]
    assert requests and all("HTTP Request" in message and REDACTED in message for message in requests)
    assert api.token not in stream.getvalue()


def test_httpx_is_quiet_by_default() -> None:
    capture("json")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_json_off_a_terminal_text_on_one() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_json("auto", io.StringIO()) and not wants_json("auto", Terminal())
    assert wants_json("json", Terminal()) and not wants_json("text", io.StringIO())


def test_redactor_prefers_the_longest_match() -> None:
    redact = Redactor(["secret", "secret-and-more"])
    assert redact("x secret-and-more y") == f"x {REDACTED} y"
