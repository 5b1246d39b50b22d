from __future__ import annotations

import typer

from bot.commands.context import console
from bot.settings import load_settings
from models.database import upgrade as upgrade_schema

app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create the database, or upgrade it to this version's schema. Safe to run again."""
    db = load_settings().database()
    before, after = upgrade_schema(db)
    if before == after:
        console.print(f"Database {db.display_url} is already at schema {after}; nothing to do.")
    else:
        console.print(f"Database {db.display_url} upgraded from {before or 'empty'} to schema {after}.")
