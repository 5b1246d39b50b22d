"""Every message we send goes through here first, once, identified by an idempotency key."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import OutboxChannel, OutboxStatus, Party
from models.types import UTCDateTime, enum_type, json_type


class OutboxItem(SQLModel, table=True):
    __tablename__ = "outbox_item"
    __table_args__ = (sa.Index("ix_outbox_item_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # e.g. "ack:CMP-2026-00042:stage1": writing the same key twice is a no-op.
    idempotency_key: str = Field(max_length=200, unique=True)
    channel: OutboxChannel = Field(sa_type=enum_type(OutboxChannel))
    recipient: str = Field(max_length=320)
    subject: str | None = Field(default=None, max_length=998)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    headers: dict[str, Any] = Field(default_factory=dict, sa_type=json_type())
    # The Message-ID we send with, so a reply or a bounce finds its way back to the case.
    message_id_header: str | None = Field(default=None, max_length=998, index=True)
    case_id: int | None = Field(default=None, foreign_key="triage_case.id", index=True)
    # Who it is for; once sent it is recorded as correspondence on the case with this party (Code 5.12).
    party: Party = Field(default=Party.RESIDENT, sa_type=enum_type(Party))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=enum_type(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
