"""Repository round trips and case actions on SQLite and PostgreSQL both."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from models import case_actions as act
from models.case_actions import Actor
from models.cases import Case
from models.classification import Classification, TriageDecision
from models.database import DatabaseSettings, make_engine
from models.enums import CaseKind, CaseStatus, Channel, DeadlineKind, Label, StaffRole, StageDecision
from models.errors import ConflictError
from models.lifecycle import LifecycleError
from models.messages import InboundMessage, InboundMessageCreate
from models.people import ResidentCreate, StaffMember, StaffMemberCreate
from models.repository import cases as case_repo
from models.repository.messages import store_inbound
from models.repository.residents import add_resident, resident_by_email
from models.repository.staff import add_staff, list_staff, staff_by_telegram
from models.timescales import CODE_2024
from scheduler.calendar import WorkingCalendar
from tests.conftest import T0


def staff(session: Session, name: str, telegram: int | None = None) -> StaffMember:
    return add_staff(
        session,
        data=StaffMemberCreate(
            name=name, email=f"{name.lower()}@landlord.example", roles=[StaffRole.HANDLER], telegram_user_id=telegram
        ),
        now=T0,
    )


def message(source: str, text: str = "The boiler has gone again") -> InboundMessageCreate:
    return InboundMessageCreate(
        channel=Channel.EMAIL,
        source_key=source,
        message_id_header=f"<{source}@x>",
        content_hash="0" * 64,
        received_at=T0,
        sender_address="res@example.net",
        subject="Boiler",
        body_text=text,
        new_text=text,
    )


def test_timestamps_come_back_aware_utc_and_naive_ones_are_refused(session: Session) -> None:
    bst = datetime(2026, 7, 1, 10, 0, tzinfo=UTC) + timedelta(hours=0)
    case = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=bst, now=bst)
    session.commit()
    session.expire_all()
    loaded = session.get(Case, case.id)
    assert loaded is not None and loaded.received_at == bst and loaded.received_at.tzinfo is not None
    with pytest.raises(Exception, match="naive datetime"):
        case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=datetime(2026, 1, 1), now=T0)  # noqa: DTZ001


def test_storing_the_same_source_twice_is_a_no_op(session: Session) -> None:
    first, created = store_inbound(session, data=message("imap:INBOX:7:101"), now=T0)
    again, created_again = store_inbound(session, data=message("imap:INBOX:7:101", "different"), now=T0)
    session.commit()
    assert created and not created_again and again.id == first.id
    assert len(session.exec(select(InboundMessage)).all()) == 1
    # The database itself enforces it, even for a writer that skips the repository.
    session.add(InboundMessage.model_validate(message("imap:INBOX:7:101"), update={"created_at": T0}))
    with pytest.raises(IntegrityError):
        session.commit()


def test_references_count_up_per_kind_and_year(session: Session) -> None:
    refs = [
        case_repo.create_case(session, kind=kind, received_at=when, now=when).reference
        for kind, when in [
            (CaseKind.COMPLAINT, T0),
            (CaseKind.COMPLAINT, T0),
            (CaseKind.SERVICE_REQUEST, T0),
            (CaseKind.COMPLAINT, T0.replace(year=2027)),
        ]
    ]
    assert refs == ["CMP-2026-00001", "CMP-2026-00002", "SR-2026-00001", "CMP-2027-00001"]
    assert case_repo.case_by_reference(session, reference=" cmp-2026-00002 ") is not None
    assert case_repo.case_by_reference(session, reference="CMP-2026-00099") is None
    assert case_repo.case_by_reference(session, reference="not a reference") is None


def test_staff_and_residents_round_trip(session: Session) -> None:
    ada = staff(session, "Ada", telegram=5550001)
    with pytest.raises(ConflictError):
        staff(session, "Ada")
    add_resident(session, data=ResidentCreate(name="Mrs P. Okafor", email="P.Okafor@Example.net"), now=T0)
    session.commit()
    assert [m.name for m in list_staff(session)] == ["Ada"]
    found = staff_by_telegram(session, telegram_user_id=5550001)
    assert found is not None and found.id == ada.id and found.has_role(StaffRole.HANDLER)
    resident = resident_by_email(session, email="p.okafor@example.net ")
    assert resident is not None and resident.name == "Mrs P. Okafor"


def test_one_triage_decision_per_message_first_wins(session: Session) -> None:
    ada, bea = staff(session, "Ada"), staff(session, "Bea")
    msg, _ = store_inbound(session, data=message("telegram:1:2"), now=T0)
    session.add(
        Classification(
            message_id=msg.id,
            model_version="m1",
            label=Label.COMPLAINT,
            confidence=0.9,
            scores={"complaint": 0.9},
            created_at=T0,
        )
    )
    session.add(TriageDecision(message_id=msg.id, staff_id=ada.id, decided_at=T0, label=Label.COMPLAINT))
    session.commit()
    session.add(TriageDecision(message_id=msg.id, staff_id=bea.id, decided_at=T0, label=Label.OTHER))
    with pytest.raises(IntegrityError):
        session.commit()


def test_complaint_through_both_stages_with_deadlines_extensions_and_audit(session: Session) -> None:
    calendar = WorkingCalendar()
    ada, bea = staff(session, "Ada"), staff(session, "Bea")
    case = case_repo.create_case(
        session,
        kind=CaseKind.COMPLAINT,
        received_at=T0,
        now=T0,
        definition="Boiler repaired three times and still failing",
    )
    assert case.id is not None
    respond_due = date(2026, 3, 27)
    case_repo.set_deadline(
        session,
        case_id=case.id,
        stage=1,
        kind=DeadlineKind.ACKNOWLEDGE,
        due_on=date(2026, 3, 9),
        due_at=calendar.end_of_day(date(2026, 3, 9)),
    )
    case_repo.set_deadline(
        session,
        case_id=case.id,
        stage=1,
        kind=DeadlineKind.RESPOND,
        due_on=respond_due,
        due_at=calendar.end_of_day(respond_due),
    )
    a, b = Actor.staff(ada), Actor.staff(bea)
    act.open_stage1(session, case=case, actor=a, now=T0 + timedelta(hours=2))
    act.assign_handler(session, case=case, stage=1, handler=ada, actor=a, now=T0 + timedelta(hours=3))
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are not working days.
    ext = act.extend(
        session,
        case=case,
        stage=1,
        working_days=10,
        reason="awaiting a damp survey",
        good_reason=None,
        actor=a,
        now=T0 + timedelta(days=5),
        timescales=CODE_2024,
        calendar=calendar,
    )
    with pytest.raises(LifecycleError, match="limit of 10"):
        act.extend(
            session,
            case=case,
            stage=1,
            working_days=1,
            reason="more",
            good_reason=None,
            actor=a,
            now=T0,
            timescales=CODE_2024,
            calendar=calendar,
        )
    act.record_response(
        session,
        case=case,
        stage=1,
        decision=StageDecision.PARTLY_UPHELD,
        reasons="Two missed appointments",
        remedy="£75",
        outstanding_actions=None,
        actor=a,
        now=T0 + timedelta(days=20),
    )
    act.request_escalation(session, case=case, actor=Actor.resident(), now=T0 + timedelta(days=21))
    with pytest.raises(LifecycleError, match=r"6\.13"):
        act.assign_handler(session, case=case, stage=2, handler=ada, actor=a, now=T0)
    act.assign_handler(session, case=case, stage=2, handler=bea, actor=b, now=T0 + timedelta(days=21, hours=1))
    act.open_stage2(session, case=case, actor=b, now=T0 + timedelta(days=22))
    session.commit()

    session.expire_all()
    record = case_repo.load_record(session, case=session.get(Case, case.id))  # type: ignore[arg-type]
    assert record.case.status is CaseStatus.STAGE2_OPEN and record.case.stage == 2
    deadlines = {(d.stage, d.kind): d for d in record.deadlines}
    respond = deadlines[(1, DeadlineKind.RESPOND)]
    assert respond.original_due_on == respond_due
    # 27 March + 10 working days: 30, 31 Mar, 1, 2, 7, 8, 9, 10, 13, 14 Apr (not 3 or 6 April)
    assert respond.due_on == date(2026, 4, 14)
    assert respond.met_at is not None and deadlines[(1, DeadlineKind.ACKNOWLEDGE)].met_at is not None
    assert [e.working_days for e in record.extensions[respond.id or 0]] == [ext.working_days] == [10]
    assert [r.decision for r in record.responses] == [StageDecision.PARTLY_UPHELD]
    assert [e.action for e in record.audit] == [
        "open_stage1",
        "assign_handler",
        "extend",
        "respond_stage1",
        "request_escalation",
        "assign_handler",
        "open_stage2",
    ]
    assert record.audit[4].actor == "resident" and record.audit[0].actor_staff_id == ada.id


def test_linked_service_request_stays_open_through_the_complaint(session: Session) -> None:
    ada = staff(session, "Ada")
    sr = case_repo.create_case(session, kind=CaseKind.SERVICE_REQUEST, received_at=T0, now=T0)
    complaint = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
    act.link_service_request(session, complaint=complaint, service_request=sr, actor=Actor.staff(ada), now=T0)
    act.open_stage1(session, case=complaint, actor=Actor.staff(ada), now=T0)
    act.record_response(
        session,
        case=complaint,
        stage=1,
        decision=StageDecision.UPHELD,
        reasons="late",
        remedy=None,
        outstanding_actions="repair booked",
        actor=Actor.staff(ada),
        now=T0,
    )
    act.close(session, case=complaint, actor=Actor.staff(ada), now=T0)
    session.commit()
    session.refresh(sr)
    assert complaint.status is CaseStatus.CLOSED and complaint.linked_service_request_id == sr.id
    assert sr.status is CaseStatus.OPEN


def test_the_database_refuses_a_third_stage_and_the_same_handler_twice(session: Session) -> None:
    ada = staff(session, "Ada")
    case = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
    session.commit()
    case.stage = 3
    session.add(case)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    case.stage1_handler_id = case.stage2_handler_id = ada.id
    session.add(case)
    with pytest.raises(IntegrityError):
        session.commit()


def test_overdue_listing_uses_the_next_open_deadline(session: Session) -> None:
    calendar = WorkingCalendar()
    late = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
    fine = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0)
    for case, due in ((late, date(2026, 3, 9)), (fine, date(2026, 3, 20))):
        assert case.id is not None
        case_repo.set_deadline(
            session,
            case_id=case.id,
            stage=1,
            kind=DeadlineKind.ACKNOWLEDGE,
            due_on=due,
            due_at=calendar.end_of_day(due),
        )
    session.commit()
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert [r.case.reference for r in case_repo.list_cases(session, overdue_at=now)] == [late.reference]
    rows = case_repo.list_cases(session, kind=CaseKind.COMPLAINT)
    assert {r.case.reference: r.next_due_at for r in rows}[late.reference] == calendar.end_of_day(date(2026, 3, 9))


@pytest.mark.postgres
def test_a_case_taken_for_update_makes_a_second_staff_action_wait_its_turn(postgres_database: str) -> None:
    """Two staff acting on one case at once (two /extend commands): the second reads the case only after the
    first has committed, so it sees the first one's change instead of overwriting it."""
    engine = make_engine(DatabaseSettings(postgres_database))
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        reference = case_repo.create_case(session, kind=CaseKind.COMPLAINT, received_at=T0, now=T0).reference
        session.commit()
    seen: list[str | None] = []

    def second() -> None:
        with Session(engine) as other:
            case = case_repo.case_by_reference(other, reference=reference, for_update=True)
            seen.append(case.definition if case else "missing")
            other.rollback()

    with Session(engine) as first:
        case = case_repo.case_by_reference(first, reference=reference, for_update=True)
        assert case is not None
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive() and seen == []  # blocked on the row lock
        case.definition = "changed by the first"
        first.add(case)
        first.commit()
    waiting.join(timeout=10)
    engine.dispose()
    assert seen == ["changed by the first"]
