"""SQLite as the embedded default: the bot, intake and the scheduler write from several threads at once.

Every write path reads first (is this message stored? which resident is this?). In a deferred SQLite
transaction that read-then-write fails at once with "database is locked" when another thread commits
in between; transactions therefore take the write lock at BEGIN and wait their turn instead.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from models.database import DatabaseSettings, make_engine, read_only

WRITERS = 4
ROUNDS = 60


def test_concurrent_read_then_write_transactions_all_commit(tmp_path: Path) -> None:
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/busy.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE tally (writer INTEGER, seen INTEGER)")
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for _ in range(ROUNDS):
                with engine.begin() as conn:
                    seen = conn.execute(sa.text("SELECT count(*) FROM tally")).scalar_one()
                    conn.execute(sa.text("INSERT INTO tally VALUES (:w, :s)"), {"w": number, "s": seen})
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with read_only(engine).connect() as conn:
        rows = conn.execute(sa.text("SELECT seen FROM tally ORDER BY seen")).scalars().all()
    # Serialised, each transaction saw every row committed before it: 0, 1, 2, ... with no gaps or repeats.
    assert rows == list(range(WRITERS * ROUNDS))
    engine.dispose()


def test_a_long_read_only_transaction_does_not_hold_up_a_writer(tmp_path: Path) -> None:
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/report.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with read_only(engine).begin() as reading:
        assert reading.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
        writer = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/report.db"), connect_args={"timeout": 0})
        with writer.begin() as conn:  # would wait (then fail) if the report held the write lock
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        writer.dispose()
        assert reading.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1  # its own snapshot
    engine.dispose()


def test_a_database_error_never_carries_the_residents_words(tmp_path: Path) -> None:
    """Errors end up in logged tracebacks: the values of the failing statement must not be in them."""
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/private.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE note (body TEXT UNIQUE)")
        conn.execute(sa.text("INSERT INTO note VALUES (:b)"), {"b": "my daughter's asthma is worse"})
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO note VALUES (:b)"), {"b": "my daughter's asthma is worse"})
    except sa.exc.IntegrityError as exc:
        assert "asthma" not in str(exc)
    else:
        raise AssertionError("the duplicate was accepted")
    engine.dispose()
