"""The bot's database work: blocking functions the handlers run with `asyncio.to_thread`.

Each opens its own `Session(engine)`, commits what it changed before returning, and hands back plain
data (never ORM rows), so nothing lazy-loads on the event loop after the session has closed.

The reads here that models/repository does not offer yet (messages awaiting review without a card,
one resident's cases with their next deadline) are candidates to move there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.telegram.cards import CardData, DecisionLine
from bot.telegram.triage_notes import edited_definitions, was_linked
from bot.telegram.views import CaseView, DeadlineView, ResidentCase, ResidentStatus
from classifier.classify import Classifier
from intake.chat import ChatIncoming, reference_for, store_chat_message
from models.cases import Case, Deadline
from models.classification import Classification, TriageDecision
from models.enums import AWAITING_STAFF, Label
from models.errors import ConflictError, DomainError
from models.lifecycle import NO_DEADLINES
from models.messages import InboundMessage
from models.people import Resident, StaffMember
from models.records import AuditEvent
from models.repository.audit import record_event
from models.repository.cases import case_by_reference, load_record
from models.repository.messages import get_message
from models.repository.residents import resident_by_telegram
from models.repository.staff import get_staff
from models.types import row_id
from scheduler.actions import confirm_triage
from scheduler.casework import Casework
from scheduler.deadlines import code_deadlines

CARD_POSTED = "card_posted"
CARD_FAILED = "card_failed"
BOT_ACTOR = "telegram"
WAITING_SHOWN = 5


# --------------------------------------------------------------------------------- chat intake


@dataclass(frozen=True)
class Stored:
    reference: str
    created: bool


def store_message(engine: Engine, incoming: ChatIncoming, *, now: datetime, classifier: Classifier | None) -> Stored:
    """Store (or find) one resident's chat message and commit it: only then may the resident be told."""
    with Session(engine) as session:
        outcome = store_chat_message(session, incoming=incoming, now=now, classifier=classifier)
        stored = Stored(reference=outcome.reference, created=outcome.created)
        session.commit()
    return stored


def resident_status(engine: Engine, *, telegram_user_id: int) -> ResidentStatus:
    """One resident's own cases (newest first, with their next open deadline) and unconverted messages."""
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None:
            return ResidentStatus(known=False)
        next_due = (
            select(Deadline.case_id, func.min(Deadline.due_on).label("next_due"))
            .where(col(Deadline.met_at).is_(None))
            .group_by(col(Deadline.case_id))
            .subquery()
        )
        rows = session.execute(
            select(Case, next_due.c.next_due)
            .join(next_due, next_due.c.case_id == Case.id, isouter=True)
            .where(Case.resident_id == row_id(resident))
            .order_by(col(Case.received_at).desc(), col(Case.id).desc())
        ).all()
        waiting = session.exec(
            select(InboundMessage)
            .where(
                InboundMessage.resident_id == row_id(resident),
                col(InboundMessage.case_id).is_(None),
                col(InboundMessage.status).in_(AWAITING_STAFF),
            )
            .order_by(col(InboundMessage.received_at).desc(), col(InboundMessage.id).desc())
            .limit(WAITING_SHOWN)
        ).all()
        return ResidentStatus(
            known=True,
            cases=tuple(
                ResidentCase(c.reference, c.kind.value, c.status, None if c.status in NO_DEADLINES else due)
                for c, due in rows
            ),
            waiting=tuple((reference_for(m), m.received_at) for m in waiting),
        )


# ------------------------------------------------------------------------------------- cards


def _cards(session: Session, messages: Sequence[InboundMessage], work: Casework) -> list[CardData]:
    """Card data for these messages: each with its latest classification and its resident."""
    ids = [row_id(m) for m in messages]
    if not ids:
        return []
    latest: dict[int, Classification] = {}
    for item in session.exec(
        select(Classification)
        .where(col(Classification.message_id).in_(ids))
        .order_by(col(Classification.created_at), col(Classification.id))
    ):
        latest[item.message_id] = item  # the last one wins
    edited = edited_definitions(session, ids)  # a staff member's rewrite replaces the classifier's draft
    resident_ids = sorted({m.resident_id for m in messages if m.resident_id is not None})
    residents = (
        {r.id: r for r in session.exec(select(Resident).where(col(Resident.id).in_(resident_ids)))}
        if resident_ids
        else {}
    )
    cards = []
    for message in messages:
        resident = residents.get(message.resident_id)
        found = latest.get(row_id(message))
        rewritten = edited.get(row_id(message))
        dates = code_deadlines(message.received_at, calendar=work.calendar, timescales=work.timescales)
        cards.append(
            CardData(
                message_id=row_id(message),
                reference=reference_for(message),
                channel=message.channel.value,
                sender_name=message.sender_name or (resident.name if resident else None),
                sender_address=message.sender_address,
                known_resident=resident is not None and not resident.provisional,
                received_at=message.received_at,
                acknowledge_by=dates.stage1_ack_due,
                text=message.new_text or message.body_text,
                subject=message.subject,
                label=found.label if found else None,
                confidence=found.confidence if found else None,
                needs_review=found.needs_review if found else False,
                hazard=found.hazard.value if found and found.hazard else None,
                vulnerability=found.vulnerability if found else False,
                third_party=found.third_party if found else False,
                exclusion_hint=found.exclusion_hint.value if found and found.exclusion_hint else None,
                definition=rewritten.text if rewritten else found.definition_summary if found else None,
                definition_by=rewritten.staff_name if rewritten else None,
            )
        )
    return cards


