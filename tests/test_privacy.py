"""One resident's personal data: the subject access export holds all of it and nothing of anyone else's;
erasure leaves no trace of them anywhere in the database, changes nobody else's rows, keeps the
complaint statistics, and is harmless twice. On SQLite and PostgreSQL, through the real intake, triage,
scheduler and delivery code."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

from bot.cli import app
from classifier.classify import Classifier
from intake.chat import ChatIncoming, ChatPhoto, store_chat_message
from intake.classify_step import classify_messages
from intake.parsing import parse_email
from intake.settings import IntakeSettings
from intake.store import Incoming, store_emails
from models import case_actions
from models.blobs import Blob
from models.case_actions import Actor
from models.cases import Case, ReferenceCounter
from models.database import DatabaseSettings, make_engine
from models.enums import (
    CaseKind,
    Channel,
    ContactChannel,
    Label,
    OutboxChannel,
    OutboxStatus,
    Party,
    StaffRole,
    StageDecision,
    SupportNeedKind,
)
from models.errors import DomainError, NotFoundError
from models.messages import Attachment, InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import ContactRestriction, Resident, ResidentCreate, StaffMemberCreate, SupportNeed
from models.records import AuditEvent
from models.repository.audit import record_event
from models.repository.cases import create_case
from models.repository.classification import decisions_with_messages
from models.repository.messages import store_inbound
from models.repository.outbox import enqueue
from models.repository.privacy import (
    ERASED,
    ERASED_ACTION,
    AmbiguousResidentError,
    Footprint,
    collect,
    erase_resident,
    find_resident,
    scrub_detail,
    staff_names,
)
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from models.subject_access import subject_access_document
from models.types import row_id
from scheduler import actions, jobs
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.delivery import OutboxWorker
from scheduler.letters import LandlordDetails
from scheduler.mail_settings import DeliverySettings
from scheduler.surveys import record_chat_reply, send_survey

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday
STAFF_CHAT = -100_999
WORK = Casework(
    calendar=WorkingCalendar(),
    message_id_domain="triage.test",
    landlord=LandlordDetails(
        name="Riverside Homes", complaints_email="complaints@riverside.example", complaints_phone="0161 000 0000"
    ),
    staff_chat_id=STAFF_CHAT,
)

# Everything that identifies the first resident or is in their words, as it would be searched for.
ZEB_TG = 555_000_111
ZEB = ResidentCreate(
    name="Zebedee Quartermain",
    email="Zeb.Quartermain@Example.org",
    phone="07700 900461",
    address="14 Larkspur Mews, Oldham",
    tenancy_ref="LCHO-88123",
    telegram_user_id=ZEB_TG,
)
ZEB_TRACES = (
    "zebedee",
    "quartermain",
    "zeb.quartermain@example.org",
    "07700 900461",
    "larkspur",
    "lcho-88123",
    str(ZEB_TG),
    "xylophonic",
    "quokka",
    "brontosaurus",
    "pemberton",
    "zeb-damp",
    "hearing loop",
    "marmalade",
)
OPHELIA = ResidentCreate(name="Ophelia Brandtwhistle", email="ophelia@example.net", tenancy_ref="GN-4471")
OPHELIA_TRACES = ("ophelia", "brandtwhistle", "gazebo", "gn-4471")


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


def raw_email(
    sender: str, subject: str, body: str, *, message_id: str, attachment: tuple[str, bytes] | None = None
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "complaints@riverside.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return msg.as_bytes()


def receive_email(
    session: Session, classifier: Classifier | None, *, source: str, raw: bytes, when: datetime
) -> InboundMessage:
    [outcome] = store_emails(
        session, [Incoming(source, raw, parse_email(raw), when)], settings=IntakeSettings(), now=when
    )
    if classifier is not None:
        classify_messages(session, [outcome.message], classifier=classifier, received=when.date(), now=when)
    return outcome.message


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, item: OutboxItem) -> None:
        self.sent.append(row_id(item))


@dataclass
class World:
    zeb: Resident
    ophelia: Resident
    complaint: Case
    service_request: Case
    ophelia_case: Case
    sender: RecordingSender
    worker: OutboxWorker


def build(engine: sa.Engine, session: Session, classifier: Classifier) -> World:
    """Two residents who share nothing, through the real intake, triage, scheduler and delivery code."""
    staff = {
        name: add_staff(
            session,
            data=StaffMemberCreate(name=name, email=f"{name.lower()}@riverside.example", roles=[role]),
            now=T0,
        )
        for name, role in (
            ("Tess", StaffRole.TRIAGE),
            ("Hal", StaffRole.HANDLER),
            ("Olga", StaffRole.COMPLAINTS_OFFICER),
        )
    }
    tess, hal = staff["Tess"], staff["Hal"]
    zeb = add_resident(session, data=ZEB, now=T0)
    ophelia = add_resident(session, data=OPHELIA, now=T0)
    session.add(
        SupportNeed(
            resident_id=row_id(zeb),
            kind=SupportNeedKind.REASONABLE_ADJUSTMENT,
            description="Uses a hearing loop; prefers written replies",
            recorded_at=T0,
            recorded_by_id=tess.id,
        )
    )
    session.add(
        ContactRestriction(
            resident_id=row_id(zeb),
            description="Email only, no marmalade-related calls",
            reason="Agreed with Zebedee after the March meeting",
            decided_by_id=row_id(hal),
            starts_on=date(2026, 3, 2),
            review_on=date(2026, 6, 1),
        )
    )

    # Zebedee: a complaint by email with an attachment, a photo by chat, a repair request by email.
    leak = receive_email(
        session,
        classifier,
        source="imap:INBOX:1:1",
        raw=raw_email(
            "Zebedee Quartermain <Zeb.Quartermain@example.org>",
            "Leak over the cooker (Zebedee)",
            "My kitchen ceiling drips onto the cooker and nobody came after three calls. Xylophonic mould "
            "everywhere now. I want the leak fixed and compensation for the ruined cupboards.\n\nZebedee Quartermain",
            message_id="<zebedee.1@mail.example.org>",
            attachment=("zeb-damp-photo.bin", b"QUARTERMAIN-SECRET-ATTACHMENT"),
        ),
        when=T0,
    )
    photo = store_chat_message(
        session,
        incoming=ChatIncoming(
            chat_id=ZEB_TG,
            message_id=7,
            user_id=ZEB_TG,
            user_name="Zebedee Q",
            text="Quokka-sized damp patch near the bath again, it is spreading",
            received_at=T0 + timedelta(hours=2),
            photos=(ChatPhoto(file_id="AgACQuokkaFileId", content=b"QUOKKA-PHOTO-BYTES"),),
        ),
        now=T0 + timedelta(hours=2),
        classifier=classifier,
    )
    assert photo.message.resident_id == zeb.id
    fan = receive_email(
        session,
        classifier,
        source="imap:INBOX:1:2",
        raw=raw_email(
            "Zeb.Quartermain@example.org",
            "Extractor fan",
            "Hello, the bathroom extractor fan has stopped working. Could you send someone to repair it? Zebedee",
            message_id="<zebedee.2@mail.example.org>",
        ),
        when=T0 + timedelta(days=1),
    )

    # Ophelia: one complaint by email with her own attachment.
    gazebo = receive_email(
        session,
        classifier,
        source="imap:INBOX:1:3",
        raw=raw_email(
            "Ophelia Brandtwhistle <ophelia@example.net>",
            "Communal gazebo",
            "The communal gazebo roof collapsed last week and nobody has cleared it. I am unhappy about the delay "
            "and want it removed.\n\nOphelia",
            message_id="<ophelia.1@mail.example.net>",
            attachment=("gazebo.bin", b"BRANDTWHISTLE-GAZEBO-BYTES"),
        ),
        when=T0,
    )
    assert gazebo.resident_id == ophelia.id and leak.resident_id == zeb.id

    confirm = T0 + timedelta(hours=1)
    complaint = actions.confirm_triage(
        session, message=leak, staff=tess, label=Label.COMPLAINT, now=confirm, work=WORK
    ).case
    ophelia_case = actions.confirm_triage(
        session, message=gazebo, staff=tess, label=Label.COMPLAINT, now=confirm, work=WORK
    ).case
    service_request = actions.confirm_triage(
        session, message=fan, staff=tess, label=Label.SERVICE_REQUEST, now=T0 + timedelta(days=1), work=WORK
    ).case
    assert complaint and ophelia_case and service_request
    case_actions.assign_handler(session, case=complaint, stage=1, handler=hal, actor=Actor.staff(tess), now=confirm)

    # The scheduler: an alert for the photo nobody has triaged, reminders before the response deadline.
    assert jobs.alert_unreviewed(session, now=at(date(2026, 3, 6), 10), work=WORK).alerts > 0
    assert jobs.remind_handlers(session, now=at(date(2026, 3, 11), 9), work=WORK).reminders > 0
    send_survey(session, case=service_request, now=at(date(2026, 3, 11), 9), work=WORK)
    record_event(  # a staff command tried from Zebedee's own Telegram account (bot.telegram.auth)
        session,
        action="refused",
        actor="bot",
        now=at(date(2026, 3, 11), 9),
        detail={"what": "/queue", "reason": "not staff", "telegram_user_id": ZEB_TG, "chat_id": ZEB_TG},
    )
    session.commit()

    sender = RecordingSender()
    clock = at(date(2026, 3, 11), 12)
    worker = OutboxWorker(
        engine,
        {OutboxChannel.EMAIL: sender, OutboxChannel.TELEGRAM: sender},
        DeliverySettings(),
        lambda: clock,
    )
    assert worker.deliver_due().sent > 0

    # After delivery: the survey answer by chat, an extension and the stage 1 response.
    answer = store_chat_message(
        session,
        incoming=ChatIncoming(
            chat_id=ZEB_TG,
            message_id=8,
            user_id=ZEB_TG,
            user_name="Zebedee Q",
            text="4, the engineer was polite and the fan works",
            received_at=at(date(2026, 3, 12), 9),
        ),
        now=at(date(2026, 3, 12), 9),
        classifier=None,
    )
    assert record_chat_reply(session, message=answer.message, now=at(date(2026, 3, 12), 9), work=WORK) is not None
    session.refresh(complaint)
    actions.extend(
        session,
        case=complaint,
        stage=1,
        working_days=5,
        reason="Brontosaurus-sized survey of the roof void needed",
        good_reason=None,
        actor=Actor.staff(hal),
        now=at(date(2026, 3, 12), 10),
        work=WORK,
    )
    case_actions.record_response(
        session,
        case=complaint,
        stage=1,
        decision=StageDecision.PARTLY_UPHELD,
        reasons="The leak came from the flat above; Zebedee was not called back.",
        remedy="£50 Pemberton voucher",
        outstanding_actions="Replace the cupboards",
        actor=Actor.staff(hal),
        now=at(date(2026, 3, 13), 10),
    )
    session.commit()
    return World(zeb, ophelia, complaint, service_request, ophelia_case, sender, worker)


@pytest.fixture
def world(engine: sa.Engine, session: Session, classifier: Classifier) -> World:
    return build(engine, session, classifier)


# ------------------------------------------------------------------------------------------ helpers


def dump(session: Session) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every row of every table, by primary key."""
    session.expire_all()
    tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        tables[table.name] = {
            tuple(row[k] for k in keys): dict(row) for row in session.execute(sa.select(table)).mappings()
        }
    return tables


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").lower()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).lower()
    return str(value).lower()


