"""A loopback SMTP server (aiosmtpd) that records every message it accepts, for the delivery tests.

It can be stopped and started again on the same port (an outage), answer 451 or 550 to chosen
recipients or to everyone, take a little time over each DATA (so a test can kill a client mid-batch),
and speak implicit TLS or STARTTLS with a login when given a certificate.
"""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.common import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        # As a mailbox would store it: line ends as on this system, not the CRLF of the wire.
        parsed = email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class RecordingHandler:
    """Accepts everything unless told otherwise; keeps what it accepted in a thread-safe list."""

    delay_seconds: float = 0.0
    answer: str | None = None  # e.g. "451 4.3.0 Try again later" for every recipient
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> answer, e.g. "550 5.1.1 No such user"
    lock: threading.Lock = field(default_factory=threading.Lock)
    _received: list[Received] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            reply = self.refuse.get(address) or self.answer
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        with self.lock:
            self._received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(raw)))
        if self.delay_seconds:
            # Stored first, answered later: a client killed meanwhile never hears the 250 and sends again.
            await asyncio.sleep(self.delay_seconds)
        return "250 2.0.0 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self.lock:
            return list(self._received)

    def message_id_counts(self) -> Counter[str]:
        return Counter(r.message_id for r in self.received)


class PasswordCheck:
    """An aiosmtpd authenticator accepting one user name and password."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


class SmtpServer:
    """One aiosmtpd server on 127.0.0.1; `stop()` frees the port and `start()` takes the same one again."""

    def __init__(
        self,
        handler: RecordingHandler | None = None,
        *,
        port: int | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        authenticator: PasswordCheck | None = None,
    ) -> None:
        self.handler = handler or RecordingHandler()
        self.port = port or free_port()
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.authenticator = authenticator
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        options: dict[str, Any] = {}
        if self.starttls is not None:
            options.update(tls_context=self.starttls, require_starttls=True)
        if self.authenticator is not None:
            if self.implicit_tls is not None:
                # aiosmtpd only knows about STARTTLS; on an implicit-TLS port the whole session is encrypted.
                options.update(authenticator=self.authenticator, auth_require_tls=False)
            else:
                options.update(authenticator=self.authenticator, auth_required=True)
        controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=self.implicit_tls,
            server_hostname="smtp.test",
            ready_timeout=10,
            **options,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def server_tls_context(certificate: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context
