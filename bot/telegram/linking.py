"""The short, optional conversation that links a Telegram user to their resident record, offered once.

After a new resident's first message is stored, its receipt carries two buttons, "Add my details" and
"Skip" (`claim_offer` records `link_offered_at` first, so the offer is made once, even across restarts
or if it is ignored). "Add my details" asks three questions in turn, each skippable with its button or
/skip: name, then address or tenancy reference, then email (checked loosely). /cancel stops. The name
and the address go onto the resident record intake created for this Telegram user, which stays
provisional until staff confirm it.

The email is never written to `Resident.email`. Anyone can type any address into a chat, and that field
is what email intake matches senders by and where letters (and the chat's email fallback) may go: a
chat user who typed a support worker's address would have that person's later emails attached to
their record and shown in their /status. So the address is kept only as an unverified claim, in the
linking audit event (`claimed_email`), and staff are told by an alert to check it before using it
(also saying, when it is so, that another record already holds it: nothing is merged). The resident is
told a member of staff will confirm it, in the same words whether or not another record holds it, so
the chat cannot be used to find out whose addresses we hold.

The state is in the database, not in memory: each step is an audit event (`resident_link`, keyed by the
resident's first message) whose `step` is the question now awaiting an answer. While one is awaited
(for up to `TIMEOUT` after the last step) the resident's text messages are answers, not new messages.
A photo is stored as a new message as always (the question stays open). A text that cannot be an
answer ends the conversation and is stored as a new message (receipt, staff card), so no report is
ever lost to it: one too long for a name or an address, a "name" with a digit in it, an "address" with
no house number, postcode or address word in it, or one the classifier reads as a report (a possible
hazard, or a complaint or service request at `REPORT_CONFIDENCE` or more). The classifier reads an
address with its numbers, postcode and address words taken out, as it reads "Flat 3" as repair talk.
Without a classifier (or if it fails) the shape rules alone decide.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.telegram.context import Context, deps
from classifier.classify import Classifier, MessageIn
from models.enums import Channel, Label, OutboxChannel, Party
from models.people import Resident
from models.records import AuditEvent
from models.repository.audit import record_event
from models.repository.outbox import NewMessage, enqueue_many
from models.repository.residents import (
    LINK_ACTION,
    claim_link_offer,
    first_message_id,
    link_events,
    other_resident_with_email,
    resident_by_telegram,
)
from models.types import row_id
from scheduler.casework import Casework
from scheduler.jobs import complaints_officers, staff_email
from scheduler.letters import Rendered, environment

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")

ACTOR = "resident"
CONFLICT_ACTION = "link_email_conflict"
# Every alert about an email given in the chat, held elsewhere or not: `link-conflict:<resident>:<other
# resident or "claim">:...`, the prefix and shape privacy erasure finds them by (models.repository.privacy).
CONFLICT_ALERT_PREFIX = "link-conflict:"
# Answers are awaited this long after the last step; after that, a text is a new message again.
TIMEOUT = timedelta(hours=1)
CALLBACK_PATTERN = r"^link:(?:add|no|skip:(?:name|address|email))$"


class Step(StrEnum):
    """Where a resident's linking conversation stands: the question awaiting an answer, or how it ended."""

    OFFERED = "offered"  # the buttons are on the receipt; nothing asked yet
    NAME = "name"
    ADDRESS = "address"
    EMAIL = "email"
    DONE = "done"
    DECLINED = "declined"  # "Skip" on the offer
    STOPPED = "stopped"  # /cancel, or a message that was not an answer


QUESTIONS = (Step.NAME, Step.ADDRESS, Step.EMAIL)
NEXT = {Step.NAME: Step.ADDRESS, Step.ADDRESS: Step.EMAIL, Step.EMAIL: Step.DONE}

# ---------------------------------------------------------------------------- what the resident reads