def traces(session: Session, needles: tuple[str, ...]) -> list[str]:
    """Where any of `needles` appears in any column of any row (text, JSON, numbers and stored bytes)."""
    found = []
    for table, rows in dump(session).items():
        for key, row in rows.items():
            for column, value in row.items():
                text = as_text(value)
                found += [f"{table}{key}.{column}: {n!r}" for n in needles if n in text]
    return found


def footprint_keys(fp: Footprint) -> dict[str, set[Any]]:
    rows: dict[str, list[Any]] = {
        "resident": [fp.resident],
        "support_need": fp.support_needs,
        "contact_restriction": fp.contact_restrictions,
        "inbound_message": fp.messages,
        "attachment": fp.attachments,
        "classification": fp.classifications,
        "triage_decision": fp.triage_decisions,
        "triage_case": fp.cases,
        "deadline": fp.deadlines,
        "extension": fp.extensions,
        "stage_response": fp.stage_responses,
        "correspondence": fp.correspondence,
        "outbox_item": fp.outbox_items,
        "survey_request": fp.survey_requests,
        "audit_event": fp.audit_events,
    }
    keys = {table: {(row_id(r),) for r in items} for table, items in rows.items()}
    keys["blob"] = {(sha,) for sha in fp.blobs}
    return keys


