"""Engines, schema status and migrations. Takes a `DatabaseSettings`; never reads the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from models.errors import DomainError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(DomainError):
    """The database is missing, unreachable or not at the current schema; the message says what to do."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, fit for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def sqlite_path(self) -> Path | None:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin, so SAVEPOINTs work (SQLAlchemy's
    # documented recipe for the pysqlite driver).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "triage_read_only"


def _sqlite_begin(connection: sa.Connection) -> None:
    """Take SQLite's write lock at BEGIN, so that waiting is done by busy_timeout.

    A deferred transaction that reads and then writes fails at once with "database is locked" if
    another connection wrote in between (it cannot upgrade its snapshot), which busy_timeout cannot
    help; every write path here reads first. Long read-only work (reports) asks for a deferred
    transaction with `read_only(engine)`, so that it never holds writers up.
    """
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """The same engine and pool, for work that only reads: on SQLite it does not take the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(settings: DatabaseSettings, **kwargs: Any) -> Engine:
    """An engine with foreign keys on and WAL for SQLite files; pre-ping for PostgreSQL.

    Errors never carry their SQL parameters (residents' words, names, addresses), so a logged traceback
    cannot leak them."""
    if settings.is_sqlite:
        engine = sa.create_engine(settings.url, echo=settings.echo, hide_parameters=True, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        if settings.sqlite_path() is not None:
            sa.event.listen(engine, "connect", _sqlite_wal)
        return engine
    return sa.create_engine(settings.url, echo=settings.echo, pool_pre_ping=True, hide_parameters=True, **kwargs)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:
        raise DatabaseError(f"the migrations have {len(heads)} heads; they must have exactly one")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"cannot connect to the database: {_first_line(exc)}") from exc


def upgrade(settings: DatabaseSettings) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after)."""
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    try:
        before = current_revision(engine)
        with engine.begin() as connection:
            config = alembic_config(settings.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return before, head_revision()
    finally:
        engine.dispose()


def require_current_schema(settings: DatabaseSettings, engine: Engine) -> None:
    """Refuse to run on a missing or un-migrated database, saying which command fixes it."""
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        raise DatabaseError(f"no database at {path}: run `triage db upgrade` to create it")
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise DatabaseError(f"the database at {settings.display_url} has no schema: run `triage db upgrade`")
    if current != head:
        raise DatabaseError(
            f"the database is at schema revision {current} but this version needs {head}: run `triage db upgrade`"
        )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
