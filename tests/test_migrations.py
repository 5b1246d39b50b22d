"""Alembic migrations: one head, idempotent upgrade, and a schema identical to the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from models.database import (
    MIGRATIONS_DIR,
    DatabaseError,
    DatabaseSettings,
    head_revision,
    make_engine,
    require_current_schema,
    upgrade,
)


def test_migrations_form_one_chain_ending_at_the_newest_file() -> None:
    """Numbered files, each revising the one before: two engineers adding a migration at once shows here."""
    versions = sorted(p.stem.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert versions == [f"{n:04d}" for n in range(1, len(versions) + 1)]
    assert head_revision() == versions[-1]


def test_upgrade_creates_the_models_schema_and_a_second_upgrade_is_a_no_op(database_url: str) -> None:
    settings = DatabaseSettings(database_url)
    assert upgrade(settings) == (None, head_revision())
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO reference_counter (prefix, year, last_value) VALUES ('CMP', 2026, 41)"))
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
        assert diff == []
        assert upgrade(settings) == (head_revision(), head_revision())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT last_value FROM reference_counter")).scalar() == 41
        require_current_schema(settings, engine)
    finally:
        engine.dispose()


def test_an_unmigrated_database_is_refused_with_the_command_to_run(database_url: str) -> None:
    settings = DatabaseSettings(database_url)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:  # an existing but empty database
            conn.execute(sa.text("CREATE TABLE unrelated (id INTEGER)"))
        with pytest.raises(DatabaseError, match=r"has no schema: run `triage db upgrade`"):
            require_current_schema(settings, engine)
        upgrade(settings)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(DatabaseError, match=rf"revision 0000 but this version needs {head_revision()}"):
            require_current_schema(settings, engine)
    finally:
        engine.dispose()


def test_a_missing_sqlite_file_is_not_created_behind_the_users_back(tmp_path: object) -> None:
    settings = DatabaseSettings(f"sqlite:///{tmp_path}/nowhere/triage.db")
    engine = make_engine(settings)
    with pytest.raises(DatabaseError, match=r"no database at .*triage\.db: run `triage db upgrade`"):
        require_current_schema(settings, engine)
    assert settings.sqlite_path() is not None and not settings.sqlite_path().exists()  # type: ignore[union-attr]