def statistics(session: Session, resident_id: int) -> dict[str, Any]:
    """What the Code 8.1 report and TSM CH01/CH02 count, for one resident's cases."""
    session.expire_all()
    resident = session.get(Resident, resident_id)
    assert resident is not None
    record = collect(session, resident=resident)
    return {
        "cases": sorted(
            (
                c.reference,
                c.kind,
                c.status,
                c.stage,
                c.received_at,
                c.escalation_requested_at,
                c.excluded_at,
                c.closed_at,
                c.exclusion_reason is not None,
                bool((c.definition or "").strip()),
                tuple(c.categories),
                c.hazard,
                c.stage1_handler_id,
                c.resident_id,
            )
            for c in record.cases
        ),
        "deadlines": sorted(
            (d.case_id, d.stage, d.kind, d.due_on, d.due_at, d.original_due_on, d.met_at) for d in record.deadlines
        ),
        "extensions": sorted((e.deadline_id, e.working_days, e.good_reason is not None) for e in record.extensions),
        "responses": sorted(
            (r.case_id, r.stage, r.decision, r.responded_at, bool((r.remedy or "").strip()))
            for r in record.stage_responses
        ),
        "messages": sorted((m.id, m.channel, m.received_at, m.status, m.case_id) for m in record.messages),
        "decisions": sorted((d.message_id, d.label, d.decided_at, d.case_id) for d in record.triage_decisions),
        "classifications": sorted((k.message_id, k.label, k.confidence, k.hazard) for k in record.classifications),
        "surveys": sorted((s.case_id, s.score, s.asked_at, s.answered_at) for s in record.survey_requests),
        # Letters to them: a staff reminder without a case is found by what it says, which erasure removes.
        "sent": sorted(
            (o.id, o.sent_at, o.case_id, o.channel, o.party)
            for o in record.outbox_items
            if o.status is OutboxStatus.SENT and o.case_id is not None
        ),
    }


