"""`triage run`: check the configuration, then run the service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from bot import preflight
from bot.commands.context import console, err_console
from bot.logging_setup import Redactor, configure_logging
from bot.runner.roles import Roles
from bot.runner.service import TriageService
from bot.settings import SettingsError, TriageSettings, config_path, load_settings
from models.errors import DomainError

log = logging.getLogger(__name__)

EXIT_CONFIG = 1

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A TOML file of settings (default: TRIAGE_CONFIG); environment variables win."),
]


def run(
    *,
    config: ConfigOption = None,
    no_bot: Annotated[
        bool, typer.Option("--no-bot", help="Do not poll Telegram (run the bot in one instance).")
    ] = False,
    no_intake: Annotated[bool, typer.Option("--no-intake", help="Do not read the mailbox.")] = False,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Do not run reminders and sweeps.")] = False,
    no_outbox: Annotated[bool, typer.Option("--no-outbox", help="Do not deliver the outbox.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Only check the configuration and the database.")] = False,
) -> None:
    """Run the service: Telegram bot, email intake, scheduler and outbox delivery, until SIGTERM or Ctrl-C.

    Exit status: 0 after a clean stop, 1 when the configuration or a part's start-up fails, 3 when a
    second signal forced the exit, 4 when work in hand did not finish within the grace period.
    """
    path = config_path(config)
    settings = settings_or_exit(path)
    roles = Roles(bot=not no_bot, intake=not no_intake, scheduler=not no_scheduler, outbox=not no_outbox)
    problems = preflight.check(settings, roles, config_file=path)
    for problem in problems:
        err_console.print(problem.line, markup=False)
    if any(problem.fatal for problem in problems):
        raise typer.Exit(EXIT_CONFIG)
    if check:
        console.print(f"Configuration and database are ready ({settings.database().display_url}).")
        return

    secrets = list(settings.secret_values().values())
    configure_logging(level=settings.log_level, log_format=settings.log_format, secrets=secrets)
    logging.captureWarnings(True)  # a library's warning becomes a log line (JSON too), not stray stderr text
    raise typer.Exit(serve(settings, roles, Redactor(secrets)))


def serve(settings: TriageSettings, roles: Roles, redact: Redactor) -> int:
    """Run the service on a new event loop; one redacted line and a non-zero status if it cannot start."""
    try:
        return asyncio.run(TriageService(settings, roles).run())
    except DomainError as exc:
        err_console.print(f"error: {redact(exc.message)}", markup=False)
        return EXIT_CONFIG
    except Exception as exc:
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        log.exception("the service failed")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err_console.print(f"error: unexpected {type(exc).__name__}: {redact(first)}", markup=False)
        return 2


def settings_or_exit(path: Path | None) -> TriageSettings:
    """The settings, or every problem with them on a line of its own and exit status 1."""
    try:
        return load_settings(path)
    except SettingsError as exc:
        for problem in exc.problems:
            err_console.print(f"error: {problem}", markup=False)
        raise typer.Exit(EXIT_CONFIG) from None
