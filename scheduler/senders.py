"""Senders: one per outbox channel, each turning an `OutboxItem` into a real message or a typed error.

A sender never decides what happens next; it says whose fault a failure is. `TemporaryDeliveryError`:
try again later (the server is unreachable, timed out, answered 4xx, asked us to slow down).
`PermanentDeliveryError`: this message will never get through (5xx for it, a bad address, a chat that
blocked the bot). Problems of ours that affect every message (a refused login, a server that cannot
do STARTTLS) are temporary *outages*: the messages are not at fault, and staff fix the settings.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.policy
import logging
import re
import smtplib
import ssl
import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol, runtime_checkable

import telegram.error as tg

from models.outbox import OutboxItem
from scheduler.mail_settings import Security, SmtpSettings

log = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096

# Headers we write ourselves (or that would change who receives the message): item.headers cannot set them.
_RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From",
        "Sender",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Return-Path",
        "Received",
        "X-Auto-Response-Suppress",
    )
)
# Headers are not folded below RFC 5322's 998-character limit: a Message-ID split over two lines comes
# back with a leading space from some parsers, and then replies and bounces no longer match it.
_POLICY = email.policy.default.clone(max_line_length=998)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII except the colon


class DeliveryError(Exception):
    """Sending failed. `retry_after`: the earliest retry the far end asked for, in seconds.

    `outage` is true when the service itself could not be used (unreachable, login refused), so every
    message on the channel would fail the same way, as opposed to a refusal of this one message.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, outage: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outage = outage


class TemporaryDeliveryError(DeliveryError):
    """Try again later: connection refused, a timeout, a 4xx answer, flood control."""


class PermanentDeliveryError(DeliveryError):
    """This message will never get through as it is: a 5xx answer for it, a bad address, a blocked bot."""


class Sender(Protocol):
    def send(self, item: OutboxItem) -> None:
        """Deliver one item, or raise TemporaryDeliveryError / PermanentDeliveryError."""


@runtime_checkable
class BatchingSender(Sender, Protocol):
    """A sender that can keep its connection open across a batch of `send` calls."""

    def session(self) -> contextlib.AbstractContextManager[None]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------- email


