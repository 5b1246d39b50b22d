"""End to end through a real SMTP server on 127.0.0.1: a confirmed complaint's acknowledgement reaches
the resident; as the clock moves, the handler's reminders arrive on the right working days, once each;
a message that cannot be delivered alerts the complaints officer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.wiring import _on_failure
from models import case_actions
from models.case_actions import Actor
from models.classification import Classification
from models.enums import Channel, Label, MessageStatus, OutboxChannel, OutboxStatus, StaffRole
from models.messages import InboundMessageCreate
from models.outbox import OutboxItem
from models.people import ResidentCreate, StaffMemberCreate
from models.records import Correspondence
from models.repository.messages import store_inbound
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from scheduler import actions
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.delivery import OutboxWorker
from scheduler.letters import LandlordDetails
from scheduler.mail_settings import DeliverySettings, Security, SmtpSettings
from scheduler.senders import SmtpSender
from scheduler.service import SchedulerService
from tests.servers.smtp import RecordingHandler, SmtpServer

LONDON = ZoneInfo("Europe/London")
WORK = Casework(
    calendar=WorkingCalendar(),
    message_id_domain="triage.test",
    landlord=LandlordDetails(
        name="Riverside Homes", complaints_email="complaints@riverside.example", complaints_phone="0161 000 0000"
    ),
)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, day: date, hour: int) -> None:
        self.moment = datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(RecordingHandler(refuse={"gone@resident.example": "550 5.1.1 No such user"}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def worker(engine: sa.Engine, smtp: SmtpServer, clock: Clock) -> OutboxWorker:
    sender = SmtpSender(
        SmtpSettings(
            host="127.0.0.1",
            port=smtp.port,
            security=Security.PLAIN,
            from_address="complaints@riverside.example",
            from_name="Riverside Complaints",
            message_id_domain="triage.test",
        )
    )
    return OutboxWorker(
        engine,
        {OutboxChannel.EMAIL: sender},
        DeliverySettings(max_attempts=3),
        clock,
        on_failure=lambda session, item, now: _on_failure(session, item, now, work=WORK),
    )


def seed(engine: sa.Engine, clock: Clock, email: str) -> tuple[int, int]:
    with Session(engine, expire_on_commit=False) as session:
        tess = add_staff(
            session,
            data=StaffMemberCreate(name="Tess", email="tess@riverside.example", roles=[StaffRole.TRIAGE]),
            now=clock(),
        )
        hal = add_staff(
            session,
            data=StaffMemberCreate(name="Hal", email="hal@riverside.example", roles=[StaffRole.HANDLER]),
            now=clock(),
        )
        add_staff(
            session,
            data=StaffMemberCreate(name="Olga", email="olga@riverside.example", roles=[StaffRole.COMPLAINTS_OFFICER]),
            now=clock(),
        )
        resident = add_resident(session, data=ResidentCreate(name="Maria Costa", email=email), now=clock())
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.EMAIL,
                source_key="e2e:1",
                content_hash="1",
                received_at=clock(),
                sender_address=email,
                subject="Boiler",
                body_text="Third visit, still broken. I want it fixed.",
                new_text="Third visit, still broken. I want it fixed.",
            ),
            now=clock(),
        )
        message.resident_id, message.status = resident.id, MessageStatus.AWAITING_REVIEW
        session.add(
            Classification(
                message_id=message.id,
                model_version="t",
                label=Label.COMPLAINT,
                confidence=0.9,
                definition_summary="The boiler has failed after three visits.",
                definition_outcome="I want it fixed",
                created_at=clock(),
            )
        )
        case = actions.confirm_triage(
            session, message=message, staff=tess, label=Label.COMPLAINT, now=clock(), work=WORK
        ).case
        assert case is not None
        case_actions.assign_handler(session, case=case, stage=1, handler=hal, actor=Actor.staff(tess), now=clock())
        session.commit()
        return case.id or 0, hal.id or 0


def test_acknowledgement_then_reminders_on_the_right_working_days_exactly_once(
    engine: sa.Engine, smtp: SmtpServer
) -> None:
    clock = Clock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    case_id, _ = seed(engine, clock, "maria@resident.example")
    delivery = worker(engine, smtp, clock)
    assert delivery.deliver_due().sent == 1
    [ack] = smtp.received
    message = ack.message
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert ack.rcpt_tos == ("maria@resident.example",) and "CMP-2026-00001" in str(message["Subject"])
    assert "The boiler has failed after three visits." in text and "I want it fixed" in text
    assert "Monday 14 December 2026" in text  # 10 working days after the acknowledgement on 30 November
    assert "0300 111 3000" in text and "housing-ombudsman.org.uk" in text
    assert message["Auto-Submitted"] == "auto-replied" and message["X-Auto-Response-Suppress"] == "All"
    with Session(engine) as session:
        record = session.exec(select(Correspondence).where(Correspondence.case_id == case_id)).one()
        assert record.subject == message["Subject"]

    service = SchedulerService(engine=engine, work=WORK, clock=clock)
    arrived: dict[date, list[str]] = {}
    day = date(2026, 12, 1)
    while day <= date(2026, 12, 15):
        for hour in (8, 13, 17):  # a restart or a second tick the same day changes nothing
            clock.set(day, hour)
            service.sweep()
            delivery.deliver_due()
        seen = {s for v in arrived.values() for s in v}
        arrived[day] = [str(r.message["Subject"]) for r in smtp.received[1:] if str(r.message["Subject"]) not in seen]
        day += timedelta(days=1)
    digests = [d for d, subjects in arrived.items() for s in subjects if "service request" in s.lower()]
    assert digests == [date(2026, 12, 1), date(2026, 12, 7), date(2026, 12, 14)]  # weekly, first sweep of each week
    got = {d: [s for s in subjects if "service request" not in s.lower()] for d, subjects in arrived.items()}
    got = {d: subjects for d, subjects in got.items() if subjects}
    assert list(got) == [date(2026, 12, 9), date(2026, 12, 11), date(2026, 12, 14), date(2026, 12, 15)], got
    assert [len(v) for v in got.values()] == [1, 1, 1, 2]  # overdue: the handler and the complaints officer
    reminders = [r for r in smtp.received if "Reminder" in str(r.message["Subject"])]
    assert [r.rcpt_tos for r in reminders] == [("hal@riverside.example",)] * 3
    assert len({r.message_id for r in smtp.received}) == len(smtp.received)  # nothing twice


def test_an_undeliverable_acknowledgement_alerts_the_complaints_officer(engine: sa.Engine, smtp: SmtpServer) -> None:
    clock = Clock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    seed(engine, clock, "gone@resident.example")
    delivery = worker(engine, smtp, clock)
    delivery.deliver_due()  # refused with 550: failed at once, alert enqueued
    delivery.deliver_due()
    [alert] = smtp.received
    assert alert.rcpt_tos == ("olga@riverside.example",) and "CMP-2026-00001" in alert.message.as_string()
    with Session(engine) as session:
        statuses = sorted(i.status.value for i in session.exec(select(OutboxItem)))
    assert statuses == [OutboxStatus.FAILED.value, OutboxStatus.SENT.value]