ADD, NO = "Add my details", "Skip"
OFFER_BUTTONS = InlineKeyboardMarkup(
    [[InlineKeyboardButton(ADD, callback_data="link:add"), InlineKeyboardButton(NO, callback_data="link:no")]]
)
INTRO = (
    "Thank you. Your details help us find your tenancy and keep you up to date. Only our staff can see them. "
    "You can skip any question, or send /cancel to stop."
)
ASK = {
    Step.NAME: "What is your name?",
    Step.ADDRESS: "What is your address? If you know your tenancy reference, you can send that instead.",
    Step.EMAIL: "What is your email address? We will only use it to write to you about your cases.",
}
DECLINED_TOAST = "No problem. We will not ask again."
SAVED = (
    "Thank you, we have saved your details. A member of our team will check them. "
    "You can carry on sending us messages here."
)
NOTHING_SAVED = "That is fine. You can carry on sending us messages here."
# Said whenever an email was given, held on another record or not (see the module docstring).
EMAIL_TO_CONFIRM = (
    "Thank you. A member of our team will check your details, and will confirm your email address with you "
    "before we use it. Until then we will write to you here. You can carry on sending us messages here."
)
NOT_AN_EMAIL = "That does not look like an email address. Please check it and send it again, or tap Skip."
STOPPED = (
    "OK, we have stopped asking. Anything you already told us is saved. You can carry on sending us messages here."
)
NOT_AN_ANSWER = "We have stopped asking for your details, and kept your message as a new message."
NOTHING_TO_SKIP = "There is nothing to skip just now. Just send us your message."
NOTHING_TO_CANCEL = "There is nothing to cancel just now. Just send us your message."
ALREADY_ANSWERED = "That question has already been answered."
NOT_NOW = "Sorry, that has already been done."


def question(step: Step, *, first: bool = False) -> str:
    return f"{INTRO}\n\n{ASK[step]}" if first else f"Thanks. {ASK[step]}"


def skip_button(step: Step) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Skip", callback_data=f"link:skip:{step.value}")]])


# ------------------------------------------------------------------------------ pure rules

NAME_CHARS, NAME_WORDS = 80, 6
ADDRESS_CHARS, ADDRESS_WORDS = 300, 40
EMAIL_CHARS, EMAIL_WORDS = 320, 4
_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}")
# A tenancy reference: one short token with a digit in it and no spaces, e.g. "T-104233" or "RH/00123".
_TENANCY = re.compile(r"(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9/\-.]{2,23}")
# What makes a text an address: a number ("12", "3a"), a UK postcode, or a word addresses are made of.
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_ADDRESS_WORDS = re.compile(
    r"\b(?:flat|apartment|apt|maisonette|bungalow|house|cottages?|farm|lodge|hall|unit|block|floor|room|"
    r"road|rd|street|st|lane|ln|court|ct|close|avenue|ave|drive|dr|way|crescent|terrace|place|gardens|grove|"
    r"square|walk|estate|tower|towers|mews|row|hill|green|view|park|rise|parade|wharf)\b|\b\d+[a-z]?\b",
    re.IGNORECASE,
)
# The classifier's reading that makes a text a report rather than an answer (with any possible hazard).
REPORT_LABELS = frozenset({Label.COMPLAINT, Label.SERVICE_REQUEST})
REPORT_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Fits:
    field: str  # the Resident field it goes into
    value: str


@dataclass(frozen=True)
class TryAgain:
    reason: str  # said to the resident


@dataclass(frozen=True)
class NotAnAnswer:
    """Not shaped like an answer, or read as a report: a new message, most likely a report."""


Answer = Fits | TryAgain | NotAnAnswer


@dataclass(frozen=True)
class Reading:
    """What the classifier made of a text: enough to say whether it is a report rather than an answer."""

    label: str
    confidence: float
    hazard: str | None

    @property
    def is_report(self) -> bool:
        return self.hazard is not None or (self.label in REPORT_LABELS and self.confidence >= REPORT_CONFIDENCE)


def read_answer(step: Step, text: str, reading: Reading | None = None) -> Answer:
    """How a text answers the question at `step`: where it goes, ask again, or not an answer at all.

    `reading` is the classifier's reading of `to_classify(step, text)`, if there was one: a report is not
    an answer, whatever its shape.
    """
    shaped = _shape(step, " ".join(text.split()))
    if reading is not None and reading.is_report and not isinstance(shaped, NotAnAnswer):
        return NotAnAnswer()
    return shaped


