"""Case events and the messages they cause, written in the same transaction (the outbox pattern).

Each function changes the case through the lifecycle rules (models.case_actions), sets the Code's
deadlines with the working-day calendar, and enqueues what the resident or staff must be sent. The
caller commits: either all of it happens, or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import case_actions
from models.case_actions import Actor
from models.cases import Case, Deadline, Extension
from models.classification import Classification, TriageDecision
from models.enums import (
    CaseKind,
    CaseStatus,
    ContactChannel,
    DeadlineKind,
    Hazard,
    Label,
    MessageStatus,
    OutboxChannel,
    Party,
    StageDecision,
)
from models.errors import ConflictError
from models.lifecycle import LifecycleError
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import Resident, StaffMember
from models.repository.audit import record_event
from models.repository.cases import create_case, deadline_for, set_deadline
from models.repository.outbox import enqueue
from models.types import row_id
from scheduler.casework import Casework
from scheduler.deadlines import code_deadlines, due_at
from scheduler.letters import (
    Acknowledgement,
    ExclusionLetter,
    ExtensionNotice,
    Rendered,
    StageResponseLetter,
    SurveyReply,
    render_acknowledgement,
    render_exclusion_letter,
    render_extension_notice,
    render_stage_response,
    render_survey_reply,
)

ESCALATABLE = (CaseStatus.STAGE1_RESPONDED, CaseStatus.CLOSED)


@dataclass(frozen=True)
class TriageOutcome:
    decision: TriageDecision
    case: Case | None
    sent: list[OutboxItem]


def latest_classification(session: Session, message: InboundMessage) -> Classification | None:
    query = select(Classification).where(Classification.message_id == message.id)
    return session.exec(query.order_by(col(Classification.created_at).desc(), col(Classification.id).desc())).first()


def confirm_triage(
    session: Session,
    *,
    message: InboundMessage,
    staff: StaffMember,
    label: Label,
    now: datetime,
    work: Casework,
    definition: str | None = None,
) -> TriageOutcome:
    """A staff member's one-tap decision on a message, and everything it sets in motion.

    The first decision wins: a second one for the same message is refused (ConflictError).
    """
    classification = latest_classification(session, message)
    decision = TriageDecision(
        message_id=row_id(message),
        classification_id=classification.id if classification else None,
        staff_id=row_id(staff),
        decided_at=now,
        label=label,
        definition=definition,
    )
    try:
        with session.begin_nested():  # the unique message id makes the first decision win, even at once
            session.add(decision)
    except IntegrityError:
        raise ConflictError(f"message {message.id} has already been triaged by someone else") from None
    message.status = MessageStatus.TRIAGED
    session.add(message)
    actor = Actor.staff(staff)
    record_event(
        session,
        action="triage_decision",
        actor=actor.kind,
        actor_staff_id=actor.staff_id,
        now=now,
        message_id=message.id,
        case_id=message.case_id,
        detail={"label": label.value, "predicted": classification.label.value if classification else None},
    )
    case: Case | None = None
    sent: list[OutboxItem] = []
    existing = session.get(Case, message.case_id) if message.case_id else None
    if (
        label is Label.COMPLAINT
        and existing is not None
        and existing.kind is CaseKind.COMPLAINT
        and existing.status in ESCALATABLE
    ):
        case = existing
        escalate(session, case=case, requested_at=message.received_at, actor=actor, now=now, work=work)
    elif label is Label.COMPLAINT:
        case, item = log_complaint(
            session,
            message=message,
            classification=classification,
            definition=definition,
            actor=actor,
            now=now,
            work=work,
            linked_to=existing,
        )
        sent.append(item)
    elif label is Label.SERVICE_REQUEST:
        case = new_case(
            session, CaseKind.SERVICE_REQUEST, message, classification=classification, definition=definition, now=now
        )
    elif label is Label.SURVEY_FEEDBACK:
        case = new_case(
            session, CaseKind.SURVEY_FEEDBACK, message, classification=classification, definition=definition, now=now
        )
        sent.append(
            send_resident(
                session,
                case,
                key=f"survey:{case.reference}",
                letter=render_survey_reply(
                    SurveyReply(resident_name=_name(session, case), reference=case.reference), work.landlord
                ),
                now=now,
                work=work,
            )
        )
    if case is not None:
        decision.case_id = case.id
        if message.case_id is None:
            message.case_id = case.id
        session.add_all([decision, message])
    session.flush()
    return TriageOutcome(decision, case, sent)


def new_case(
    session: Session,
    kind: CaseKind,
    message: InboundMessage,
    *,
    classification: Classification | None,
    definition: str | None,
    now: datetime,
) -> Case:
    return create_case(
        session,
        kind=kind,
        received_at=message.received_at,
        now=now,
        resident_id=message.resident_id,
        definition=definition or (classification.definition_summary if classification else None),
        outcomes_sought=classification.definition_outcome if classification else None,
        categories=list(classification.categories) if classification else [],
        hazard=Hazard(classification.hazard) if classification and classification.hazard else None,
    )


def log_complaint(
    session: Session,
    *,
    message: InboundMessage,
    classification: Classification | None,
    definition: str | None,
    actor: Actor,
    now: datetime,
    work: Casework,
    linked_to: Case | None = None,
) -> tuple[Case, OutboxItem]:
    """Log at stage 1 (Code 6.2): define it, set its deadlines from receipt, and acknowledge it."""
    case = new_case(session, CaseKind.COMPLAINT, message, classification=classification, definition=definition, now=now)
    if linked_to is not None and linked_to.kind is CaseKind.SERVICE_REQUEST:
        case_actions.link_service_request(session, complaint=case, service_request=linked_to, actor=actor, now=now)
    dates = code_deadlines(
        message.received_at, calendar=work.calendar, timescales=work.timescales, acknowledged=_local_day(work, now)
    )
    _set_due(session, case, 1, DeadlineKind.ACKNOWLEDGE, day=dates.stage1_ack_due, work=work)
    respond_due = dates.stage1_response_due
    _set_due(session, case, 1, DeadlineKind.RESPOND, day=respond_due, work=work)
    case_actions.open_stage1(session, case=case, actor=actor, now=now)
    item = _acknowledge(session, case, stage=1, respond_due=respond_due, now=now, work=work)
    return case, item


def respond(
    session: Session,
    *,
    case: Case,
    stage: int,
    decision: StageDecision,
    reasons: str,
    remedy: str | None,
    outstanding_actions: str | None,
    actor: Actor,
    now: datetime,
    work: Casework,
) -> OutboxItem:
    """Record the stage response (Code 6.9/6.19) and send it to the resident, in one transaction, so the
    record and the letter can never disagree."""
    case_actions.record_response(
        session,
        case=case,
        stage=stage,
        decision=decision,
        reasons=reasons,
        remedy=remedy,
        outstanding_actions=outstanding_actions,
        actor=actor,
        now=now,
    )
    letter = render_stage_response(
        StageResponseLetter(
            resident_name=_name(session, case),
            reference=case.reference,
            stage=stage,
            definition=case.definition or "",
            decision=decision.value,
            reasons=reasons,
            remedy=remedy,
            outstanding_actions=outstanding_actions,
        ),
        work.landlord,
    )
    return send_resident(
        session, case, key=f"response:{case.reference}:stage{stage}", letter=letter, now=now, work=work
    )


def escalate(
    session: Session,
    *,
    case: Case,
    requested_at: datetime,
    actor: Actor,
    now: datetime,
    work: Casework,
    reason: str | None = None,
) -> Deadline:
    """The resident asked for stage 2 (Code 6.10-6.12): record it and start the stage 2 clock from receipt."""
    case_actions.request_escalation(session, case=case, actor=actor, now=now, reason=reason, requested_at=requested_at)
    dates = code_deadlines(requested_at, calendar=work.calendar, timescales=work.timescales)
    return _set_due(session, case, 2, DeadlineKind.ACKNOWLEDGE, day=dates.stage2_ack_due, work=work)


def open_stage2(
    session: Session, *, case: Case, handler: StaffMember, actor: Actor, now: datetime, work: Casework
) -> OutboxItem:
    """Log at stage 2 with a handler who did not handle stage 1 (Code 6.11, 6.13), and acknowledge it."""
    case_actions.assign_handler(session, case=case, stage=2, handler=handler, actor=actor, now=now)
    case_actions.open_stage2(session, case=case, actor=actor, now=now)
    requested = case.escalation_requested_at or now
    respond_due = code_deadlines(
        requested, calendar=work.calendar, timescales=work.timescales, acknowledged=_local_day(work, now)
    ).stage2_response_due
    _set_due(session, case, 2, DeadlineKind.RESPOND, day=respond_due, work=work)
    return _acknowledge(session, case, stage=2, respond_due=respond_due, now=now, work=work)


def extend(
    session: Session,
    *,
    case: Case,
    stage: int,
    working_days: int,
    reason: str,
    good_reason: str | None,
    actor: Actor,
    now: datetime,
    work: Casework,
) -> tuple[Extension, OutboxItem]:
    """Extend the response deadline (Code 6.4, 6.15) and tell the resident, with the Ombudsman's details."""
    deadline = deadline_for(session, case_id=row_id(case), stage=stage, kind=DeadlineKind.RESPOND)
    previous = deadline.due_on if deadline else None
    extension = case_actions.extend(
        session,
        case=case,
        stage=stage,
        working_days=working_days,
        reason=reason,
        good_reason=good_reason,
        actor=actor,
        now=now,
        timescales=work.timescales,
        calendar=work.calendar,
    )
    deadline = deadline_for(session, case_id=row_id(case), stage=stage, kind=DeadlineKind.RESPOND)
    if deadline is None or previous is None:  # case_actions.extend refuses these first; kept for the types
        raise LifecycleError(f"{case.reference} has no stage {stage} response deadline to extend.")
    deadline.reminded_offset = None  # a new date gets its own reminders
    deadline.overdue_notice_on = None
    session.add(deadline)
    letter = render_extension_notice(
        ExtensionNotice(
            resident_name=_name(session, case),
            reference=case.reference,
            stage=stage,
            previous_due=previous,
            new_due=deadline.due_on,
            reason=reason,
        ),
        work.landlord,
    )
    item = send_resident(
        session, case, key=f"extension:{case.reference}:stage{stage}:{extension.id}", letter=letter, now=now, work=work
    )
    extension.resident_informed_at = now
    session.add(extension)
    session.flush()
    return extension, item


