"""What a resident's chat message means: an answer in the linking conversation, a reply to an open survey,
or a new message. One read per message, before it is stored, so the right handler stores it.

Telegram may deliver the same update twice. A second delivery goes to the handler that took the first,
even though the conversation or the survey has moved on since, so it is answered the same way and
never stored as a new message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.telegram.linking import Step, conversation_of
from models.repository.messages import message_by_source
from models.repository.residents import resident_by_telegram
from models.types import row_id
from scheduler.surveys import answer_for_message, open_survey


@dataclass(frozen=True)
class ChatState:
    link_step: Step | None = None  # the linking question awaiting an answer
    link_replayed: bool = False  # this very message was already taken as a linking answer
    survey_open: bool = False  # a survey asked and not yet answered, within its window
    survey_replayed: bool = False  # this very message already answered a survey
    may_offer_link: bool = True  # no resident yet, or a provisional one never offered the linking conversation

    @property
    def link_answer(self) -> bool:
        return self.link_step is not None or self.link_replayed

    @property
    def survey_reply(self) -> bool:
        return self.survey_open or self.survey_replayed


def chat_state(engine: Engine, *, telegram_user_id: int, source_key: str, now: datetime) -> ChatState:
    with Session(engine) as session:
        resident = resident_by_telegram(session, telegram_user_id=telegram_user_id)
        if resident is None:
            return ChatState()
        stored = message_by_source(session, source_key=source_key)
        link_step, link_replayed = conversation_of(session, resident=resident, source_key=source_key, now=now)
        return ChatState(
            link_step=link_step,
            link_replayed=link_replayed,
            survey_open=open_survey(session, resident_id=row_id(resident), now=now) is not None,
            survey_replayed=stored is not None and answer_for_message(session, message_id=row_id(stored)) is not None,
            may_offer_link=resident.provisional and resident.link_offered_at is None,
        )
