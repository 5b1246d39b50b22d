from __future__ import annotations

from sqlmodel import Session, col, select

from models.classification import TriageDecision
from models.messages import InboundMessage


def decisions_with_messages(session: Session) -> list[tuple[TriageDecision, InboundMessage]]:
    """Every staff triage decision with the message it was about, oldest first (training data)."""
    query = (
        select(TriageDecision, InboundMessage)
        .join(InboundMessage, col(InboundMessage.id) == col(TriageDecision.message_id))
        .order_by(col(TriageDecision.decided_at), col(TriageDecision.id))
    )
    return [(decision, message) for decision, message in session.exec(query)]
