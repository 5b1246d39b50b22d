"""The service's blocking parts, each on a thread of its own: email intake and outbox delivery.

Both stop at a shared `threading.Event`: intake after the batch it is storing (its IDLE wait is cut
into one-second slices so a stop is seen at once), delivery after the batch it has claimed. A part
that fails unexpectedly is logged and started again after a pause: it never takes the service down
and never leaves its work half-recorded (both are built to survive a crash at any point).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from imapclient.exceptions import IMAPClientError

from bot.runner.heartbeat import OUTBOX, Heartbeat
from intake.ingest import EmailIntake
from intake.mailbox import FetchedMessage, FolderState, ImapMailbox, MailboxError
from scheduler.delivery import DeliveryReport, OutboxWorker

log = logging.getLogger(__name__)

RESTART_SECONDS = 30.0


class StopAwareMailbox:
    """An IMAP mailbox whose IDLE wait ends within `slice_seconds` of `stop` being set."""

    def __init__(self, inner: ImapMailbox, stop: threading.Event, *, slice_seconds: float = 1.0) -> None:
        self.inner = inner
        self.stop = stop
        self.slice_seconds = slice_seconds

    def open(self) -> FolderState:
        return self.inner.open()

    def unprocessed_uids(self) -> list[int]:
        return self.inner.unprocessed_uids()

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        return self.inner.fetch(uids)

    def mark_processed(self, uids: Sequence[int]) -> None:
        self.inner.mark_processed(uids)

    def close(self) -> None:
        self.inner.close()

    @property
    def supports_idle(self) -> bool:
        return self.inner.supports_idle

    def wait_for_news(self, seconds: float) -> bool:
        """IDLE up to `seconds`, looking at `stop` between slices; True if news came."""
        if not self.inner.supports_idle:
            return False
        client = self.inner.client
        deadline = time.monotonic() + seconds
        try:
            client.idle()
            try:
                while not self.stop.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    if any(_is_news(r) for r in client.idle_check(timeout=min(self.slice_seconds, left))):
                        return True
                return False
            finally:
                client.idle_done()
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(str(exc)) from exc


def _is_news(response: Iterable[Any] | Any) -> bool:
    parts = list(response) if isinstance(response, tuple) else [response]
    return any(part in (b"EXISTS", b"RECENT") for part in parts)


class HeartbeatOutboxWorker(OutboxWorker):
    """The outbox worker, noting each batch that ran without error (throttled) for `triage status`."""

    def __init__(self, *args: Any, heartbeat: Heartbeat, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat = heartbeat

    def deliver_due(self) -> DeliveryReport:
        report = super().deliver_due()
        self.heartbeat.beat(OUTBOX, ", ".join(f"{name} {value}" for name, value in vars(report).items()))
        return report


def supervised(name: str, work: Callable[[threading.Event], None], stop: threading.Event) -> Callable[[], None]:
    """A thread target running `work(stop)` until `stop` is set, starting it again if it fails."""

    def target() -> None:
        while not stop.is_set():
            try:
                work(stop)
            except Exception:
                log.exception("%s stopped unexpectedly; starting it again in %.0f s", name, RESTART_SECONDS)
                stop.wait(RESTART_SECONDS)

    return target


def run_intake(intake: EmailIntake) -> Callable[[threading.Event], None]:
    def work(stop: threading.Event) -> None:
        try:
            intake.run(stop)
        finally:
            with contextlib.suppress(Exception):
                intake.mailbox.close()

    return work


def run_outbox(worker: OutboxWorker, poll_seconds: float) -> Callable[[threading.Event], None]:
    def work(stop: threading.Event) -> None:
        worker.run(stop, poll_seconds=poll_seconds)

    return work
