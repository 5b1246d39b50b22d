"""The database work behind staff case commands and the card's reply prompts: blocking functions the
handlers run with `asyncio.to_thread`.

Each opens its own session, changes the case only through `scheduler.actions` and `models.case_actions`
(which hold the Code's rules and write the audit trail with the staff member as actor), commits, and
hands back plain data: `Done` (what was done, and the case as it now stands) or `NotDone` with the rule's
own words. A refusal rolls everything back, outbox items included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.telegram import queries
from bot.telegram.cards import CardData, DecisionLine, already_decided_text, day
from bot.telegram.staff_syntax import Assign, Close, Define, Escalate, Exclude, Extend, Respond
from bot.telegram.staff_views import CaseSummary, DueDate
from bot.telegram.triage_notes import MESSAGE_LINKED, record_definition
from intake.chat import reference_for
from intake.threading_rules import ESCALATION_REQUEST, JOINS_COMPLAINT, thread_hint
from models import case_actions
from models.case_actions import Actor
from models.cases import Case, Deadline
from models.classification import TriageDecision
from models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    ContactChannel,
    DeadlineKind,
    Direction,
    Label,
    MessageStatus,
    OutboxChannel,
    Party,
)
from models.errors import DomainError, NotFoundError
from models.lifecycle import NO_DEADLINES, LifecycleError
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import StaffMember
from models.records import AuditEvent, Correspondence
from models.repository.audit import record_event
from models.repository.cases import case_by_reference, deadline_for, extension_days
from models.repository.messages import get_message
from models.repository.staff import get_staff, staff_by_handle
from models.types import row_id
from scheduler import actions
from scheduler.casework import Casework

DEFINED = "define"
CHANGED_MEANWHILE = "someone else changed this case at the same moment. Look at it with /case and try again."
FINISHED = (CaseStatus.CLOSED, CaseStatus.EXCLUDED)
# A message linked to a case is labelled as what the case is, so the decision still teaches the classifier.
LABEL_OF_KIND = {
    CaseKind.COMPLAINT: Label.COMPLAINT,
    CaseKind.SERVICE_REQUEST: Label.SERVICE_REQUEST,
    CaseKind.SURVEY_FEEDBACK: Label.SURVEY_FEEDBACK,
}


@dataclass(frozen=True)
class CardPlace:
    """Where a message's card is in the staff chat, and how it should now read."""

    chat_id: int
    message_id: int
    card: CardData
    decision: DecisionLine | None = None  # None: still undecided, so it keeps its buttons


@dataclass(frozen=True)
class Done:
    said: tuple[str, ...]
    case: CaseSummary | None = None
    card: CardPlace | None = None


@dataclass(frozen=True)
class NotDone:
    reason: str


Outcome = Done | NotDone
Act = Callable[[Session, Case, StaffMember], list[str]]


# ---------------------------------------------------------------------------------- case commands


