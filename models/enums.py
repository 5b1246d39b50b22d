"""The closed vocabularies of the domain: labels, channels, statuses and roles."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where an inbound message came from."""

    EMAIL = "email"
    CHAT = "chat"


class ContactChannel(StrEnum):
    """How a resident prefers to hear from us, and how correspondence travelled."""

    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in_person"
    INTERNAL = "internal"


class MessageStatus(StrEnum):
    NEW = "new"
    CLASSIFIED = "classified"
    AWAITING_REVIEW = "awaiting_review"
    TRIAGED = "triaged"
    AUTO_GENERATED = "auto_generated"
    QUARANTINED = "quarantined"


# Stored and not yet decided by staff. NEW after commit means the classifier did not label it (it failed or
# was off): staff must still see it, so everything that shows or counts the queue uses both.
AWAITING_STAFF = (MessageStatus.NEW, MessageStatus.AWAITING_REVIEW)


class Label(StrEnum):
    """The classifier's and the triager's label for a message (labelling guide)."""

    COMPLAINT = "complaint"
    SERVICE_REQUEST = "service_request"
    SURVEY_FEEDBACK = "survey_feedback"
    OTHER = "other"


class CaseKind(StrEnum):
    COMPLAINT = "complaint"
    SERVICE_REQUEST = "service_request"
    SURVEY_FEEDBACK = "survey_feedback"


class CaseStatus(StrEnum):
    """One status set for all case kinds; which ones a kind may use is a lifecycle rule."""

    # complaints
    RECEIVED = "received"
    STAGE1_OPEN = "stage1_open"
    STAGE1_RESPONDED = "stage1_responded"
    STAGE2_REQUESTED = "stage2_requested"
    STAGE2_OPEN = "stage2_open"
    STAGE2_RESPONDED = "stage2_responded"
    EXCLUDED = "excluded"
    # service requests and survey feedback
    OPEN = "open"
    # every kind
    CLOSED = "closed"


class StaffRole(StrEnum):
    TRIAGE = "triage"
    HANDLER = "handler"
    COMPLAINTS_OFFICER = "complaints_officer"
    ADMIN = "admin"


class DeadlineKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESPOND = "respond"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Party(StrEnum):
    """Who is on the other end of a piece of correspondence (Code 5.12: resident and other parties)."""

    RESIDENT = "resident"
    REPRESENTATIVE = "representative"
    STAFF = "staff"
    CONTRACTOR = "contractor"
    OMBUDSMAN = "ombudsman"
    OTHER = "other"


class OutboxChannel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Hazard(StrEnum):
    """Possible health and safety hazards (Awaab's Law) a message may describe."""

    DAMP_MOULD = "damp_mould"
    GAS = "gas"
    ELECTRICAL = "electrical"
    FIRE = "fire"
    WATER_LEAK = "water_leak"
    NO_HEATING = "no_heating"
    STRUCTURAL = "structural"
    SECURITY = "security"


class ExclusionHint(StrEnum):
    """Code 2.2 reasons a complaint may be excluded; software only ever suggests one."""

    OVER_12_MONTHS = "over_12_months"
    LEGAL_PROCEEDINGS = "legal_proceedings"
    PREVIOUSLY_CONSIDERED = "previously_considered"


class StageDecision(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"


class SupportNeedKind(StrEnum):
    """Code 5.10: what was disclosed and what was agreed."""

    VULNERABILITY = "vulnerability"
    REASONABLE_ADJUSTMENT = "reasonable_adjustment"
