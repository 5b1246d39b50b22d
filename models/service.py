"""Liveness of the service's long-running parts, for `triage status` and for staff who wonder why it is quiet."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class ServiceHeartbeat(SQLModel, table=True):
    """The last time one part of the service (e.g. "telegram", "scheduler", "outbox") did its work."""

    __tablename__ = "service_heartbeat"

    name: str = Field(primary_key=True, max_length=64)
    last_ok_at: datetime = Field(sa_type=UTCDateTime)
    detail: str | None = Field(default=None, max_length=500)
