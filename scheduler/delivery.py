"""Delivering the outbox: every message goes out through here, with retries, and is recorded once sent.

Per batch: claim due items (`claim_due`) in a short transaction and commit the claim, so other
workers skip them and a crash gives them back when the lease runs out. Then, for each item: send it,
and record the outcome in its own transaction: sent (plus a correspondence row on the case, Code
5.12), a retry with exponential backoff, or failed (plus an audit event and `on_failure`, so staff
hear of it).

Delivery is **at least once**, not exactly once. Handing a message to an SMTP server (or Telegram)
cannot be made atomic with the database commit that records it: if the process dies after the
server accepted a message but before the commit, the item's lease runs out and it is sent again.
That is at most one repeat per crash (the item in flight; a worker sends one item at a time) and
it carries the same Message-ID, so mail clients and servers that de-duplicate drop it. Workers never
send an item another worker holds: claims use FOR UPDATE SKIP LOCKED on PostgreSQL, and a worker
stops sending a batch whose lease is about to run out.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from tenacity import RetryCallState, Retrying, wait_exponential

import models.tables  # noqa: F401  (the rows written here refer to cases: the whole schema must be known)
from models.enums import ContactChannel, Direction, OutboxChannel, OutboxStatus
from models.outbox import OutboxItem
from models.records import Correspondence
from models.repository.audit import record_event
from models.repository.outbox import claim_due, mark_failed, mark_retry, mark_sent
from scheduler.mail_settings import DeliverySettings
from scheduler.senders import (
    BatchingSender,
    DeliveryError,
    PermanentDeliveryError,
    Sender,
    TemporaryDeliveryError,
)

log = logging.getLogger(__name__)

# Called with the failed item and the moment it failed, in the same transaction (e.g. to alert staff).
OnFailure = Callable[[Session, OutboxItem, datetime], None]

ACTOR = "outbox"
CORRESPONDENCE_CHANNEL = {OutboxChannel.EMAIL: ContactChannel.EMAIL, OutboxChannel.TELEGRAM: ContactChannel.CHAT}
SERVICE_NAME = {OutboxChannel.EMAIL: "SMTP server", OutboxChannel.TELEGRAM: "Telegram"}
# Stop starting sends when less than this share of the lease is left, so no claim runs out mid-send.
LEASE_MARGIN = 0.2
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")

Outcome = Literal["sent", "retried", "failed"]


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def backoff(attempt: int, settings: DeliverySettings) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based): min, 2 x min, 4 x min ... max."""
    wait = wait_exponential(
        multiplier=settings.backoff_seconds_min, min=settings.backoff_seconds_min, max=settings.backoff_seconds_max
    )
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    return timedelta(seconds=wait(state))


def redact(text: str) -> str:
    """Error text fit for a log line: addresses replaced (the full text is kept on the item)."""
    return _ADDRESS.sub("<address>", text)


