"""`triage status`: what the service is doing, read from the database alone (works with it stopped)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.commands.context import console, database_session, now
from bot.commands.run import ConfigOption, settings_or_exit
from bot.settings import config_path
from models.enums import MessageStatus, OutboxStatus
from models.repository.status import ServiceStatus, service_status
from models.timescales import CODE_2024
from scheduler.calendar import CalendarError, WorkingCalendar
from scheduler.deadlines import code_deadlines

PARTS = ("telegram", "scheduler", "outbox")


def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Queues, overdue deadlines, outbox failures and when each part of the service last worked."""
    settings = settings_or_exit(config_path(config))
    moment = now()
    with database_session(settings) as session:
        snapshot = service_status(session, now=moment)
    calendar = settings.calendar()
    ack_due = acknowledgement_due(snapshot, calendar)
    report = as_report(snapshot, moment, ack_due)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    show(report, calendar.zone)


def acknowledgement_due(snapshot: ServiceStatus, calendar: WorkingCalendar) -> datetime | None:
    """When the oldest unreviewed message must be acknowledged (Code 6.2): end of that working day."""
    oldest = snapshot.oldest_awaiting
    if oldest is None:
        return None
    try:
        due = code_deadlines(oldest.received_at, calendar=calendar, timescales=CODE_2024).stage1_ack_due
    except CalendarError:
        return None
    return calendar.end_of_day(due)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def as_report(snapshot: ServiceStatus, moment: datetime, ack_due: datetime | None) -> dict[str, Any]:
    """The status as plain JSON-ready data; the tables are drawn from this too."""
    oldest = snapshot.oldest_awaiting
    failure = snapshot.oldest_failure
    return {
        "as_of": moment.isoformat(),
        "messages": {
            "awaiting_review": snapshot.awaiting_review,
            "by_status": {s.value: snapshot.messages.get(s, 0) for s in MessageStatus},
            "oldest_awaiting_review": None
            if oldest is None
            else {
                "message_id": oldest.id,
                "channel": oldest.channel.value,
                "received_at": oldest.received_at.isoformat(),
                "acknowledge_by": _iso(ack_due),
                "acknowledgement_overdue": ack_due is not None and ack_due < moment,
            },
        },
        "open_cases": [{"kind": c.kind.value, "status": c.status.value, "count": c.count} for c in snapshot.open_cases],
        "overdue_deadlines": {
            "count": snapshot.overdue,
            "most_overdue": [
                {
                    "reference": d.reference,
                    "case_kind": d.case_kind.value,
                    "stage": d.stage,
                    "deadline": d.kind.value,
                    "due_at": d.due_at.isoformat(),
                }
                for d in snapshot.most_overdue
            ],
        },
        "outbox": {
            "pending": snapshot.outbox.get(OutboxStatus.PENDING, 0),
            "sending": snapshot.outbox.get(OutboxStatus.SENDING, 0),
            "failed": snapshot.outbox.get(OutboxStatus.FAILED, 0),
            "sent": snapshot.outbox.get(OutboxStatus.SENT, 0),
            "oldest_failure": None
            if failure is None
            else {
                "item_id": failure.id,
                "key": failure.key,
                "channel": failure.channel.value,
                "created_at": failure.created_at.isoformat(),
                "error": failure.last_error,
            },
        },
        "last_imap_success": {m.mailbox: _iso(m.last_success_at) for m in snapshot.mailboxes},
        "heartbeats": {
            name: None
            if (beat := snapshot.heartbeats.get(name)) is None
            else {"last_ok_at": beat.last_ok_at.isoformat(), "detail": beat.detail}
            for name in sorted({*PARTS, *snapshot.heartbeats})
        },
    }


def show(report: dict[str, Any], zone: ZoneInfo) -> None:
    def local(value: str | None) -> str:
        return datetime.fromisoformat(value).astimezone(zone).strftime("%a %d %b %Y %H:%M") if value else "never"

    messages, outbox, overdue = report["messages"], report["outbox"], report["overdue_deadlines"]
    table = Table("queue", "count", "detail", title=f"Status at {local(report['as_of'])}")
    oldest = messages["oldest_awaiting_review"]
    detail = ""
    if oldest is not None:
        late = " (OVERDUE)" if oldest["acknowledgement_overdue"] else ""
        detail = (
            f"oldest: message {oldest['message_id']} by {oldest['channel']}, received {local(oldest['received_at'])}, "
            f"acknowledge by {local(oldest['acknowledge_by'])}{late}"
        )
    table.add_row("awaiting review", str(messages["awaiting_review"]), detail)
    by_status = messages["by_status"]
    table.add_row("not yet classified", str(by_status["new"] + by_status["classified"]), "")
    table.add_row("quarantined", str(by_status["quarantined"]), "a person must look at these")
    table.add_row("overdue deadlines", str(overdue["count"]), "")
    failure = outbox["oldest_failure"]
    failed_detail = ""
    if failure is not None:
        failed_detail = f"oldest: {failure['key']} ({failure['channel']}): {failure['error'] or ''}"
    table.add_row("outbox pending", str(outbox["pending"] + outbox["sending"]), "")
    table.add_row("outbox failed", str(outbox["failed"]), failed_detail)
    console.print(table)

    if overdue["most_overdue"]:
        table = Table("case", "kind", "stage", "deadline", "was due", title="Most overdue deadlines")
        for d in overdue["most_overdue"]:
            table.add_row(d["reference"], d["case_kind"], str(d["stage"]), d["deadline"], local(d["due_at"]))
        console.print(table)

    if report["open_cases"]:
        table = Table("kind", "status", "count", title="Open cases")
        for c in report["open_cases"]:
            table.add_row(c["kind"], c["status"], str(c["count"]))
        console.print(table)

    table = Table("part", "last worked", "detail", title="Service")
    for mailbox, when in report["last_imap_success"].items():
        table.add_row(f"email intake {mailbox}", local(when), "")
    if not report["last_imap_success"]:
        table.add_row("email intake", "never", "no mailbox has been read")
    for name, beat in report["heartbeats"].items():
        table.add_row(name, local(beat["last_ok_at"]) if beat else "never", (beat or {}).get("detail") or "")
    console.print(table)
