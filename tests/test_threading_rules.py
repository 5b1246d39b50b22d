"""How a reply on a case is read under the Code (6.8, 6.10, 1.5)."""

from __future__ import annotations

import pytest

from intake.threading_rules import (
    COMPLAINT_ABOUT_REQUEST,
    ESCALATION_REQUEST,
    JOINS_COMPLAINT,
    NEW_COMPLAINT_AFTER_STAGE2,
    thread_hint,
)
from models.enums import CaseKind, CaseStatus

S = CaseStatus


@pytest.mark.parametrize(
    ("kind", "status", "stage", "expected"),
    [
        (CaseKind.COMPLAINT, S.RECEIVED, None, JOINS_COMPLAINT),
        (CaseKind.COMPLAINT, S.STAGE1_OPEN, 1, JOINS_COMPLAINT),
        (CaseKind.COMPLAINT, S.STAGE1_RESPONDED, 1, ESCALATION_REQUEST),
        (CaseKind.COMPLAINT, S.CLOSED, 1, ESCALATION_REQUEST),
        (CaseKind.COMPLAINT, S.STAGE2_OPEN, 2, None),
        (CaseKind.COMPLAINT, S.STAGE2_RESPONDED, 2, NEW_COMPLAINT_AFTER_STAGE2),
        (CaseKind.COMPLAINT, S.CLOSED, 2, NEW_COMPLAINT_AFTER_STAGE2),
        (CaseKind.SERVICE_REQUEST, S.OPEN, None, COMPLAINT_ABOUT_REQUEST),
        (CaseKind.SERVICE_REQUEST, S.CLOSED, None, COMPLAINT_ABOUT_REQUEST),
        (CaseKind.SURVEY_FEEDBACK, S.OPEN, None, None),
    ],
)
def test_a_dissatisfied_reply_is_read_in_its_cases_context(
    kind: CaseKind, status: CaseStatus, stage: int | None, expected: str | None
) -> None:
    assert thread_hint(kind, status, stage, "complaint") == expected


def test_a_reply_that_is_not_dissatisfied_gets_no_hint() -> None:
    assert thread_hint(CaseKind.COMPLAINT, S.STAGE1_RESPONDED, 1, "other") is None
