"""Email intake against a real Dovecot on 127.0.0.1: stored once, classified, marked only after commit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

import intake.ingest as ingest_module
from classifier.classify import Classifier
from intake.ingest import EmailIntake, IntakeReport
from intake.mailbox import ImapMailbox, MailboxError
from intake.settings import IntakeSettings, MailboxSettings, Security
from intake.store import Incoming
from models.classification import Classification
from models.database import DatabaseSettings, make_engine
from models.enums import CaseKind, CaseStatus, MessageStatus, OutboxChannel
from models.messages import Attachment, InboundMessage
from models.outbox import OutboxItem
from models.people import Resident
from models.records import AuditEvent, Correspondence
from models.repository.cases import create_case
from models.types import row_id
from tests.servers.common import missing_service
from tests.servers.dovecot import PASSWORD, USER, DovecotServer, append, flags_of, imap

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "emails"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def settings_for(server: DovecotServer, folder: str, **changes: object) -> MailboxSettings:
    return MailboxSettings(
        host="127.0.0.1",
        port=server.port,
        security=Security.PLAIN,
        username=USER,
        password=PASSWORD,
        folder=folder,
        **changes,
    )  # type: ignore[arg-type]


def intake_for(
    server: DovecotServer,
    folder: str,
    engine: sa.Engine,
    classifier: Classifier,
    settings: IntakeSettings | None = None,
    **mailbox: object,
) -> EmailIntake:
    mailbox_settings = settings_for(server, folder, **mailbox)
    return EmailIntake(
        mailbox=ImapMailbox(mailbox_settings),
        mailbox_name=mailbox_settings.name,
        engine=engine,
        classifier=classifier,
        settings=settings or IntakeSettings(),
        clock=lambda: T0,
    )


def case_with_sent_email(
    engine: sa.Engine,
    message_id: str,
    recipient: str,
    status: CaseStatus = CaseStatus.RECEIVED,
    stage: int | None = None,
) -> tuple[int, str]:
    """A complaint and an email we sent about it with `message_id`: (case id, reference)."""
    with Session(engine) as session:
        case = create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
        case.status, case.stage = status, stage
        session.add(
            OutboxItem(
                idempotency_key=f"sent:{message_id}",
                channel=OutboxChannel.EMAIL,
                recipient=recipient,
                body_text="sent",
                case_id=case.id,
                next_attempt_at=T0,
                created_at=T0,
                message_id_header=message_id,
            )
        )
        session.commit()
        return row_id(case), case.reference


def drain_once(intake: EmailIntake) -> IntakeReport:
    try:
        return intake.drain()
    finally:
        intake.mailbox.close()


def email(sender: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@landlord.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 09:15:00 +0000"
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="resident.example"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def count(session: Session, model: type, *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[call-overload]


def test_messages_are_stored_classified_and_only_then_marked(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    with_attachment = EmailMessage()
    with_attachment["From"] = "Sam Patel <sam.patel@resident.example>"
    with_attachment["Subject"] = "Photos of the mould"
    with_attachment["Message-ID"] = make_msgid()
    with_attachment.set_content("Black mould is back on the bedroom wall, photos attached. Please send someone.")
    with_attachment.add_attachment(b"\xff\xd8fake-jpeg", maintype="image", subtype="jpeg", filename="wall.jpg")
    append(
        dovecot,
        folder,
        [
            email(
                "Jo Bloggs <jo@resident.example>",
                "Boiler",
                "Third time the engineer hasn't turned up. I took the day off again. I want compensation.",
            ),
            bytes(with_attachment),
            email(
                "Jo Bloggs <JO@resident.example>",
                "Automatic reply: Boiler",
                "I am out of the office until Monday.",
                Auto_Submitted="auto-replied",
            ),
        ],
    )
    report = drain_once(intake_for(dovecot, folder, engine, classifier))
    assert (report.fetched, report.stored, report.auto_generated) == (3, 3, 1)

    with Session(engine) as session:
        messages = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        assert [m.status for m in messages] == [
            MessageStatus.AWAITING_REVIEW,
            MessageStatus.AWAITING_REVIEW,
            MessageStatus.AUTO_GENERATED,
        ]
        assert all(m.received_at.tzinfo is not None and m.raw_ref for m in messages)
        labels = [c.label.value for c in session.exec(select(Classification).order_by(col(Classification.id)))]
        assert labels[0] == "complaint" and len(labels) == 2  # auto mail is never classified
        attachment = session.exec(select(Attachment)).one()
        assert (attachment.filename, attachment.content_type, attachment.size) == ("wall.jpg", "image/jpeg", 11)
        residents = session.exec(select(Resident)).all()
        assert {r.email for r in residents} == {"jo@resident.example", "sam.patel@resident.example"}
        assert all(r.provisional for r in residents)
    assert all({b"\\Seen", b"$TriageStored"} <= f for f in flags_of(dovecot, folder))

    again = drain_once(intake_for(dovecot, folder, engine, classifier))
    assert (again.fetched, again.stored) == (0, 0)


def test_the_same_message_twice_is_stored_once_but_a_reused_message_id_is_not_a_duplicate(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    first = email("a@resident.example", "Leak", "Water through the ceiling", message_id="<same@resident.example>")
    reused = email("a@resident.example", "Fence", "The fence is down", message_id="<same@resident.example>")
    append(dovecot, folder, [first, first, reused])
    report = drain_once(intake_for(dovecot, folder, engine, classifier))
    assert (report.stored, report.duplicates) == (2, 1)
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))


def test_a_uidvalidity_change_resyncs_without_creating_anything_twice(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    messages = [email("b@resident.example", f"Repair {n}", f"Tap number {n} drips") for n in range(3)]
    append(dovecot, folder, messages)
    assert drain_once(intake_for(dovecot, folder, engine, classifier)).stored == 3
    client = imap(dovecot)  # recreate the folder: same mail, new UIDVALIDITY, keywords gone
    client.delete_folder(folder)
    client.create_folder(folder)
    client.logout()
    append(dovecot, folder, messages)
    report = drain_once(intake_for(dovecot, folder, engine, classifier))
    assert report.resync and (report.stored, report.duplicates) == (0, 3)
    with Session(engine) as session:
        assert count(session, InboundMessage) == 3
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))


def test_a_failure_after_commit_but_before_marking_loses_and_doubles_nothing(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    append(dovecot, folder, [email("c@resident.example", "Lift", f"Lift broken, day {n}") for n in range(4)])
    intake = intake_for(dovecot, folder, engine, classifier)
    real_mark = intake.mailbox.mark_processed

    def connection_drops(uids: object) -> None:
        raise MailboxError("connection reset")

    intake.mailbox.mark_processed = connection_drops  # type: ignore[method-assign]
    with pytest.raises(MailboxError):
        intake.drain()
    assert not any(b"$TriageStored" in f for f in flags_of(dovecot, folder))
    intake.mailbox.mark_processed = real_mark  # type: ignore[method-assign]
    report = drain_once(intake)
    assert (report.fetched, report.stored) == (4, 0)
    with Session(engine) as session:
        assert count(session, InboundMessage) == 4
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))


def test_oversize_and_unprocessable_messages_are_quarantined_and_the_rest_go_on(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = email("d@resident.example", "Video", "x" * 5000)
    poison = email("d@resident.example", "POISON", "this one breaks storage")
    fine = email("d@resident.example", "Gate", "The gate is broken")
    append(dovecot, folder, [big, poison, fine])
    real_store = ingest_module.store_emails

    def store_or_break(session: Session, items: list[Incoming], **kwargs: object) -> object:
        if any(item.parsed.subject == "POISON" for item in items):
            raise RuntimeError("disk on fire")
        return real_store(session, items, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "store_emails", store_or_break)
    report = drain_once(intake_for(dovecot, folder, engine, classifier, IntakeSettings(max_message_bytes=4000)))
    assert (report.stored, report.quarantined) == (3, 2)
    with Session(engine) as session:
        quarantined = session.exec(
            select(InboundMessage)
            .where(InboundMessage.status == MessageStatus.QUARANTINED)
            .order_by(col(InboundMessage.id))
        ).all()
        assert [q.status_reason.split(" ")[0] for q in quarantined] == ["message", "could"]  # type: ignore[union-attr]
        assert "RuntimeError: disk on fire" in (quarantined[1].status_reason or "")
        assert all(q.raw_ref for q in quarantined)
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))


def test_replies_thread_onto_their_case_and_read_as_escalation_after_a_stage1_response(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    case_id, reference = case_with_sent_email(
        engine, "<resp-1@triage.example>", "e@resident.example", status=CaseStatus.STAGE1_RESPONDED, stage=1
    )
    append(
        dovecot,
        folder,
        [
            email(
                "e@resident.example",
                "Re: Our response",
                "Not happy with this at all, nothing has been fixed. I want it escalated.",
                In_Reply_To="<resp-1@triage.example>",
            ),
            email("e@resident.example", f"About {reference}", "I'm still not happy, the repair failed again."),
        ],
    )
    drain_once(intake_for(dovecot, folder, engine, classifier))
    with Session(engine) as session:
        messages = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        assert [m.case_id for m in messages] == [case_id, case_id]
        assert messages[0].thread_hint is not None and messages[0].thread_hint.startswith("escalation request")
        assert count(session, Correspondence, Correspondence.case_id == case_id) == 2


def test_a_bounce_of_our_acknowledgement_is_a_delivery_problem_on_the_case(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    case_id, _ = case_with_sent_email(engine, "<ack-1@triage.example>", "gone@resident.example")
    bounce = (
        b"From: MAILER-DAEMON@mx.example\r\nTo: complaints@landlord.example\r\nSubject: Undelivered Mail Returned "
        b"to Sender\r\nMessage-ID: <b1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
        b'report-type=delivery-status; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour message '
        b"could not be delivered.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        b"mx.example\r\n\r\nFinal-Recipient: rfc822; gone@resident.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: complaints@landlord.example\r\nTo: gone@resident.example\r\n"
        b"Subject: We have received your complaint\r\nMessage-ID: <ack-1@triage.example>\r\n\r\nThank you.\r\n--B--\r\n"
    )
    append(dovecot, folder, [bounce])
    assert drain_once(intake_for(dovecot, folder, engine, classifier)).auto_generated == 1
    with Session(engine) as session:
        message = session.exec(select(InboundMessage)).one()
        assert message.status is MessageStatus.AUTO_GENERATED and message.case_id == case_id
        assert count(session, Classification) == 0 and count(session, Resident) == 0
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "delivery_problem")).one()
        assert event.case_id == case_id


def test_a_sender_flooding_the_mailbox_is_treated_as_a_loop(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    append(dovecot, folder, [email("robot@resident.example", f"Ticket {n}", f"Ticket update {n}") for n in range(8)])
    report = drain_once(intake_for(dovecot, folder, engine, classifier, IntakeSettings(sender_limit_per_hour=5)))
    assert (report.stored, report.auto_generated) == (8, 3)
    with Session(engine) as session:
        reasons = [m.status_reason for m in session.exec(select(InboundMessage)) if m.status_reason]
        assert len(reasons) == 3 and all(r.startswith("rate limit") for r in reasons)


def test_every_corpus_email_goes_through_intake_without_loss(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier
) -> None:
    if not CORPUS.is_dir():
        missing_service(f"the shared email corpus at {CORPUS}")
    rows = (CORPUS / "manifest.csv").read_text(encoding="utf-8").splitlines()[1:]
    files = [CORPUS / row.split(",", 1)[0] for row in rows if row.strip()]
    append(dovecot, folder, [p.read_bytes() for p in files])
    report = drain_once(intake_for(dovecot, folder, engine, classifier))
    assert report.fetched == len(files) >= 280
    # Every file is a different message: all stored, none taken for another, none quarantined.
    assert (report.stored, report.duplicates, report.quarantined) == (len(files), 0, 0)
    assert all(b"$TriageStored" in f for f in flags_of(dovecot, folder))
    print(
        f"corpus: {len(files)} files, {report.stored} stored, {report.duplicates} duplicates, "
        f"{report.auto_generated} auto-generated, {report.quarantined} quarantined"
    )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_tls_and_starttls_with_the_servers_certificate(
    dovecot: DovecotServer, folder: str, engine: sa.Engine, classifier: Classifier, security: Security
) -> None:
    append(dovecot, folder, [email("f@resident.example", "Bins", "When are the bins collected?")])
    port = dovecot.tls_port if security is Security.TLS else dovecot.port
    settings = MailboxSettings(
        host="127.0.0.1",
        port=port,
        security=security,
        username=USER,
        password=PASSWORD,
        folder=folder,
        ca_file=dovecot.certificate,
    )
    intake = EmailIntake(
        mailbox=ImapMailbox(settings),
        mailbox_name=settings.name,
        engine=engine,
        classifier=classifier,
        settings=IntakeSettings(),
        clock=lambda: T0,
    )
    assert drain_once(intake).stored == 1


def test_tls_is_the_default_and_never_falls_back_to_plain(dovecot: DovecotServer, folder: str) -> None:
    settings = MailboxSettings(
        host="127.0.0.1",
        port=dovecot.port,
        username=USER,
        password=PASSWORD,
        folder=folder,
        ca_file=dovecot.certificate,
    )
    assert settings.security is Security.TLS
    with pytest.raises(MailboxError):
        ImapMailbox(settings).open()
    assert "loopback-only-password" not in repr(settings)


def test_idle_delivers_new_mail_within_seconds_and_intake_survives_a_server_restart(
    dovecot: DovecotServer, folder: str, tmp_path: Path, classifier: Classifier
) -> None:
    # A SQLite file, as in production: intake's thread and this test's polling each get their own connection
    # (the in-memory `engine` fixture shares one connection, which two threads must not use at once).
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/intake.db"))
    SQLModel.metadata.create_all(engine)
    intake = intake_for(dovecot, folder, engine, classifier, IntakeSettings(poll_seconds=30, idle_seconds=30))
    stop = threading.Event()
    worker = threading.Thread(target=intake.run, args=(stop,), daemon=True)
    worker.start()

    def stored(n: int, within: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < within:
            with Session(engine) as session:
                if count(session, InboundMessage, InboundMessage.status == MessageStatus.AWAITING_REVIEW) >= n:
                    return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"{n} messages not stored within {within}s")

    try:
        time.sleep(0.5)  # let it reach IDLE
        append(dovecot, folder, [email("g@resident.example", "Leak", "Leak under the sink, please send a plumber")])
        assert stored(1, within=10) < 10
        dovecot.restart()
        append(dovecot, folder, [email("g@resident.example", "Leak 2", "Now the bath is leaking too")])
        stored(2, within=60)
    finally:
        stop.set()
        worker.join(timeout=40)
        engine.dispose()
    assert not worker.is_alive()