def export(session: Session, resident: Resident) -> dict[str, Any]:
    session.expire_all()
    document = subject_access_document(
        collect(session, resident=resident), staff_names=staff_names(session), generated_at=T0
    )
    return document


# ------------------------------------------------------------------------------------------ export


def test_export_holds_all_of_the_resident_and_nothing_of_anyone_else(session: Session, world: World) -> None:
    document = export(session, world.zeb)
    text = json.dumps(document, ensure_ascii=False).lower()
    assert not [t for t in OPHELIA_TRACES if t in text]
    assert world.ophelia_case.reference.lower() not in text
    held = [t for t in ZEB_TRACES if t not in text]
    assert held == [], f"missing from the export: {held}"

    assert document["resident"]["email"] == "zeb.quartermain@example.org"
    assert document["resident"]["erased"] is False
    assert [s["description"] for s in document["support_needs"]] == ["Uses a hearing loop; prefers written replies"]
    assert len(document["contact_restrictions"]) == 1

    messages = document["messages"]
    assert [m["channel"] for m in messages] == ["email", "chat", "email", "chat"]
    leak = messages[0]
    assert leak["subject"] == "Leak over the cooker (Zebedee)" and "Xylophonic" in leak["body_text"]
    assert leak["raw_email"]["size"] > 0 and len(leak["raw_email"]["sha256"]) == 64
    [attachment] = leak["attachments"]
    assert attachment["filename"] == "zeb-damp-photo.bin" and attachment["size"] == len(
        b"QUARTERMAIN-SECRET-ATTACHMENT"
    )
    assert attachment["stored"] is True and len(attachment["sha256"]) == 64
    assert "quartermain-secret-attachment" not in text  # raw bytes are listed, never inlined
    assert leak["classifications"] and leak["triage_decisions"][0]["decided_by"] == "Tess"
    assert messages[1]["attachments"][0]["filename"] == "telegram:AgACQuokkaFileId"

    cases = {c["reference"]: c for c in document["cases"]}
    assert set(cases) >= {world.complaint.reference, world.service_request.reference}
    complaint = cases[world.complaint.reference]
    assert complaint["stage1_handler"] == "Hal"
    assert {(d["stage"], d["kind"]) for d in complaint["deadlines"]} == {(1, "acknowledge"), (1, "respond")}
    respond = next(d for d in complaint["deadlines"] if d["kind"] == "respond")
    assert respond["extensions"][0]["reason"].startswith("Brontosaurus") and respond["met_at"]
    assert complaint["stage_responses"][0]["remedy"] == "£50 Pemberton voucher"
    assert any(k["direction"] == "outbound" and "Zebedee" in k["body"] for k in complaint["correspondence"])
    survey_reply = cases[world.service_request.reference]["correspondence"]
    assert any(k["direction"] == "inbound" and k["body"].startswith("4, the engineer") for k in survey_reply)

    letters = document["letters"]
    assert {letter["status"] for letter in letters} == {"sent", "pending"}
    assert all(letter["recipient"] == "zeb.quartermain@example.org" for letter in letters)
    assert all(letter["party"] == "resident" for letter in letters)  # staff reminders are internal
    [survey] = document["survey_requests"]
    assert survey["case"] == world.service_request.reference and survey["score"] == 4 and survey["answer"]
    actions_seen = {e["action"] for e in document["audit_events"]}
    assert {"triage_decision", "open_stage1", "extend", "refused"} <= actions_seen
    assert all(set(e) == {"occurred_at", "action", "actor", "case", "message"} for e in document["audit_events"])


