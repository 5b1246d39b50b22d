"""What every command needs: settings, a checked database, and the clock, read here at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.console import Console
from sqlmodel import Session

from bot.settings import TriageSettings, load_settings
from models.database import make_engine, require_current_schema

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def database_session(settings: TriageSettings | None = None) -> Iterator[Session]:
    """A session on the configured database, refusing a missing or un-migrated one."""
    db = (settings or load_settings()).database()
    engine = make_engine(db)
    try:
        require_current_schema(db, engine)
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