def _shape(step: Step, value: str) -> Answer:
    words = len(value.split())
    if step is Step.NAME:
        # A name has a letter in it and no digit: "07700 900123", "Flat 3" or "5" are not names.
        too_long = len(value) > NAME_CHARS or words > NAME_WORDS
        named = any(c.isalpha() for c in value) and not any(c.isdigit() for c in value)
        return Fits("name", value) if named and not too_long else NotAnAnswer()
    if step is Step.ADDRESS:
        if len(value) > ADDRESS_CHARS or words > ADDRESS_WORDS:
            return NotAnAnswer()
        if _TENANCY.fullmatch(value):
            return Fits("tenancy_ref", value)
        addressed = _POSTCODE.search(value) or _ADDRESS_WORDS.search(value)
        return Fits("address", value) if addressed else NotAnAnswer()
    if step is Step.EMAIL:
        email = value.strip(".").lower()
        if len(email) <= EMAIL_CHARS and _EMAIL.fullmatch(email):
            return Fits("email", email)
        return TryAgain(NOT_AN_EMAIL) if "@" in value or words <= EMAIL_WORDS else NotAnAnswer()
    raise ValueError(f"{step} is not a question")


def to_classify(step: Step, text: str) -> str | None:
    """What the classifier is to read of a text sent at `step`, or None when there is nothing to ask it:
    not an answer by its shape already, or an email address or a tenancy reference (one token, no report).

    An address is read with its numbers, postcode and address words taken out ("Flat 3, 12 Rose Court"
    is repair talk to the model), so what is left is what it says besides being an address.
    """
    value = " ".join(text.split())
    shaped = _shape(step, value)
    if isinstance(shaped, NotAnAnswer) or (isinstance(shaped, Fits) and shaped.field in ("email", "tenancy_ref")):
        return None
    if step is Step.ADDRESS:
        value = " ".join(_ADDRESS_WORDS.sub(" ", _POSTCODE.sub(" ", value)).replace(",", " ").split())
    return value or None


def classify_answer(classifier: Classifier | None, step: Step | None, text: str, now: datetime) -> Reading | None:
    """The classifier's reading of a text sent while `step` is awaited; None without a classifier, with
    nothing to read, or when it fails (the shape rules then decide alone). Blocking: run it in a thread."""
    wanted = to_classify(step, text) if step is not None and classifier is not None else None
    if classifier is None or wanted is None:
        return None
    try:
        result = classifier.classify(
            MessageIn(id="link-answer", channel=Channel.CHAT.value, subject=None, text=wanted),
            received=now.astimezone(LONDON).date(),
        )
    except Exception:
        log.exception("could not classify a linking answer; the shape rules decide alone")
        return None
    return Reading(result.label, result.confidence, result.hazard)


def awaiting(last_step: str | None, last_at: datetime | None, now: datetime) -> Step | None:
    """The question awaiting an answer, given the conversation's last step and when it was taken."""
    if last_step not in {s.value for s in QUESTIONS} or last_at is None or now - last_at > TIMEOUT:
        return None
    return Step(last_step)


# ------------------------------------------------------------------------------ the database

# Run with asyncio.to_thread: each opens its own session and commits before returning plain data.


def step_for(session: Session, *, resident: Resident, now: datetime) -> Step | None:
    """The question this resident's next text answers, if one is awaited."""
    if resident.link_offered_at is None:
        return None
    last = _last(session, resident)
    return awaiting(last.detail.get("step") if last else None, last.occurred_at if last else None, now)


def _last(session: Session, resident: Resident) -> AuditEvent | None:
    events = link_events(session, resident_id=row_id(resident))
    return events[-1] if events else None


def _record(session: Session, resident: Resident, step: Step, now: datetime, **detail: object) -> None:
    first = first_message_id(session, resident_id=row_id(resident))
    record_event(
        session,
        action=LINK_ACTION,
        actor=ACTOR,
        now=now,
        message_id=first,
        detail={
            "step": step.value,
            "resident_id": resident.id,
            "telegram_user_id": resident.telegram_user_id,
            **detail,
        },
    )


def claim_offer(engine: Engine, *, telegram_user_id: int, now: datetime) -> bool:
    """True if the offer is to be made now: a provisional resident, never offered before (recorded here)."""
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None or not claim_link_offer(session, resident_id=row_id(resident), now=now):
            return False
        _record(session, resident, Step.OFFERED, now)
        session.commit()
    return True