def assign(engine: Engine, work: Casework, form: Assign, *, staff_id: int, now: datetime) -> Outcome:
    """/assign: the stage 1 handler, or once stage 2 is requested the stage 2 handler (which logs stage 2)."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        handler = _handler(session, form.handle)
        actor = Actor.staff(staff)
        if case.status is CaseStatus.STAGE2_REQUESTED:
            item = actions.open_stage2(session, case=case, handler=handler, actor=actor, now=now, work=work)
            return [
                f"{handler.name} handles {case.reference} at stage 2, now logged (Code 6.11).",
                f"The stage 2 acknowledgement goes to the resident {_by(item)}.",
            ]
        stage = 2 if case.status is CaseStatus.STAGE2_OPEN else 1
        case_actions.assign_handler(session, case=case, stage=stage, handler=handler, actor=actor, now=now)
        return [f"{handler.name} now handles {case.reference} at stage {stage}."]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def define(engine: Engine, work: Casework, form: Define, *, staff_id: int, now: datetime) -> Outcome:
    """/define: the landlord's understanding of the complaint and the outcome sought (Code 5.6)."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        _set_definition(session, case, form.text, staff=staff, now=now)
        return [f"Definition of {case.reference} updated."]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def respond(engine: Engine, work: Casework, form: Respond, *, staff_id: int, now: datetime) -> Outcome:
    """/respond: record the stage response with its decision, reasons, remedy and outstanding actions."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        stage = _stage(case)
        item = actions.respond(
            session,
            case=case,
            stage=stage,
            decision=form.decision,
            reasons=form.reasons,
            remedy=form.remedy,
            outstanding_actions=form.actions,
            actor=Actor.staff(staff),
            now=now,
            work=work,
        )
        how = (
            "how to escalate to stage 2 (Code 6.9)" if stage == 1 else "how to go to the Housing Ombudsman (Code 6.19)"
        )
        return [
            f"Stage {stage} response to {case.reference} recorded: {form.decision.value.replace('_', ' ')}.",
            f"Remedy: {form.remedy or 'none recorded'}. Outstanding actions: {form.actions or 'none recorded'}.",
            f"The response letter, with the decision, reasons, remedy, outstanding actions and {how}, "
            f"goes to the resident {_by(item)}.",
        ]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def escalate(engine: Engine, work: Casework, form: Escalate, *, staff_id: int, now: datetime) -> Outcome:
    """/escalate: the resident wants stage 2 (Code 6.10-6.12); with a handler, stage 2 is logged at once."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        handler = _handler(session, form.handle) if form.handle else None
        actor = Actor.staff(staff)
        deadline = actions.escalate(
            session, case=case, requested_at=now, actor=actor, now=now, work=work, reason=form.reason
        )
        said = [f"Stage 2 requested for {case.reference}: acknowledge, define and log it by {day(deadline.due_on)}."]
        if handler is None:
            said.append(
                f"Next: /assign {case.reference} @handler \u2014 someone who did not handle stage 1 (Code 6.13). "
                "That logs stage 2 and acknowledges it."
            )
            return said
        item = actions.open_stage2(session, case=case, handler=handler, actor=actor, now=now, work=work)
        said.append(
            f"{handler.name} handles stage 2, now logged; the acknowledgement goes to the resident {_by(item)}."
        )
        return said

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def extend(engine: Engine, work: Casework, form: Extend, *, staff_id: int, now: datetime) -> Outcome:
    """/extend: more working days for the stage response (Code 6.4, 6.15); the resident is told."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        stage = _stage(case)
        before = deadline_for(session, case_id=row_id(case), stage=stage, kind=DeadlineKind.RESPOND)
        previous = before.due_on if before else None
        _, item = actions.extend(
            session,
            case=case,
            stage=stage,
            working_days=form.working_days,
            reason=form.reason,
            good_reason=form.good_reason,
            actor=Actor.staff(staff),
            now=now,
            work=work,
        )
        after = deadline_for(session, case_id=row_id(case), stage=stage, kind=DeadlineKind.RESPOND)
        total = extension_days(session, case_id=row_id(case), stage=stage)
        limit = work.timescales.for_stage(stage).extension_limit
        was = f" (was {day(previous)})" if previous else ""
        past = ", past the limit with a good reason recorded" if total > limit else ""
        return [
            f"Stage {stage} response of {case.reference} extended by {_wd(form.working_days)}: "
            f"now due {day(after.due_on) if after else '?'}{was}.",
            f"Extensions at stage {stage}: {_wd(total)} of the Code's {limit}{past}.",
            f"The resident is told {_by(item)}, with the reason and the Housing Ombudsman's details (Code 6.5).",
        ]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def exclude(engine: Engine, work: Casework, form: Exclude, *, staff_id: int, now: datetime) -> Outcome:
    """/exclude: not taken on, with reasons (Code 2.1-2.4); the resident gets the exclusion letter."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        item = actions.exclude(session, case=case, reason=form.reason, actor=Actor.staff(staff), now=now, work=work)
        return [
            f"{case.reference} is not taken on as a complaint.",
            f"The resident is sent the reasons and their right to take this to the Housing Ombudsman {_by(item)}.",
        ]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def close(engine: Engine, work: Casework, form: Close, *, staff_id: int, now: datetime) -> Outcome:
    """/close: a complaint that has had its response (or was excluded), or a service request or survey."""

    def act(session: Session, case: Case, staff: StaffMember) -> list[str]:
        case_actions.close(session, case=case, actor=Actor.staff(staff), now=now)
        return [f"{case.reference} is closed."]

    return _on_case(engine, work, form.reference, staff_id=staff_id, now=now, act=act)


def _on_case(engine: Engine, work: Casework, reference: str, *, staff_id: int, now: datetime, act: Act) -> Outcome:
    """Run one action on the case in one transaction: commit it all, or on a refusal none of it."""
    with Session(engine, expire_on_commit=False) as session:
        staff = get_staff(session, staff_id=staff_id)
        case = case_by_reference(session, reference=reference, for_update=True)
        if staff is None:
            return NotDone("you are no longer on the staff list.")
        if case is None:
            return NotDone(f"there is no case {reference}.")
        try:
            said = act(session, case, staff)
            session.commit()
        except DomainError as exc:
            session.rollback()
            return NotDone(exc.message)
        except IntegrityError:
            session.rollback()
            return NotDone(CHANGED_MEANWHILE)
        return Done(tuple(said), summarise(session, case, work, now))


