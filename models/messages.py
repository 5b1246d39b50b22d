"""Inbound messages from every channel, stored before anything else happens to them."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import Channel, MessageStatus
from models.types import UTCDateTime, enum_type


class InboundMessageBase(SQLModel):
    channel: Channel = Field(sa_type=enum_type(Channel))
    # Where the message came from, unique per source: "imap:<mailbox>:<uidvalidity>:<uid>" or
    # "telegram:<chat id>:<message id>". Storing the same source twice is a no-op.
    source_key: str = Field(max_length=500, unique=True)
    message_id_header: str | None = Field(default=None, max_length=998, index=True)
    content_hash: str = Field(max_length=64, index=True)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    sender_address: str = Field(max_length=320)
    sender_name: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=998)
    body_text: str = Field(default="", sa_type=sa.Text)
    new_text: str = Field(default="", sa_type=sa.Text)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: str | None = Field(default=None, sa_type=sa.Text)
    raw_ref: str | None = Field(default=None, max_length=1000)
    raw_size: int = 0


class InboundMessage(InboundMessageBase, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (
        sa.Index("ix_inbound_message_status_received", "status", "received_at"),
        sa.Index("ix_inbound_message_sender_received", "sender_address", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="triage_case.id", index=True)
    status: MessageStatus = Field(default=MessageStatus.NEW, sa_type=enum_type(MessageStatus))
    # Why a message is auto_generated or quarantined, in words a person can act on.
    status_reason: str | None = Field(default=None, max_length=2000)
    # For a reply on a case: how the Code reads it in context, e.g. an escalation request (6.10).
    thread_hint: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


class InboundMessageCreate(InboundMessageBase):
    pass


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="inbound_message.id", index=True)
    filename: str | None = Field(default=None, max_length=500)
    content_type: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    # Path of the stored content, or None when it was over the size limit and only metadata is kept.
    storage_ref: str | None = Field(default=None, max_length=1000)
