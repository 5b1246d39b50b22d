from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.commands.context import console, database_session, now
from models.enums import StaffRole
from models.people import StaffMemberCreate
from models.repository.audit import record_event
from models.repository.staff import add_staff, clean_username, list_staff

app = typer.Typer(help="The allow-list of staff who may act on cases.", no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Work email; reminders go here.")],
    role: Annotated[list[StaffRole], typer.Option(help="Role; repeat for several.")],
    telegram_id: Annotated[int | None, typer.Option(help="Telegram user id, to act from chat.")] = None,
    telegram_username: Annotated[
        str | None, typer.Option(help="Telegram @username, so others can /assign to them; refreshed from chat.")
    ] = None,
) -> None:
    """Add a staff member to the allow-list."""
    with database_session() as session:
        when = now()
        member = add_staff(
            session,
            data=StaffMemberCreate(
                name=name,
                email=email,
                roles=role,
                telegram_user_id=telegram_id,
                telegram_username=clean_username(telegram_username),
            ),
            now=when,
        )
        record_event(
            session,
            action="staff_added",
            actor="cli",
            now=when,
            detail={"staff_id": member.id, "roles": [r.value for r in role]},
        )
        session.commit()
        console.print(f"Added {member.name} (id {member.id}) as {', '.join(r.value for r in role)}.")


@app.command("list")
def list_() -> None:
    """List staff, active and inactive."""
    with database_session() as session:
        members = list_staff(session)
    table = Table("id", "name", "email", "telegram", "roles", "active", title="Staff")
    for m in members:
        table.add_row(
            str(m.id),
            m.name,
            m.email,
            str(m.telegram_user_id or "") + (f" @{m.telegram_username}" if m.telegram_username else ""),
            ", ".join(str(r) for r in m.roles),
            "yes" if m.active else "no",
        )
    console.print(table if members else "No staff yet: add one with `triage staff add`.")
