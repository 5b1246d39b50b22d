"""`triage demo`: the README's first command. Runs on embedded defaults whatever is configured."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.context import console, now
from bot.commands.report import html_writer
from bot.demo.run import run_demo
from bot.settings import TriageSettings
from bot.wiring import casework
from classifier.classify import Classifier
from classifier.settings import ClassifierSettings, load_current


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to put the demo's database, outbox and report.")
    ] = Path("triage-demo"),
) -> None:
    """Run the bundled sample messages through intake, triage, letters, reminders and the report."""
    started = time.perf_counter()
    # The demo's own settings, not the environment's: it must never touch a configured database or server.
    settings = TriageSettings.model_construct(
        landlord_name="Riverside Homes (demo)",
        landlord_complaints_email="complaints@riverside-homes.example",
        landlord_complaints_phone="0300 123 4567",
    )
    classifier = Classifier(load_current(ClassifierSettings()))
    work = casework(settings)
    run_demo(
        directory,
        work=work,
        classifier=classifier,
        console=console,
        now=now(),
        write_report=html_writer(work.calendar, settings.report()),
    )
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
