"""`triage ingest`: drain the mailbox once (for cron), or keep listening with IDLE."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from bot.commands.context import checked_engine, console
from bot.settings import TriageSettings, load_settings
from classifier.classify import Classifier
from classifier.settings import load_current
from intake.ingest import EmailIntake
from intake.mailbox import ImapMailbox, MailboxError
from intake.settings import MailboxSettings
from models.errors import DomainError


class NotConfiguredError(DomainError):
    pass


def ingest(
    once: Annotated[bool, typer.Option("--once", help="Store everything waiting, then exit (for cron).")] = False,
) -> None:
    """Store, de-duplicate and classify the mailbox's messages; mark each on the server once stored."""
    settings = load_settings()
    mailbox = settings.mailbox()
    if mailbox is None:
        raise NotConfiguredError(
            "email intake is not configured: set TRIAGE_IMAP_HOST, TRIAGE_IMAP_USERNAME "
            "and TRIAGE_IMAP_PASSWORD (or TRIAGE_IMAP_OAUTH2_TOKEN)"
        )
    with checked_engine(settings) as engine:
        _ingest(engine, settings, mailbox, once=once)


def _ingest(engine: Engine, settings: TriageSettings, mailbox: MailboxSettings, *, once: bool) -> None:
    intake = EmailIntake(
        mailbox=ImapMailbox(mailbox),
        mailbox_name=mailbox.name,
        engine=engine,
        classifier=Classifier(load_current(settings.classifier())),
        settings=settings.intake(),
        clock=lambda: datetime.now(UTC),
    )
    if once:
        try:
            report = intake.drain()
        except MailboxError as exc:
            raise DomainError(f"mailbox {mailbox.name}: {exc}") from exc
        finally:
            intake.mailbox.close()
        console.print(
            f"{mailbox.name}: fetched {report.fetched}, stored {report.stored}, duplicates "
            f"{report.duplicates}, auto-generated {report.auto_generated}, quarantined "
            f"{report.quarantined}"
        )
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"Listening to {mailbox.name} (Ctrl-C to stop)")
    try:
        intake.run(stop)
    except KeyboardInterrupt:
        stop.set()