def exclude(session: Session, *, case: Case, reason: str, actor: Actor, now: datetime, work: Casework) -> OutboxItem:
    """Not accepted (Code 2.1-2.4): record the person's decision and send the reasons and the right to go to
    the Ombudsman."""
    case_actions.exclude(session, case=case, reason=reason, actor=actor, now=now)
    letter = render_exclusion_letter(
        ExclusionLetter(
            resident_name=_name(session, case),
            reference=case.reference,
            reasons=reason,
            decided_on=_local_day(work, now),
        ),
        work.landlord,
    )
    return send_resident(session, case, key=f"exclusion:{case.reference}", letter=letter, now=now, work=work)


def _set_due(session: Session, case: Case, stage: int, kind: DeadlineKind, *, day: date, work: Casework) -> Deadline:
    return set_deadline(
        session, case_id=row_id(case), stage=stage, kind=kind, due_on=day, due_at=due_at(work.calendar, day)
    )


def _acknowledge(
    session: Session, case: Case, *, stage: int, respond_due: date, now: datetime, work: Casework
) -> OutboxItem:
    handler_id = case.stage1_handler_id if stage == 1 else case.stage2_handler_id
    handler = session.get(StaffMember, handler_id) if handler_id else None
    letter = render_acknowledgement(
        Acknowledgement(
            resident_name=_name(session, case),
            reference=case.reference,
            stage=stage,
            received_on=work.calendar.received_day(
                case.received_at if stage == 1 else (case.escalation_requested_at or case.received_at)
            ),
            definition=case.definition or "",
            outcomes_sought=case.outcomes_sought,
            responsible_aspects=case.responsible_aspects,
            not_responsible_aspects=case.not_responsible_aspects,
            response_due=respond_due,
            handler_name=handler.name if handler else None,
        ),
        work.landlord,
    )
    return send_resident(session, case, key=f"ack:{case.reference}:stage{stage}", letter=letter, now=now, work=work)


def send_resident(
    session: Session, case: Case, *, key: str, letter: Rendered, now: datetime, work: Casework
) -> OutboxItem:
    """To the resident by their preferred channel: chat if they wrote by chat and can be reached there."""
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None or (resident.email is None and resident.telegram_user_id is None):
        raise LifecycleError(f"{case.reference} has no resident contact to write to; record one first.")
    by_chat = resident.telegram_user_id is not None and (
        resident.preferred_channel is ContactChannel.CHAT or resident.email is None
    )
    item, _ = enqueue(
        session,
        key=key,
        channel=OutboxChannel.TELEGRAM if by_chat else OutboxChannel.EMAIL,
        recipient=str(resident.telegram_user_id) if by_chat else str(resident.email),
        subject=letter.subject,
        body_text=letter.text,
        body_html=None if by_chat else letter.html,
        case_id=case.id,
        message_id_header=None if by_chat else work.message_id(key),
        party=Party.RESIDENT,
        now=now,
    )
    return item


def _name(session: Session, case: Case) -> str | None:
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    return resident.name if resident else None


def _local_day(work: Casework, moment: datetime) -> date:
    return moment.astimezone(work.calendar.zone).date()
