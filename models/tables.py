"""Imports every table module so that SQLModel's metadata knows the whole schema."""

from models.blobs import Blob, MailboxCheckpoint
from models.cases import Case, Deadline, Extension, ReferenceCounter, StageResponse
from models.classification import Classification, TriageDecision
from models.messages import Attachment, InboundMessage
from models.outbox import OutboxItem
from models.people import ContactRestriction, Resident, StaffMember, SupportNeed
from models.records import AuditEvent, Correspondence
from models.service import ServiceHeartbeat
from models.surveys import SurveyRequest

__all__ = [
    "Attachment",
    "AuditEvent",
    "Blob",
    "Case",
    "Classification",
    "ContactRestriction",
    "Correspondence",
    "Deadline",
    "Extension",
    "InboundMessage",
    "MailboxCheckpoint",
    "OutboxItem",
    "ReferenceCounter",
    "Resident",
    "ServiceHeartbeat",
    "StaffMember",
    "StageResponse",
    "SupportNeed",
    "SurveyRequest",
    "TriageDecision",
]
