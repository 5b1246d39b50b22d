"""Raw messages and attachment contents, stored by SHA-256 in the database itself.

Kept in the database (not beside it on disk) so that the commit that stores a message also stores
its bytes, and several service instances on one PostgreSQL server see the same record.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Blob(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


class MailboxCheckpoint(SQLModel, table=True):
    """How far intake has read one mailbox folder; a UIDVALIDITY change means a safe resync."""

    __tablename__ = "mailbox_checkpoint"

    mailbox: str = Field(primary_key=True, max_length=500)
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    last_uid: int = Field(default=0, sa_type=sa.BigInteger)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
