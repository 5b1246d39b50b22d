"""What the classifier said about a message, and what a person decided."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import ExclusionHint, Hazard, Label
from models.types import UTCDateTime, enum_type, json_type


class Classification(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("message_id", "model_version"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="inbound_message.id", index=True)
    model_version: str = Field(max_length=64)
    label: Label = Field(sa_type=enum_type(Label))
    confidence: float
    scores: dict[str, float] = Field(default_factory=dict, sa_type=json_type())
    needs_review: bool = False
    categories: list[str] = Field(default_factory=list, sa_type=json_type())
    hazard: Hazard | None = Field(default=None, sa_type=enum_type(Hazard))
    vulnerability: bool = False
    third_party: bool = False
    exclusion_hint: ExclusionHint | None = Field(default=None, sa_type=enum_type(ExclusionHint))
    definition_summary: str | None = Field(default=None, sa_type=sa.Text)
    definition_outcome: str | None = Field(default=None, sa_type=sa.Text)
    needs_clarification: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)


class TriageDecision(SQLModel, table=True):
    """A staff member's one-tap decision. One per message: the first decision wins."""

    __tablename__ = "triage_decision"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="inbound_message.id", unique=True)
    classification_id: int | None = Field(default=None, foreign_key="classification.id")
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    label: Label = Field(sa_type=enum_type(Label))
    definition: str | None = Field(default=None, sa_type=sa.Text)
    case_id: int | None = Field(default=None, foreign_key="triage_case.id")
