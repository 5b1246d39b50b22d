from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.messages import InboundMessage, InboundMessageCreate


def store_inbound(session: Session, *, data: InboundMessageCreate, now: datetime) -> tuple[InboundMessage, bool]:
    """Store a message once. Returns (message, created); storing the same source again is a no-op."""
    existing = message_by_source(session, source_key=data.source_key)
    if existing is not None:
        return existing, False
    message = InboundMessage.model_validate(data, update={"created_at": now})
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another worker stored the same source between our look-up and our insert.
        existing = message_by_source(session, source_key=data.source_key)
        if existing is None:
            raise
        return existing, False
    return message, True


def message_by_source(session: Session, *, source_key: str) -> InboundMessage | None:
    return session.exec(select(InboundMessage).where(InboundMessage.source_key == source_key)).first()


def get_message(session: Session, *, message_id: int) -> InboundMessage | None:
    return session.get(InboundMessage, message_id)


def messages_for_case(session: Session, *, case_id: int) -> list[InboundMessage]:
    query = (
        select(InboundMessage)
        .where(InboundMessage.case_id == case_id)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    )
    return list(session.exec(query))