def test_export_leaves_out_a_message_about_a_longer_address_that_contains_theirs(session: Session) -> None:
    """Bounces are kept without a resident and found by the address they mention: bob@x.com's export has
    the one about bob@x.com, not those about jimbob@x.com or bob@x.com.au (other people's)."""
    bob = add_resident(session, data=ResidentCreate(name="Bob Marsh", email="bob@x.com"), now=T0)
    add_resident(session, data=ResidentCreate(name="Jim Bob", email="jimbob@x.com"), now=T0)
    for n, address in enumerate(("jimbob@x.com", "BOB@X.COM", "bob@x.com.au")):
        store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.EMAIL,
                source_key=f"imap:INBOX:9:{n}",
                content_hash=f"bounce{n}",
                received_at=T0,
                sender_address="mailer-daemon@x.com",
                subject="Undeliverable: your complaint",
                body_text=f"Delivery to <{address}> failed: mailbox full",
            ),
            now=T0,
        )
    session.commit()
    document = export(session, bob)
    assert [m["body_text"] for m in document["messages"]] == ["Delivery to <BOB@X.COM> failed: mailbox full"]
    assert "jimbob" not in json.dumps(document).lower()


def test_erasure_leaves_a_reminder_about_a_longer_case_reference_alone(session: Session) -> None:
    """Erasing the resident of SR-2026-10000 cancels the staff reminder naming it, not the one naming
    another resident's SR-2026-100001."""
    mine = add_resident(session, data=ResidentCreate(name="Rhea Mason", email="rhea@example.org"), now=T0)
    theirs = add_resident(session, data=ResidentCreate(name="Tom Other", email="tom@example.org"), now=T0)
    session.add(ReferenceCounter(prefix="SR", year=2026, last_value=9_999))
    session.flush()
    my_case = create_case(session, kind=CaseKind.SERVICE_REQUEST, received_at=T0, now=T0, resident_id=mine.id)
    counter = session.get(ReferenceCounter, ("SR", 2026))
    assert counter is not None
    counter.last_value = 100_000
    session.add(counter)
    session.flush()
    their_case = create_case(session, kind=CaseKind.SERVICE_REQUEST, received_at=T0, now=T0, resident_id=theirs.id)
    assert (my_case.reference, their_case.reference) == ("SR-2026-10000", "SR-2026-100001")
    reminders = {
        ref: enqueue(
            session,
            key=f"reminder:{ref}",
            channel=OutboxChannel.TELEGRAM,
            recipient=str(STAFF_CHAT),
            body_text=f"Due tomorrow: {ref}, the boiler.",
            party=Party.STAFF,
            now=T0,
        )[0]
        for ref in (my_case.reference, their_case.reference)
    }
    erase_resident(session, resident=mine, reason="request", actor="cli", now=T0)
    session.commit()
    assert reminders["SR-2026-10000"].body_text == ERASED
    assert reminders["SR-2026-10000"].status is OutboxStatus.FAILED
    untouched = reminders["SR-2026-100001"]
    assert untouched.body_text == "Due tomorrow: SR-2026-100001, the boiler."
    assert untouched.status is OutboxStatus.PENDING


def test_find_by_id_email_any_case_or_telegram(session: Session, world: World) -> None:
    assert find_resident(session, key=str(world.zeb.id)) is world.zeb
    assert find_resident(session, key="  ZEB.QUARTERMAIN@example.ORG ") is world.zeb
    assert find_resident(session, telegram_user_id=ZEB_TG) is world.zeb
    with pytest.raises(NotFoundError, match="no resident with id 999"):
        find_resident(session, key="999")
    with pytest.raises(NotFoundError, match=r"no resident with email nobody@example\.org"):
        find_resident(session, key="nobody@example.org")
    with pytest.raises(NotFoundError, match="Telegram user id 42"):
        find_resident(session, telegram_user_id=42)
    with pytest.raises(DomainError, match="neither a resident id nor an email"):
        find_resident(session, key="Zebedee")
    with pytest.raises(DomainError, match="one of them"):
        find_resident(session)
    add_resident(session, data=ResidentCreate(name="Twin", email="ophelia@example.net"), now=T0)
    with pytest.raises(
        AmbiguousResidentError, match=r"2 residents have the email ophelia@example.net \(ids \d+, \d+\)"
    ):
        find_resident(session, key="ophelia@example.net")


# ------------------------------------------------------------------------------------------ erasure


