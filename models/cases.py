"""Cases (complaints, service requests, survey feedback) with their deadlines and extensions."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.enums import CaseKind, CaseStatus, DeadlineKind, Hazard, StageDecision
from models.types import UTCDateTime, enum_type, json_type


class CaseBase(SQLModel):
    kind: CaseKind = Field(sa_type=enum_type(CaseKind))
    # Human reference such as CMP-2026-00042; see models.references.
    reference: str = Field(max_length=32, unique=True)
    status: CaseStatus = Field(sa_type=enum_type(CaseStatus), index=True)
    stage: int | None = None
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    # Code 5.6: the landlord's understanding of the complaint and the outcomes the resident seeks.
    definition: str | None = Field(default=None, sa_type=sa.Text)
    outcomes_sought: str | None = Field(default=None, sa_type=sa.Text)
    # Code 5.7: what the landlord is and is not responsible for, told in the acknowledgement.
    responsible_aspects: str | None = Field(default=None, sa_type=sa.Text)
    not_responsible_aspects: str | None = Field(default=None, sa_type=sa.Text)
    categories: list[str] = Field(default_factory=list, sa_type=json_type())
    hazard: Hazard | None = Field(default=None, sa_type=enum_type(Hazard))
    # Exact time the complaint (or request) was received, as Code 5.12 asks.
    received_at: datetime = Field(sa_type=UTCDateTime)


class Case(CaseBase, table=True):
    __tablename__ = "triage_case"
    __table_args__ = (
        sa.CheckConstraint("stage IS NULL OR stage IN (1, 2)", name="ck_case_two_stages_only"),
        sa.CheckConstraint(
            "stage1_handler_id IS NULL OR stage2_handler_id IS NULL OR stage1_handler_id <> stage2_handler_id",
            name="ck_case_stage2_handler_differs",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage1_handler_id: int | None = Field(default=None, foreign_key="staff_member.id")
    stage2_handler_id: int | None = Field(default=None, foreign_key="staff_member.id")
    # Code 1.5: the service request a complaint is about; the request stays open on its own terms.
    linked_service_request_id: int | None = Field(default=None, foreign_key="triage_case.id")
    exclusion_reason: str | None = Field(default=None, sa_type=sa.Text)
    excluded_by_id: int | None = Field(default=None, foreign_key="staff_member.id")
    excluded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalation_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class CaseRead(CaseBase):
    id: int
    stage1_handler_id: int | None
    stage2_handler_id: int | None
    linked_service_request_id: int | None
    exclusion_reason: str | None
    closed_at: datetime | None


class StageResponse(SQLModel, table=True):
    """The response at one stage (Code 6.9, 6.19)."""

    __tablename__ = "stage_response"
    __table_args__ = (sa.UniqueConstraint("case_id", "stage"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="triage_case.id", index=True)
    stage: int
    decision: StageDecision = Field(sa_type=enum_type(StageDecision))
    reasons: str = Field(sa_type=sa.Text)
    remedy: str | None = Field(default=None, sa_type=sa.Text)
    outstanding_actions: str | None = Field(default=None, sa_type=sa.Text)
    responded_by_id: int = Field(foreign_key="staff_member.id")
    responded_at: datetime = Field(sa_type=UTCDateTime)


class Deadline(SQLModel, table=True):
    """A Code timescale on a case. `due_at` is the end of the due working day, in UTC."""

    __table_args__ = (
        sa.UniqueConstraint("case_id", "stage", "kind"),
        sa.Index("ix_deadline_open_due", "met_at", "due_at"),
        sa.Index("ix_deadline_open_due_on", "met_at", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="triage_case.id", index=True)
    stage: int
    kind: DeadlineKind = Field(sa_type=enum_type(DeadlineKind))
    due_on: date
    due_at: datetime = Field(sa_type=UTCDateTime)
    # The due date before any extension, so reports can tell "on time" from "on time after extension".
    original_due_on: date
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Reminder state, so a sweep finds only what is newly due: the smallest offset (working days
    # before the due date) already reminded, and the last day an overdue notice went out.
    reminded_offset: int | None = None
    overdue_notice_on: date | None = None


class Extension(SQLModel, table=True):
    """Working days added to a response deadline (Code 6.4, 6.15)."""

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    working_days: int
    reason: str = Field(sa_type=sa.Text)
    # Needed when the stage's total extension goes past the Code's limit.
    good_reason: str | None = Field(default=None, sa_type=sa.Text)
    decided_by_id: int = Field(foreign_key="staff_member.id")
    decided_at: datetime = Field(sa_type=UTCDateTime)
    resident_informed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def has_good_reason(self) -> bool:
        return bool(self.good_reason)


class ReferenceCounter(SQLModel, table=True):
    """Last number handed out per reference prefix and year, e.g. ("CMP", 2026) -> 42."""

    __tablename__ = "reference_counter"

    prefix: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True)
    last_value: int = 0
