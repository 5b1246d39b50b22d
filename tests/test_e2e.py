"""One complaint's life through every real component: Dovecot, aiosmtpd, the loopback Bot API server,
PostgreSQL, and `triage run` as a subprocess with its real configuration.

A resident emails → a triage card reaches the staff chat → a staff tap confirms it as a complaint → the
acknowledgement email (reference, definition, stage 1 response date in working days, the Ombudsman's
details) reaches SMTP → a handler is assigned → the service restarts on a later day (its wall clock moved
on; tests/servers/shifted_clock.py) → the handler's reminder email arrives → the handler records the stage
1 response, which reaches the resident → they reply "not happy, I want this escalated" → staff confirm
it → the case is a stage 2 request with a new acknowledgement deadline → the stage 1 handler is refused
for stage 2 (Code 6.13) and another is assigned, which logs stage 2 and acknowledges it. Beside it, a
chat resident's complaint is acknowledged by chat. Every wait is bounded.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from models.cases import Case, Deadline
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import CaseStatus, DeadlineKind, StaffRole
from models.people import StaffMemberCreate
from models.repository.staff import add_staff
from scheduler.calendar import WorkingCalendar
from tests.servers.dovecot import PASSWORD, USER, DovecotServer, imap
from tests.servers.service_process import START_SECONDS, environment, later, running, wait_until
from tests.servers.smtp import Received, SmtpServer
from tests.servers.telegram_api import BotApiServer, BotMessage

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LONDON = ZoneInfo("Europe/London")
STAFF_CHAT = -1001122334455
TESS, SAM, ALEX = 710_001, 710_002, 710_003
CHAT_RESIDENT = 555_777_001
RESIDENT_EMAIL = "maria.lopez@resident.example"
COMPLAINT = (
    "I reported the leak from the flat above in September and again in October. Water is still coming through "
    "the kitchen ceiling every time it rains, the plaster is falling and nobody has been out. I have been let "
    "down every time. I want the leak fixed and the ceiling repaired, and an apology for being ignored."
)
ESCALATION = (
    "I am not happy with this answer at all. You have not fixed anything and the ceiling is still wet. "
    "I want this escalated to stage 2 please."
)
CHAT_COMPLAINT = (
    "third time ive messaged about the broken entry door at Holt House, anyone can walk in and nobody has fixed "
    "it in 3 weeks. im really unhappy with how this has been handled and want it sorted"
)
WAIT = 30.0  # one step: IMAP IDLE, a card job run, an outbox run, on a busy two-core machine


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def resident_email(subject: str, body: str, *, reply_to: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = f"Maria Lopez <{RESIDENT_EMAIL}>"
    message["To"] = "complaints@riverside.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="resident.example")
    if reply_to:
        message["In-Reply-To"] = reply_to
        message["References"] = reply_to
    message.set_content(body)
    return bytes(message)


def deliver_to_mailbox(dovecot: DovecotServer, folder: str, raw: bytes) -> None:
    client = imap(dovecot)
    try:
        client.append(folder, raw)
    finally:
        client.logout()


def in_staff_chat(api: BotApiServer, user: int, name: str, text: str) -> int:
    return api.push_message(
        STAFF_CHAT, user, text, chat_type="supergroup", chat_title="Triage", first_name=name, username=name.lower()
    )


def tap(api: BotApiServer, card: BotMessage, button: str, user: int = TESS) -> None:
    assert card.reply_markup is not None
    (data,) = [b["callback_data"] for row in card.reply_markup["inline_keyboard"] for b in row if b["text"] == button]
    api.push_callback(STAFF_CHAT, user, card.message_id, data, first_name="Tess")


def new_card(api: BotApiServer, seen: int, marker: str) -> BotMessage:
    """The first card after the first `seen` messages in the staff chat whose text contains `marker`."""

    def found() -> BotMessage | None:
        for message in api.sent_messages(STAFF_CHAT)[seen:]:
            if message.reply_markup is not None and marker in (message.text or ""):
                return message
        return None

    result = api.wait_for(found, timeout=WAIT)
    assert result is not None
    return result


def staff_reply(api: BotApiServer, seen: int, marker: str) -> str:
    texts = api.wait_for(
        lambda: [m.text or "" for m in api.sent_messages(STAFF_CHAT)[seen:] if marker in (m.text or "")], timeout=WAIT
    )
    return texts[0]


def mail_to(smtp: SmtpServer, address: str, subject_part: str) -> Received:
    def found() -> Received | None:
        for mail in smtp.received:
            if address in mail.rcpt_tos and subject_part in str(mail.message["Subject"]):
                return mail
        return None

    result = wait_until(found, WAIT, f"an email to {address} about {subject_part!r}")
    assert result is not None
    return result


def text_of(mail: Received) -> str:
    body = mail.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def case_and_deadlines(url: str, reference: str) -> tuple[Case, dict[tuple[int, DeadlineKind], Deadline]]:
    engine = make_engine(DatabaseSettings(url))
    try:
        with Session(engine) as session:
            case = session.exec(select(Case).where(Case.reference == reference)).one()
            deadlines = {
                (d.stage, d.kind): d for d in session.exec(select(Deadline).where(Deadline.case_id == case.id))
            }
            return case, deadlines
    finally:
        engine.dispose()


def test_a_complaint_from_email_to_stage_2_through_every_real_component(  # noqa: PLR0917  (fixtures)
    postgres_database: str, dovecot: DovecotServer, folder: str, api: BotApiServer, smtp: SmtpServer, tmp_path: Path
) -> None:
    url = postgres_database
    upgrade(DatabaseSettings(url))
    engine = make_engine(DatabaseSettings(url))
    with Session(engine) as session:
        for name, user, roles in (
            ("Tess", TESS, [StaffRole.COMPLAINTS_OFFICER, StaffRole.TRIAGE]),
            ("Sam", SAM, [StaffRole.HANDLER]),
            ("Alex", ALEX, [StaffRole.HANDLER]),
        ):
            data = StaffMemberCreate(
                name=name,
                email=f"{name.lower()}@riverside.example",
                telegram_user_id=user,
                telegram_username=name.lower(),
                roles=roles,
            )
            add_staff(session, data=data, now=datetime.now(UTC))
        session.commit()
    engine.dispose()
    env = environment(
        url,
        tmp_path,
        TRIAGE_TELEGRAM_TOKEN=api.token,
        TRIAGE_TELEGRAM_BASE_URL=api.base_url,
        TRIAGE_TELEGRAM_BASE_FILE_URL=api.base_file_url,
        TRIAGE_STAFF_CHAT_ID=str(STAFF_CHAT),
        TRIAGE_SMTP_HOST="127.0.0.1",
        TRIAGE_SMTP_PORT=str(smtp.port),
        TRIAGE_SMTP_SECURITY="plain",
        TRIAGE_SMTP_FROM_ADDRESS="complaints@riverside.example",
        TRIAGE_IMAP_HOST="127.0.0.1",
        TRIAGE_IMAP_PORT=str(dovecot.port),
        TRIAGE_IMAP_SECURITY="plain",
        TRIAGE_IMAP_USERNAME=USER,
        TRIAGE_IMAP_PASSWORD=PASSWORD,
        TRIAGE_IMAP_FOLDER=folder,
        TRIAGE_LANDLORD_NAME="Riverside Homes",
        TRIAGE_LANDLORD_COMPLAINTS_EMAIL="complaints@riverside.example",
    )
    calendar = WorkingCalendar()

    # ---- Day 1, the real clock: the email arrives, is triaged, acknowledged and assigned.
    with running(env) as service:
        service.wait_for_log("triage service running", timeout=START_SECONDS)
        deliver_to_mailbox(dovecot, folder, resident_email("Leak from upstairs, still not fixed", COMPLAINT))
        started = time.monotonic()
        card = new_card(api, 0, "New email message")
        card_seconds = time.monotonic() - started
        assert "Leak from upstairs" in (card.text or "")

        seen = len(api.sent_messages(STAFF_CHAT))
        tap(api, card, "Complaint")
        edited = api.wait_for(
            lambda: [m for m in api.edited_messages() if "Confirmed as complaint" in (m.text or "")], timeout=WAIT
        )[0]
        reference = (edited.text or "").split("Confirmed as complaint ")[1].split()[0]

        ack = mail_to(smtp, RESIDENT_EMAIL, reference)
        ack_text = text_of(ack)
        in_staff_chat(api, TESS, "Tess", f"/assign {reference} @sam")
        assert f"Sam now handles {reference} at stage 1" in staff_reply(api, seen, "now handles")

        chat_seen = len(api.sent_messages(STAFF_CHAT))
        api.push_message(CHAT_RESIDENT, CHAT_RESIDENT, CHAT_COMPLAINT, first_name="Jordan")
        chat_card = new_card(api, chat_seen, "New chat message")
        tap(api, chat_card, "Complaint")
        chat_ack = api.wait_for(
            lambda: [m for m in api.sent_messages(CHAT_RESIDENT) if "CMP-" in (m.text or "")], timeout=WAIT
        )[0]
        code, _ = service.stop()
        assert code == 0, service.log

    case, deadlines = case_and_deadlines(url, reference)
    acknowledged_on = case.received_at.astimezone(LONDON).date()
    respond_due = deadlines[(1, DeadlineKind.RESPOND)].due_on
    # Code 6.2: acknowledge within 5 working days of receipt; 6.3: respond within 10 of the acknowledgement.
    assert respond_due == calendar.add_working_days(datetime.now(LONDON).date(), 10)
    assert deadlines[(1, DeadlineKind.ACKNOWLEDGE)].due_on == calendar.add_working_days(acknowledged_on, 5)
    assert f"Your reference is {reference}." in ack_text
    assert "leak" in ack_text.lower() and "ceiling" in ack_text.lower()  # the complaint definition
    assert f"We will send you our full response by {long_date(respond_due)}." in ack_text
    assert "0300 111 3000" in ack_text and "www.housing-ombudsman.org.uk" in ack_text
    assert chat_ack.text is not None and "Your reference is CMP-" in chat_ack.text

    # ---- Three working days before the response is due, 9:30 in London: the service starts again.
    reminder_day = calendar.subtract_working_days(respond_due, 3)
    later_on = datetime.combine(reminder_day, clock_time(9, 30), tzinfo=LONDON).astimezone(UTC)
    with running(env, launcher=later(later_on)) as service:
        service.wait_for_log("triage service running", timeout=START_SECONDS)
        reminder = mail_to(smtp, "sam@riverside.example", reference)
        reminder_text = text_of(reminder)

        seen = len(api.sent_messages(STAFF_CHAT))
        in_staff_chat(
            api,
            SAM,
            "Sam",
            f"/respond {reference} not upheld\nreasons: the roofer found no fault on the day he visited",
        )
        staff_reply(api, seen, reference)
        response = mail_to(smtp, RESIDENT_EMAIL, "our stage 1 response")
        response_text = text_of(response)

        seen = len(api.sent_messages(STAFF_CHAT))
        raw = resident_email(
            f"Re: {response.message['Subject']}", ESCALATION, reply_to=str(response.message["Message-ID"])
        )
        deliver_to_mailbox(dovecot, folder, raw)
        reply_card = new_card(api, seen, "New email message")
        tap(api, reply_card, "Complaint")
        wait_until(
            lambda: case_and_deadlines(url, reference)[0].status is CaseStatus.STAGE2_REQUESTED, WAIT, "stage 2 request"
        )

        seen = len(api.sent_messages(STAFF_CHAT))
        in_staff_chat(api, TESS, "Tess", f"/assign {reference} @sam")
        refused = staff_reply(api, seen, "Sorry, that was not done")
        in_staff_chat(api, TESS, "Tess", f"/assign {reference} @alex")
        assert f"Alex handles {reference} at stage 2" in staff_reply(api, seen, "at stage 2")
        stage2_ack = mail_to(smtp, RESIDENT_EMAIL, "(stage 2)")
        code, _ = service.stop()
        assert code == 0, service.log

    print(f"\nemail APPENDed -> staff card in {card_seconds:.2f} s")
    assert reminder.message["To"].addresses[0].addr_spec == "sam@riverside.example"
    assert reference in reminder_text and long_date(respond_due) in reminder_text
    assert "0300 111 3000" in reminder_text
    assert "We do not uphold your complaint" in response_text and "the roofer found no fault" in response_text
    assert "ask for your complaint to go to stage 2" in response_text and "0300 111 3000" in response_text
    assert "6.13" in refused or "did not handle stage 1" in refused or "stage 1" in refused
    case, deadlines = case_and_deadlines(url, reference)
    assert case.status is CaseStatus.STAGE2_OPEN and case.escalation_requested_at is not None
    # Code 6.11: acknowledge the stage 2 request within 5 working days of receiving it. (Dovecot stamps the
    # reply's arrival with the real clock, not the service's later one, so the rule is checked against the
    # receipt time stored for the request.)
    requested_on = case.escalation_requested_at.astimezone(LONDON).date()
    assert deadlines[(2, DeadlineKind.ACKNOWLEDGE)].due_on == calendar.add_working_days(requested_on, 5)
    assert case.stage1_handler_id != case.stage2_handler_id and case.stage2_handler_id is not None
    assert reference in str(stage2_ack.message["Subject"]) and "0300 111 3000" in text_of(stage2_ack)
