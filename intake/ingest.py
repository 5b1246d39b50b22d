"""Email intake: mailbox to stored, classified messages, with nothing lost and nothing doubled.

Per batch: fetch (BODY.PEEK, so nothing changes on the server) -> store raw bytes and parsed fields,
each message in its own savepoint -> classify -> commit -> only then mark the messages on the server.
A crash before the commit leaves them unmarked and they are fetched again; a crash after it leaves
them stored but unmarked, and storing them again is a no-op. A message that cannot be processed is
quarantined with the error, never retried forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_never, wait_exponential

from classifier.classify import Classifier
from intake.classify_step import classify_messages
from intake.mailbox import FetchedMessage, Mailbox, MailboxError
from intake.parsing import parse_email
from intake.settings import IntakeSettings
from intake.store import Incoming, StoreOutcome, quarantine, store_emails
from models.repository.blobs import get_checkpoint, save_checkpoint

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


@dataclass
class IntakeReport:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    auto_generated: int = 0
    quarantined: int = 0
    resync: bool = False
    message_ids: list[int] = field(default_factory=list)

    def add(self, other: IntakeReport) -> None:
        for name in ("fetched", "stored", "duplicates", "auto_generated", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resync = self.resync or other.resync
        self.message_ids.extend(other.message_ids)


class EmailIntake:
    def __init__(
        self,
        *,
        mailbox: Mailbox,
        mailbox_name: str,
        engine: Engine,
        classifier: Classifier,
        settings: IntakeSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.mailbox = mailbox
        self.name = mailbox_name
        self.engine = engine
        self.classifier = classifier
        self.settings = settings
        self.clock = clock

    def drain(self) -> IntakeReport:
        """Open the folder and store everything not yet stored. Raises MailboxError on connection trouble."""
        state = self.mailbox.open()
        report = IntakeReport()
        with Session(self.engine) as session:
            checkpoint = get_checkpoint(session, mailbox=self.name)
            if checkpoint is not None and checkpoint.uidvalidity != state.uidvalidity:
                # The server renumbered the folder: read it all again and let de-duplication decide.
                log.warning(
                    "mailbox %s: UIDVALIDITY changed (%s -> %s); resynchronising",
                    self.name,
                    checkpoint.uidvalidity,
                    state.uidvalidity,
                )
                report.resync = True
        uids = self.mailbox.unprocessed_uids()
        for start in range(0, len(uids), self.settings.batch_size):
            batch = uids[start : start + self.settings.batch_size]
            fetched = self.mailbox.fetch(batch)
            report.add(self._store_batch(fetched, state.uidvalidity))
            self.mailbox.mark_processed([f.uid for f in fetched])
        if not uids:
            with Session(self.engine) as session:
                last = checkpoint.last_uid if checkpoint and not report.resync else 0
                save_checkpoint(
                    session, mailbox=self.name, uidvalidity=state.uidvalidity, last_uid=last, now=self.clock()
                )
                session.commit()
        return report

    def _store_batch(self, fetched: list[FetchedMessage], uidvalidity: int) -> IntakeReport:
        report = IntakeReport(fetched=len(fetched))
        now = self.clock()
        with Session(self.engine, expire_on_commit=False) as session:
            outcomes = self._store_all(session, fetched, uidvalidity, now)
            created = [o.message for o in outcomes if o.created]
            report.duplicates = sum(o.duplicate for o in outcomes)
            try:
                with session.begin_nested():
                    classify_messages(
                        session, created, classifier=self.classifier, received=now.astimezone(LONDON).date(), now=now
                    )
            except Exception:
                # Classification can be redone; storing cannot be lost for it.
                log.exception("classification failed for a batch of %d; stored unclassified", len(created))
            for message in created:
                report.stored += 1
                report.auto_generated += message.status.value == "auto_generated"
                report.quarantined += message.status.value == "quarantined"
                report.message_ids.append(message.id or 0)
            if fetched:
                save_checkpoint(
                    session, mailbox=self.name, uidvalidity=uidvalidity, last_uid=max(f.uid for f in fetched), now=now
                )
            session.commit()
        return report

    def _store_all(
        self, session: Session, fetched: list[FetchedMessage], uidvalidity: int, now: datetime
    ) -> list[StoreOutcome]:
        """The whole batch in one go; if anything in it fails, message by message, quarantining the bad."""
        items = [self._incoming(f, uidvalidity) for f in fetched]
        if all(isinstance(i, Incoming) for i in items):
            try:
                with session.begin_nested():
                    return store_emails(session, items, settings=self.settings, now=now)  # type: ignore[arg-type]
            except Exception:
                log.warning("a batch of %d from %s failed; storing message by message", len(items), self.name)
        outcomes = []
        for item, raw in zip(items, fetched, strict=True):
            source_key = self._source_key(raw, uidvalidity)
            if isinstance(item, str):
                reason = item
            else:
                try:
                    with session.begin_nested():
                        outcomes.append(store_emails(session, [item], settings=self.settings, now=now)[0])
                    continue
                except Exception as exc:  # one bad message must never stop the rest: quarantine it
                    log.exception("could not store message uid %s of %s; quarantined", raw.uid, self.name)
                    reason = f"could not be processed: {type(exc).__name__}: {exc}"
            with session.begin_nested():
                outcomes.append(
                    quarantine(
                        session,
                        source_key=source_key,
                        raw=raw.raw,
                        received_at=raw.internal_date,
                        reason=reason,
                        now=now,
                    )
                )
        return outcomes

    def _source_key(self, fetched: FetchedMessage, uidvalidity: int) -> str:
        return f"imap:{self.name}:{uidvalidity}:{fetched.uid}"

    def _incoming(self, fetched: FetchedMessage, uidvalidity: int) -> Incoming | str:
        """The message ready to store, or why it must be quarantined instead."""
        size = len(fetched.raw)
        if size > self.settings.max_message_bytes:
            return f"message of {size:,} bytes is over the {self.settings.max_message_bytes:,}-byte limit"
        try:
            parsed = parse_email(fetched.raw, max_attachment_bytes=self.settings.max_attachment_bytes)
        except Exception as exc:  # parse_email is built never to raise; if it does, keep the message anyway
            return f"could not be parsed: {type(exc).__name__}: {exc}"
        return Incoming(self._source_key(fetched, uidvalidity), fetched.raw, parsed, fetched.internal_date)

    def run(self, stop: threading.Event) -> None:
        """The long-running loop: drain, then IDLE (or poll) until news or the poll interval, forever."""
        outage = _Outage(self.name)

        @retry(
            retry=retry_if_exception_type(MailboxError),
            wait=wait_exponential(multiplier=1, min=1, max=60),
            stop=stop_never,
            before_sleep=outage.failed,
            reraise=True,
        )
        def cycle() -> None:
            if stop.is_set():
                return
            self.drain()
            outage.recovered()
            waited = self.mailbox.wait_for_news(min(self.settings.idle_seconds, self.settings.poll_seconds))
            if not waited and not getattr(self.mailbox, "supports_idle", False):
                stop.wait(self.settings.poll_seconds)

        while not stop.is_set():
            cycle()
        self.mailbox.close()


class _Outage:
    """Logs a connection problem once when it starts and once when it ends, not on every retry."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: datetime | None = None

    def failed(self, state: RetryCallState) -> None:
        if self.since is None:
            self.since = datetime.now(ZoneInfo("UTC"))
            error = state.outcome.exception() if state.outcome else None
            log.warning("mailbox %s unreachable (%s); retrying with backoff", self.name, error)

    def recovered(self) -> None:
        if self.since is not None:
            seconds = (datetime.now(ZoneInfo("UTC")) - self.since).total_seconds()
            log.warning("mailbox %s reachable again after %.0f s", self.name, seconds)
            self.since = None
