"""What every command needs: settings, a checked database, and the clock, read here at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import TriageSettings, load_settings
from models.database import make_engine, read_only, require_current_schema

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def checked_engine(settings: TriageSettings | None = None) -> Iterator[Engine]:
    """An engine on the configured database, refusing a missing or un-migrated one; disposed afterwards."""
    db = (settings or load_settings()).database()
    engine = make_engine(db)
    try:
        # The check only reads: on SQLite it must not take the write lock from a running service.
        require_current_schema(db, read_only(engine))
        yield engine
    finally:
        engine.dispose()


@contextmanager
def database_session(settings: TriageSettings | None = None) -> Iterator[Session]:
    """A session on the configured database, refusing a missing or un-migrated one."""
    with checked_engine(settings) as engine, Session(engine, expire_on_commit=False) as session:
        yield session
