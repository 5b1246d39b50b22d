"""Column types shared by every table.

SQLite has no time zones, so timestamps are stored as naive UTC there and handed back as aware UTC
everywhere: application code only ever sees tz-aware datetimes.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that refuses naive datetimes and always comes back in UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_class: type[enum.Enum]) -> sa.Enum:
    """Store an enum by value as a plain string column (no native PostgreSQL enum to migrate)."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def json_type() -> Any:
    """JSON on SQLite, JSONB-compatible JSON on PostgreSQL."""
    return sa.JSON()


class HasId(Protocol):
    id: int | None


def row_id(row: HasId) -> int:
    """The primary key of a row that must already be flushed; a None here is a bug of ours."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it before use")
    return row.id
