from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.commands.context import console, database_session, now
from models.enums import CaseKind
from models.errors import NotFoundError
from models.repository.cases import CaseRecord, case_by_reference, list_cases, load_record

app = typer.Typer(help="Complaints, service requests and survey feedback.", no_args_is_help=True)
LONDON = ZoneInfo("Europe/London")


def local(value: datetime | None) -> str:
    return value.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if value else ""


@app.command("list")
def list_(
    kind: Annotated[CaseKind | None, typer.Option(help="Only this kind of case.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only open cases with a deadline already passed.")] = False,
) -> None:
    """List cases, newest first, with their next deadline."""
    with database_session() as session:
        rows = list_cases(session, kind=kind, overdue_at=now() if overdue else None)
    if not rows:
        console.print("No overdue cases." if overdue else "No cases yet.")
        return
    table = Table(
        "reference",
        "kind",
        "status",
        "stage",
        "received",
        "next deadline",
        title="Overdue cases" if overdue else "Cases",
    )
    for row in rows:
        c = row.case
        table.add_row(
            c.reference, c.kind.value, c.status.value, str(c.stage or ""), local(c.received_at), local(row.next_due_at)
        )
    console.print(table)


@app.command("show")
def show(reference: Annotated[str, typer.Argument(help="e.g. CMP-2026-00042")]) -> None:
    """The full record of one case: messages, classification, decisions, deadlines, correspondence, audit."""
    with database_session() as session:
        case = case_by_reference(session, reference=reference)
        if case is None:
            raise NotFoundError(f"no case with reference {reference!r}")
        record = load_record(session, case=case)
    render_record(record)


def render_record(record: CaseRecord) -> None:
    c = record.case
    console.rule(f"{c.reference} · {c.kind.value} · {c.status.value}")
    console.print(f"Received {local(c.received_at)}" + (f" · stage {c.stage}" if c.stage else ""))
    if record.resident:
        r = record.resident
        console.print(f"Resident: {r.name or '(name not known)'} <{r.email or 'no email'}>")
    if c.definition:
        console.print(f"Complaint definition: {c.definition}")
    if c.outcomes_sought:
        console.print(f"Outcomes sought: {c.outcomes_sought}")
    if c.exclusion_reason:
        console.print(f"Excluded: {c.exclusion_reason}")

    table = Table("received", "channel", "from", "subject", "classified as", title="Messages")
    for m in record.messages:
        labels = "; ".join(
            f"{k.label.value} {k.confidence:.2f} ({k.model_version})" for k in record.classifications.get(m.id or 0, [])
        )
        table.add_row(local(m.received_at), m.channel.value, m.sender_address, m.subject or "", labels)
    console.print(table)

    table = Table("decided", "staff id", "label", "definition", title="Triage decisions")
    for d in record.decisions:
        table.add_row(local(d.decided_at), str(d.staff_id), d.label.value, d.definition or "")
    console.print(table)

    table = Table("stage", "deadline", "due", "originally", "met", "extensions", title="Deadlines")
    for dl in record.deadlines:
        exts = "; ".join(f"+{e.working_days} WD: {e.reason}" for e in record.extensions.get(dl.id or 0, []))
        table.add_row(
            str(dl.stage),
            dl.kind.value,
            dl.due_on.isoformat(),
            dl.original_due_on.isoformat(),
            local(dl.met_at) or "not yet",
            exts,
        )
    console.print(table)

    for resp in record.responses:
        console.print(
            f"Stage {resp.stage} response {local(resp.responded_at)}: {resp.decision.value}. "
            f"{resp.reasons}" + (f" Remedy: {resp.remedy}" if resp.remedy else "")
        )

    table = Table("when", "direction", "channel", "party", "subject", title="Correspondence (Code 5.12)")
    for corr in record.correspondence:
        table.add_row(
            local(corr.occurred_at), corr.direction.value, corr.channel.value, corr.party.value, corr.subject or ""
        )
    console.print(table)

    table = Table("when", "who", "action", "detail", title="Audit")
    for ev in record.audit:
        who = f"{ev.actor} {ev.actor_staff_id}" if ev.actor_staff_id else ev.actor
        table.add_row(local(ev.occurred_at), who, ev.action, ", ".join(f"{k}={v}" for k, v in ev.detail.items()))
    console.print(table)
