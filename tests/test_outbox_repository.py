"""The outbox's storage rules: one item per key, claims that never overlap, leases that expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models.enums import OutboxChannel, OutboxStatus
from models.repository.outbox import claim_due, enqueue, mark_retry, mark_sent

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def add(session: Session, key: str, when: datetime = T0) -> None:
    enqueue(session, key=key, channel=OutboxChannel.EMAIL, recipient="r@resident.example", body_text=key, now=when)


def test_the_same_key_is_written_once(session: Session) -> None:
    first, created = enqueue(
        session,
        key="ack:CMP-2026-00001:stage1",
        channel=OutboxChannel.EMAIL,
        recipient="a@resident.example",
        body_text="one",
        now=T0,
    )
    again, created_again = enqueue(
        session,
        key="ack:CMP-2026-00001:stage1",
        channel=OutboxChannel.EMAIL,
        recipient="a@resident.example",
        body_text="two",
        now=T0,
    )
    session.commit()
    assert created and not created_again and again.id == first.id and again.body_text == "one"


def test_claims_take_due_items_oldest_first_and_count_attempts(session: Session) -> None:
    for n, minutes in enumerate([3, 1, 2, 60]):
        add(session, f"k{n}", T0 + timedelta(minutes=minutes))
    session.commit()
    claimed = claim_due(session, now=T0 + timedelta(minutes=10), limit=10, lease=LEASE)
    session.commit()
    assert [i.idempotency_key for i in claimed] == ["k1", "k2", "k0"]  # the order they fell due
    assert all(i.status is OutboxStatus.SENDING and i.attempts == 1 for i in claimed)
    assert claim_due(session, now=T0 + timedelta(minutes=11), limit=10, lease=LEASE) == []


def test_a_claim_whose_worker_died_is_taken_again_after_the_lease(session: Session) -> None:
    add(session, "k")
    session.commit()
    [item] = claim_due(session, now=T0, limit=1, lease=LEASE)
    session.commit()
    assert claim_due(session, now=T0 + LEASE - timedelta(seconds=1), limit=1, lease=LEASE) == []
    [again] = claim_due(session, now=T0 + LEASE, limit=1, lease=LEASE)
    assert again.id == item.id and again.attempts == 2
    mark_sent(session, item=again, now=T0 + LEASE)
    session.commit()
    assert claim_due(session, now=T0 + timedelta(days=1), limit=1, lease=LEASE) == []


def test_a_retry_waits_until_its_time(session: Session) -> None:
    add(session, "k")
    session.commit()
    [item] = claim_due(session, now=T0, limit=1, lease=LEASE)
    mark_retry(session, item=item, error="421 try later", retry_at=T0 + timedelta(minutes=2))
    session.commit()
    assert claim_due(session, now=T0 + timedelta(minutes=1), limit=1, lease=LEASE) == []
    assert [i.last_error for i in claim_due(session, now=T0 + timedelta(minutes=2), limit=1, lease=LEASE)] == [
        "421 try later"
    ]


def test_two_workers_claiming_at_once_never_share_an_item(engine: sa.Engine) -> None:
    with Session(engine) as session:
        for n in range(40):
            add(session, f"k{n}")
        session.commit()
    with Session(engine, expire_on_commit=False) as one, Session(engine, expire_on_commit=False) as two:
        first = claim_due(one, now=T0, limit=25, lease=LEASE)
        if engine.dialect.name == "postgresql":
            # While the first worker's transaction is open, the second skips its locked rows.
            second = claim_due(two, now=T0, limit=25, lease=LEASE)
            one.commit()
            two.commit()
        else:
            one.commit()
            second = claim_due(two, now=T0, limit=25, lease=LEASE)
            two.commit()
    ids_one, ids_two = {i.id for i in first}, {i.id for i in second}
    assert len(ids_one) == 25 and len(ids_two) == 15 and ids_one.isdisjoint(ids_two)