def unposted_cards(engine: Engine, work: Casework, *, limit: int) -> list[CardData]:
    """Messages awaiting review (any channel) with no card yet: hazards first (Awaab's Law), then oldest first.

    Cards are paced to Telegram's group limit, so this order decides who waits in a burst."""
    posted = select(AuditEvent.message_id).where(
        col(AuditEvent.action).in_([CARD_POSTED, CARD_FAILED]), col(AuditEvent.message_id).is_not(None)
    )
    hazard = (
        select(Classification.id)
        .where(Classification.message_id == InboundMessage.id, col(Classification.hazard).is_not(None))
        .exists()
    )
    with Session(engine) as session:
        messages = session.exec(
            select(InboundMessage)
            .where(col(InboundMessage.status).in_(AWAITING_STAFF), col(InboundMessage.id).not_in(posted))
            .order_by(hazard.desc(), col(InboundMessage.received_at), col(InboundMessage.id))
            .limit(limit)
        ).all()
        return _cards(session, messages, work)


def record_card(engine: Engine, *, message_id: int, chat_id: int, card_message_id: int, now: datetime) -> None:
    """Remember that a message's card is in the staff chat, so no other run posts it again."""
    with Session(engine) as session:
        record_event(
            session,
            action=CARD_POSTED,
            actor=BOT_ACTOR,
            now=now,
            message_id=message_id,
            detail={"chat_id": chat_id, "card_message_id": card_message_id},
        )
        session.commit()


def record_card_failed(engine: Engine, *, message_id: int, error: str, now: datetime) -> None:
    """Set a card Telegram refused aside, so it cannot block the cards behind it."""
    with Session(engine) as session:
        record_event(
            session, action=CARD_FAILED, actor=BOT_ACTOR, now=now, message_id=message_id, detail={"error": error[:500]}
        )
        session.commit()


def awaiting_review(engine: Engine, work: Casework, *, limit: int) -> tuple[list[CardData], int]:
    """The first `limit` messages awaiting review by acknowledgement deadline, and how many there are.

    The deadline only ever moves later with the receipt time, so the oldest receipt is due first.
    """
    waiting = col(InboundMessage.status).in_(AWAITING_STAFF)
    with Session(engine) as session:
        total = int(session.exec(select(func.count()).select_from(InboundMessage).where(waiting)).one())
        messages = session.exec(
            select(InboundMessage)
            .where(waiting)
            .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
            .limit(limit)
        ).all()
        cards = _cards(session, messages, work)
    return sorted(cards, key=lambda c: (c.acknowledge_by, c.received_at, c.message_id)), total


# ----------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Decided:
    line: DecisionLine
    card: CardData | None  # the card as posted, to redraw it with the outcome


@dataclass(frozen=True)
class AlreadyDecided:
    line: DecisionLine | None


@dataclass(frozen=True)
class NotDecided:
    reason: str


Decision = Decided | AlreadyDecided | NotDecided


def decide(engine: Engine, work: Casework, *, message_id: int, staff_id: int, label: Label, now: datetime) -> Decision:
    """A staff member's tap: confirm the triage and commit it, or say who got there first."""
    with Session(engine, expire_on_commit=False) as session:
        message = get_message(session, message_id=message_id)
        staff = get_staff(session, staff_id=staff_id)
        if message is None or staff is None:
            return NotDecided("That message is no longer stored.")
        rewritten = edited_definitions(session, [message_id]).get(message_id)
        try:
            outcome = confirm_triage(
                session,
                message=message,
                staff=staff,
                label=label,
                now=now,
                work=work,
                definition=rewritten.text if rewritten else None,
            )
        except ConflictError:
            session.rollback()
            return AlreadyDecided(decision_line(session, message_id))
        except DomainError as exc:
            session.rollback()
            return NotDecided(exc.message)
        reference = outcome.case.reference if outcome.case else None
        session.commit()
        [card] = _cards(session, [message], work)
        return Decided(DecisionLine(label, reference, staff.name, now), card)


def decision_line(session: Session, message_id: int) -> DecisionLine | None:
    """Who decided this message, as what, and when; None while it is undecided."""
    decision = session.exec(select(TriageDecision).where(TriageDecision.message_id == message_id)).first()
    if decision is None:
        return None
    staff = session.get(StaffMember, decision.staff_id)
    case = session.get(Case, decision.case_id) if decision.case_id else None
    return DecisionLine(
        decision.label,
        case.reference if case else None,
        staff.name if staff else "someone",
        decision.decided_at,
        linked=was_linked(session, message_id),
    )


def card_of(session: Session, message: InboundMessage, work: Casework) -> CardData:
    """One message's card as it reads now, to redraw it."""
    [card] = _cards(session, [message], work)
    return card


# --------------------------------------------------------------------------------------- cases


def case_view(engine: Engine, *, reference: str) -> CaseView | None:
    with Session(engine) as session:
        case = case_by_reference(session, reference=reference)
        if case is None:
            return None
        record = load_record(session, case=case)
        handlers = {
            s.id: s.name
            for s in (
                session.get(StaffMember, i) for i in (case.stage1_handler_id, case.stage2_handler_id) if i is not None
            )
            if s is not None
        }
        resident = record.resident
        who = None
        if resident is not None:
            who = resident.name or resident.email or "no name recorded"
            who += " (provisional)" if resident.provisional else ""
        return CaseView(
            reference=case.reference,
            kind=case.kind.value,
            status=case.status,
            stage=case.stage,
            received_at=case.received_at,
            resident=who,
            stage1_handler=handlers.get(case.stage1_handler_id),
            stage2_handler=handlers.get(case.stage2_handler_id),
            hazard=case.hazard.value if case.hazard else None,
            definition=case.definition,
            deadlines=tuple(
                DeadlineView(d.stage, d.kind.value, d.due_on, d.original_due_on, d.due_at, d.met_at)
                for d in record.deadlines
            ),
            closed_at=case.closed_at,
            exclusion_reason=case.exclusion_reason,
        )
