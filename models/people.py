"""Residents and staff, with what the Code asks us to remember about them (5.10, 5.14, 5.15)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import ContactChannel, StaffRole, SupportNeedKind
from models.types import UTCDateTime, enum_type, json_type


class ResidentBase(SQLModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=40)
    telegram_user_id: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    tenancy_ref: str | None = Field(default=None, max_length=64, index=True)
    address: str | None = Field(default=None, max_length=500)
    preferred_channel: ContactChannel = Field(default=ContactChannel.EMAIL, sa_type=enum_type(ContactChannel))
    # An unknown sender gets a provisional record until staff or the resident confirm who they are.
    provisional: bool = False


class Resident(ResidentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # When the chat offered to link this Telegram user to their tenancy: the offer is made once only.
    link_offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ResidentCreate(ResidentBase):
    pass


class ResidentRead(ResidentBase):
    id: int
    created_at: datetime


class SupportNeed(SQLModel, table=True):
    """A disclosed vulnerability or an agreed reasonable adjustment, kept under review (Code 5.10)."""

    __tablename__ = "support_need"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    kind: SupportNeedKind = Field(sa_type=enum_type(SupportNeedKind))
    description: str = Field(max_length=2000)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="staff_member.id")
    review_on: date | None = None
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ContactRestriction(SQLModel, table=True):
    """A proportionate, evidenced and reviewed restriction on contact (Code 5.14, 5.15)."""

    __tablename__ = "contact_restriction"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    description: str = Field(max_length=2000)
    reason: str = Field(max_length=2000)
    decided_by_id: int = Field(foreign_key="staff_member.id")
    starts_on: date
    review_on: date
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffMemberBase(SQLModel):
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    telegram_user_id: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    # The @username staff are addressed by in chat (/assign REF @name); refreshed when they use the bot.
    telegram_username: str | None = Field(default=None, max_length=64, index=True)
    roles: list[StaffRole] = Field(default_factory=list, sa_type=json_type())
    active: bool = True


class StaffMember(StaffMemberBase, table=True):
    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)

    def has_role(self, role: StaffRole) -> bool:
        return role.value in {str(r) for r in self.roles}


class StaffMemberCreate(StaffMemberBase):
    pass


class StaffMemberRead(StaffMemberBase):
    id: int
    created_at: datetime