class OutboxWorker:
    """Claims due outbox items and hands them to the sender for their channel."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[OutboxChannel, Sender],
        settings: DeliverySettings,
        clock: Callable[[], datetime],
        on_failure: OnFailure | None = None,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.settings = settings
        self.clock = clock
        self.on_failure = on_failure
        self.lease = timedelta(seconds=settings.lease_seconds)
        self._outages = {
            channel: _Outage(f"{SERVICE_NAME[channel]} ({channel.value} delivery)") for channel in OutboxChannel
        }

    def deliver_due(self) -> DeliveryReport:
        """One batch: claim, commit the claim, then send and record each item in its own transaction."""
        claimed_at = self.clock()
        with Session(self.engine, expire_on_commit=False) as session:
            items = claim_due(session, now=claimed_at, limit=self.settings.batch_size, lease=self.lease)
            session.commit()
        report = DeliveryReport(claimed=len(items))
        if not items:
            return report
        send_until = claimed_at + self.lease * (1 - LEASE_MARGIN)
        down: dict[OutboxChannel, DeliveryError] = {}
        with contextlib.ExitStack() as connections:
            for sender in self.senders.values():
                if isinstance(sender, BatchingSender):
                    connections.enter_context(sender.session())
            for item in items:
                report.count(self._deliver_one(item, send_until, down))
        return report

    def _deliver_one(self, item: OutboxItem, send_until: datetime, down: dict[OutboxChannel, DeliveryError]) -> Outcome:
        if item.attempts > self.settings.max_attempts:
            # Claimed again after its last allowed attempt never reported back (the worker died mid-send).
            given_up = PermanentDeliveryError(f"no outcome recorded after {item.attempts - 1} attempts; not sent again")
            return self._record(item, given_up, self.clock())
        if self.clock() >= send_until:
            # Too little of the claim is left to be sure of finishing: give it back untried.
            return self._record(item, None, self.clock(), release=True)
        error = self._send(item, down)
        return self._record(item, error, self.clock())

    def _send(self, item: OutboxItem, down: dict[OutboxChannel, DeliveryError]) -> DeliveryError | None:
        """Send one item; the error if it failed. Items of a channel found down in this batch are not tried."""
        channel = item.channel
        if channel in down:
            return down[channel]
        sender = self.senders.get(channel)
        error: DeliveryError | None
        if sender is None:
            error = TemporaryDeliveryError(f"no sender configured for {channel.value}", outage=True)
        else:
            try:
                sender.send(item)
                error = None
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # a bug in a sender must not stop the batch; the item is retried
                log.exception("outbox item %s: unexpected error while sending", item.id)
                error = TemporaryDeliveryError(f"unexpected {type(exc).__name__}: {exc}")
        if error is not None and error.outage:
            down[channel] = error
            self._outages[channel].failed(redact(str(error)))
        else:
            self._outages[channel].recovered()
        return error

    def _record(
        self, item: OutboxItem, error: DeliveryError | None, now: datetime, *, release: bool = False
    ) -> Outcome:
        """Write the outcome of one attempt in its own transaction."""
        with Session(self.engine, expire_on_commit=False) as session:
            current = session.get(OutboxItem, item.id, with_for_update=True, populate_existing=True)
            if current is None:
                log.warning("outbox item %s disappeared while it was being sent", item.id)
                return "failed"
            if current.status is OutboxStatus.SENT:
                # Another worker took it over when our lease ran out and has finished it.
                log.warning("outbox item %s was finished by another worker meanwhile", item.id)
                return "sent"
            taken_over = current.attempts != item.attempts
            if release:
                if not taken_over:
                    mark_retry(
                        session, item=current, error="not tried: the claim ran out before its turn", retry_at=now
                    )
                    session.commit()
                return "retried"
            if not current.message_id_header and item.message_id_header:
                current.message_id_header = item.message_id_header  # made by the sender: kept for the retries
            if error is None:
                mark_sent(session, item=current, now=now)
                self._add_correspondence(session, current, now)
                session.commit()
                return "sent"
            if taken_over:
                return "retried"  # another worker holds it now; its outcome is the one that counts
            outcome = self._record_error(session, current, error, now)
            session.commit()
            return outcome

    def _record_error(self, session: Session, item: OutboxItem, error: DeliveryError, now: datetime) -> Outcome:
        text = str(error)
        final = isinstance(error, PermanentDeliveryError) or item.attempts >= self.settings.max_attempts
        if not final:
            wait = backoff(item.attempts, self.settings)
            if error.retry_after is not None:
                wait = max(wait, timedelta(seconds=error.retry_after))
            mark_retry(session, item=item, error=text, retry_at=now + wait)
            if not error.outage:  # an outage is logged once, when it starts and ends
                log.info("outbox item %s: %s; attempt %d, retrying in %s", item.id, redact(text), item.attempts, wait)
            return "retried"
        if not isinstance(error, PermanentDeliveryError):
            text = f"gave up after {item.attempts} attempts: {text}"
        mark_failed(session, item=item, error=text)
        log.warning("outbox item %s (%s) failed: %s", item.id, item.idempotency_key, redact(text))
        detail = {
            "outbox_item_id": item.id,
            "key": item.idempotency_key,
            "channel": item.channel.value,
            "attempts": item.attempts,
            "error": text[:500],
        }
        # Each in its own savepoint: whatever goes wrong in one, the failure itself is still recorded.
        try:
            with session.begin_nested():
                record_event(
                    session, action="delivery_failed", actor=ACTOR, now=now, case_id=item.case_id, detail=detail
                )
        except Exception:
            log.exception("outbox item %s: the delivery_failed audit event could not be written", item.id)
        if self.on_failure is not None:
            try:
                with session.begin_nested():
                    self.on_failure(session, item, now)
            except Exception:
                log.exception("outbox item %s: the on_failure callback failed", item.id)
        return "failed"

    def _add_correspondence(self, session: Session, item: OutboxItem, now: datetime) -> None:
        if item.case_id is None:
            return
        try:
            with session.begin_nested():
                session.add(
                    Correspondence(
                        case_id=item.case_id,
                        direction=Direction.OUTBOUND,
                        channel=CORRESPONDENCE_CHANNEL[item.channel],
                        party=item.party,
                        occurred_at=now,
                        subject=item.subject,
                        body=item.body_text,
                        outbox_item_id=item.id,
                    )
                )
        except Exception:  # it was sent: that must be recorded even if the case record cannot be
            log.exception("outbox item %s: sent, but its correspondence row could not be written", item.id)

    def run(self, stop: threading.Event, poll_seconds: float = 5.0) -> None:
        """Deliver until `stop` is set: at once again after a full batch, else every `poll_seconds`."""
        trouble = _Outage("outbox delivery (database)")
        while not stop.is_set():
            try:
                report = self.deliver_due()
            except SQLAlchemyError as exc:  # the database is unreachable: wait and try again
                trouble.failed(redact(_first_line(exc)))
                stop.wait(poll_seconds)
                continue
            except Exception as exc:  # a bug of ours: shown once with its traceback, then retried quietly
                trouble.failed(redact(_first_line(exc)), exc_info=True)
                stop.wait(poll_seconds)
                continue
            trouble.recovered()
            if report.claimed < self.settings.batch_size:
                stop.wait(poll_seconds)


def _first_line(exc: BaseException) -> str:
    """The error's first line: SQLAlchemy appends the statement and its parameters after it."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class _Outage:
    """Logs a service being unusable once when it starts and once when it ends, not per item."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: float | None = None
        self.lock = threading.Lock()

    def failed(self, error: str, *, exc_info: bool = False) -> None:
        with self.lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        log.warning("%s unusable (%s); holding messages and retrying with backoff", self.name, error, exc_info=exc_info)

    def recovered(self) -> None:
        with self.lock:
            if self.since is None:
                return
            seconds, self.since = time.monotonic() - self.since, None
        log.warning("%s usable again after %.0f s", self.name, seconds)
