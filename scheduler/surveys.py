"""Satisfaction surveys about service requests (Code 1.4, 1.6): asking, reading the score, recording the reply.

`send_survey` asks one resident about one service request through the outbox, in the same transaction as
the `SurveyRequest` it records. `record_chat_reply` reads a chat message from a resident with an open
survey as the answer to it. `parse_score` and `needs_staff` are pure.

Email replies to a survey are not read here: intake already threads them onto the service request by
the survey email's Message-ID (In-Reply-To), and staff triage them like any other reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from intake.threading_rules import thread_hint
from models.cases import Case
from models.enums import CaseKind, ContactChannel, Direction, Hazard, Label, MessageStatus, OutboxChannel, Party
from models.lifecycle import LifecycleError
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import Resident
from models.records import AuditEvent, Correspondence
from models.repository.audit import record_event
from models.surveys import SurveyRequest
from models.types import row_id

# The case events of scheduler.actions, reused so a survey reply becomes a case exactly as a staff tap would
# make it, and letters go by the resident's channel by the same rule.
from scheduler.actions import latest_classification, new_case, send_resident
from scheduler.casework import Casework
from scheduler.letters import SurveyQuestion, SurveyReply, render_survey_question, render_survey_reply

DEFAULT_QUESTION = (
    "How happy were you with the repair? Please reply with a number from 1 (very unhappy) to 5 (very happy), "
    "and tell us why."
)
# A reply this long after the question is a new message, not an answer.
ANSWER_WINDOW = timedelta(days=14)
ACTOR = "survey"
ANSWERED = "survey_answered"
ABOUT_CHARS = 80
FEEDBACK_CHARS = 4000


# ------------------------------------------------------------------------------------------ asking


def send_survey(
    session: Session, *, case: Case, now: datetime, work: Casework, question: str | None = None
) -> SurveyRequest:
    """Ask the resident about a service request, by chat if they reach us by Telegram, else by email.

    Once per service request: asking again returns the first request unchanged (nothing is sent twice).
    Refuses a case that is not a service request, or whose resident cannot be written to (LifecycleError).
    Flushes, never commits.
    """
    if case.kind is not CaseKind.SERVICE_REQUEST:
        kind = case.kind.value.replace("_", " ")
        raise LifecycleError(f"{case.reference} is a {kind}: surveys are about repairs and other service requests.")
    existing = session.exec(
        select(SurveyRequest).where(SurveyRequest.case_id == row_id(case)).order_by(col(SurveyRequest.id))
    ).first()
    if existing is not None:
        return existing
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None:
        raise LifecycleError(f"{case.reference} has no resident to ask.")
    asked = (question or "").strip() or DEFAULT_QUESTION
    letter = render_survey_question(
        SurveyQuestion(resident_name=resident.name, reference=case.reference, question=asked, about=_about(case)),
        work.landlord,
    )
    item = send_resident(session, case, key=f"survey-question:{case.reference}", letter=letter, now=now, work=work)
    request = SurveyRequest(
        case_id=row_id(case),
        resident_id=row_id(resident),
        channel=ContactChannel.CHAT if item.channel is OutboxChannel.TELEGRAM else ContactChannel.EMAIL,
        question=asked,
        asked_at=now,
        outbox_item_id=item.id,
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        action="survey_sent",
        actor=ACTOR,
        now=now,
        case_id=case.id,
        detail={"survey_request_id": request.id, "channel": request.channel.value, "outbox_item_id": item.id},
    )
    return request


def _about(case: Case) -> str | None:
    words = " ".join((case.definition or "").split())
    if not words:
        return None
    return words if len(words) <= ABOUT_CHARS else words[: ABOUT_CHARS - 1].rstrip() + "\u2026"


def open_survey(session: Session, *, resident_id: int, now: datetime) -> SurveyRequest | None:
    """The resident's latest unanswered survey asked within the answer window, if any."""
    query = (
        select(SurveyRequest)
        .where(
            SurveyRequest.resident_id == resident_id,
            col(SurveyRequest.answered_at).is_(None),
            col(SurveyRequest.asked_at) >= now - ANSWER_WINDOW,
            col(SurveyRequest.asked_at) <= now,
        )
        .order_by(col(SurveyRequest.asked_at).desc(), col(SurveyRequest.id).desc())
    )
    return session.exec(query).first()


# ------------------------------------------------------------------------------------- the score

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBER = r"(?:[1-5]|one|two|three|four|five)"
# "4/5", "4 / 5", "4 out of 5", "four out of five", "4 of 5"
_OUT_OF = re.compile(rf"(?<![\w.])({_NUMBER})\s*(?:/|out\s+of|of)\s*(?:5|five)(?![\w.]|/)")
# "4 stars", "four star"
_STARS_WORD = re.compile(rf"(?<![\w.])({_NUMBER})\s*stars?\b")
_STAR_CHARS = "\u2b50\u2605\U0001f31f"  # ⭐ ★ 🌟
_ANY_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
# A number word only counts where it stands alone at the start: "Four, they were quick" but not "one of them".
_LEADING_WORD = re.compile(r"^\W*(one|two|three|four|five)\s*(?:$|[.,!:;)\-\u2013\u2014])")


