from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from models.outbox import OutboxItem


def outbox_by_message_ids(session: Session, *, message_ids: Sequence[str]) -> list[OutboxItem]:
    """Items we sent with any of these Message-IDs (a reply's In-Reply-To/References, a bounce's copy)."""
    if not message_ids:
        return []
    query = select(OutboxItem).where(col(OutboxItem.message_id_header).in_(list(message_ids)))
    return list(session.exec(query))
