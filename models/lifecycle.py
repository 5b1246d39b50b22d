"""The complaint lifecycle of the Code, as pure functions over an immutable state.

Nothing here touches a database, a clock or the network: each function takes a state and returns the
next one, or raises `LifecycleError` saying in plain words which Code rule forbids the step.
The allowed moves are one table (`TRANSITIONS`); the checks that depend on more than the status
(handlers, extension limits, reasons) sit in the function of the action they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from models.enums import CaseKind, CaseStatus
from models.errors import DomainError
from models.timescales import Timescales

S = CaseStatus


class LifecycleError(DomainError):
    """A step the Complaint Handling Code (or the case's state) does not allow."""


class Action(StrEnum):
    OPEN_STAGE1 = "open_stage1"
    RESPOND_STAGE1 = "respond_stage1"
    REQUEST_ESCALATION = "request_escalation"
    OPEN_STAGE2 = "open_stage2"
    RESPOND_STAGE2 = "respond_stage2"
    EXCLUDE = "exclude"
    CLOSE = "close"


# from-status -> to-status, per action. Only two stages exist (Code 5.2, 5.3): no stage 0 or 3.
TRANSITIONS: dict[Action, dict[CaseStatus, CaseStatus]] = {
    Action.OPEN_STAGE1: {S.RECEIVED: S.STAGE1_OPEN},
    Action.RESPOND_STAGE1: {S.STAGE1_OPEN: S.STAGE1_RESPONDED},
    # Code 6.10: escalate whenever the resident is not satisfied with the stage 1 response,
    # also after a case was closed at stage 1.
    Action.REQUEST_ESCALATION: {S.STAGE1_RESPONDED: S.STAGE2_REQUESTED, S.CLOSED: S.STAGE2_REQUESTED},
    Action.OPEN_STAGE2: {S.STAGE2_REQUESTED: S.STAGE2_OPEN},
    Action.RESPOND_STAGE2: {S.STAGE2_OPEN: S.STAGE2_RESPONDED},
    # Code 2.1-2.4: refused before stage 1 opens, or when an escalation is refused. Staff log a complaint
    # with one tap, so a reason to refuse it (court proceedings, over 12 months old) often comes to light
    # only after it was logged: it may still be refused until the stage 1 response is given.
    Action.EXCLUDE: {S.RECEIVED: S.EXCLUDED, S.STAGE1_OPEN: S.EXCLUDED, S.STAGE2_REQUESTED: S.EXCLUDED},
    Action.CLOSE: {S.STAGE1_RESPONDED: S.CLOSED, S.STAGE2_RESPONDED: S.CLOSED, S.EXCLUDED: S.CLOSED},
}

_STAGE_OF_STATUS: dict[CaseStatus, int] = {
    S.STAGE1_OPEN: 1,
    S.STAGE1_RESPONDED: 1,
    S.STAGE2_REQUESTED: 2,
    S.STAGE2_OPEN: 2,
    S.STAGE2_RESPONDED: 2,
}


@dataclass(frozen=True)
class ComplaintState:
    """What the rules need to know about a complaint; built from the stored case by the repository."""

    status: CaseStatus = S.RECEIVED
    stage: int | None = None
    stage1_handler: int | None = None
    stage2_handler: int | None = None
    stage1_extension_days: int = 0
    stage2_extension_days: int = 0
    exclusion_reason: str | None = None

    def extension_days(self, stage: int) -> int:
        return self.stage1_extension_days if stage == 1 else self.stage2_extension_days


# Nothing is awaited from the landlord in these: a deadline still open on such a case no longer runs.
NO_DEADLINES = frozenset({S.EXCLUDED, S.CLOSED})


def check_stage(stage: int) -> int:
    if stage not in (1, 2):
        raise LifecycleError(
            f"The Complaint Handling Code has two stages only (stage 1 and stage 2); there is no stage {stage}."
        )
    return stage


def _move(state: ComplaintState, action: Action) -> ComplaintState:
    allowed = TRANSITIONS[action]
    target = allowed.get(state.status)
    if target is None:
        froms = ", ".join(sorted(s.value for s in allowed))
        raise LifecycleError(
            f"Cannot {action.value.replace('_', ' ')} a complaint that is {state.status.value}; only from: {froms}."
        )
    stage = _STAGE_OF_STATUS.get(target, state.stage)
    return replace(state, status=target, stage=stage)


def _require_text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise LifecycleError(f"{what} must be recorded.")
    return value.strip()


def open_stage1(state: ComplaintState) -> ComplaintState:
    """Acknowledge, define and log the complaint at stage 1 (Code 6.2)."""
    return _move(state, Action.OPEN_STAGE1)


def assign_handler(state: ComplaintState, *, stage: int, staff_id: int) -> ComplaintState:
    check_stage(stage)
    if stage == 1:
        if state.status not in (S.RECEIVED, S.STAGE1_OPEN):
            raise LifecycleError(
                f"A stage 1 handler can only be assigned before the stage 1 response; "
                f"the complaint is {state.status.value}."
            )
        if state.stage2_handler == staff_id:
            raise LifecycleError("The stage 1 handler cannot also be the stage 2 handler (Code 6.13).")
        return replace(state, stage1_handler=staff_id)
    if state.status not in (S.STAGE2_REQUESTED, S.STAGE2_OPEN):
        raise LifecycleError(
            f"A stage 2 handler can only be assigned once escalation is requested; "
            f"the complaint is {state.status.value}."
        )
    if state.stage1_handler == staff_id:
        raise LifecycleError("The stage 2 handler must be a different person from the stage 1 handler (Code 6.13).")
    return replace(state, stage2_handler=staff_id)


def record_response(state: ComplaintState, *, stage: int, responder_id: int) -> ComplaintState:
    """The stage response has been sent (Code 6.9, 6.19).

    Whoever gives the stage 1 response handled stage 1, assigned or not (a one-tap log has no handler), so
    that Code 6.13 keeps them off stage 2.
    """
    check_stage(stage)
    if stage == 2 and responder_id == state.stage1_handler:
        raise LifecycleError("The stage 1 handler cannot give the stage 2 response (Code 6.13).")
    moved = _move(state, Action.RESPOND_STAGE1 if stage == 1 else Action.RESPOND_STAGE2)
    if stage == 1 and moved.stage1_handler is None:
        return replace(moved, stage1_handler=responder_id)
    return moved


def request_escalation(state: ComplaintState, *, reason: str | None = None) -> ComplaintState:
    """The resident wants stage 2. They need not give any reason (Code 6.12), so `reason` is optional."""
    del reason  # kept on the record by the caller; it never decides anything here
    if state.status == S.CLOSED and state.exclusion_reason is not None:
        raise LifecycleError(
            "This complaint was not accepted (Code 2.4), so it has no stage 1 response to escalate; "
            "the resident can take the refusal to the Housing Ombudsman."
        )
    if state.status == S.CLOSED and state.stage != 1:
        raise LifecycleError(
            "Only a complaint closed at stage 1 can be escalated; "
            "after stage 2 the resident can go to the Housing Ombudsman."
        )
    return _move(state, Action.REQUEST_ESCALATION)


def open_stage2(state: ComplaintState) -> ComplaintState:
    """Acknowledge, define and log the escalated complaint at stage 2 (Code 6.11)."""
    return _move(state, Action.OPEN_STAGE2)


def extend(
    state: ComplaintState,
    *,
    stage: int,
    working_days: int,
    reason: str,
    good_reason: str | None,
    timescales: Timescales,
) -> ComplaintState:
    """Add working days to the stage's response deadline (Code 6.4, 6.15).

    Every extension needs its reason explained; going past the Code's limit for the stage in total
    needs a recorded good reason as well.
    """
    check_stage(stage)
    if _STAGE_OF_STATUS.get(state.status) != stage or state.status not in (S.STAGE1_OPEN, S.STAGE2_OPEN):
        raise LifecycleError(
            f"Only an open stage {stage} complaint can be extended; the complaint is {state.status.value}."
        )
    if working_days < 1:
        raise LifecycleError("An extension must add at least one working day.")
    _require_text(reason, "The reason for the extension")
    total = state.extension_days(stage) + working_days
    limit = timescales.for_stage(stage).extension_limit
    if total > limit and (good_reason is None or not good_reason.strip()):
        raise LifecycleError(
            f"Extending stage {stage} by {total} working days in total goes past the Code's limit of "
            f"{limit}; record a good reason to go further."
        )
    if stage == 1:
        return replace(state, stage1_extension_days=total)
    return replace(state, stage2_extension_days=total)


def exclude(state: ComplaintState, *, reason: str) -> ComplaintState:
    """A person decided not to accept the complaint or the escalation (Code 2.1-2.4)."""
    text = _require_text(reason, "The reason for excluding the complaint (Code 2.4)")
    return replace(_move(state, Action.EXCLUDE), exclusion_reason=text)


def close(state: ComplaintState) -> ComplaintState:
    return _move(state, Action.CLOSE)


# Service requests and survey feedback have a simple life: open, then closed.
SIMPLE_KINDS = (CaseKind.SERVICE_REQUEST, CaseKind.SURVEY_FEEDBACK)


def initial_status(kind: CaseKind) -> CaseStatus:
    return S.RECEIVED if kind is CaseKind.COMPLAINT else S.OPEN


def close_simple(kind: CaseKind, status: CaseStatus) -> CaseStatus:
    if kind not in SIMPLE_KINDS:
        raise LifecycleError("Complaints close through their stages, not directly.")
    if status is not S.OPEN:
        raise LifecycleError(f"This {kind.value.replace('_', ' ')} is already {status.value}.")
    return S.CLOSED


def check_link(complaint_kind: CaseKind, target_kind: CaseKind) -> None:
    """Code 1.5: a complaint about a service request links to it; the request carries on, untouched."""
    if complaint_kind is not CaseKind.COMPLAINT:
        raise LifecycleError("Only a complaint can be linked to a service request.")
    if target_kind is not CaseKind.SERVICE_REQUEST:
        raise LifecycleError("A complaint can only be linked to a service request.")
