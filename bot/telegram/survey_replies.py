"""A resident's chat message while a survey is open: stored as usual, and read as the answer to it.

Storing the message and recording the answer happen in one transaction, so the message is never in the
triage queue (and never gets a card) unless `scheduler.surveys.needs_staff` keeps it there. The rules
are in `scheduler.surveys`; this module only stores, commits and tells the resident.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Message, Update

from bot.telegram import views
from bot.telegram.context import Context, deps, post_cards_soon
from classifier.classify import Classifier
from intake.chat import ChatIncoming, store_chat_message
from models.types import row_id
from scheduler.casework import Casework
from scheduler.surveys import SurveyAnswer, answer_for_message, record_chat_reply


@dataclass(frozen=True)
class Replied:
    reference: str  # the message's MSG- reference
    answer: SurveyAnswer | None  # None: no survey was open after all, an ordinary message


def store_reply(
    engine: Engine, incoming: ChatIncoming, *, now: datetime, classifier: Classifier | None, work: Casework
) -> Replied:
    """Store the message and read it as the answer to the resident's open survey; commit both together."""
    with Session(engine) as session:
        stored = store_chat_message(session, incoming=incoming, now=now, classifier=classifier)
        if stored.created:
            answer = record_chat_reply(session, message=stored.message, now=now, work=work)
        else:  # Telegram delivered the same update again: say what was said the first time
            answer = answer_for_message(session, message_id=row_id(stored.message))
        replied = Replied(stored.reference, answer)
        session.commit()
    return replied


def thanks(replied: Replied) -> str:
    """What the resident is told: thanks for the feedback, or (when staff will read it) the usual receipt."""
    answer = replied.answer
    if answer is None:
        return views.receipt(replied.reference)
    score = f" You gave us {answer.score} out of 5." if answer.score is not None else ""
    if answer.feedback_case is not None:
        return (
            f"Thank you for your feedback about {answer.service_request}.{score} We read every reply, and it "
            "helps us do better."
        )
    return f"Thank you for your reply about {answer.service_request}.{score}\n\n{views.receipt(replied.reference)}"


async def receive(update: Update, context: Context, message: Message, incoming: ChatIncoming) -> None:
    """Store a reply to an open survey, commit, then thank the resident (and post a card if staff must read it)."""
    triage = deps(context)
    try:
        replied = await asyncio.to_thread(
            store_reply, triage.engine, incoming, now=triage.clock(), classifier=triage.classifier, work=triage.work
        )
    except Exception:
        await message.reply_text(views.NOT_SAVED)
        raise  # to the error handler, which logs it
    await message.reply_text(thanks(replied))
    if replied.answer is None or replied.answer.feedback_case is None:
        post_cards_soon(context, update)
