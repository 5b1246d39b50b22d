"""The outbox: write once per idempotency key, claim safely with several workers, record the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.enums import OutboxChannel, OutboxStatus, Party
from models.outbox import OutboxItem


def outbox_by_message_ids(session: Session, *, message_ids: Sequence[str]) -> list[OutboxItem]:
    """Items we sent with any of these Message-IDs (a reply's In-Reply-To/References, a bounce's copy)."""
    if not message_ids:
        return []
    query = select(OutboxItem).where(col(OutboxItem.message_id_header).in_(list(message_ids)))
    return list(session.exec(query))


def outbox_by_key(session: Session, *, key: str) -> OutboxItem | None:
    return session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == key)).first()


def enqueue(
    session: Session,
    *,
    key: str,
    channel: OutboxChannel,
    recipient: str,
    body_text: str,
    now: datetime,
    subject: str | None = None,
    body_html: str | None = None,
    case_id: int | None = None,
    message_id_header: str | None = None,
    headers: dict[str, Any] | None = None,
    party: Party = Party.RESIDENT,
) -> tuple[OutboxItem, bool]:
    """Add a message to send, once per key, in the caller's transaction. Returns (item, created)."""
    existing = outbox_by_key(session, key=key)
    if existing is not None:
        return existing, False
    item = OutboxItem(
        idempotency_key=key,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        case_id=case_id,
        message_id_header=message_id_header,
        headers=headers or {},
        party=party,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        existing = outbox_by_key(session, key=key)
        if existing is None:
            raise
        return existing, False
    return item, True


@dataclass(frozen=True)
class NewMessage:
    """One message for `enqueue_many`; the same fields as `enqueue` takes."""

    key: str
    channel: OutboxChannel
    recipient: str
    body_text: str
    subject: str | None = None
    body_html: str | None = None
    case_id: int | None = None
    message_id_header: str | None = None
    party: Party = Party.RESIDENT


def enqueue_many(session: Session, *, messages: Sequence[NewMessage], now: datetime) -> int:
    """Add many messages at once: one look-up for the keys already there, one bulk insert for the rest.

    For sweeps that may enqueue thousands. If another instance inserts one of the same keys at the same
    moment, the insert fails and the caller's whole transaction rolls back, to be redone next time.
    """
    existing: set[str] = set()
    keys = [m.key for m in messages]
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing.update(
            session.exec(select(OutboxItem.idempotency_key).where(col(OutboxItem.idempotency_key).in_(chunk)))
        )
    rows: dict[str, dict[str, Any]] = {}
    for m in messages:
        if m.key in existing or m.key in rows:
            continue
        rows[m.key] = {
            "idempotency_key": m.key,
            "channel": m.channel,
            "recipient": m.recipient,
            "subject": m.subject,
            "body_text": m.body_text,
            "body_html": m.body_html,
            "case_id": m.case_id,
            "message_id_header": m.message_id_header,
            "party": m.party,
            "headers": {},
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
    if rows:
        session.execute(sa.insert(OutboxItem), list(rows.values()))
    return len(rows)


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
    """Claim up to `limit` items due now for this worker, for `lease`; commit before sending.

    One UPDATE whose subquery takes rows FOR UPDATE SKIP LOCKED on PostgreSQL, so workers never claim
    the same item; SQLite runs the same single statement under its one-writer lock. An item whose
    worker died mid-send is claimable again once its lease has run out. Each claim counts as an
    attempt, so a message that crashes every worker still reaches its attempt limit.
    """
    table = OutboxItem.__table__  # type: ignore[attr-defined]
    claimable = sa.or_(
        table.c.status == OutboxStatus.PENDING.value,
        sa.and_(table.c.status == OutboxStatus.SENDING.value, table.c.next_attempt_at <= now),
    )
    due_ids = (
        session.execute(
            sa.select(table.c.id)
            .where(claimable, table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not due_ids:
        return []
    # The UPDATE checks again: a worker that read the same rows (SQLite has no row locks) claims none twice.
    claimed = set(
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(list(due_ids)), claimable)
            .values(status=OutboxStatus.SENDING.value, next_attempt_at=now + lease, attempts=table.c.attempts + 1)
            .returning(table.c.id)
        ).scalars()
    )
    if not claimed:
        return []
    items = {
        i.id: i
        for i in session.exec(
            select(OutboxItem).where(col(OutboxItem.id).in_(list(claimed))).execution_options(populate_existing=True)
        )
    }
    return [items[i] for i in due_ids if i in items]


def mark_sent(session: Session, *, item: OutboxItem, now: datetime) -> None:
    item.status = OutboxStatus.SENT
    item.sent_at = now
    item.last_error = None
    session.add(item)


def mark_retry(session: Session, *, item: OutboxItem, error: str, retry_at: datetime) -> None:
    item.status = OutboxStatus.PENDING
    item.last_error = error[:2000]
    item.next_attempt_at = retry_at
    session.add(item)


def mark_failed(session: Session, *, item: OutboxItem, error: str) -> None:
    item.status = OutboxStatus.FAILED
    item.last_error = error[:2000]
    session.add(item)


def outbox_counts(session: Session) -> dict[OutboxStatus, int]:
    rows = session.exec(select(OutboxItem.status, sa.func.count()).group_by(col(OutboxItem.status)))
    return {OutboxStatus(status): int(n) for status, n in rows}
