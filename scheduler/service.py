"""APScheduler wiring: each job a thin adapter that runs a sweep in its own transaction.

Jobs run on the service's asyncio loop and hand the blocking database work to a thread. `now` comes
from the injected clock, so tests move time by changing the clock and calling `sweep()` directly.
Everything is idempotent, so a second instance or a restart mid-sweep changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from classifier.learning import weekly_retrain
from classifier.settings import ClassifierSettings
from scheduler.casework import Casework
from scheduler.jobs import SweepReport, alert_unreviewed, digest_service_requests, remind_handlers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleSettings:
    sweep_seconds: int = 60
    retrain_day_of_week: str = "sun"
    retrain_hour: int = 2


class SchedulerService:
    def __init__(
        self,
        *,
        engine: Engine,
        work: Casework,
        clock: Callable[[], datetime],
        settings: ScheduleSettings | None = None,
        classifier: ClassifierSettings | None = None,
        model_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.work = work
        self.clock = clock
        self.settings = settings or ScheduleSettings()
        self.classifier = classifier
        self.model_dir = model_dir

    def sweep(self) -> SweepReport:
        """Run every sweep once, each in its own transaction; one failing never stops the others."""
        totals: dict[str, int] = {}
        for job in (remind_handlers, alert_unreviewed, digest_service_requests):
            try:
                with Session(self.engine) as session:
                    report = job(session, now=self.clock(), work=self.work)
                    session.commit()
            except Exception:
                log.exception("scheduler job %s failed; it runs again at the next sweep", job.__name__)
                continue
            for name, value in vars(report).items():
                totals[name] = totals.get(name, 0) + value
        return SweepReport(**totals)

    def retrain(self) -> None:
        if self.classifier is None or self.model_dir is None:
            return
        with Session(self.engine) as session:
            outcome = weekly_retrain(session, settings=self.classifier, out_dir=self.model_dir, now=self.clock())
        log.info(
            "weekly retrain: %s (%s)", "promoted" if outcome.promoted else "kept the current model", outcome.reason
        )

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Add the jobs to an AsyncIOScheduler that runs on the service's event loop."""

        async def sweep() -> None:
            await asyncio.to_thread(self.sweep)

        async def retrain() -> None:
            await asyncio.to_thread(self.retrain)

        scheduler.add_job(
            sweep,
            "interval",
            seconds=self.settings.sweep_seconds,
            id="sweep",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(self.work.calendar.zone),
        )
        scheduler.add_job(
            retrain,
            "cron",
            day_of_week=self.settings.retrain_day_of_week,
            hour=self.settings.retrain_hour,
            id="retrain",
            coalesce=True,
            max_instances=1,
        )
