from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

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


def messages_by_sources(session: Session, *, source_keys: Sequence[str]) -> dict[str, InboundMessage]:
    if not source_keys:
        return {}
    query = select(InboundMessage).where(col(InboundMessage.source_key).in_(list(source_keys)))
    return {m.source_key: m for m in session.exec(query)}


def messages_by_content_hashes(session: Session, *, hashes: Sequence[str]) -> list[InboundMessage]:
    if not hashes:
        return []
    query = select(InboundMessage).where(col(InboundMessage.content_hash).in_(list(hashes)))
    return list(session.exec(query.order_by(col(InboundMessage.id))))


def sender_counts_since(session: Session, *, senders: Sequence[str], since: datetime) -> dict[str, int]:
    if not senders:
        return {}
    query = (
        select(InboundMessage.sender_address, func.count())
        .where(col(InboundMessage.sender_address).in_(list(senders)), col(InboundMessage.received_at) >= since)
        .group_by(col(InboundMessage.sender_address))
    )
    return {sender: int(n) for sender, n in session.exec(query)}
