"""The service: the Telegram bot, email intake, the scheduler and outbox delivery in one process.

One asyncio loop, which this module owns: the bot runs there (PTB's initialize / start /
updater.start_polling, not run_polling), and so does the APScheduler scheduler, whose sweeps run in
worker threads. Email intake and outbox delivery are blocking and run on threads of their own
(`bot.runner.threads`); Telegram messages from the outbox go through the bot's own loop.

Stopping (SIGTERM or SIGINT): first no new work (polling, intake and the scheduler stop, the outbox
claims nothing more), then what is in hand finishes (update handlers, the card job, a running sweep,
the claimed outbox batch, the intake batch being stored) within `shutdown_grace_seconds`, then the
connections close. A second signal exits at once with EXIT_FORCED. Nothing is lost either way:
every part is built to survive a crash at any point, so an abandoned item is picked up next time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from bot import wiring
from bot.logging_setup import flush_logs
from bot.runner.heartbeat import SCHEDULER, Heartbeat
from bot.runner.roles import Roles
from bot.runner.threads import (
    HeartbeatOutboxWorker,
    StopAwareMailbox,
    run_intake,
    run_outbox,
    supervised,
)
from bot.settings import TriageSettings
from bot.telegram.app import TriageApplication, build_application
from bot.telegram.replies import NO_PREVIEW
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from classifier.settings import load_current
from intake.ingest import EmailIntake
from intake.mailbox import ImapMailbox
from models.database import make_engine, require_current_schema
from models.enums import OutboxChannel
from models.errors import DomainError
from scheduler.casework import Casework
from scheduler.jobs import SweepReport
from scheduler.senders import Sender, TelegramSender
from scheduler.service import SchedulerService

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FORCED = 3  # a second signal: exited at once, work in hand abandoned
EXIT_UNFINISHED = 4  # stopped, but some work in hand did not finish within the grace period
# After the grace period, this much longer for closing connections before the process is ended regardless.
CLOSE_SECONDS = 10.0
POLL_ERROR_LOG_SECONDS = 60.0


class StartError(DomainError):
    """A part could not start (Telegram refused the token, the model cannot be loaded...)."""


class TokenRefusedError(StartError):
    """Telegram answered that the bot token is not valid: nothing will work until it is fixed."""


class ObservedScheduler(SchedulerService):
    """The scheduler's sweeps, with a heartbeat after each and a way to wait for a running one to end."""

    def __init__(self, *, heartbeat: Heartbeat, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat = heartbeat
        self._running = 0
        self._idle = threading.Condition()

    def sweep(self) -> SweepReport:
        with self._busy():
            report = super().sweep()
        self.heartbeat.beat(SCHEDULER, ", ".join(f"{name} {value}" for name, value in vars(report).items()))
        return report

    def retrain(self) -> None:
        with self._busy():
            super().retrain()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no sweep or retrain is running; False if one still is after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout)

    def _busy(self) -> _Busy:
        return _Busy(self)


class _Busy:
    def __init__(self, owner: ObservedScheduler) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        with self.owner._idle:
            self.owner._running += 1

    def __exit__(self, *exc_info: object) -> None:
        with self.owner._idle:
            self.owner._running -= 1
            self.owner._idle.notify_all()