class SmtpSender:
    """Sends email items through one SMTP submission server.

    Outside `session()` each `send` opens and closes its own connection; inside it one connection
    serves the whole batch and is opened again after a failure. Not thread-safe: one per worker.
    """

    def __init__(self, settings: SmtpSettings, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.settings = settings
        self.clock = clock
        # Our own address is checked once, here: a bad one is a settings error, not any message's fault.
        self._from = Address(display_name=settings.from_name, addr_spec=settings.from_address)
        self._client: smtplib.SMTP | None = None
        self._in_session = False

    def __repr__(self) -> str:
        return f"SmtpSender({self.settings!r})"

    # The seam a test can replace: everything network-facing starts here.
    def connect(self) -> smtplib.SMTP:
        """A connected, secured and (if configured) logged-in client, or a TemporaryDeliveryError outage."""
        s = self.settings
        where = f"{s.host}:{s.effective_port}"
        try:
            client: smtplib.SMTP
            if s.security is Security.TLS:
                client = smtplib.SMTP_SSL(
                    s.host, s.effective_port, timeout=s.timeout_seconds, context=self._tls_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_seconds)
            try:
                client.ehlo()
                if s.security is Security.STARTTLS:
                    client.starttls(context=self._tls_context())  # raises if not offered: never falls back
                    client.ehlo()
                if s.username:
                    client.login(s.username, s.password or "")
            except BaseException:
                _close_quietly(client)
                raise
        except smtplib.SMTPAuthenticationError as exc:
            # The server's answer only; `from None` keeps the login call's frames out of any traceback.
            raise TemporaryDeliveryError(f"SMTP server {where} refused the login: {_reply(exc)}", outage=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"cannot use SMTP server {where}: {_describe(exc)}", outage=True) from exc
        return client

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection for every `send` inside; it is opened on the first send, not before."""
        if self._in_session:
            yield
            return
        self._in_session = True
        try:
            yield
        finally:
            self._in_session = False
            self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
            _close_quietly(client)

    def send(self, item: OutboxItem) -> None:
        """Send one item. Sets `item.message_id_header` when it had none, so the caller can record it."""
        message = self.build_message(item)
        try:
            self._deliver(message, _address(item.recipient))
        finally:
            if not self._in_session:
                self.close()

    def _deliver(self, message: EmailMessage, recipient: str) -> None:
        reused = self._client is not None
        client = self._client or self.connect()
        self._client = client
        try:
            client.send_message(message, from_addr=self.settings.from_address, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            if code == 421:
                self.close()
                raise TemporaryDeliveryError(f"SMTP server closing: {code} {_text(reply)}", outage=True) from None
            raise _refusal(code, f"recipient refused: {code} {_text(reply)}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code == 421:  # the server is closing the connection on us
                self.close()
                raise TemporaryDeliveryError(f"SMTP server closing: {_reply(exc)}", outage=True) from None
            raise _refusal(exc.smtp_code, f"message refused: {_reply(exc)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            # e.g. an internationalised address and a server without SMTPUTF8: this message cannot go.
            raise PermanentDeliveryError(f"the SMTP server cannot take this message: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            if reused and isinstance(exc, smtplib.SMTPServerDisconnected):
                # A kept connection the server had already dropped (idle timeout): one fresh try.
                self._deliver(message, recipient)
                return
            raise TemporaryDeliveryError(f"SMTP connection failed: {_describe(exc)}", outage=True) from exc

    def build_message(self, item: OutboxItem) -> EmailMessage:
        """The email for an item; PermanentDeliveryError when its address or content cannot be sent."""
        message = EmailMessage(policy=_POLICY)
        message["From"] = self._from
        try:
            message["To"] = Address(addr_spec=_address(item.recipient))
        except (ValueError, IndexError, HeaderParseError) as exc:
            raise PermanentDeliveryError(f"not a usable email address: {exc}") from None
        message["Subject"] = " ".join((item.subject or "").split())
        message["Date"] = format_datetime(self.clock().astimezone(UTC))
        if not item.message_id_header:
            item.message_id_header = make_msgid(domain=self.settings.message_id_domain)
        message["Message-ID"] = item.message_id_header
        extra = _extra_headers(item)
        # RFC 3834: an automatic message; Exchange and Outlook are asked not to answer it either.
        message["Auto-Submitted"] = extra.pop("auto-submitted", ("", "auto-replied"))[1]
        message["X-Auto-Response-Suppress"] = "All"
        for name, value in extra.values():
            try:
                message[name] = value
            except (ValueError, HeaderParseError) as exc:
                log.warning("outbox item %s: header %s left out: %s", item.id, name, exc)
        message.set_content(item.body_text)
        if item.body_html:
            message.add_alternative(item.body_html, subtype="html")
        return message


def _address(recipient: str) -> str:
    return recipient.strip()


def _extra_headers(item: OutboxItem) -> dict[str, tuple[str, str]]:
    """Real email headers from item.headers (In-Reply-To, References, Reply-To, ...), by lower-case name."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in (item.headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or name.lower() in _RESERVED_HEADERS:
            continue
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            text = " ".join(value)  # References as a list of Message-IDs
        elif isinstance(value, str):
            text = value
        else:
            continue
        if text.strip():
            found[name.lower()] = (name, text)
    return found


def _refusal(code: int, message: str) -> DeliveryError:
    if 400 <= code < 500:
        return TemporaryDeliveryError(message)
    return PermanentDeliveryError(message)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _close_quietly(client: smtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()


# ------------------------------------------------------------------------------------------ telegram

SendText = Callable[[int, str], Awaitable[None]]


class TelegramSender:
    """Sends telegram items (recipient: the chat id) through the bot's own `send_text`.

    `send_text` is a coroutine function of the running bot. Pass the bot's event `loop` when the
    worker runs in another thread (the usual case): each call is handed to that loop. Without a loop
    each call runs in a fresh one, which suits a `send_text` that owns no connection of its own.

    A body longer than Telegram's 4,096 characters goes as several messages in order. If a later
    part fails, the retry sends the whole body again: a resident may see the first part twice.
    """

    def __init__(
        self,
        send_text: SendText,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_seconds: float = 60.0,
        limit: int = TELEGRAM_TEXT_LIMIT,
    ) -> None:
        self.send_text = send_text
        self.loop = loop
        self.timeout_seconds = timeout_seconds
        self.limit = limit

    def send(self, item: OutboxItem) -> None:
        try:
            chat_id = int(item.recipient.strip())
        except ValueError:
            raise PermanentDeliveryError("not a Telegram chat id") from None
        parts = split_text(item.body_text, self.limit)
        if not parts:
            raise PermanentDeliveryError("nothing to send: the message is empty")
        for part in parts:
            self._run(chat_id, part)

    def _run(self, chat_id: int, text: str) -> None:
        if self.loop is None:
            asyncio.run(self._send_part(chat_id, text))
            return
        future = asyncio.run_coroutine_threadsafe(self._send_part(chat_id, text), self.loop)
        try:
            future.result(timeout=self.timeout_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TemporaryDeliveryError(f"Telegram send timed out after {self.timeout_seconds:.0f} s") from None

    async def _send_part(self, chat_id: int, text: str) -> None:
        try:
            await self.send_text(chat_id, text)
        except tg.Forbidden as exc:  # the resident blocked the bot or left the chat
            raise PermanentDeliveryError(f"Telegram refused: {exc.message}") from None
        except tg.RetryAfter as exc:  # flood control: the whole bot must wait
            seconds = _retry_after_seconds(exc)
            raise TemporaryDeliveryError(
                f"Telegram flood control: retry in {seconds:.0f} s", retry_after=seconds, outage=True
            ) from None
        except tg.BadRequest as exc:  # chat not found, text refused: the same request will fail again
            raise PermanentDeliveryError(f"Telegram refused the message: {exc.message}") from None
        except tg.ChatMigrated as exc:
            raise PermanentDeliveryError(
                f"the chat moved to {exc.new_chat_id}; update the resident's chat id"
            ) from None
        except (tg.TimedOut, tg.NetworkError) as exc:
            raise TemporaryDeliveryError(f"Telegram unreachable: {type(exc).__name__}", outage=True) from exc
        except tg.TelegramError as exc:  # a bad token, a conflict: ours to fix, not the message's
            raise TemporaryDeliveryError(f"Telegram error: {type(exc).__name__}: {exc.message}", outage=True) from exc


def _retry_after_seconds(exc: tg.RetryAfter) -> float:
    # python-telegram-bot 22 gives an int with a deprecation warning, or a timedelta with PTB_TIMEDELTA set.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Cut a text into parts of at most `limit` UTF-16 units (Telegram's measure), at paragraph,
    line or word boundaries where there is one in the second half of a part, else anywhere."""
    text = text.strip()
    parts: list[str] = []
    while text:
        if _utf16_units(text) <= limit:
            parts.append(text)
            break
        cut, used = 0, 0
        for char in text:
            used += 2 if ord(char) > 0xFFFF else 1
            if used > limit:
                break
            cut += 1
        split_at, skip = cut, 0
        for separator in ("\n\n", "\n", " "):
            position = text.rfind(separator, 0, cut)
            if position > cut // 2:
                split_at, skip = position, len(separator)
                break
        parts.append(text[:split_at].rstrip())
        text = text[split_at + skip :].strip()
    return parts