def test_erasure_leaves_no_trace_touches_nobody_else_and_keeps_the_statistics(session: Session, world: World) -> None:
    zeb_id, ophelia_id = row_id(world.zeb), row_id(world.ophelia)
    assert traces(session, ZEB_TRACES)  # the scan does find them before
    before = dump(session)
    stats = statistics(session, zeb_id)
    ophelia_export = export(session, world.ophelia)
    ophelia_stats = statistics(session, ophelia_id)
    footprint = collect(session, resident=world.zeb)
    mine = footprint_keys(footprint)
    assert footprint.counts()["blob"] == 4  # two raw emails, the email's attachment, the chat photo

    erasure = erase_resident(
        session, resident=world.zeb, reason="Erasure request 2026-17 granted", actor="cli", now=at(date(2026, 3, 20), 9)
    )
    session.commit()

    assert traces(session, ZEB_TRACES) == []
    after = dump(session)
    # Nobody else's row changed; one audit event was added; only Zebedee's blobs went.
    for table, rows in before.items():
        for key, row in rows.items():
            if key not in mine.get(table, set()):
                assert after[table].get(key) == row, f"{table}{key} changed"
    added = {t: set(after[t]) - set(before[t]) for t in after}
    [event_key] = added.pop("audit_event")
    assert all(not keys for keys in added.values())
    assert set(before["blob"]) - set(after["blob"]) == mine["blob"]
    assert export(session, world.ophelia) == ophelia_export
    assert statistics(session, ophelia_id) == ophelia_stats

    # The statistics still count the same.
    assert statistics(session, zeb_id) == stats

    # What is left is marked, and nothing more will be sent to them.
    zeb = session.get(Resident, zeb_id)
    assert zeb is not None and zeb.name == ERASED
    assert (zeb.email, zeb.phone, zeb.address, zeb.tenancy_ref, zeb.telegram_user_id) == (None,) * 5
    items = session.exec(select(OutboxItem).where(col(OutboxItem.id).in_([k[0] for k in mine["outbox_item"]]))).all()
    assert {i.status for i in items} <= {OutboxStatus.SENT, OutboxStatus.FAILED}
    # The extension notice; the survey answer was stored unclassified, so it waits for staff and no reply was
    # written yet.
    assert erasure.cancelled_outbox_items == 1
    world.sender.sent.clear()
    session.commit()  # the worker has its own session (on SQLite, the same single connection)
    world.worker.deliver_due()
    assert world.sender.sent == []
    event = session.get(AuditEvent, event_key[0])
    assert event is not None and event.action == ERASED_ACTION
    assert event.detail["reason"] == "Erasure request 2026-17 granted"
    assert event.detail["held"] == footprint.counts() and event.detail["changed"]["inbound_message"] == 4

    # Erasing again changes nothing but adds its own audit event.
    again = erase_resident(session, resident=zeb, reason="again", actor="cli", now=at(date(2026, 3, 21), 9))
    session.commit()
    assert {k: v for k, v in again.changed.items() if v} == {} and again.cancelled_outbox_items == 0
    twice = dump(session)
    new_events = set(twice["audit_event"]) - set(after["audit_event"])
    assert len(new_events) == 1
    twice["audit_event"] = {k: v for k, v in twice["audit_event"].items() if k not in new_events}
    assert twice == after

    # Their words do not come back through the next retrain.
    trained_on = {message.resident_id for _, message in decisions_with_messages(session)}
    assert trained_on == {ophelia_id}


def test_staff_alerts_that_name_them_only_by_number_are_found(session: Session) -> None:
    """Alerts about a message, or a linking conflict, carry the resident's id or message id in their key."""
    chat = add_resident(session, data=ResidentCreate(name="Rowan Quill", telegram_user_id=9001), now=T0)
    other = add_resident(session, data=ResidentCreate(name="Sam Other", email="sam@example.org"), now=T0)
    third = add_resident(session, data=ResidentCreate(name="Third Person", telegram_user_id=9003), now=T0)
    message = store_chat_message(
        session,
        incoming=ChatIncoming(
            chat_id=9001, message_id=1, user_id=9001, user_name="Rowan", text="Rowan's door", received_at=T0
        ),
        now=T0,
        classifier=None,
    ).message
    for key in (f"unreviewed:{message.id}:chat", f"link-conflict:{chat.id}:{other.id}:chat"):
        enqueue(
            session,
            key=key,
            channel=OutboxChannel.TELEGRAM,
            recipient=str(STAFF_CHAT),
            body_text="Rowan Quill",
            party=Party.STAFF,
            now=T0,
        )
    unrelated, _ = enqueue(
        session,
        key=f"link-conflict:{third.id}:{other.id}:chat",
        channel=OutboxChannel.TELEGRAM,
        recipient=str(STAFF_CHAT),
        body_text="Third Person",
        party=Party.STAFF,
        now=T0,
    )
    erase_resident(session, resident=chat, reason="request", actor="cli", now=T0)
    assert traces(session, ("rowan", "quill", "9001")) == []
    assert unrelated.body_text == "Third Person" and unrelated.status is OutboxStatus.PENDING
    assert other.name == "Sam Other"


