"""The short, optional conversation that links a Telegram user to their resident record, offered once.

After a new resident's first message is stored, its receipt carries two buttons, "Add my details" and
"Skip" (`claim_offer` records `link_offered_at` first, so the offer is made once, even across restarts
or if it is ignored). "Add my details" asks three questions in turn, each skippable with its button or
/skip: name, then address or tenancy reference, then email (checked loosely). /cancel stops. Each
answer goes straight onto the resident record intake created for this Telegram user, which stays
provisional until staff confirm it.

An email address another resident record already holds is not merged: it is kept on this record as
given, staff are told (an audit event and an alert), and the resident is told, kindly, that a person
will check it first. Merging on an unchecked address could show this chat someone else's cases.

The state is in the database, not in memory: each step is an audit event (`resident_link`, keyed by the
resident's first message) whose `step` is the question now awaiting an answer. While one is awaited
(for up to `TIMEOUT` after the last step) the resident's text messages are answers, not new messages.
A photo is stored as a new message as always (the question stays open), and a text that cannot be an
answer (far too long for a name or an address) ends the conversation and is stored as a new message,
so no report is ever lost to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.telegram.context import Context, deps
from models.enums import OutboxChannel, Party
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
from scheduler.letters import LinkConflictAlert, render_link_conflict_alert

ACTOR = "resident"
CONFLICT_ACTION = "link_email_conflict"
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
EMAIL_HELD_ELSEWHERE = (
    "Thank you. We already have that email address on another record, so a member of our team will check "
    "it is yours before joining the two up. Until then we will keep this chat separate. "
    "You can carry on sending us messages here."
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

NAME_CHARS, NAME_WORDS = 100, 8
ADDRESS_CHARS, ADDRESS_WORDS = 300, 40
EMAIL_CHARS, EMAIL_WORDS = 320, 4
_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}")
# A tenancy reference: one short token with a digit in it and no spaces, e.g. "T-104233" or "RH/00123".
_TENANCY = re.compile(r"(?=[^\s]*\d)[A-Za-z0-9][A-Za-z0-9/\-.]{2,23}")


@dataclass(frozen=True)
class Fits:
    field: str  # the Resident field it goes into
    value: str


@dataclass(frozen=True)
class TryAgain:
    reason: str  # said to the resident


@dataclass(frozen=True)
class NotAnAnswer:
    """Too long (or too many words) to be an answer: a new message, most likely a report."""


Answer = Fits | TryAgain | NotAnAnswer


def read_answer(step: Step, text: str) -> Answer:
    """How a text answers the question at `step`: where it goes, ask again, or not an answer at all."""
    value = " ".join(text.split())
    words = len(value.split())
    if step is Step.NAME:
        return NotAnAnswer() if len(value) > NAME_CHARS or words > NAME_WORDS else Fits("name", value)
    if step is Step.ADDRESS:
        if len(value) > ADDRESS_CHARS or words > ADDRESS_WORDS:
            return NotAnAnswer()
        return Fits("tenancy_ref", value) if _TENANCY.fullmatch(value) else Fits("address", value)
    if step is Step.EMAIL:
        email = value.strip(".").lower()
        if len(email) <= EMAIL_CHARS and _EMAIL.fullmatch(email):
            return Fits("email", email)
        return TryAgain(NOT_AN_EMAIL) if "@" in value or words <= EMAIL_WORDS else NotAnAnswer()
    raise ValueError(f"{step} is not a question")


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
) -> Outcome:
    """Take the answer to `step` (`text` None: skipped) onto the resident record; move to the next question.

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
        held_elsewhere = False
        if text is None:
            _record(session, resident, following, now, skipped=step.value, source=source)
        else:
            read = read_answer(step, text)
            if isinstance(read, TryAgain):
                return Outcome(Reply.TRY_AGAIN, step, read.reason)
            if isinstance(read, NotAnAnswer):
                _record(session, resident, Step.STOPPED, now, reason="not an answer", source=source)
                session.commit()
                return Outcome(Reply.NOT_AN_ANSWER)
            held_elsewhere = _save(session, resident, read, now=now, work=work)
            _record(session, resident, following, now, answered=read.field, source=source)
        outcome = (
            _finish(session, resident, held_elsewhere) if following is Step.DONE else Outcome(Reply.ASK, following)
        )
        session.commit()
    return outcome


def _save(session: Session, resident: Resident, answer: Fits, *, now: datetime, work: Casework) -> bool:
    """Put one answer on the record; an email another record holds is kept here too, and flagged."""
    other = None
    if answer.field == "email":
        other = other_resident_with_email(session, email=answer.value, resident_id=row_id(resident))
    setattr(resident, answer.field, answer.value)  # read_answer keeps each within its column
    session.add(resident)
    session.flush()
    if other is not None:
        _flag_email(session, resident, other, answer.value, now=now, work=work)
    return other is not None


def _finish(session: Session, resident: Resident, held_elsewhere: bool) -> Outcome:
    if held_elsewhere:
        return Outcome(Reply.DONE, text=EMAIL_HELD_ELSEWHERE)
    answered = any(e.detail.get("answered") for e in link_events(session, resident_id=row_id(resident)))
    return Outcome(Reply.DONE, text=SAVED if answered else NOTHING_SAVED)


def _flag_email(
    session: Session, resident: Resident, other: Resident, email: str, *, now: datetime, work: Casework
) -> None:
    """Tell staff, never merge: an audit event, the staff chat and the complaints officers by email."""
    first = first_message_id(session, resident_id=row_id(resident))
    record_event(
        session,
        action=CONFLICT_ACTION,
        actor=ACTOR,
        now=now,
        message_id=first,
        detail={
            "resident_id": resident.id,
            "telegram_user_id": resident.telegram_user_id,
            "email": email,
            "other_resident_id": other.id,
        },
    )
    letter = render_link_conflict_alert(
        LinkConflictAlert(
            chat_resident_id=row_id(resident),
            telegram_user_id=resident.telegram_user_id or 0,
            chat_name=resident.name,
            email=email,
            other_resident_id=row_id(other),
            other_name=other.name,
        ),
        work.landlord,
    )
    key = f"{CONFLICT_ALERT_PREFIX}{resident.id}:{other.id}"
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
    outcome = await asyncio.to_thread(
        answer,
        triage.engine,
        triage.work,
        telegram_user_id=user.id,
        step=step,
        text=message.text,
        now=triage.clock(),
        source=source_key,
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
