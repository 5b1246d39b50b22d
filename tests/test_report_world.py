"""A small landlord's spring 2026, built through the real case actions, for the report tests.

The period is 1 April to 31 May 2026 (England): Good Friday 3 April, Easter Monday 6 April, the early
May bank holiday 4 May and the spring bank holiday 25 May are not working days, and British Summer Time
runs throughout (so a response at 00:30 on 6 May is stored as 23:30 on 5 May in UTC). The report is
taken at 09:00 on Monday 1 June. Every date worked out below is checked in tests/test_report.py.

Complaints (stage 1 received in the period unless said otherwise; "ack" is when staff confirmed the
triage, which logs and acknowledges the complaint):
- A  recv Wed 1 Apr 10:00, ack Thu 2 Apr (1 WD; due Fri 10 Apr). Response due Mon 20 Apr; responded
     Fri 17 Apr, upheld, remedy. Escalated Fri 29 May: stage 2 acknowledgement due Fri 5 Jun (pending).
- B  recv Thu 2 Apr 16:30 (before the 17:00 cut-off), ack Tue 14 Apr: 6 WD, due Mon 13 Apr, LATE.
     Response due Tue 28 Apr, extended 5 WD to Wed 6 May; responded Tue 5 May (within the extension).
- C  recv Fri 17 Apr 17:30 (after the cut-off: counts from Mon 20 Apr), a reply on service request SR1
     (Code 1.5, linked). Ack Mon 20 Apr (0 WD). Response due Tue 5 May; responded Wed 6 May 00:30 BST:
     LATE (the UTC date, 5 May, would wrongly say on time).
- D  recv Tue 7 Apr, ack Thu 9 Apr (2 WD), responded Mon 13 Apr (due Thu 23 Apr). Escalated Wed 15 Apr;
     stage 2 acknowledged Mon 20 Apr (3 WD, due Wed 22 Apr) by a different handler; response due
     Tue 19 May, extended 10 WD to Wed 3 Jun; responded Thu 28 May, upheld with a remedy.
- E  recv Wed 8 Apr, ack Thu 9 Apr (1 WD), responded Fri 10 Apr, remedy. Escalated Thu 16 Apr and the
     escalation refused Fri 17 Apr (previously considered).
- F  recv Fri 10 Apr, refused before stage 1 on Mon 13 Apr (over 12 months).
- H  recv Mon 13 Apr, ack Wed 15 Apr (2 WD), responded Thu 23 Apr (due Wed 29 Apr). Escalated
     Tue 19 May; stage 2 acknowledgement due Wed 27 May and never made: LATE at 1 June.
- J  recv Tue 12 May by chat (third party), ack Thu 14 May (2 WD); extended 12 WD with a good reason;
     no response yet.
- P  recv Mon 23 Mar (previous period), response due Wed 8 Apr, responded Thu 9 Apr: LATE, in CH02.
- Q, R  previous-period complaints about damp; Z on Thu 29 Jan, before the previous period.
Service requests: SR1 (Tue 7 Apr, open), SR2 (Wed 8 Apr 22:00, closed Fri 17 Apr), SR3 (Thu 12 Mar,
open), SR4 (Sun 31 May 23:30 BST: in the period), SR5 (Mon 1 Jun 00:30 BST: not), SR6 (Mon 20 Apr,
closed Tue 28 Apr). Survey feedback: SV1 (unhappy words and 2/5), SV2 (5 stars), SV3 ("Fine", but the
survey recorded a score of 1), SV5 (happy; its reply failed to send), SV4 (previous period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models import case_actions
from models.case_actions import Actor
from models.cases import Case
from models.classification import Classification
from models.enums import (
    CaseKind,
    Channel,
    ContactChannel,
    Hazard,
    Label,
    MessageStatus,
    OutboxStatus,
    StaffRole,
    StageDecision,
    SupportNeedKind,
)
from models.messages import InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import ResidentCreate, StaffMember, StaffMemberCreate, SupportNeed
from models.repository.cases import create_case
from models.repository.messages import store_inbound
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from models.surveys import SurveyRequest
from models.types import row_id
from reports.period import Period
from scheduler import actions
from scheduler.calendar import WorkingCalendar
from scheduler.casework import Casework
from scheduler.letters import LandlordDetails

LONDON = ZoneInfo("Europe/London")
CALENDAR = WorkingCalendar()
WORK = Casework(
    calendar=CALENDAR,
    message_id_domain="triage.test",
    landlord=LandlordDetails(
        name="Riverside Homes", complaints_email="complaints@riverside.example", complaints_phone="0161 000 0000"
    ),
)
PERIOD = Period(date(2026, 4, 1), date(2026, 5, 31))
AS_OF = datetime(2026, 6, 1, 9, 0, tzinfo=LONDON).astimezone(UTC)
EVIL = "<script>alert('x')</script> & co"


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A Europe/London wall-clock time, as the aware UTC moment the database stores."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@dataclass
class World:
    session: Session
    tess: StaffMember
    hal: StaffMember
    sam: StaffMember
    refs: dict[str, str] = field(default_factory=dict)
    _keys: int = 0

    def message(
        self,
        received: datetime,
        text: str,
        *,
        predicted: Label | None = Label.COMPLAINT,
        hazard: Hazard | None = None,
        categories: tuple[str, ...] = (),
        third_party: bool = False,
        on_case: Case | None = None,
        tenancy: str | None = None,
        chat: bool = False,
    ) -> InboundMessage:
        """Stored and classified as intake does it; `on_case` files a reply on that case."""
        self._keys += 1
        key = self._keys
        if on_case is not None and on_case.resident_id is not None:
            resident_id = on_case.resident_id
        else:
            resident_id = add_resident(
                self.session,
                data=ResidentCreate(
                    name=f"Resident {key}",
                    email=None if chat else f"r{key}@resident.example",
                    telegram_user_id=900_000 + key if chat else None,
                    preferred_channel=ContactChannel.CHAT if chat else ContactChannel.EMAIL,
                    tenancy_ref=tenancy or f"T-{key:04d}",
                ),
                now=received,
            ).id
        stored, _ = store_inbound(
            self.session,
            data=InboundMessageCreate(
                channel=Channel.CHAT if chat else Channel.EMAIL,
                source_key=f"world:{key}",
                content_hash=f"h{key}",
                received_at=received,
                sender_address=f"r{key}@resident.example",
                body_text=text,
                new_text=text,
            ),
            now=received,
        )
        stored.resident_id = resident_id
        stored.case_id = on_case.id if on_case is not None else None
        stored.status = MessageStatus.AWAITING_REVIEW
        self.session.add(stored)
        if predicted is not None:
            self.session.add(
                Classification(
                    message_id=row_id(stored),
                    model_version="t",
                    label=predicted,
                    confidence=0.8,
                    categories=list(categories),
                    hazard=hazard,
                    third_party=third_party,
                    definition_summary=f"The resident is unhappy that: {text[:60]}",
                    created_at=received,
                )
            )
        self.session.flush()
        return stored

    def triage(self, message: InboundMessage, label: Label, when: datetime) -> Case | None:
        return actions.confirm_triage(
            self.session, message=message, staff=self.tess, label=label, now=when, work=WORK
        ).case

    def complaint(self, name: str, received: datetime, triaged: datetime, text: str, **kw: object) -> Case:
        case = self.triage(self.message(received, text, **kw), Label.COMPLAINT, triaged)  # type: ignore[arg-type]
        assert case is not None and case.kind is CaseKind.COMPLAINT
        case_actions.assign_handler(
            self.session, case=case, stage=1, handler=self.hal, actor=Actor.staff(self.tess), now=triaged
        )
        self.refs[name] = case.reference
        return case

    def request(self, name: str, received: datetime, triaged: datetime, **kw: object) -> Case:
        kw.setdefault("predicted", Label.SERVICE_REQUEST)
        case = self.triage(self.message(received, "Please fix it", **kw), Label.SERVICE_REQUEST, triaged)  # type: ignore[arg-type]
        assert case is not None
        self.refs[name] = case.reference
        return case

    def survey(self, name: str, received: datetime, text: str, predicted: Label = Label.SURVEY_FEEDBACK) -> Case:
        message = self.message(received, text, predicted=predicted)
        case = self.triage(message, Label.SURVEY_FEEDBACK, received)
        assert case is not None
        self.refs[name] = case.reference
        return case

    def respond(
        self, case: Case, stage: int, when: datetime, decision: StageDecision, remedy: str | None = None
    ) -> None:
        responder = self.hal if stage == 1 else self.sam
        case_actions.record_response(
            self.session,
            case=case,
            stage=stage,
            decision=decision,
            reasons="We looked into each point you raised.",
            remedy=remedy,
            outstanding_actions=None,
            actor=Actor.staff(responder),
            now=when,
        )

    def escalate(self, case: Case, received: datetime, triaged: datetime, text: str, predicted: Label) -> None:
        message = self.message(received, text, predicted=predicted, on_case=case)
        assert self.triage(message, Label.COMPLAINT, triaged) is case

    def extend(
        self, case: Case, stage: int, days: int, *, when: datetime, reason: str, good: str | None = None
    ) -> None:
        actions.extend(
            self.session,
            case=case,
            stage=stage,
            working_days=days,
            reason=reason,
            good_reason=good,
            actor=Actor.staff(self.hal if stage == 1 else self.sam),
            now=when,
            work=WORK,
        )


def build_world(session: Session) -> World:
    first = at(1, 5, 9)
    tess, hal, sam = (
        add_staff(session, data=StaffMemberCreate(name=n, email=f"{n.lower()}@riverside.example", roles=[r]), now=first)
        for n, r in (("Tess", StaffRole.TRIAGE), ("Hal", StaffRole.HANDLER), ("Sam", StaffRole.HANDLER))
    )
    w = World(session, tess, hal, sam)
    d = StageDecision

    # The previous period (30 Jan - 31 Mar) and before it.
    w.complaint("Z", at(1, 29, 23, 30), at(1, 30, 9), "Nobody rings back", categories=("communication",))
    w.complaint("R", at(2, 3, 10), at(2, 3, 11), "Mould in the bedroom again", categories=("damp_mould",))
    w.complaint("Q", at(3, 2, 10), at(3, 2, 11), "The damp is back", categories=("damp_mould",))
    p = w.complaint(
        "P", at(3, 23, 10), at(3, 23, 11), "Fence still broken", categories=("repairs",), hazard=Hazard.FIRE
    )
    w.survey("SV4", at(3, 16, 10), "1/5 awful visit")
    sr3 = w.request("SR3", at(3, 12, 10), at(3, 12, 11))

    # The period.
    a = w.complaint(
        "A",
        at(4, 1, 10),
        at(4, 2, 11),
        "I want to make a complaint about the leak",
        categories=("repairs", "damp_mould"),
    )
    b = w.complaint(
        "B",
        at(4, 2, 16, 30),
        at(4, 14, 9),
        "Third visit and still no fix",
        predicted=Label.SERVICE_REQUEST,
        categories=("repairs",),
    )
    sr1 = w.request("SR1", at(4, 7, 9), at(4, 7, 11, 30), hazard=Hazard.NO_HEATING, tenancy="SO-0001")
    sr2 = w.request("SR2", at(4, 8, 22), at(4, 9, 8), hazard=Hazard.GAS, predicted=Label.COMPLAINT)
    c = w.complaint(
        "C",
        at(4, 17, 17, 30),
        at(4, 20, 10),
        "Nobody came back about the heating",
        categories=("communication",),
        on_case=sr1,
    )
    dd = w.complaint(
        "D",
        at(4, 7, 9),
        at(4, 9, 10),
        "Black mould and nothing done",
        categories=("damp_mould",),
        hazard=Hazard.DAMP_MOULD,
        tenancy="SO-0002",
    )
    e = w.complaint("E", at(4, 8, 9), at(4, 9, 9, 30), "Rude operative")
    f = create_case(
        session,
        kind=CaseKind.COMPLAINT,
        received_at=at(4, 10, 11),
        now=at(4, 10, 11),
        resident_id=a.resident_id,
        definition="A repair in 2024",
    )
    w.refs["F"] = f.reference
    h = w.complaint("H", at(4, 13, 10), at(4, 15, 10), "Gutter overflowing for weeks", categories=("repairs",))
    j = w.complaint(
        "J",
        at(5, 12, 10),
        at(5, 14, 10),
        "writing for my mum, boiler broken again",
        chat=True,
        third_party=True,
        categories=("repairs", "heating_hot_water"),
    )
    sr6 = w.request("SR6", at(4, 20, 10), at(4, 20, 11))

    w.respond(p, 1, at(4, 9, 12), d.NOT_UPHELD)
    w.respond(e, 1, at(4, 10, 15), d.PARTLY_UPHELD, remedy="An apology")
    w.respond(dd, 1, at(4, 13, 12), d.NOT_UPHELD)
    actions.exclude(
        session,
        case=f,
        reason="The issue arose more than 12 months ago",
        actor=Actor.staff(hal),
        now=at(4, 13, 9),
        work=WORK,
    )
    w.escalate(dd, at(4, 15, 10), at(4, 15, 14), "I am not happy with your answer", Label.COMPLAINT)
    w.escalate(e, at(4, 16, 10), at(4, 16, 11), "I want to escalate my complaint", Label.COMPLAINT)
    actions.exclude(session, case=e, reason=EVIL, actor=Actor.staff(hal), now=at(4, 17, 10), work=WORK)
    case_actions.close(session, case=sr2, actor=Actor.staff(tess), now=at(4, 17, 12))
    w.respond(a, 1, at(4, 17, 12), d.UPHELD, remedy="£50 compensation for the delay")
    actions.open_stage2(session, case=dd, handler=sam, actor=Actor.staff(tess), now=at(4, 20, 10), work=WORK)
    w.respond(h, 1, at(4, 23, 12), d.NOT_UPHELD)
    w.extend(b, 1, 5, when=at(4, 27, 10), reason="Waiting for the contractor's report")
    case_actions.close(session, case=sr6, actor=Actor.staff(tess), now=at(4, 28, 10))
    w.respond(b, 1, at(5, 5, 12), d.PARTLY_UPHELD)
    w.respond(c, 1, at(5, 6, 0, 30), d.NOT_UPHELD)
    w.extend(dd, 2, 10, when=at(5, 18, 10), reason="An independent damp survey is needed")
    w.escalate(h, at(5, 19, 10), at(5, 19, 11), "not good enough", Label.SURVEY_FEEDBACK)
    w.extend(
        j,
        1,
        12,
        when=at(5, 28, 9),
        reason="Waiting for the contractor's report",
        good="Contractor went into administration",
    )
    w.respond(dd, 2, at(5, 28, 12), d.UPHELD, remedy="£250 and the repairs done")
    w.escalate(a, at(5, 29, 10), at(5, 29, 11), "Still leaking, take it further", Label.COMPLAINT)

    # Registers.
    w.request("SR4", at(5, 31, 23, 30), at(5, 31, 23, 45))
    w.request("SR5", at(6, 1, 0, 30), at(6, 1, 8))
    w.survey("SV1", at(4, 21, 10), "2/5 the plumber never turned up")
    w.survey("SV2", at(4, 22, 10), "5 stars, lovely job", predicted=Label.OTHER)
    sv3 = w.survey("SV3", at(5, 6, 10), "Fine")
    sv5 = w.survey("SV5", at(5, 7, 10), "All good thanks")
    answer = session.exec(select(InboundMessage).where(InboundMessage.case_id == sv3.id)).one()
    session.add(
        SurveyRequest(
            case_id=row_id(sr2),
            resident_id=answer.resident_id,
            channel=ContactChannel.EMAIL,
            question="How did we do, 1 to 5?",
            asked_at=at(5, 5, 10),
            answer_message_id=answer.id,
            score=1,
            answered_at=answer.received_at,
        )
    )
    reply = session.exec(select(OutboxItem).where(col(OutboxItem.idempotency_key) == f"survey:{sv5.reference}")).one()
    reply.status = OutboxStatus.FAILED
    session.add(reply)

    # Hazard flagged and never triaged; a decision on a message never classified.
    w.message(at(5, 29, 12), "Sparks from the socket", hazard=Hazard.ELECTRICAL, predicted=Label.SERVICE_REQUEST)
    w.triage(w.message(at(5, 11, 9), "What day are bins collected?", predicted=None), Label.OTHER, at(5, 11, 9, 30))

    # Code 5.10: one need past its review date on 1 June, one not.
    resident = a.resident_id
    assert resident is not None
    for review in (date(2026, 5, 1), date(2026, 9, 1)):
        session.add(
            SupportNeed(
                resident_id=resident,
                kind=SupportNeedKind.REASONABLE_ADJUSTMENT,
                description="Large print letters",
                recorded_at=at(4, 2, 11),
                review_on=review,
            )
        )
    del sr3
    session.commit()
    return w


def test_the_world_is_built_through_the_real_actions(session: Session) -> None:
    """Guards the builder itself: the cases the report tests count are the ones described above."""
    world = build_world(session)
    cases = {c.reference: c for c in world.session.exec(select(Case))}
    assert len(world.refs) == len(set(world.refs.values()))
    kinds = {name: cases[ref].kind for name, ref in world.refs.items()}
    assert sum(k is CaseKind.COMPLAINT for k in kinds.values()) == 12
    assert cases[world.refs["C"]].linked_service_request_id == cases[world.refs["SR1"]].id
    assert cases[world.refs["E"]].exclusion_reason == EVIL