def test_a_stored_file_another_message_shares_is_kept(session: Session) -> None:
    shared = ("leaflet.bin", b"THE-SAME-LEAFLET-BYTES")
    first = add_resident(session, data=ResidentCreate(name="First Person", email="first@example.org"), now=T0)
    second = add_resident(session, data=ResidentCreate(name="Second Person", email="second@example.org"), now=T0)
    mine = receive_email(
        session,
        None,
        source="imap:INBOX:2:1",
        raw=raw_email("first@example.org", "Leaflet", "See attached", message_id="<a@x>", attachment=shared),
        when=T0,
    )
    theirs = receive_email(
        session,
        None,
        source="imap:INBOX:2:2",
        raw=raw_email("second@example.org", "Leaflet", "Me too", message_id="<b@x>", attachment=shared),
        when=T0,
    )
    session.commit()
    [their_attachment] = session.exec(select(Attachment).where(Attachment.message_id == theirs.id)).all()
    erase_resident(session, resident=first, reason="request", actor="cli", now=T0)
    session.commit()
    assert session.get(Blob, their_attachment.sha256) is not None  # shared: kept
    assert theirs.raw_ref and session.get(Blob, theirs.raw_ref) is not None
    assert mine.raw_ref is None and mine.body_text == ERASED
    assert len(session.exec(select(Blob)).all()) == 2  # their raw email and the leaflet
    assert second.email == "second@example.org"


def test_tenancy_prefix_kept_for_the_stock_split_when_asked(session: Session) -> None:
    resident = add_resident(session, data=ResidentCreate(name="Lee", tenancy_ref="SO-1234"), now=T0)
    erase_resident(session, resident=resident, reason="r", actor="cli", now=T0, keep_tenancy_prefixes=("LCHO-", "SO-"))
    assert resident.tenancy_ref == "SO-"
    other = add_resident(session, data=ResidentCreate(name="Kim", tenancy_ref="GN-1"), now=T0)
    erase_resident(session, resident=other, reason="r", actor="cli", now=T0, keep_tenancy_prefixes=("SO-",))
    assert other.tenancy_ref is None