class TriageService:
    """Runs the parts `roles` allows and the settings configure, until a signal stops it."""

    def __init__(
        self,
        settings: TriageSettings,
        roles: Roles,
        *,
        clock: Callable[[], datetime] = wiring.utc_now,
        outbox_poll_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self.roles = roles
        self.clock = clock
        self.outbox_poll_seconds = outbox_poll_seconds
        self.grace = settings.shutdown_grace_seconds
        self._stop_requested = asyncio.Event()
        self._signals: list[signal.Signals] = []
        self._engine: Engine | None = None
        self._application: TriageApplication | None = None
        self._sending_bot: Bot | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._sweeps: ObservedScheduler | None = None
        self._threads: list[tuple[threading.Thread, threading.Event]] = []
        self._parts: list[str] = []
        self._last_poll_error: tuple[str, float] | None = None

    # -- running -------------------------------------------------------------------------------

    async def run(self) -> int:
        """Start, wait for a signal, stop; the exit status. StartError if a part cannot start."""
        loop = asyncio.get_running_loop()
        self._install_signals(loop)
        try:
            try:
                await self._start(loop)
            except BaseException:
                await self._stop(reason="start-up failed")
                raise
            log.info("triage service running: %s", ", ".join(self._parts) or "nothing", extra={"parts": self._parts})
            await self._stop_requested.wait()
            return await self._stop(reason="signal")
        finally:
            for signum in self._signals:
                loop.remove_signal_handler(signum)

    def request_stop(self) -> None:
        """What the first signal does; also for embedding the service (a test, another runner)."""
        self._stop_requested.set()

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
            self._signals.append(signum)

    def _on_signal(self, signum: signal.Signals) -> None:
        name = signal.Signals(signum).name
        if self._stop_requested.is_set():
            log.error("second %s: exiting at once; work in hand is picked up at the next start", name)
            flush_logs()
            os._exit(EXIT_FORCED)
        log.info(
            "%s: stopping (no new work; finishing what is in hand for up to %.0f s; send it again to exit at once)",
            name,
            self.grace,
        )
        self._stop_requested.set()
        watchdog = threading.Timer(self.grace + CLOSE_SECONDS, self._give_up)
        watchdog.daemon = True
        watchdog.start()

    @staticmethod
    def _give_up() -> None:
        log.error("the service did not stop in time; exiting now")
        flush_logs()
        os._exit(EXIT_UNFINISHED)

    # -- starting --------------------------------------------------------------------------------

    async def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        settings, roles = self.settings, self.roles
        db = settings.database()
        engine = self._engine = make_engine(db)
        await asyncio.to_thread(require_current_schema, db, engine)
        work = wiring.casework(settings)
        heartbeat = Heartbeat(engine, self.clock)
        bot_settings = settings.telegram()
        mailbox = settings.mailbox() if roles.intake else None
        run_bot = roles.bot and bot_settings is not None

        classifier: Classifier | None = None
        if run_bot or mailbox is not None:
            try:
                classifier = Classifier(await asyncio.to_thread(load_current, settings.classifier()))
            except Exception as exc:
                raise StartError(f"cannot load the classifier model: {type(exc).__name__}: {exc}") from exc

        telegram: Bot | None = None
        if run_bot and bot_settings is not None:
            telegram = await self._start_bot(bot_settings, engine, work, classifier)
        elif bot_settings is not None and roles.outbox:
            telegram = await self._sending_only_bot(bot_settings)

        if mailbox is not None and classifier is not None:
            stop = threading.Event()
            intake = EmailIntake(
                mailbox=StopAwareMailbox(ImapMailbox(mailbox), stop),
                mailbox_name=mailbox.name,
                engine=engine,
                classifier=classifier,
                settings=settings.intake(),
                clock=self.clock,
            )
            self._thread("email intake", run_intake(intake), stop)
            self._parts.append(f"email intake ({mailbox.name})")

        if roles.outbox:
            self._start_outbox(loop, engine, work, heartbeat, telegram)

        if roles.scheduler:
            self._sweeps = ObservedScheduler(
                heartbeat=heartbeat,
                engine=engine,
                work=work,
                clock=self.clock,
                classifier=settings.classifier(),
                model_dir=settings.data_dir / "model",
            )
            self._scheduler = AsyncIOScheduler(event_loop=loop, timezone=work.calendar.zone)
            self._sweeps.schedule(self._scheduler)
            self._scheduler.start()
            self._parts.append("scheduler")

    async def _start_bot(
        self, bot_settings: BotSettings, engine: Engine, work: Casework, classifier: Classifier | None
    ) -> Bot:
        application = build_application(
            bot_settings, engine=engine, casework=work, classifier=classifier, clock=self.clock
        )
        await _telegram_call(application.initialize(), bot_settings)
        self._application = application
        if application.post_init is not None:  # run_polling would call it; we own the loop, so we do
            await application.post_init(application)
        await application.start()
        if application.updater is None:
            raise StartError("the Telegram application has no updater")
        await application.updater.start_polling(error_callback=self._polling_error)
        self._parts.append(f"telegram bot (@{application.bot.username})")
        return application.bot

    async def _sending_only_bot(self, bot_settings: BotSettings) -> Bot:
        """A bot that only sends (outbox letters and alerts by chat); it never polls, so it can run anywhere."""
        options: dict[str, Any] = {
            key: value
            for key, value in (("base_url", bot_settings.base_url), ("base_file_url", bot_settings.base_file_url))
            if value
        }
        bot = Bot(bot_settings.token, **options)
        self._sending_bot = bot
        try:
            await _telegram_call(bot.initialize(), bot_settings)
        except TokenRefusedError:
            raise
        except StartError as exc:
            # Email must not wait for Telegram: each send tries to initialise again (see _send_text).
            log.warning("%s; chat letters wait until it is reachable", exc.message)
        return bot

    def _start_outbox(
        self,
        loop: asyncio.AbstractEventLoop,
        engine: Engine,
        work: Casework,
        heartbeat: Heartbeat,
        telegram: Bot | None,
    ) -> None:
        extra: dict[OutboxChannel, Sender] = {}
        if telegram is not None:
            extra[OutboxChannel.TELEGRAM] = TelegramSender(_send_text(telegram), loop=loop)
        worker = wiring.outbox_worker(
            self.settings,
            engine,
            work,
            extra_senders=extra,
            clock=self.clock,
            worker_type=partial(HeartbeatOutboxWorker, heartbeat=heartbeat),
        )
        if worker is None:
            log.warning("outbox delivery is off: no SMTP server and no Telegram bot to send with")
            return
        stop = threading.Event()
        self._thread("outbox delivery", run_outbox(worker, self.outbox_poll_seconds), stop)
        self._parts.append(f"outbox delivery ({', '.join(sorted(c.value for c in worker.senders))})")

    def _thread(self, name: str, work: Callable[[threading.Event], None], stop: threading.Event) -> None:
        thread = threading.Thread(target=supervised(name, work, stop), name=name, daemon=True)
        thread.start()
        self._threads.append((thread, stop))

    def _polling_error(self, error: TelegramError) -> None:
        """PTB's updater retries by itself; say what is wrong, once a minute at most per kind of error."""
        kind = type(error).__name__
        now = asyncio.get_running_loop().time()
        last = self._last_poll_error
        if last is not None and last[0] == kind and now - last[1] < POLL_ERROR_LOG_SECONDS:
            return
        self._last_poll_error = (kind, now)
        if isinstance(error, Conflict):
            log.error(
                "Telegram says another process is polling with this bot token: run the bot in one instance "
                "only (start the others with --no-bot)"
            )
        else:
            log.warning("polling Telegram failed (%s: %s); retrying", kind, error)

    # -- stopping --------------------------------------------------------------------------------

    async def _stop(self, *, reason: str) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        log.info("stopping (%s): taking no new work", reason)

        # 1. No new work: nothing more fetched from Telegram or the mailbox, no new sweep or outbox claim.
        for _, stop in self._threads:
            stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()
        application = self._application
        if application is not None and application.updater is not None and application.updater.running:
            await _quietly("telegram polling", application.updater.stop(), CLOSE_SECONDS)

        # 2. Finish what is in hand, within the grace period.
        waits: dict[str, Awaitable[Any]] = {}
        if application is not None and application.running:
            waits["telegram handlers"] = application.stop()
        for thread, _ in self._threads:
            waits[thread.name] = asyncio.to_thread(thread.join, self.grace)
        sweeps = self._sweeps
        if sweeps is not None:
            waits["scheduler"] = asyncio.to_thread(sweeps.wait_idle, self.grace)
        unfinished = await _wait_all(waits, deadline - loop.time())
        unfinished += [
            thread.name for thread, _ in self._threads if thread.is_alive() and thread.name not in unfinished
        ]
        if sweeps is not None and not sweeps.wait_idle(0):
            unfinished.append("scheduler")

        # 3. Close connections.
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if application is not None and not application.running:
            await _quietly("the telegram bot", application.shutdown(), CLOSE_SECONDS)
        if self._sending_bot is not None:
            await _quietly("the telegram bot", self._sending_bot.shutdown(), CLOSE_SECONDS)
        if self._engine is not None:
            self._engine.dispose()

        if unfinished:
            log.warning(
                "stopped; did not finish within %.0f s: %s (picked up again at the next start)",
                self.grace,
                ", ".join(sorted(set(unfinished))),
            )
            return EXIT_UNFINISHED
        log.info("stopped cleanly" if reason == "signal" else "stopped")
        return EXIT_OK


def _send_text(bot: Bot) -> Callable[[int, str], Awaitable[None]]:
    async def send_text(chat_id: int, text: str) -> None:
        await bot.initialize()  # at once when it is (getMe again after a failed start otherwise)
        await bot.send_message(chat_id=chat_id, text=text, link_preview_options=NO_PREVIEW)

    return send_text


async def _telegram_call(call: Awaitable[Any], settings: BotSettings) -> None:
    """Start-up calls to Telegram (getMe): a refusal or an outage becomes one line without the token."""
    where = settings.base_url.split("/bot")[0] if settings.base_url else "api.telegram.org"
    try:
        await call
    except InvalidToken:
        raise TokenRefusedError(
            "Telegram refused the bot token (TRIAGE_TELEGRAM_TOKEN): check it with @BotFather"
        ) from None
    except NetworkError as exc:
        raise StartError(f"cannot reach the Telegram Bot API at {where}: {type(exc).__name__}") from None
    except TelegramError as exc:
        raise StartError(f"Telegram refused to start the bot: {type(exc).__name__}") from None


async def _wait_all(waits: dict[str, Awaitable[Any]], timeout: float) -> list[str]:  # noqa: ASYNC109
    """Wait for every awaitable up to `timeout` seconds; the names of those not done (left running)."""
    if not waits:
        return []
    tasks = {asyncio.ensure_future(awaitable): name for name, awaitable in waits.items()}
    done, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.0))
    for task in done:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed while stopping: %s", tasks[task], type(exc).__name__, exc_info=exc)
    return [tasks[task] for task in pending]


async def _quietly(what: str, call: Awaitable[Any], timeout: float) -> None:  # noqa: ASYNC109
    try:
        await asyncio.wait_for(call, timeout)
    except Exception as exc:
        log.warning("stopping %s failed: %s", what, type(exc).__name__)
