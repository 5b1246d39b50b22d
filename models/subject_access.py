"""A resident's subject access export (UK GDPR art. 15): one JSON-ready document of everything held.

Pure: built from a `Footprint` (models.repository.privacy.collect) and the names of the staff it
mentions; the caller serialises it. The stored bytes of emails and attachments are not inlined but
listed by size and SHA-256, so the document stays readable and the landlord can add them on request.
Staff appear by name only: audit events carry who did what and when, never their internal detail.
The landlord reviews the document before sending it: correspondence filed on the resident's cases may
include other parties (Code 5.12), whose data may need redacting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from models.enums import Party
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.repository.privacy import Footprint, is_erased

FORMAT = "housing-triage subject access export, version 1"

# Staff member id -> their name, case id -> its reference (None in, None out).
Namer = Callable[[int | None], str | None]


def subject_access_document(
    footprint: Footprint, *, staff_names: Mapping[int, str], generated_at: datetime
) -> dict[str, Any]:
    """Everything held about one resident, grouped the way a person reads it: who they are, what they
    sent, their cases with the full record of each, the letters we sent them, surveys, and the audit trail."""
    fp = footprint
    r = fp.resident
    cases = {c.id: c for c in fp.cases}
    messages = {m.id: m for m in fp.messages}

    def staff(staff_id: int | None) -> str | None:
        return None if staff_id is None else staff_names.get(staff_id, f"staff member {staff_id}")

    def case_ref(case_id: int | None) -> str | None:
        case = cases.get(case_id) if case_id is not None else None
        return case.reference if case else None

    return {
        "format": FORMAT,
        "generated_at": _when(generated_at),
        "note": (
            "Everything this system holds about one resident. Stored emails and attachments are listed by "
            "size and SHA-256 rather than included; ask for copies. Staff are named, their internal notes are not."
        ),
        "resident": {
            "id": r.id,
            "erased": is_erased(r),
            "name": r.name,
            "email": r.email,
            "phone": r.phone,
            "address": r.address,
            "tenancy_ref": r.tenancy_ref,
            "telegram_user_id": r.telegram_user_id,
            "preferred_channel": r.preferred_channel.value,
            "provisional": r.provisional,
            "created_at": _when(r.created_at),
        },
        "support_needs": [
            {
                "kind": s.kind.value,
                "description": s.description,
                "recorded_at": _when(s.recorded_at),
                "recorded_by": staff(s.recorded_by_id),
                "review_on": _when(s.review_on),
                "ended_at": _when(s.ended_at),
            }
            for s in fp.support_needs
        ],
        "contact_restrictions": [
            {
                "description": c.description,
                "reason": c.reason,
                "decided_by": staff(c.decided_by_id),
                "starts_on": _when(c.starts_on),
                "review_on": _when(c.review_on),
                "ended_at": _when(c.ended_at),
            }
            for c in fp.contact_restrictions
        ],
        "messages": [_message(m, fp, staff, case_ref) for m in fp.messages],
        "cases": [
            {
                "reference": c.reference,
                "kind": c.kind.value,
                "status": c.status.value,
                "stage": c.stage,
                "received_at": _when(c.received_at),
                "definition": c.definition,
                "outcomes_sought": c.outcomes_sought,
                "responsible_aspects": c.responsible_aspects,
                "not_responsible_aspects": c.not_responsible_aspects,
                "categories": list(c.categories),
                "hazard": c.hazard.value if c.hazard else None,
                "stage1_handler": staff(c.stage1_handler_id),
                "stage2_handler": staff(c.stage2_handler_id),
                "linked_service_request": case_ref(c.linked_service_request_id),
                "exclusion_reason": c.exclusion_reason,
                "excluded_by": staff(c.excluded_by_id),
                "excluded_at": _when(c.excluded_at),
                "escalation_requested_at": _when(c.escalation_requested_at),
                "closed_at": _when(c.closed_at),
                "deadlines": [
                    {
                        "stage": d.stage,
                        "kind": d.kind.value,
                        "due_on": _when(d.due_on),
                        "original_due_on": _when(d.original_due_on),
                        "met_at": _when(d.met_at),
                        "extensions": [
                            {
                                "working_days": e.working_days,
                                "reason": e.reason,
                                "good_reason": e.good_reason,
                                "decided_by": staff(e.decided_by_id),
                                "decided_at": _when(e.decided_at),
                                "resident_informed_at": _when(e.resident_informed_at),
                            }
                            for e in fp.extensions
                            if e.deadline_id == d.id
                        ],
                    }
                    for d in sorted(fp.deadlines, key=lambda d: (d.stage, d.kind.value))
                    if d.case_id == c.id
                ],
                "stage_responses": [
                    {
                        "stage": s.stage,
                        "decision": s.decision.value,
                        "reasons": s.reasons,
                        "remedy": s.remedy,
                        "outstanding_actions": s.outstanding_actions,
                        "responded_by": staff(s.responded_by_id),
                        "responded_at": _when(s.responded_at),
                    }
                    for s in sorted(fp.stage_responses, key=lambda s: s.stage)
                    if s.case_id == c.id
                ],
                "correspondence": [
                    {
                        "occurred_at": _when(k.occurred_at),
                        "direction": k.direction.value,
                        "channel": k.channel.value,
                        "party": k.party.value,
                        "party_name": k.party_name,
                        "subject": k.subject,
                        "body": k.body,
                        "message": _message_ref(messages.get(k.inbound_message_id)),
                    }
                    for k in sorted(fp.correspondence, key=lambda k: (k.occurred_at, k.id or 0))
                    if k.case_id == c.id
                ],
            }
            for c in fp.cases
        ],
        "letters": [_letter(o, case_ref) for o in fp.outbox_items if o.party is not Party.STAFF],
        "survey_requests": [
            {
                "case": case_ref(s.case_id),
                "channel": s.channel.value,
                "question": s.question,
                "asked_at": _when(s.asked_at),
                "answer": _message_ref(messages.get(s.answer_message_id)),
                "score": s.score,
                "answered_at": _when(s.answered_at),
            }
            for s in fp.survey_requests
        ],
        "audit_events": [
            {
                "occurred_at": _when(e.occurred_at),
                "action": e.action,
                "actor": staff(e.actor_staff_id) or e.actor,
                "case": case_ref(e.case_id),
                "message": _message_ref(messages.get(e.message_id)),
            }
            for e in fp.audit_events
        ],
    }


def _message(m: InboundMessage, fp: Footprint, staff: Namer, case_ref: Namer) -> dict[str, Any]:
    return {
        "reference": _message_ref(m),
        "channel": m.channel.value,
        "received_at": _when(m.received_at),
        "sender_address": m.sender_address,
        "sender_name": m.sender_name,
        "subject": m.subject,
        "body_text": m.body_text,
        "new_text": m.new_text,
        "status": m.status.value,
        "case": case_ref(m.case_id),
        "raw_email": {"sha256": m.raw_ref, "size": m.raw_size} if m.raw_ref else None,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256 or None,
                "stored": a.storage_ref is not None,
            }
            for a in fp.attachments
            if a.message_id == m.id
        ],
        "classifications": [
            {
                "model_version": k.model_version,
                "label": k.label.value,
                "confidence": k.confidence,
                "needs_review": k.needs_review,
                "categories": list(k.categories),
                "hazard": k.hazard.value if k.hazard else None,
                "vulnerability": k.vulnerability,
                "third_party": k.third_party,
                "exclusion_hint": k.exclusion_hint.value if k.exclusion_hint else None,
                "definition_summary": k.definition_summary,
                "definition_outcome": k.definition_outcome,
                "created_at": _when(k.created_at),
            }
            for k in fp.classifications
            if k.message_id == m.id
        ],
        "triage_decisions": [
            {
                "label": d.label.value,
                "definition": d.definition,
                "decided_by": staff(d.staff_id),
                "decided_at": _when(d.decided_at),
                "case": case_ref(d.case_id),
            }
            for d in fp.triage_decisions
            if d.message_id == m.id
        ],
    }


def _letter(o: OutboxItem, case_ref: Namer) -> dict[str, Any]:
    return {
        "case": case_ref(o.case_id),
        "channel": o.channel.value,
        "party": o.party.value,
        "recipient": o.recipient,
        "subject": o.subject,
        "body_text": o.body_text,
        "status": o.status.value,
        "created_at": _when(o.created_at),
        "sent_at": _when(o.sent_at),
    }


def _message_ref(message: InboundMessage | None) -> str | None:
    """The reference the resident was given for a message (as bot receipts show it: MSG-000123)."""
    return f"MSG-{message.id:06d}" if message is not None and message.id is not None else None


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
