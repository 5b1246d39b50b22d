"""Email intake speed against a real Dovecot on 127.0.0.1. Prints figures; it is not a test.

    python -m benchmarks.bench_intake [--messages 10000] [--database-url URL]

1. The raw IMAP fetch rate of the mailbox (BODY.PEEK[] in batches of 100, nothing else).
2. End-to-end intake of the same mailbox: fetch, parse, store, classify, commit, mark.
3. With IDLE: the time from APPEND to a stored, classified message, over a number of messages.
Needs Dovecot (Debian package dovecot-imapd) and root, like the tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import sqlalchemy as sa
from imapclient import IMAPClient

from classifier.classify import Classifier
from classifier.corpus import load_written
from classifier.model import TriageModel
from intake.ingest import EmailIntake
from intake.mailbox import ImapMailbox
from intake.settings import IntakeSettings, MailboxSettings, Security
from models.database import DatabaseSettings, make_engine, upgrade
from tests.servers.dovecot import PASSWORD, USER, DovecotServer, imap, start_dovecot


def messages(count: int) -> list[bytes]:
    examples = [e for e in load_written() if e.channel == "email"]
    out = []
    for n in range(count):
        example = examples[n % len(examples)]
        message = EmailMessage()
        message["From"] = f"resident{n % 500}@resident.example"
        message["To"] = "complaints@landlord.example"
        message["Subject"] = example.subject or "(no subject)"
        message["Date"] = "Mon, 23 Nov 2026 09:15:00 +0000"
        message["Message-ID"] = f"<bench-{n}@resident.example>"
        message.set_content(example.text)
        out.append(bytes(message))
    return out


def fill(server: DovecotServer, folder: str, raw: list[bytes]) -> float:
    client = imap(server)
    client.create_folder(folder)
    start = time.perf_counter()
    for chunk in range(0, len(raw), 200):
        client.multiappend(folder, raw[chunk : chunk + 200])
    seconds = time.perf_counter() - start
    client.logout()
    return seconds


def raw_fetch(server: DovecotServer, folder: str) -> tuple[int, float]:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=60)
    client.login(USER, PASSWORD)
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])
    start = time.perf_counter()
    total = 0
    for chunk in range(0, len(uids), 100):
        data = client.fetch(uids[chunk : chunk + 100], ["BODY.PEEK[]", "INTERNALDATE"])
        total += sum(len(item[b"BODY[]"]) for item in data.values())
    seconds = time.perf_counter() - start
    client.logout()
    return len(uids), seconds


def intake_for(server: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier) -> EmailIntake:
    settings = MailboxSettings(
        host="127.0.0.1", port=server.port, security=Security.PLAIN, username=USER, password=PASSWORD, folder=folder
    )
    return EmailIntake(
        mailbox=ImapMailbox(settings),
        mailbox_name=settings.name,
        engine=engine,
        classifier=classifier,
        settings=IntakeSettings(poll_seconds=30, idle_seconds=30),
        clock=lambda: datetime.now(UTC),
    )


def idle_latency(server: DovecotServer, engine: sa.Engine, classifier: Classifier, count: int) -> list[float]:
    folder = "idle"
    imap(server).create_folder(folder)
    intake = intake_for(server, folder, engine, classifier)
    stop = threading.Event()
    worker = threading.Thread(target=intake.run, args=(stop,), daemon=True)
    worker.start()
    time.sleep(1.0)
    client = imap(server)
    latencies = []
    for n, original in enumerate(messages(count)):
        start = time.perf_counter()
        client.append(folder, original.replace(b"<bench-", b"<idle-"))
        while True:
            with engine.connect() as conn:
                done = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM inbound_message m JOIN classification c ON c.message_id = m.id "
                        "WHERE m.message_id_header = :mid"
                    ),
                    {"mid": f"<idle-{n}@resident.example>"},
                ).scalar_one()
            if done:
                break
            time.sleep(0.005)
        latencies.append(time.perf_counter() - start)
        time.sleep(0.2)
    client.logout()
    stop.set()
    worker.join(timeout=40)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--idle-messages", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    server = start_dovecot()
    if server is None:
        raise SystemExit("Dovecot is not available (install dovecot-imapd and run as root)")
    workdir = tempfile.mkdtemp(prefix="bench-intake-")
    url = args.database_url or f"sqlite:///{workdir}/triage.db"
    try:
        upgrade(DatabaseSettings(url))
        engine = make_engine(DatabaseSettings(url))
        classifier = Classifier(TriageModel.load())
        raw = messages(args.messages)
        size = sum(map(len, raw)) / len(raw)
        appended = fill(server, "bench", raw)
        print(f"mailbox: {len(raw):,} messages, mean {size:,.0f} bytes, appended in {appended:.1f} s")
        count, seconds = raw_fetch(server, "bench")
        raw_rate = count / seconds
        print(f"raw IMAP fetch: {count:,} messages in {seconds:.2f} s = {raw_rate:,.0f} messages/s")
        intake = intake_for(server, "bench", engine, classifier)
        start = time.perf_counter()
        report = intake.drain()
        seconds = time.perf_counter() - start
        intake.mailbox.close()
        rate = report.stored / seconds
        print(
            f"end-to-end intake ({engine.dialect.name}): {report.stored:,} stored and classified in {seconds:.2f} s "
            f"= {rate:,.0f} messages/s, {rate / raw_rate:.0%} of the raw fetch rate"
        )
        latencies = idle_latency(server, engine, classifier, args.idle_messages)
        print(
            f"IDLE: APPEND to stored and classified, median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} messages"
        )
        engine.dispose()
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
