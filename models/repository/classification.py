from __future__ import annotations

from sqlmodel import Session, col, select

from models.classification import TriageDecision
from models.messages import InboundMessage
from models.repository.privacy import ERASED


def decisions_with_messages(session: Session) -> list[tuple[TriageDecision, InboundMessage]]:
    """Every staff triage decision with the message it was about, oldest first (training data).

    Messages whose resident's data was erased are left out: their words are gone, and must not come back
    through the model."""
    query = (
        select(TriageDecision, InboundMessage)
        .join(InboundMessage, col(InboundMessage.id) == col(TriageDecision.message_id))
        .where(col(InboundMessage.body_text) != ERASED)
        .order_by(col(TriageDecision.decided_at), col(TriageDecision.id))
    )
    return [(decision, message) for decision, message in session.exec(query)]
