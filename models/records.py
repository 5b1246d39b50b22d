"""The full record of a case (Code 5.12) and the audit trail of staff actions."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import ContactChannel, Direction, Party
from models.types import UTCDateTime, enum_type, json_type


class Correspondence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="triage_case.id", index=True)
    direction: Direction = Field(sa_type=enum_type(Direction))
    channel: ContactChannel = Field(sa_type=enum_type(ContactChannel))
    party: Party = Field(sa_type=enum_type(Party))
    party_name: str | None = Field(default=None, max_length=320)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(default="", sa_type=sa.Text)
    inbound_message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    outbox_item_id: int | None = Field(default=None, foreign_key="outbox_item.id")


class AuditEvent(SQLModel, table=True):
    """Who did what, to which case or message, and when. Staff actions are never silent."""

    __tablename__ = "audit_event"
    # The bot asks "which messages have a card?" on every run: answer it from the index alone.
    __table_args__ = (sa.Index("ix_audit_event_action_message", "action", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_staff_id: int | None = Field(default=None, foreign_key="staff_member.id")
    # "staff", "system", "resident" or a job name, so that automatic actions are attributable too.
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    case_id: int | None = Field(default=None, foreign_key="triage_case.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="inbound_message.id", index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=json_type())