def parse_score(text: str) -> int | None:
    """The 1-5 score in a survey reply, or None when there is none or it is unclear.

    Readers in order, the first with something to say decides: "N/5" or "N out of 5"; "N stars"; a row
    of star emoji (1 to 5 of them); a single number 1-5 when it is the only number in the text ("5
    thanks", "I'd give it a 3"); a number word standing alone at the start ("Four, they were quick", but
    not "one of them was rude"). "took 3 weeks, 2" has two numbers and no "/5": unclear, so None.
    Numbers outside 1-5 ("10/10", "0", "6") are not scores here.
    """
    flat = unicodedata.normalize("NFKC", text).replace("\ufe0f", "").casefold().strip()
    for reader in _READERS:
        found = reader(flat)
        if found is not None:
            return found or None
    return None


# What a reader says: a score 1-5; UNCLEAR (stop, there is no clear score); or None (nothing here, read on).
UNCLEAR = 0


def _one_of(found: set[int]) -> int | None:
    if not found:
        return None
    return found.pop() if len(found) == 1 else UNCLEAR


def _out_of_five(flat: str) -> int | None:
    return _one_of({_value(m.group(1)) for m in _OUT_OF.finditer(flat)})


def _stars_in_words(flat: str) -> int | None:
    return _one_of({_value(m.group(1)) for m in _STARS_WORD.finditer(flat)})


def _star_emoji(flat: str) -> int | None:
    """How many star characters there are, when they all stand together (1 to 5 of them)."""
    positions = [i for i, c in enumerate(flat) if c in _STAR_CHARS]
    if not positions:
        return None
    between = flat[positions[0] : positions[-1] + 1]
    if any(c not in _STAR_CHARS and not c.isspace() for c in between) or len(positions) > 5:
        return UNCLEAR
    return len(positions)


def _lone_number(flat: str) -> int | None:
    numbers = _ANY_NUMBER.findall(flat)
    if not numbers:
        return None
    return int(numbers[0]) if len(numbers) == 1 and numbers[0] in {"1", "2", "3", "4", "5"} else UNCLEAR


def _leading_word(flat: str) -> int | None:
    leading = _LEADING_WORD.match(flat)
    return _WORDS[leading.group(1)] if leading else None


def _value(token: str) -> int:
    return _WORDS.get(token) or int(token)


_READERS = (_out_of_five, _stars_in_words, _star_emoji, _lone_number, _leading_word)


# ------------------------------------------------------------------------- who reads the reply


@dataclass(frozen=True)
class ReplyFacts:
    """What the rules may look at: the reply's text and what the classifier said about it."""

    text: str
    predicted: Label | None
    hazard: Hazard | None


class StaffRule(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, facts: ReplyFacts) -> bool: ...


@dataclass(frozen=True)
class AsksToComplain:
    """The resident asks to complain in so many words: always a complaint, even in a survey reply
    (labelling guide; Code 1.3). "No complaints" and "can't complain" are praise, not requests."""

    name: str = "asks to complain"
    _praise = re.compile(r"\b(?:no|not\s+any|can'?t|cannot|nothing\s+to)\s+complain\w*")
    _asks = re.compile(r"\b(?:complain\w*|ombudsman|escalat\w*|stage\s*(?:2|two))\b")

    def check(self, facts: ReplyFacts) -> bool:
        return bool(self._asks.search(self._praise.sub(" ", facts.text.casefold())))


@dataclass(frozen=True)
class NewIssue:
    """The classifier reads a new complaint or a new request in it ("the leak is back"): a person decides."""

    name: str = "reads as a new complaint or request"

    def check(self, facts: ReplyFacts) -> bool:
        return facts.predicted in (Label.COMPLAINT, Label.SERVICE_REQUEST)


@dataclass(frozen=True)
class NotClassified:
    """No classifier, or it failed: nothing says the reply holds no hazard or new issue, so a person reads it."""

    name: str = "not classified"

    def check(self, facts: ReplyFacts) -> bool:
        return facts.predicted is None and facts.hazard is None


@dataclass(frozen=True)
class HazardFlagged:
    """A possible hazard (Awaab's Law): a person must see it the same day, whatever else the reply says."""

    name: str = "possible hazard"

    def check(self, facts: ReplyFacts) -> bool:
        return facts.hazard is not None


# Read in order; the first that fits keeps the reply in the staff triage queue.
STAFF_RULES: tuple[StaffRule, ...] = (AsksToComplain(), HazardFlagged(), NewIssue(), NotClassified())