def _last_step(session: Session, resident: Resident) -> str | None:
    last = _last(session, resident)
    return str(last.detail.get("step")) if last else None


def start(engine: Engine, *, telegram_user_id: int, now: datetime) -> bool:
    """The "Add my details" button: ask the first question, if the offer is still open (it starts once only)."""
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None or _last_step(session, resident) != Step.OFFERED:
            return False
        _record(session, resident, QUESTIONS[0], now)
        session.commit()
    return True


def decline(engine: Engine, *, telegram_user_id: int, now: datetime) -> bool:
    """The offer's "Skip" button: never asked again."""
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None or _last_step(session, resident) != Step.OFFERED:
            return False
        _record(session, resident, Step.DECLINED, now)
        session.commit()
    return True


def stop(engine: Engine, *, telegram_user_id: int, now: datetime, reason: str = "cancelled") -> bool:
    """/cancel (or a message that was no answer): end the conversation; what was saved stays saved."""
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None or step_for(session, resident=resident, now=now) is None:
            return False
        _record(session, resident, Step.STOPPED, now, reason=reason)
        session.commit()
    return True


class Reply(StrEnum):
    """What the resident is told after an answer or a skip."""

    ASK = "ask"  # the next question (`Outcome.step`)
    DONE = "done"  # the closing words (`Outcome.text`)
    TRY_AGAIN = "try_again"  # why, and the same question (`Outcome.text`, `Outcome.step`)
    NOT_AN_ANSWER = "not_an_answer"  # the conversation stopped; the text is a new message
    STALE = "stale"  # nothing awaited this (an old button, the conversation over): not an answer
    REPEAT = "repeat"  # this message was answered already and the conversation is over: say nothing


@dataclass(frozen=True)
class Outcome:
    reply: Reply
    step: Step | None = None
    text: str = ""


def conversation_of(
    session: Session, *, resident: Resident, source_key: str, now: datetime
) -> tuple[Step | None, bool]:
    """The question this resident's next text answers (if one is awaited), and whether this very message
    (its source key) was already taken as an answer: Telegram delivering it again."""
    events = link_events(session, resident_id=row_id(resident)) if resident.link_offered_at else []
    if not events:
        return None, False
    step = awaiting(events[-1].detail.get("step"), events[-1].occurred_at, now)
    return step, any(e.detail.get("source") == source_key for e in events)


def answer(
    engine: Engine,
    work: Casework,
    *,
    telegram_user_id: int,
    step: Step | None,
    text: str | None,
    now: datetime,
    source: str | None = None,
    reading: Reading | None = None,
) -> Outcome:
    """Take the answer to `step` (`text` None: skipped) onto the resident record; move to the next question.

    `reading` is the classifier's (`classify_answer`): a text it reads as a report is not an answer. An
    email is not put on the record: it is kept in the audit event as a claim, and staff are told.

    `source` names the Telegram message. A message already taken (Telegram delivering an update again)
    is not taken twice: the question now awaited is asked again, or, if the conversation is over,
    nothing more is said ("repeat").
    """
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        events = link_events(session, resident_id=row_id(resident)) if resident else []
        if resident is None or not events:
            return Outcome(Reply.STALE)
        current = awaiting(events[-1].detail.get("step"), events[-1].occurred_at, now)
        if source is not None and any(e.detail.get("source") == source for e in events):
            return Outcome(Reply.ASK, current) if current else Outcome(Reply.REPEAT)
        if step is None or current is not step:
            return Outcome(Reply.STALE)
        following = NEXT[step]
        claimed = False
        if text is None:
            _record(session, resident, following, now, skipped=step.value, source=source)
        else:
            read = read_answer(step, text, reading)
            if isinstance(read, TryAgain):
                return Outcome(Reply.TRY_AGAIN, step, read.reason)
            if isinstance(read, NotAnAnswer):
                reason = "read as a report" if reading is not None and reading.is_report else "not an answer"
                _record(session, resident, Step.STOPPED, now, reason=reason, source=source)
                session.commit()
                return Outcome(Reply.NOT_AN_ANSWER)
            if read.field == "email":
                claimed = True
                _record(session, resident, following, now, answered="email", claimed_email=read.value, source=source)
                _flag_email(session, resident, read.value, now=now, work=work)
            else:
                setattr(resident, read.field, read.value)  # read_answer keeps each within its column
                session.add(resident)
                _record(session, resident, following, now, answered=read.field, source=source)
        outcome = _finish(session, resident, claimed) if following is Step.DONE else Outcome(Reply.ASK, following)
        session.commit()
    return outcome


