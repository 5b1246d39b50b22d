"""`triage sweep` and `triage deliver`: the scheduler's work, once, for cron or by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot import wiring
from bot.commands.context import checked_engine, console
from bot.settings import load_settings
from models.errors import DomainError
from scheduler.service import SchedulerService


def sweep(
    at: Annotated[datetime | None, typer.Option(help="Pretend it is this moment (UTC if no offset).")] = None,
) -> None:
    """Run the reminder, overdue, unreviewed-message and digest sweeps once."""
    settings = load_settings()
    clock = wiring.utc_now
    if at is not None:
        fixed = at if at.tzinfo else at.replace(tzinfo=UTC)
        clock = lambda: fixed  # noqa: E731  (a fixed clock for a dry run at another moment)
    with checked_engine(settings) as engine:
        report = SchedulerService(engine=engine, work=wiring.casework(settings), clock=clock).sweep()
    console.print(
        f"reminders {report.reminders}, overdue notices {report.overdue_notices}, "
        f"alerts {report.alerts}, digests {report.digests} enqueued"
    )


def deliver(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = True,
) -> None:
    """Send what is due in the outbox by SMTP (TRIAGE_SMTP_HOST), retrying failures later."""
    settings = load_settings()
    with checked_engine(settings) as engine:
        worker = wiring.outbox_worker(settings, engine, wiring.casework(settings))
        if worker is None:
            raise DomainError("no SMTP server is configured: set TRIAGE_SMTP_HOST (and TRIAGE_SMTP_FROM_ADDRESS)")
        total = sent = 0
        while True:
            report = worker.deliver_due()
            total += report.claimed
            sent += report.sent
            if report.claimed == 0 or not once:
                break
    console.print(f"claimed {total}, sent {sent}")
