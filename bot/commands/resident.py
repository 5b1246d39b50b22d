"""`triage resident export` and `triage resident erase`: one resident's personal data (UK GDPR).

Whether to erase is the landlord's decision: Code 5.12 asks for a full record of every complaint, and
limitation periods may justify keeping it. `erase` carries out a decision already made; it anonymises
rather than deletes, so complaint statistics (Code 8.1, TSM CH01/CH02) stay right.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.commands.context import console, database_session, now
from bot.settings import load_settings
from models.errors import DomainError
from models.repository.privacy import collect, erase_resident, find_resident, is_erased, staff_names
from models.subject_access import subject_access_document

app = typer.Typer(help="One resident's personal data: subject access export and erasure.", no_args_is_help=True)


@app.command("export")
def export(
    resident: Annotated[str | None, typer.Argument(help="Resident id, or email address (any case).")] = None,
    telegram: Annotated[int | None, typer.Option("--telegram", help="Find the resident by Telegram user id.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (readable by you only), not to stdout.")] = None,
) -> None:
    """Everything held about one resident as one JSON document (a UK GDPR subject access request).

    The resident record, support needs and contact restrictions, every message with its classification
    and triage decision, their cases with deadlines, extensions, responses and correspondence (Code 5.12),
    the letters sent to them, surveys, and the audit trail (who and when, not staff notes). Stored emails
    and attachments are listed by size and SHA-256, not included. Review it before sending: correspondence
    on their cases may include other people.
    """
    moment = now()
    with database_session() as session:
        found = find_resident(session, key=resident, telegram_user_id=telegram)
        footprint = collect(session, resident=found)
        document = subject_access_document(footprint, staff_names=staff_names(session), generated_at=moment)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    _write_private(out, text)
    console.print(
        f"Wrote resident {found.id}'s data ({len(footprint.messages)} messages, {len(footprint.cases)} cases) "
        f"to {out}.",
        markup=False,
    )


@app.command("erase")
def erase(
    resident_id: Annotated[int, typer.Argument(metavar="ID", help="The resident's id (see `triage resident export`).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. the request and the decision; kept in the audit trail.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase. Without it, only show what would be erased.")] = False,
    keep_tenancy_prefix: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep this leading part of the tenancy reference (the report's stock split); repeatable. "
            "Default: TRIAGE_LCHO_TENANCY_PREFIXES."
        ),
    ] = None,
) -> None:
    """Erase one resident's personal data; the complaint statistics stay right.

    Anonymises rather than deletes. Their name becomes "\\[erased]"; their email, phone, address, tenancy
    reference (all but a low-cost home ownership prefix, so CH01 still counts them as LCHO) and Telegram
    id are cleared; their words and the texts about them (messages, definitions, responses, correspondence,
    letters, notes) become "\\[erased]". Dates, stages, statuses, decisions and counts stay, so the Code 8.1
    report and TSM CH01/CH02 count the same. Messages still waiting to be sent to them are cancelled; their
    stored emails and attachments are deleted unless another message holds the same bytes. One
    "resident_erased" audit event keeps the reason and the counts. Erasing twice is harmless. Without --yes
    it only shows what would be erased.

    Whether to erase is the landlord's decision under its own retention policy: Code 5.12 asks for a full
    record of each complaint, and limitation periods or a live dispute may justify keeping it. Run this
    once that decision is made. It cannot reach backups, the mailbox the emails came from, or Telegram
    chats: deal with those too.
    """
    moment = now()
    settings = load_settings()
    keep = settings.report().lcho_tenancy_prefixes if keep_tenancy_prefix is None else keep_tenancy_prefix
    with database_session(settings) as session:
        found = find_resident(session, key=str(resident_id))
        if not yes:
            footprint = collect(session, resident=found)
            table = Table("table", "rows", title=f"Would erase resident {resident_id}'s personal data")
            for name, n in footprint.counts().items():
                table.add_row(name, str(n))
            console.print(table)
            open_cases = footprint.open_cases()
            if open_cases:
                refs = ", ".join(c.reference for c in open_cases)
                console.print(f"Still open, and would stay open with their texts erased: {refs}", markup=False)
            raise DomainError(f"nothing erased: add --yes to erase resident {resident_id}")
        already = is_erased(found)
        erasure = erase_resident(
            session,
            resident=found,
            reason=reason,
            actor="cli",
            now=moment,
            keep_tenancy_prefixes=keep,
        )
        session.commit()
    changed = {name: n for name, n in erasure.changed.items() if n}
    if not changed:
        console.print(f"Resident {resident_id} was already erased; nothing was left to change.")
        return
    what = ", ".join(f"{name} {n}" for name, n in changed.items())
    console.print(f"{'Erased again' if already else 'Erased'} resident {resident_id}: rows changed: {what}.")
    if erasure.cancelled_outbox_items:
        console.print(f"{erasure.cancelled_outbox_items} message(s) waiting to be sent were cancelled.")


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, created readable by its owner only: it is one person's personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