def _handler(session: Session, handle: str) -> StaffMember:
    handler = staff_by_handle(session, handle=handle)
    if handler is None:
        raise NotFoundError(f"nobody on the staff list is {handle[:64]}: use their Telegram @username or e-mail.")
    return handler


def _stage(case: Case) -> int:
    return 2 if case.status in (CaseStatus.STAGE2_REQUESTED, CaseStatus.STAGE2_OPEN) else 1


def _set_definition(session: Session, case: Case, text: str, *, staff: StaffMember, now: datetime) -> None:
    """Code 5.6: set out the definition. A finished case keeps its record as it was."""
    if case.status in FINISHED:
        raise LifecycleError(f"{case.reference} is {case.status.value}; its definition stays as it was.")
    previous = case.definition
    case.definition = text
    session.add(case)
    record_event(
        session,
        action=DEFINED,
        actor="staff",
        actor_staff_id=staff.id,
        now=now,
        case_id=case.id,
        detail={"definition": text, "previous": previous},
    )


def _by(item: OutboxItem) -> str:
    return "by chat" if item.channel is OutboxChannel.TELEGRAM else "by e-mail"


def _wd(days: int) -> str:
    return f"{days} working day{'' if days == 1 else 's'}"


def summarise(session: Session, case: Case, work: Casework, now: datetime) -> CaseSummary:
    """The case as it now stands, with its open deadlines and the working days left from today."""
    names = {
        s.id: s.name
        for s in session.exec(
            select(StaffMember).where(
                col(StaffMember.id).in_([i for i in (case.stage1_handler_id, case.stage2_handler_id) if i is not None])
            )
        )
    }
    today = now.astimezone(work.calendar.zone).date()
    open_deadlines = session.exec(
        select(Deadline)
        .where(Deadline.case_id == row_id(case), col(Deadline.met_at).is_(None))
        .order_by(col(Deadline.due_on), col(Deadline.stage))
    )
    return CaseSummary(
        reference=case.reference,
        kind=case.kind.value,
        status=case.status,
        stage=case.stage,
        stage1_handler=names.get(case.stage1_handler_id),
        stage2_handler=names.get(case.stage2_handler_id),
        due=tuple(
            DueDate(
                d.stage,
                d.kind.value,
                d.due_on,
                d.original_due_on,
                work.calendar.working_days_between(today, d.due_on),
            )
            for d in open_deadlines
            if case.status not in NO_DEADLINES
        ),
    )


# ------------------------------------------------------------------------------- reply prompts


@dataclass(frozen=True)
class PromptTarget:
    """The message a prompt is about: its MSG reference, and who decided it, if anyone has."""

    reference: str
    decided: str | None = None  # "Already decided by Tess: ..." when it has a triage decision


def prompt_target(engine: Engine, work: Casework, *, message_id: int) -> PromptTarget | None:
    with Session(engine) as session:
        message = get_message(session, message_id=message_id)
        if message is None:
            return None
        line = queries.decision_line(session, message_id)
        decided = already_decided_text(line, work.calendar.zone) if line is not None else None
        return PromptTarget(reference_for(message), decided)


def define_message(
    engine: Engine, work: Casework, *, message_id: int, text: str, staff_id: int, now: datetime
) -> Outcome:
    """The reply to 'Edit definition': on the message's case when it has one; else kept for the triage decision."""
    with Session(engine, expire_on_commit=False) as session:
        message = get_message(session, message_id=message_id)
        staff = get_staff(session, staff_id=staff_id)
        if message is None or staff is None:
            return NotDone("that message is no longer stored.")
        reference = reference_for(message)
        case = session.get(Case, message.case_id) if message.case_id else None
        try:
            if case is not None:
                _set_definition(session, case, text, staff=staff, now=now)
            else:
                record_definition(session, message_id=message_id, text=text, staff_id=row_id(staff), now=now)
            session.commit()
        except DomainError as exc:
            session.rollback()
            return NotDone(exc.message)
        if case is not None:
            said = (f"Definition of {case.reference} updated (from {reference}).",)
            return Done(said, summarise(session, case, work, now))
        said = (f"New definition kept for {reference}: confirming it as a complaint uses it.",)
        return Done(said, card=_card_place(session, message, work))