def _finish(session: Session, resident: Resident, claimed: bool) -> Outcome:
    if claimed:
        return Outcome(Reply.DONE, text=EMAIL_TO_CONFIRM)
    answered = any(e.detail.get("answered") for e in link_events(session, resident_id=row_id(resident)))
    return Outcome(Reply.DONE, text=SAVED if answered else NOTHING_SAVED)


def _flag_email(session: Session, resident: Resident, email: str, *, now: datetime, work: Casework) -> None:
    """Tell staff an unverified email was given in the chat, and whether another record holds it (an audit
    event then too): the staff chat and the complaints officers by email. Nothing is written or merged."""
    other = other_resident_with_email(session, email=email, resident_id=row_id(resident))
    if other is not None:
        record_event(
            session,
            action=CONFLICT_ACTION,
            actor=ACTOR,
            now=now,
            message_id=first_message_id(session, resident_id=row_id(resident)),
            detail={
                "resident_id": resident.id,
                "telegram_user_id": resident.telegram_user_id,
                "email": email,
                "other_resident_id": other.id,
            },
        )
    letter = render_claimed_email_alert(resident, email, other, work)
    key = f"{CONFLICT_ALERT_PREFIX}{resident.id}:{other.id if other is not None else 'claim'}"
    messages = [staff_email(person, f"{key}:{person.id}", letter, work) for person in complaints_officers(session)]
    if work.staff_chat_id is not None:
        messages.append(
            NewMessage(
                key=f"{key}:chat",
                channel=OutboxChannel.TELEGRAM,
                recipient=str(work.staff_chat_id),
                body_text=letter.text,
                party=Party.STAFF,
            )
        )
    enqueue_many(session, messages=messages, now=now)


# The HTML part of `render_claimed_email_alert`, on the letters' own layout and staff footer (escaped).
_CLAIM_HTML = """{% extends "_layout.html" %}
{% block content %}
<p style="{{ style.p }}"><strong>{{ headline }}</strong></p>
<p style="{{ style.p }}">{{ who | join("<br>\n"|safe) }}</p>
<p style="{{ style.p }}">{{ kept }}</p>

<h2 style="{{ style.h2 }}">What to do</h2>
<p style="{{ style.p }}">{{ todo }}</p>
{% include "_staff_footer.html" %}
{% endblock %}
"""


def render_claimed_email_alert(resident: Resident, email: str, other: Resident | None, work: Casework) -> Rendered:
    """For staff, in the style of the other alerts: an unverified email given in the chat, to check before use."""
    headline = "A resident in the Telegram chat gave an email address. It is not on their record until it is checked."
    who = [
        f"Chat resident: {resident.name or 'no name given'} (Telegram user {resident.telegram_user_id}, "
        f"resident {resident.id})",
        f"Unverified email given in chat: {email} \u2014 check before using it.",
    ]
    if other is not None:
        who.append(f"Record that already has it: {other.name or 'no name recorded'} (resident {other.id})")
        subject = f"Check a resident's email: resident {resident.id} gave one already on our records"
    else:
        subject = f"Check a resident's email: resident {resident.id} gave one in the chat"
    kept = (
        "Nothing has been merged or changed. The address is kept only in the record of the chat conversation: "
        "no letter goes to it and no email from it is matched to this resident."
    )
    todo = (
        "Check with the resident that the address is theirs (for example, by writing to it) before adding it to "
        "their record or linking the records."
    )
    text = "\n\n".join(
        [headline, "\n".join(who), kept, f"What to do\n{todo}", f"Sent by housing-triage for {work.landlord.name}."]
    )
    template = environment().from_string(_CLAIM_HTML)
    html = template.render(headline=headline, who=who, kept=kept, todo=todo, subject=subject, landlord=work.landlord)
    return Rendered(subject=subject, text=text + "\n", html=html.strip() + "\n")


