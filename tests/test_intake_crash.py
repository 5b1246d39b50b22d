"""Crash safety: `triage ingest --once` killed with SIGKILL mid-batch, again and again, then let finish.
Afterwards every one of 1,000 messages is stored, classified and marked exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from models.database import DatabaseSettings, upgrade
from tests.servers.dovecot import PASSWORD, USER, DovecotServer, append, flags_of

MESSAGES = 1000
KILLS = 5


def numbered(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"resident{n % 37}@resident.example"
    message["Subject"] = f"Repair request {n}"
    message["Message-ID"] = f"<crash-{n}@resident.example>"
    message.set_content(f"Message {n}: the kitchen tap in flat {n % 90} drips all night, please send someone.")
    return bytes(message)


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_doubles_nothing(
    dovecot: DovecotServer, folder: str, database_url: str, tmp_path: Path
) -> None:
    append(dovecot, folder, [numbered(n) for n in range(MESSAGES)])
    upgrade(DatabaseSettings(database_url))
    env = {
        **os.environ,
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_DATABASE_URL": database_url,
        "TRIAGE_IMAP_HOST": "127.0.0.1",
        "TRIAGE_IMAP_PORT": str(dovecot.port),
        "TRIAGE_IMAP_SECURITY": "plain",
        "TRIAGE_IMAP_USERNAME": USER,
        "TRIAGE_IMAP_PASSWORD": PASSWORD,
        "TRIAGE_IMAP_FOLDER": folder,
    }
    command = [sys.executable, "-m", "bot", "ingest", "--once"]
    engine = sa.create_engine(database_url)

    def stored() -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM inbound_message")).scalar_one())

    chance = random.Random(20261124)
    kills = 0
    while kills < KILLS:
        before = stored()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        # Kill once it has made progress (so the kill lands mid-run, between or inside batches).
        while time.monotonic() < deadline and process.poll() is None and stored() < before + chance.randint(1, 150):
            time.sleep(0.01)
        time.sleep(chance.uniform(0, 0.3))
        if process.poll() is not None:
            process.wait()
            break  # it finished before we could kill it: the rest of the test still holds
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kills += 1
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*), count(DISTINCT message_id_header) FROM inbound_message")).one()
        classified = conn.execute(sa.text("SELECT count(*), count(DISTINCT message_id) FROM classification")).one()
    engine.dispose()
    assert kills >= 3, "the ingest finished too quickly to be killed mid-run"
    assert tuple(rows) == (MESSAGES, MESSAGES)
    assert tuple(classified) == (MESSAGES, MESSAGES)
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))
