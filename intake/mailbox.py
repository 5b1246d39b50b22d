"""The mailbox seen through a small protocol of our own, and its imapclient implementation.

imapclient is blocking; callers run it off the event loop. Messages are fetched with BODY.PEEK so
nothing changes on the server until intake has committed them.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from intake.settings import MailboxSettings, Security


class MailboxError(Exception):
    """The server or the connection failed; intake reconnects and tries again."""


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes
    internal_date: datetime  # when the server received it: our receipt time


class Mailbox(Protocol):
    def open(self) -> FolderState: ...

    def unprocessed_uids(self) -> list[int]: ...

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]: ...

    def mark_processed(self, uids: Sequence[int]) -> None: ...

    def wait_for_news(self, seconds: float) -> bool: ...

    def close(self) -> None: ...


class ImapMailbox:
    """A folder on an IMAP server, opened over TLS unless plain text was explicitly configured."""

    def __init__(self, settings: MailboxSettings) -> None:
        self.settings = settings
        self._client: IMAPClient | None = None
        self._idle_capable = False

    def _connect(self) -> IMAPClient:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        client = IMAPClient(
            s.host,
            port=s.effective_port,
            ssl=s.security is Security.TLS,
            ssl_context=context,
            timeout=s.timeout_seconds,
        )
        client.normalise_times = False  # keep INTERNALDATE's own time zone; we convert to UTC
        if s.security is Security.STARTTLS:
            client.starttls(context)
        if s.oauth2_token:
            client.oauth2_login(s.username, s.oauth2_token)
        else:
            client.login(s.username, s.password or "")
        self._idle_capable = client.has_capability("IDLE")
        return client

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError("mailbox is not open")
        return self._client

    def open(self) -> FolderState:
        try:
            self.close()
            self._client = self._connect()
            status = self._client.select_folder(self.settings.folder)
        except (IMAPClientError, OSError) as exc:
            self.close()
            raise MailboxError(str(exc)) from exc
        return FolderState(
            uidvalidity=int(status[b"UIDVALIDITY"]),
            uidnext=int(status[b"UIDNEXT"]) if b"UIDNEXT" in status else None,
            exists=int(status.get(b"EXISTS", 0)),
        )

    def unprocessed_uids(self) -> list[int]:
        """Every message not yet marked as stored; moved messages have left the folder already."""
        criteria: list[Any] = ["ALL"] if self.settings.move_to else ["UNKEYWORD", self.settings.processed_keyword]
        return sorted(int(uid) for uid in self._call(self.client.search, criteria))

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        if not uids:
            return []
        data = self._call(self.client.fetch, list(uids), ["BODY.PEEK[]", "INTERNALDATE"])
        fetched = []
        for uid in uids:
            item = data.get(uid)
            if item is None:
                continue  # expunged meanwhile: nothing to store
            raw = item.get(b"BODY[]") or b""
            fetched.append(
                FetchedMessage(uid=int(uid), raw=bytes(raw), internal_date=_aware(item.get(b"INTERNALDATE")))
            )
        return fetched

    def mark_processed(self, uids: Sequence[int]) -> None:
        if not uids:
            return
        if self.settings.move_to:
            self._call(self.client.move, list(uids), self.settings.move_to)
            return
        self._call(self.client.add_flags, list(uids), [b"\\Seen", self.settings.processed_keyword.encode()])

    def wait_for_news(self, seconds: float) -> bool:
        """IDLE up to `seconds` (or just sleep-poll when the server has no IDLE); True if news came."""
        client = self.client
        if not self._idle_capable:
            return False
        try:
            client.idle()
            responses = client.idle_check(timeout=seconds)
            client.idle_done()
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(str(exc)) from exc
        return any(_is_news(r) for r in responses)

    @property
    def supports_idle(self) -> bool:
        return self._idle_capable

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            with contextlib.suppress(IMAPClientError, OSError):
                client.shutdown()

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(str(exc)) from exc


def _is_news(response: Iterable[Any]) -> bool:
    parts = list(response) if isinstance(response, tuple) else [response]
    return any(p in (b"EXISTS", b"RECENT") for p in parts)


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.now(UTC)  # a server that gives no INTERNALDATE: the moment we fetched it
