"""Satisfaction surveys the landlord sends after a service request, and the replies to them (Code 1.6)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import ContactChannel
from models.types import UTCDateTime, enum_type


class SurveyRequest(SQLModel, table=True):
    """One question sent to one resident about one service request; a reply answers their latest open one."""

    __tablename__ = "survey_request"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="triage_case.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    channel: ContactChannel = Field(sa_type=enum_type(ContactChannel))
    question: str = Field(sa_type=sa.Text)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    outbox_item_id: int | None = Field(default=None, foreign_key="outbox_item.id")
    # Filled in when the resident answers: the stored reply, the score they gave (1-5) if any, and when.
    answer_message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    score: int | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