def needs_staff(facts: ReplyFacts, rules: tuple[StaffRule, ...] = STAFF_RULES) -> str | None:
    """Why a survey reply must reach staff as a normal message, or None to record it as survey feedback.

    The rule: a reply to a survey is survey feedback (Code 1.6: dissatisfaction in a survey is not a
    complaint, and the resident is told how to complain), recorded without a staff tap, unless the
    resident asks to complain in so many words, the classifier flags a possible hazard, it reads the
    reply as a new complaint or service request rather than as feedback, or the reply was not classified
    at all (no classifier, or it failed: nothing has ruled out a hazard). Those go to the triage queue as
    normal messages, threaded onto the service request, so a missed complaint or hazard is never the
    price of a tidy survey. The score is recorded either way.
    """
    return next((rule.name for rule in rules if rule.check(facts)), None)


# --------------------------------------------------------------------------- recording a reply


@dataclass(frozen=True)
class SurveyAnswer:
    """A reply read as the answer to a survey: the request, the score, and what became of the message."""

    survey_request_id: int
    service_request: str  # its reference
    score: int | None
    feedback_case: str | None  # the survey feedback case's reference, when recorded without staff
    for_staff: str | None  # why it went to the triage queue instead


def record_chat_reply(
    session: Session, *, message: InboundMessage, now: datetime, work: Casework
) -> SurveyAnswer | None:
    """Read a freshly stored chat message as the answer to its resident's open survey, if they have one.

    The survey is answered (with the score, if any) and the message is threaded onto the service request
    with a correspondence row (Code 5.12). Then, per `needs_staff`: either a survey feedback case is made
    as `confirm_triage` makes one, and the resident is sent the usual reply saying how to complain (Code
    1.6), the message leaving the queue; or the message stays in the triage queue for a person, read in
    the context of the service request (`thread_hint`). Flushes, never commits.
    """
    if message.resident_id is None:
        return None
    request = open_survey(session, resident_id=message.resident_id, now=now)
    if request is None:
        return None
    service_request = session.get(Case, request.case_id)
    if service_request is None:  # pragma: no cover - a foreign key
        return None
    text = message.new_text or message.body_text
    score = parse_score(text)
    request.answer_message_id = row_id(message)
    request.score = score
    request.answered_at = now
    session.add(request)
    if message.case_id is None:
        message.case_id = service_request.id
    session.add(
        Correspondence(
            case_id=row_id(service_request),
            direction=Direction.INBOUND,
            channel=ContactChannel.CHAT,
            party=Party.RESIDENT,
            party_name=message.sender_name,
            occurred_at=message.received_at,
            body=message.body_text,
            inbound_message_id=message.id,
        )
    )
    classification = latest_classification(session, message)
    predicted = classification.label if classification else None
    reason = needs_staff(
        ReplyFacts(text, predicted, Hazard(classification.hazard) if classification and classification.hazard else None)
    )
    feedback: Case | None = None
    if reason is not None:
        hint = thread_hint(service_request.kind, service_request.status, service_request.stage, predicted or "")
        message.thread_hint = hint or f"reply to the survey on {service_request.reference}: {reason}"
    else:
        message.status = MessageStatus.TRIAGED
        # The message is threaded onto the service request, so the feedback case keeps the words themselves.
        words = " ".join(text.split())[:FEEDBACK_CHARS]
        feedback = new_case(
            session, CaseKind.SURVEY_FEEDBACK, message, classification=classification, definition=words, now=now
        )
        _thank(session, feedback, now=now, work=work)
    session.add(message)
    detail = {
        "survey_request_id": request.id,
        "score": score,
        "service_request": service_request.reference,
        "feedback_case": feedback.reference if feedback else None,
        "for_staff": reason,
    }
    record_event(
        session, action=ANSWERED, actor=ACTOR, now=now, case_id=service_request.id, message_id=message.id, detail=detail
    )
    if feedback is not None:
        record_event(
            session,
            action="survey_feedback",
            actor=ACTOR,
            now=now,
            case_id=feedback.id,
            message_id=message.id,
            detail=detail,
        )
    session.flush()
    return SurveyAnswer(
        row_id(request), service_request.reference, score, feedback.reference if feedback else None, reason
    )


def _thank(session: Session, case: Case, *, now: datetime, work: Casework) -> OutboxItem:
    """The reply survey feedback gets from a staff tap too: thanks, the reference, how to complain (Code 1.6)."""
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    letter = render_survey_reply(
        SurveyReply(resident_name=resident.name if resident else None, reference=case.reference), work.landlord
    )
    return send_resident(session, case, key=f"survey:{case.reference}", letter=letter, now=now, work=work)


def answer_for_message(session: Session, *, message_id: int) -> SurveyAnswer | None:
    """The answer a stored message already gave (Telegram delivering the same update twice), from its audit event."""
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == ANSWERED, AuditEvent.message_id == message_id)
    ).first()
    if event is None:
        return None
    detail = event.detail
    return SurveyAnswer(
        survey_request_id=int(detail["survey_request_id"]),
        service_request=str(detail["service_request"]),
        score=detail.get("score"),
        feedback_case=detail.get("feedback_case"),
        for_staff=detail.get("for_staff"),
    )
