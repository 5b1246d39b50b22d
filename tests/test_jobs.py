"""Case events and scheduler sweeps: the right messages, on the right working days, exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from models import case_actions
from models.case_actions import Actor
from models.cases import Deadline
from models.classification import Classification
from models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    ContactChannel,
    DeadlineKind,
    Label,
    MessageStatus,
    OutboxChannel,
    StaffRole,
    StageDecision,
)
from models.errors import ConflictError
from models.lifecycle import LifecycleError
from models.messages import InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import ResidentCreate, StaffMember, StaffMemberCreate
from models.repository.messages import store_inbound
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from scheduler import actions
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.jobs import alert_unreviewed, digest_service_requests, remind_handlers, reminder_due
from scheduler.letters import LandlordDetails

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()
WORK = Casework(
    calendar=CALENDAR,
    message_id_domain="triage.test",
    staff_chat_id=-100123,
    landlord=LandlordDetails(
        name="Riverside Homes",
        complaints_email="complaints@riverside.example",
        complaints_phone="0161 000 0000",
        complaints_policy_url=None,
        address=None,
    ),
)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)


def staff(session: Session, name: str, *roles: StaffRole) -> StaffMember:
    return add_staff(
        session,
        data=StaffMemberCreate(name=name, email=f"{name.lower()}@riverside.example", roles=list(roles)),
        now=at(date(2026, 11, 2)),
    )


def message(session: Session, received: datetime, text: str, *, chat: bool = False, key: str = "1") -> InboundMessage:
    resident = add_resident(
        session,
        data=ResidentCreate(
            name="Maria Costa",
            email=None if chat else "maria@resident.example",
            telegram_user_id=5550100 if chat else None,
            preferred_channel=ContactChannel.CHAT if chat else ContactChannel.EMAIL,
        ),
        now=received,
    )
    stored, _ = store_inbound(
        session,
        data=InboundMessageCreate(
            channel=Channel.CHAT if chat else Channel.EMAIL,
            source_key=f"test:{key}",
            content_hash=key,
            received_at=received,
            sender_address="maria@resident.example",
            body_text=text,
            new_text=text,
        ),
        now=received,
    )
    stored.resident_id = resident.id
    stored.status = MessageStatus.AWAITING_REVIEW
    session.add(
        Classification(
            message_id=stored.id,
            model_version="t",
            label=Label.COMPLAINT,
            confidence=0.9,
            definition_summary="Boiler not fixed after three visits",
            definition_outcome="I want it fixed this week",
            created_at=received,
        )
    )
    session.flush()
    return stored


def outbox(session: Session) -> list[OutboxItem]:
    return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def test_confirming_a_complaint_logs_stage1_with_deadlines_and_acknowledges_it(session: Session) -> None:
    tess = staff(session, "Tess", StaffRole.TRIAGE)
    # Received Friday 27 November 2026 after 17:00: counts from Monday 30 November.
    msg = message(session, at(date(2026, 11, 27), 18), "Third visit and the boiler still fails. Fix it this week.")
    now = at(date(2026, 11, 30), 9)
    outcome = actions.confirm_triage(session, message=msg, staff=tess, label=Label.COMPLAINT, now=now, work=WORK)
    session.commit()
    case = outcome.case
    assert case is not None and case.reference == "CMP-2026-00001" and case.status is CaseStatus.STAGE1_OPEN
    deadlines = {(d.kind, d.stage): d for d in session.exec(select(Deadline))}
    ack = deadlines[(DeadlineKind.ACKNOWLEDGE, 1)]
    assert ack.due_on == date(2026, 12, 7) and ack.met_at == now  # 5 WD after Mon 30 Nov, met today
    assert deadlines[(DeadlineKind.RESPOND, 1)].due_on == date(2026, 12, 14)  # 10 WD after acknowledgement
    [item] = outbox(session)
    assert item.idempotency_key == f"ack:{case.reference}:stage1" and item.channel is OutboxChannel.EMAIL
    assert item.recipient == "maria@resident.example" and case.reference in (item.subject or "")
    assert "Monday 14 December 2026" in item.body_text and "0300 111 3000" in item.body_text
    assert item.message_id_header and item.message_id_header.endswith("@triage.test>")
    assert msg.status is MessageStatus.TRIAGED and msg.case_id == case.id
    with pytest.raises(ConflictError, match="already been triaged"):
        actions.confirm_triage(session, message=msg, staff=tess, label=Label.OTHER, now=now, work=WORK)


def test_a_chat_resident_gets_the_acknowledgement_by_chat(session: Session) -> None:
    tess = staff(session, "Tess", StaffRole.TRIAGE)
    msg = message(session, at(date(2026, 11, 24)), "boiler broke AGAIN 3rd time", chat=True)
    actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 24), 11), work=WORK
    )
    [item] = outbox(session)
    assert (item.channel, item.recipient, item.body_html) == (OutboxChannel.TELEGRAM, "5550100", None)


def test_service_requests_and_survey_feedback_get_their_own_registers(session: Session) -> None:
    tess = staff(session, "Tess", StaffRole.TRIAGE)
    repair = message(session, at(date(2026, 11, 24)), "Tap drips", key="r")
    survey = message(session, at(date(2026, 11, 24)), "2/5 took ages", key="s")
    sr = actions.confirm_triage(
        session, message=repair, staff=tess, label=Label.SERVICE_REQUEST, now=at(date(2026, 11, 24), 11), work=WORK
    )
    svy = actions.confirm_triage(
        session, message=survey, staff=tess, label=Label.SURVEY_FEEDBACK, now=at(date(2026, 11, 24), 11), work=WORK
    )
    assert sr.case is not None and sr.case.reference.startswith("SR-") and sr.sent == []
    assert svy.case is not None and svy.case.reference.startswith("SVY-")
    [reply] = svy.sent
    assert reply.idempotency_key == f"survey:{svy.case.reference}" and "0300 111 3000" in reply.body_text


def test_reminders_arrive_on_the_right_working_days_exactly_once(session: Session) -> None:
    tess, hal = staff(session, "Tess", StaffRole.TRIAGE), staff(session, "Hal", StaffRole.HANDLER)
    olga = staff(session, "Olga", StaffRole.COMPLAINTS_OFFICER)
    msg = message(session, at(date(2026, 11, 30)), "Boiler")
    case = actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 30), 11), work=WORK
    ).case
    assert case is not None
    case_actions.assign_handler(
        session, case=case, stage=1, handler=hal, actor=Actor.staff(olga), now=at(date(2026, 11, 30), 12)
    )
    session.commit()
    # Response due Monday 14 December 2026: reminders on Wed 9 (T-3), Fri 11 (T-1), Mon 14 (T-0).
    sent: dict[date, list[str]] = {}
    day = date(2026, 12, 1)
    while day <= date(2026, 12, 17):
        for hour in (8, 12, 18):  # several sweeps a day change nothing after the first
            remind_handlers(session, now=at(day, hour), work=WORK)
            session.commit()
        keys = [i.idempotency_key for i in outbox(session) if i.idempotency_key.startswith(("remind:", "overdue:"))]
        sent[day] = [k for k in keys if k not in [x for v in sent.values() for x in v]]
        day += timedelta(days=1)
    got = {d: k for d, k in sent.items() if k}
    ref = case.reference
    assert got == {
        date(2026, 12, 9): [f"remind:{ref}:stage1:respond:T-3:{hal.id}"],
        date(2026, 12, 11): [f"remind:{ref}:stage1:respond:T-1:{hal.id}"],
        date(2026, 12, 14): [f"remind:{ref}:stage1:respond:T-0:{hal.id}"],
        date(2026, 12, 15): [
            f"overdue:{ref}:stage1:respond:2026-12-15:{hal.id}",
            f"overdue:{ref}:stage1:respond:2026-12-15:{olga.id}",
        ],
        date(2026, 12, 16): [
            f"overdue:{ref}:stage1:respond:2026-12-16:{hal.id}",
            f"overdue:{ref}:stage1:respond:2026-12-16:{olga.id}",
        ],
        date(2026, 12, 17): [
            f"overdue:{ref}:stage1:respond:2026-12-17:{hal.id}",
            f"overdue:{ref}:stage1:respond:2026-12-17:{olga.id}",
        ],
    }
    reminder = next(i for i in outbox(session) if i.idempotency_key.endswith(f"T-1:{hal.id}"))
    assert reminder.recipient == "hal@riverside.example" and "Monday 14 December 2026" in reminder.body_text


def test_an_unassigned_case_reminds_the_complaints_officer_and_a_late_start_sends_only_the_latest(
    session: Session,
) -> None:
    tess, olga = staff(session, "Tess", StaffRole.TRIAGE), staff(session, "Olga", StaffRole.COMPLAINTS_OFFICER)
    msg = message(session, at(date(2026, 11, 30)), "Boiler")
    case = actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 30), 11), work=WORK
    ).case
    assert case is not None
    remind_handlers(session, now=at(date(2026, 12, 11)), work=WORK)  # the service was down until T-1
    keys = [i.idempotency_key for i in outbox(session) if i.idempotency_key.startswith("remind:")]
    assert keys == [f"remind:{case.reference}:stage1:respond:T-1:{olga.id}"]


def test_no_sweep_sends_anything_on_a_weekend_or_bank_holiday(session: Session) -> None:
    tess = staff(session, "Tess", StaffRole.TRIAGE)
    staff(session, "Olga", StaffRole.COMPLAINTS_OFFICER)
    msg = message(session, at(date(2026, 12, 10)), "Boiler")
    actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 12, 10), 11), work=WORK
    )
    before = len(outbox(session))
    for day in (date(2026, 12, 19), date(2026, 12, 25), date(2026, 12, 28)):  # Sat, Christmas, Boxing Day sub.
        remind_handlers(session, now=at(day), work=WORK)
    assert len(outbox(session)) == before


def test_an_extension_moves_the_date_tells_the_resident_and_restarts_reminders(session: Session) -> None:
    tess, hal = staff(session, "Tess", StaffRole.TRIAGE), staff(session, "Hal", StaffRole.HANDLER)
    msg = message(session, at(date(2026, 11, 30)), "Boiler")
    case = actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 30), 11), work=WORK
    ).case
    assert case is not None
    remind_handlers(session, now=at(date(2026, 12, 9)), work=WORK)
    extension, notice = actions.extend(
        session,
        case=case,
        stage=1,
        working_days=5,
        reason="awaiting a surveyor",
        good_reason=None,
        actor=Actor.staff(hal),
        now=at(date(2026, 12, 9), 15),
        work=WORK,
    )
    respond = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.RESPOND)).one()
    assert respond.due_on == date(2026, 12, 21) and respond.reminded_offset is None
    assert extension.resident_informed_at is not None
    assert "Monday 21 December 2026" in notice.body_text and "awaiting a surveyor" in notice.body_text
    assert "0300 111 3000" in notice.body_text and notice.recipient == "maria@resident.example"


def test_escalation_opens_a_stage2_clock_and_needs_a_different_handler(session: Session) -> None:
    tess, hal = staff(session, "Tess", StaffRole.TRIAGE), staff(session, "Hal", StaffRole.HANDLER)
    stella = staff(session, "Stella", StaffRole.HANDLER)
    first = message(session, at(date(2026, 11, 2)), "Boiler", key="a")
    case = actions.confirm_triage(
        session, message=first, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 2), 11), work=WORK
    ).case
    assert case is not None
    case_actions.assign_handler(
        session, case=case, stage=1, handler=hal, actor=Actor.staff(hal), now=at(date(2026, 11, 2))
    )
    case_actions.record_response(
        session,
        case=case,
        stage=1,
        decision=StageDecision.NOT_UPHELD,
        reasons="fixed",
        remedy=None,
        outstanding_actions=None,
        actor=Actor.staff(hal),
        now=at(date(2026, 11, 9)),
    )
    reply = message(session, at(date(2026, 11, 20), 16), "Not happy, I want this escalated", key="b")
    reply.case_id = case.id
    actions.confirm_triage(
        session, message=reply, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 23), 9), work=WORK
    )
    assert case.status is CaseStatus.STAGE2_REQUESTED
    ack2 = session.exec(select(Deadline).where(Deadline.stage == 2, Deadline.kind == DeadlineKind.ACKNOWLEDGE)).one()
    assert ack2.due_on == date(2026, 11, 27)  # 5 WD from Friday 20 November
    with pytest.raises(LifecycleError, match=r"6\.13"):
        actions.open_stage2(
            session, case=case, handler=hal, actor=Actor.staff(tess), now=at(date(2026, 11, 24)), work=WORK
        )
    ack = actions.open_stage2(
        session, case=case, handler=stella, actor=Actor.staff(tess), now=at(date(2026, 11, 24)), work=WORK
    )
    respond2 = session.exec(select(Deadline).where(Deadline.stage == 2, Deadline.kind == DeadlineKind.RESPOND)).one()
    assert respond2.due_on == date(2026, 12, 22)  # 20 WD from Tuesday 24 November
    assert ack.idempotency_key == f"ack:{case.reference}:stage2" and "Tuesday 22 December 2026" in ack.body_text


def test_an_exclusion_sends_the_reasons_and_the_right_to_go_to_the_ombudsman(session: Session) -> None:
    tess = staff(session, "Tess", StaffRole.TRIAGE)
    msg = message(session, at(date(2026, 11, 24)), "The fence from 2023")
    case = actions.new_case(
        session, CaseKind.COMPLAINT, msg, classification=None, definition=None, now=at(date(2026, 11, 24))
    )
    letter = actions.exclude(
        session,
        case=case,
        reason="The issue arose over 12 months ago (Code 2.2).",
        actor=Actor.staff(tess),
        now=at(date(2026, 11, 25)),
        work=WORK,
    )
    assert case.status is CaseStatus.EXCLUDED
    assert "over 12 months" in letter.body_text and "0300 111 3000" in letter.body_text


def test_an_unreviewed_message_raises_an_alert_a_working_day_before_its_acknowledgement_is_due(
    session: Session,
) -> None:
    staff(session, "Olga", StaffRole.COMPLAINTS_OFFICER)
    message(session, at(date(2026, 11, 30)), "The lift has been broken for two weeks")  # ack due Mon 7 Dec
    for day in (date(2026, 12, 1), date(2026, 12, 3)):
        assert alert_unreviewed(session, now=at(day), work=WORK).alerts == 0
    assert alert_unreviewed(session, now=at(date(2026, 12, 4)), work=WORK).alerts == 2  # officer email + chat
    assert alert_unreviewed(session, now=at(date(2026, 12, 7)), work=WORK).alerts == 0  # once only
    chat = next(i for i in outbox(session) if i.channel is OutboxChannel.TELEGRAM)
    assert chat.recipient == "-100123"


def test_the_service_request_digest_goes_once_a_week(session: Session) -> None:
    tess, olga = staff(session, "Tess", StaffRole.TRIAGE), staff(session, "Olga", StaffRole.COMPLAINTS_OFFICER)
    msg = message(session, at(date(2026, 11, 2)), "Tap drips")
    actions.confirm_triage(
        session, message=msg, staff=tess, label=Label.SERVICE_REQUEST, now=at(date(2026, 11, 2)), work=WORK
    )
    counts = [
        digest_service_requests(session, now=at(day), work=WORK).digests
        for day in (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5), date(2026, 12, 7))
    ]
    assert counts == [1, 0, 0, 1]
    digest = next(i for i in outbox(session) if i.idempotency_key.startswith("srdigest:2026-W49"))
    assert digest.recipient == olga.email and "SR-2026-00001" in digest.body_text


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 8), None),
        (date(2026, 12, 9), 3),
        (date(2026, 12, 10), 3),
        (date(2026, 12, 11), 1),
        (date(2026, 12, 12), 1),
        (date(2026, 12, 14), 0),
        (date(2026, 12, 15), None),
    ],
)
def test_reminder_due(today: date, expected: int | None) -> None:
    assert reminder_due(today, date(2026, 12, 14), (3, 1, 0), CALENDAR) == expected
