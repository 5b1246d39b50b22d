"""How a reply on an existing case should be read under the Code. Pure: status and label in, hint out."""

from __future__ import annotations

from models.enums import CaseKind, CaseStatus

ESCALATION_REQUEST = "escalation request (Code 6.10): not satisfied with the stage 1 response"
JOINS_COMPLAINT = "joins the open complaint (Code 6.8): new issue before the stage 1 response"
NEW_COMPLAINT_AFTER_STAGE2 = "new complaint or referral to the Ombudsman: the complaint has had its stage 2 response"
COMPLAINT_ABOUT_REQUEST = "complaint about a service request (Code 1.5): link it and keep the request open"

# (case kind, statuses, stage or None for any) -> hint, read in order; the first that fits wins.
_RULES: tuple[tuple[CaseKind, tuple[CaseStatus, ...], int | None, str], ...] = (
    (CaseKind.SERVICE_REQUEST, tuple(CaseStatus), None, COMPLAINT_ABOUT_REQUEST),
    (CaseKind.COMPLAINT, (CaseStatus.RECEIVED, CaseStatus.STAGE1_OPEN), None, JOINS_COMPLAINT),
    (CaseKind.COMPLAINT, (CaseStatus.STAGE1_RESPONDED,), None, ESCALATION_REQUEST),
    (CaseKind.COMPLAINT, (CaseStatus.CLOSED,), 1, ESCALATION_REQUEST),
    (CaseKind.COMPLAINT, (CaseStatus.STAGE2_RESPONDED,), None, NEW_COMPLAINT_AFTER_STAGE2),
    (CaseKind.COMPLAINT, (CaseStatus.CLOSED,), 2, NEW_COMPLAINT_AFTER_STAGE2),
)


def thread_hint(kind: CaseKind, status: CaseStatus, stage: int | None, predicted_label: str) -> str | None:
    """The Code's reading of a reply on a case, when the classifier sees dissatisfaction in it."""
    if predicted_label != "complaint":
        return None
    for rule_kind, statuses, rule_stage, hint in _RULES:
        if kind is rule_kind and status in statuses and rule_stage in (None, stage):
            return hint
    return None