# ------------------------------------------------------------------------------ handlers


async def button(update: Update, context: Context) -> None:
    """A tap on "Add my details", "Skip" (the offer), or a question's "Skip"."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not query.data:
        return
    triage = deps(context)
    action = query.data.removeprefix("link:")
    if action in ("add", "no"):
        act = start if action == "add" else decline
        done = await asyncio.to_thread(act, triage.engine, telegram_user_id=user.id, now=triage.clock())
        if not done:
            await query.answer(NOT_NOW)
            return
        await _remove_buttons(update)
        if action == "no":
            await query.answer(DECLINED_TOAST)
            return
        await query.answer()
        await context.bot.send_message(
            user.id, question(QUESTIONS[0], first=True), reply_markup=skip_button(QUESTIONS[0])
        )
        return
    step = Step(action.removeprefix("skip:"))
    outcome = await asyncio.to_thread(
        answer, triage.engine, triage.work, telegram_user_id=user.id, step=step, text=None, now=triage.clock()
    )
    if outcome.reply is Reply.STALE:
        await query.answer(ALREADY_ANSWERED)
        return
    await _remove_buttons(update)
    await query.answer()
    await _say(context, user.id, outcome)


async def _remove_buttons(update: Update) -> None:
    """Take the buttons off the message tapped, keeping its text (a receipt keeps its reference)."""
    query = update.callback_query
    message = query.message if query else None
    if query is None or not isinstance(message, Message) or not message.text:
        return
    with contextlib.suppress(BadRequest):  # already edited (a second tap): nothing to take off
        await query.edit_message_text(message.text, reply_markup=None)


async def _say(context: Context, chat_id: int, outcome: Outcome) -> None:
    if outcome.reply is Reply.ASK and outcome.step is not None:
        await context.bot.send_message(chat_id, question(outcome.step), reply_markup=skip_button(outcome.step))
    elif outcome.reply is Reply.TRY_AGAIN and outcome.step is not None:
        await context.bot.send_message(chat_id, outcome.text, reply_markup=skip_button(outcome.step))
    elif outcome.reply is Reply.DONE:
        await context.bot.send_message(chat_id, outcome.text)


async def take_answer(update: Update, context: Context, step: Step | None, source_key: str) -> bool:
    """A text while a question is awaited (or one already taken, again): True if it was an answer,
    False if it is a new message after all."""
    message, user = update.message, update.effective_user
    if message is None or user is None or message.text is None:
        return False
    triage = deps(context)
    # Read by the classifier first, off the event loop: a report sent mid-conversation is not an answer.
    reading = await asyncio.to_thread(classify_answer, triage.classifier, step, message.text, triage.clock())
    outcome = await asyncio.to_thread(
        answer,
        triage.engine,
        triage.work,
        telegram_user_id=user.id,
        step=step,
        text=message.text,
        now=triage.clock(),
        source=source_key,
        reading=reading,
    )
    if outcome.reply is Reply.NOT_AN_ANSWER:
        await message.reply_text(NOT_AN_ANSWER)
        return False
    if outcome.reply is Reply.STALE:
        return False
    await _say(context, message.chat_id, outcome)
    return True


async def skip_command(update: Update, context: Context) -> None:
    """/skip: pass over the question awaiting an answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    triage = deps(context)
    outcome = await asyncio.to_thread(_skip_current, triage.engine, triage.work, user.id, triage.clock())
    if outcome is None:
        await message.reply_text(NOTHING_TO_SKIP)
        return
    await _say(context, message.chat_id, outcome)


def _skip_current(engine: Engine, work: Casework, telegram_user_id: int, now: datetime) -> Outcome | None:
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        step = step_for(session, resident=resident, now=now) if resident else None
    if step is None:
        return None
    outcome = answer(engine, work, telegram_user_id=telegram_user_id, step=step, text=None, now=now)
    return None if outcome.reply is Reply.STALE else outcome


async def cancel_command(update: Update, context: Context) -> None:
    """/cancel: stop the conversation; what was already saved stays."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    triage = deps(context)
    stopped = await asyncio.to_thread(stop, triage.engine, telegram_user_id=user.id, now=triage.clock())
    await message.reply_text(STOPPED if stopped else NOTHING_TO_CANCEL)