def link_message(
    engine: Engine, work: Casework, *, message_id: int, reference: str, staff_id: int, now: datetime
) -> Outcome:
    """The reply to 'Link to case…': the message becomes correspondence on that case (Code 5.12) and is
    decided, so it leaves the queue. The first decision on a message wins, as with the label buttons."""
    with Session(engine, expire_on_commit=False) as session:
        message = get_message(session, message_id=message_id)
        staff = get_staff(session, staff_id=staff_id)
        case = case_by_reference(session, reference=reference)
        if message is None or staff is None:
            return NotDone("that message is no longer stored.")
        if case is None:
            return NotDone(f"there is no case {reference}.")
        classification = actions.latest_classification(session, message)
        decision = TriageDecision(
            message_id=message_id,
            classification_id=classification.id if classification else None,
            staff_id=row_id(staff),
            decided_at=now,
            label=LABEL_OF_KIND[case.kind],
            case_id=case.id,
        )
        try:
            with session.begin_nested():
                session.add(decision)
        except IntegrityError:
            session.rollback()
            return NotDone(already_decided_text(queries.decision_line(session, message_id), work.calendar.zone))
        predicted = classification.label.value if classification else None
        reading = thread_hint(case.kind, case.status, case.stage, predicted or "")
        _correspond(session, message, case)
        message.case_id = case.id
        message.status = MessageStatus.TRIAGED
        session.add(message)
        record_event(
            session,
            action=MESSAGE_LINKED,
            actor="staff",
            actor_staff_id=staff.id,
            now=now,
            case_id=case.id,
            message_id=message_id,
            detail={"case": case.reference, "label": decision.label.value, "predicted": predicted, "reading": reading},
        )
        session.commit()
        said = [f"{reference_for(message)} is linked to {case.reference} and filed as its correspondence."]
        if case.resident_id is not None and message.resident_id not in (None, case.resident_id):
            said.append(f"Note: {reference_for(message)} is from someone other than {case.reference}'s resident.")
        said += _next_step(case, reading)
        line = DecisionLine(decision.label, case.reference, staff.name, now, linked=True)
        return Done(tuple(said), summarise(session, case, work, now), _card_place(session, message, work, line))


def _next_step(case: Case, reading: str | None) -> list[str]:
    """What the Code makes of a linked message the classifier reads as dissatisfaction (Code 6.8, 6.10)."""
    if reading == JOINS_COMPLAINT:
        return [
            f"New issues raised before the stage 1 response join the complaint (Code 6.8): "
            f"update the definition with /define {case.reference} if they are not in it."
        ]
    if reading == ESCALATION_REQUEST:
        return [
            "It reads as dissatisfaction with the stage 1 response: a stage 2 request (Code 6.10). "
            f"To escalate: /escalate {case.reference}"
        ]
    if reading:
        return [f"Read in context: {reading}."]
    return []


def _correspond(session: Session, message: InboundMessage, case: Case) -> None:
    """File the message on the case (Code 5.12), unless intake already did."""
    filed = session.exec(
        select(Correspondence.id).where(
            Correspondence.case_id == row_id(case), Correspondence.inbound_message_id == row_id(message)
        )
    ).first()
    if filed is not None:
        return
    same_resident = message.resident_id is None or case.resident_id in (None, message.resident_id)
    session.add(
        Correspondence(
            case_id=row_id(case),
            direction=Direction.INBOUND,
            channel=ContactChannel.CHAT if message.channel is Channel.CHAT else ContactChannel.EMAIL,
            party=Party.RESIDENT if same_resident else Party.OTHER,
            party_name=(message.sender_name or message.sender_address)[:320],
            occurred_at=message.received_at,
            subject=message.subject,
            body=message.new_text or message.body_text,
            inbound_message_id=message.id,
        )
    )


def _card_place(
    session: Session, message: InboundMessage, work: Casework, decision: DecisionLine | None = None
) -> CardPlace | None:
    """Where the message's card was posted (its 'card_posted' event), to redraw it; None if it has none."""
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == queries.CARD_POSTED, AuditEvent.message_id == row_id(message))
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is None:
        return None
    chat_id, card_message_id = event.detail.get("chat_id"), event.detail.get("card_message_id")
    if not isinstance(chat_id, int) or not isinstance(card_message_id, int):
        return None
    return CardPlace(chat_id, card_message_id, queries.card_of(session, message, work), decision)
