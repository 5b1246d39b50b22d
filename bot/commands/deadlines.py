"""`triage deadlines`: the Code's working-day deadlines for a complaint received at a given moment."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from bot.commands.context import console
from bot.settings import load_settings
from models.errors import DomainError
from models.timescales import CODE_2024
from scheduler.calendar import NATIONS, CalendarError, WorkingCalendar
from scheduler.deadlines import CodeDeadlines, code_deadlines


class BadInputError(DomainError):
    """What was typed on the command line cannot be used."""


def parse_received(value: str, calendar: WorkingCalendar) -> datetime:
    """An ISO 8601 moment; without an offset it is the calendar's local time (Europe/London by default)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadInputError(
            f"--received {value!r} is not an ISO 8601 date and time, e.g. 2026-03-06T16:30 or 2026-03-06T16:30Z"
        ) from None
    return moment.replace(tzinfo=calendar.zone) if moment.tzinfo is None else moment


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInputError(f"{option} {value!r} is not an ISO 8601 date, e.g. 2026-03-09") from None


def deadlines(
    received: Annotated[
        str,
        typer.Option(
            help="When the complaint arrived, ISO 8601: 2026-03-06T16:30, or with an offset (…Z, …+01:00). "
            "Without an offset it is Europe/London local time (TRIAGE_TIMEZONE if set)."
        ),
    ],
    acknowledged: Annotated[
        str | None,
        typer.Option(help="Date it was acknowledged (YYYY-MM-DD): responses count from it, not the ack deadline."),
    ] = None,
    nation: Annotated[
        str | None, typer.Option(help=f"Bank holidays of {'|'.join(NATIONS)} (default TRIAGE_NATION, else ENG).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the dates as one JSON object.")] = False,
) -> None:
    """Code deadlines (6.2-6.4, 6.11-6.15) in working days; stage 2 as if the message were an escalation."""
    settings = load_settings()
    if nation is not None:
        settings = settings.model_copy(update={"nation": nation.strip().upper()})
    try:
        calendar = settings.calendar()
        received_at = parse_received(received, calendar)
        ack = parse_day(acknowledged, "--acknowledged") if acknowledged is not None else None
        result = code_deadlines(received_at, calendar=calendar, timescales=CODE_2024, acknowledged=ack)
    except CalendarError as exc:
        raise BadInputError(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    show(result, received_at, calendar, acknowledged=ack)


def show(result: CodeDeadlines, received_at: datetime, calendar: WorkingCalendar, *, acknowledged: date | None) -> None:
    local = received_at.astimezone(calendar.zone)
    console.print(
        f"Received {local:%a %d %b %Y %H:%M %Z}, so counted from {result.received_day:%a %d %b %Y} "
        f"(cut-off {calendar.receipt.cutoff:%H:%M}, {calendar.nation} bank holidays). "
        f"Each step is due by the end of its day, {calendar.zone.key} time."
    )
    s1, s2 = CODE_2024.stage1, CODE_2024.stage2
    ack = f"ack {acknowledged:%d %b}" if acknowledged else "ack due"
    table = Table("Code", "step", "due", "working days", title="Deadlines")
    rows = [
        ("6.2", "stage 1 acknowledge", result.stage1_ack_due, f"{s1.acknowledge} from receipt"),
        ("6.3", "stage 1 response", result.stage1_response_due, f"{s1.respond} from {ack}"),
        ("6.4", "stage 1 extension limit", result.stage1_extension_limit, f"{s1.extension_limit} more"),
        ("6.11", "stage 2 acknowledge", result.stage2_ack_due, f"{s2.acknowledge} from escalation"),
        ("6.14", "stage 2 response", result.stage2_response_due, f"{s2.respond} from {ack}"),
        ("6.15", "stage 2 extension limit", result.stage2_extension_limit, f"{s2.extension_limit} more"),
    ]
    for code, step, day, counted in rows:
        table.add_row(code, step, f"{day:%a %d %b %Y}", counted)
    console.print(table)