def test_erasure_needs_a_reason(session: Session) -> None:
    resident = add_resident(session, data=ResidentCreate(name="Lee"), now=T0)
    with pytest.raises(DomainError, match="give the reason"):
        erase_resident(session, resident=resident, reason="  ", actor="cli", now=T0)
    assert resident.name == "Lee"


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ({"from": "stage1_open", "to": "closed"}, {"from": "stage1_open", "to": "closed"}),
        ({"definition": "fix it", "previous": None}, {"definition": ERASED, "previous": None}),
        (
            {"telegram_user_id": 5, "chat_id": 5, "what": "/queue"},
            {"telegram_user_id": ERASED, "chat_id": ERASED, "what": "/queue"},
        ),
        ({"chat_id": -100, "card_message_id": 9}, {"chat_id": -100, "card_message_id": 9}),
        (
            {"key": "ack:CMP-2026-00001:stage1", "error": "550 a@b.example unknown"},
            {"key": "ack:CMP-2026-00001:stage1", "error": ERASED},
        ),
        ({"case": "a@b.example", "answered": True}, {"case": ERASED, "answered": True}),
    ],
)
def test_audit_detail_keeps_the_bookkeeping_and_erases_the_rest(
    detail: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert scrub_detail(detail, email="a@b.example", telegram_user_id=5) == expected


# ------------------------------------------------------------------------------------------ the commands

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    assert (
        runner.invoke(
            app, ["db", "upgrade"], env={"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": None}
        ).exit_code
        == 0
    )
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    with Session(engine) as session:
        add_resident(
            session, data=ResidentCreate(name="Ada Lovelace", email="ada@example.org", telegram_user_id=77), now=T0
        )
        add_resident(session, data=ResidentCreate(name="Ada Twin", email="twin@example.org"), now=T0)
        add_resident(session, data=ResidentCreate(name="Ada Twin Again", email="twin@example.org"), now=T0)
        session.commit()
    engine.dispose()
    yield tmp_path


def triage(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base: dict[str, str | None] = {
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_DATABASE_URL": None,
        "TRIAGE_DEBUG": None,
        "TRIAGE_LCHO_TENANCY_PREFIXES": None,
        "COLUMNS": "120",
    }
    result = runner.invoke(app, list(args), env=base | (env or {}))
    return result.exit_code, result.stdout, result.stderr


def test_export_command_by_email_telegram_or_id(data_dir: Path) -> None:
    code, out, err = triage(data_dir, "resident", "export", "ADA@example.org")
    assert (code, err) == (0, "")
    assert json.loads(out)["resident"]["name"] == "Ada Lovelace"
    code, out, _ = triage(data_dir, "resident", "export", "--telegram", "77")
    assert code == 0 and json.loads(out)["resident"]["id"] == 1
    target = data_dir / "ada.json"
    code, out, _ = triage(data_dir, "resident", "export", "1", "--out", str(target))
    assert code == 0 and f"to {target}" in out
    assert json.loads(target.read_text())["resident"]["email"] == "ada@example.org"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "99"), "error: no resident with id 99\n"),
        (("export", "nobody@example.org"), "error: no resident with email nobody@example.org\n"),
        (("export", "--telegram", "5"), "error: no resident with Telegram user id 5\n"),
        (
            ("export", "twin@example.org"),
            "error: 2 residents have the email twin@example.org (ids 2, 3): give the id\n",
        ),
        (("export",), "error: give a resident id, an email address, or --telegram USER_ID (one of them)\n"),
        (("erase", "99", "--reason", "asked", "--yes"), "error: no resident with id 99\n"),
    ],
)
def test_command_errors_are_one_line(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, out, err = triage(data_dir, "resident", *args)
    assert (code, out, err) == (1, "", message)


def test_erase_command_refuses_without_yes_then_erases_once(data_dir: Path) -> None:
    code, out, err = triage(data_dir, "resident", "erase", "1", "--reason", "request 7")
    assert code == 1 and err == "error: nothing erased: add --yes to erase resident 1\n"
    assert "Would erase resident 1" in out and "inbound_message" in out
    code, out, _ = triage(data_dir, "resident", "export", "1")
    assert json.loads(out)["resident"]["name"] == "Ada Lovelace"  # untouched

    code, out, err = triage(data_dir, "resident", "erase", "1", "--reason", "request 7", "--yes")
    assert (code, err) == (0, "") and out.startswith("Erased resident 1: rows changed: resident 1")
    code, out, _ = triage(data_dir, "resident", "export", "1")
    assert json.loads(out)["resident"] | {"created_at": None} == {
        "id": 1,
        "erased": True,
        "name": ERASED,
        "email": None,
        "phone": None,
        "address": None,
        "tenancy_ref": None,
        "telegram_user_id": None,
        "preferred_channel": ContactChannel.EMAIL.value,
        "provisional": False,
        "created_at": None,
    }
    code, out, _ = triage(data_dir, "resident", "erase", "1", "--reason", "request 7", "--yes")
    assert (code, out) == (0, "Resident 1 was already erased; nothing was left to change.\n")
    code, _, err = triage(data_dir, "resident", "erase", "1", "--reason", "x")
    assert code == 1 and "add --yes" in err


def test_erase_command_keeps_the_configured_lcho_prefix_so_ch01_still_counts_them(data_dir: Path) -> None:
    engine = make_engine(DatabaseSettings(f"sqlite:///{data_dir}/triage.db"))
    with Session(engine) as session:
        for name, tenancy in (("Lee Owner", "SO-1234"), ("Kim Owner", "SO-5678")):
            add_resident(session, data=ResidentCreate(name=name, tenancy_ref=tenancy), now=T0)
        session.commit()
    engine.dispose()
    lcho = {"TRIAGE_LCHO_TENANCY_PREFIXES": '["LCHO-", "SO-"]'}
    code, _, err = triage(data_dir, "resident", "erase", "4", "--reason", "request 8", "--yes", env=lcho)
    assert (code, err) == (0, "")
    code, out, _ = triage(data_dir, "resident", "export", "4")
    assert json.loads(out)["resident"]["tenancy_ref"] == "SO-"  # still low-cost home ownership in CH01
    # An explicit --keep-tenancy-prefix wins over the setting.
    code, _, err = triage(
        data_dir, "resident", "erase", "5", "--reason", "request 9", "--yes", "--keep-tenancy-prefix", "LCHO-", env=lcho
    )
    assert (code, err) == (0, "")
    code, out, _ = triage(data_dir, "resident", "export", "5")
    assert json.loads(out)["resident"]["tenancy_ref"] is None


def test_erase_help_says_the_decision_is_the_landlords(data_dir: Path) -> None:
    code, out, _ = triage(data_dir, "resident", "erase", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "landlord's decision" in flat and "5.12" in flat and "[erased]" in flat
