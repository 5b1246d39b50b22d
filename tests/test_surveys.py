"""Surveys about service requests: asking through the outbox, reading the score, and chat replies.

The score parser and the staff rules are pure and tested from tables and with hypothesis. Replies are
driven through the real application against the loopback Bot API server (see test_bot_linking), and the
question itself is delivered by the real outbox worker through the bot, so the tests read what the
resident saw from the server and what was recorded from the database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.telegram.app import TriageApplication
from classifier.classify import Classifier, MessageIn, Result
from intake.threading_rules import COMPLAINT_ABOUT_REQUEST
from models.cases import Case
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import (
    CaseKind,
    CaseStatus,
    ContactChannel,
    Direction,
    Hazard,
    Label,
    MessageStatus,
    OutboxChannel,
    OutboxStatus,
)
from models.lifecycle import LifecycleError
from models.messages import InboundMessage
from models.outbox import OutboxItem
from models.people import ResidentCreate, StaffMember, StaffMemberCreate
from models.records import AuditEvent, Correspondence
from models.repository.cases import create_case
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from models.surveys import SurveyRequest
from scheduler.actions import confirm_triage
from scheduler.delivery import OutboxWorker
from scheduler.mail_settings import DeliverySettings
from scheduler.senders import TelegramSender
from scheduler.surveys import (
    ANSWER_WINDOW,
    DEFAULT_QUESTION,
    ReplyFacts,
    needs_staff,
    parse_score,
    send_survey,
)
from tests.bot_harness import RESIDENT, STAFF_CHAT, WORK, Clock, handle
from tests.bot_harness import started_application as running
from tests.servers.telegram_api import BotApiServer
from tests.test_bot_linking import make_engine_at, say, texts

# ------------------------------------------------------------------------------------- the score

SCORES = [
    ("4", 4),
    ("4/5", 4),
    ("4 / 5", 4),
    ("four", 4),
    ("Four, they were quick", 4),
    ("FIVE!", 5),
    ("\u2b50\u2b50\u2b50\u2b50", 4),
    ("\u2b50\ufe0f\u2b50\ufe0f\u2b50\ufe0f", 3),  # with the emoji presentation selector phones add
    ("\u2605\u2605", 2),
    ("4 out of 5, good job", 4),
    ("three out of five", 3),
    ("5 stars", 5),
    ("one star, rubbish", 1),
    ("5 thanks, great job", 5),
    ("I'd give it a 2", 2),
    ("It took 3 weeks to come out. 2/5", 2),
    ("1. took three weeks and they left mud everywhere", 1),
    # unclear or none: None
    ("", None),
    ("very happy thank you", None),
    ("one of them was rude", None),
    ("took 3 weeks, 2", None),
    ("10/10", None),
    ("0", None),
    ("6", None),
    ("3.5", None),
    ("4/5 or maybe 3/5", None),
    ("\u2b50\u2b50\u2b50\u2b50\u2b50\u2b50", None),
    ("\u2b50 ok \u2b50\u2b50", None),
]


@pytest.mark.parametrize(("text", "score"), SCORES)
def test_parse_score(text: str, score: int | None) -> None:
    assert parse_score(text) == score


NUMBER_WORDS = ["one", "two", "three", "four", "five"]
# Words that hold no number, no star and no slash, to surround a score with.
FILLER = st.lists(
    st.sampled_from("the man was quick and tidy thanks lovely job but late again rude mess great ok".split()),
    max_size=8,
).map(" ".join)


def formats(n: int) -> list[str]:
    word = NUMBER_WORDS[n - 1]
    return [f"{n}/5", f"{n} out of 5", f"{word} out of five", f"{n} stars", f"{word} stars", "\u2b50" * n]


@given(n=st.integers(1, 5), which=st.integers(0, 5), before=FILLER, after=FILLER)
def test_a_score_in_any_usual_form_is_found_whatever_surrounds_it(n: int, which: int, before: str, after: str) -> None:
    assert parse_score(f"{before} {formats(n)[which]} {after}") == n


@given(n=st.integers(1, 5), after=FILLER)
def test_a_lone_number_or_a_leading_number_word_is_the_score(n: int, after: str) -> None:
    assert parse_score(f"{n} {after}") == n
    assert parse_score(f"{NUMBER_WORDS[n - 1].title()}, {after}") == n


@given(n=st.integers().filter(lambda i: not 1 <= i <= 5), before=FILLER)
def test_a_number_outside_one_to_five_is_no_score(n: int, before: str) -> None:
    assert parse_score(f"{before} {n}") is None


@given(a=st.integers(0, 99), b=st.integers(0, 99), filler=FILLER)
def test_two_numbers_without_out_of_five_are_unclear(a: int, b: int, filler: str) -> None:
    assert parse_score(f"{a} {filler} {b}") is None


@given(st.integers(6, 40))
def test_more_than_five_stars_is_unclear(stars: int) -> None:
    assert parse_score("\u2b50" * stars) is None


@given(st.text())
def test_any_text_gives_a_score_from_one_to_five_or_none(text: str) -> None:
    assert parse_score(text) in {None, 1, 2, 3, 4, 5}


@given(n=st.integers(1, 5), which=st.integers(0, 5))
def test_case_and_surrounding_space_do_not_matter(n: int, which: int) -> None:
    text = formats(n)[which]
    assert parse_score(f"  {text.upper()}\n") == parse_score(text) == n


# ------------------------------------------------------------------------------ who reads the reply


@pytest.mark.parametrize(
    ("text", "predicted", "hazard", "reason"),
    [
        ("5 thanks, great job", Label.SURVEY_FEEDBACK, None, None),
        ("2 he was rude and left a mess", Label.SURVEY_FEEDBACK, None, None),  # Code 1.6: feedback
        ("5, no complaints at all", Label.SURVEY_FEEDBACK, None, None),
        ("can't complain, 4", Label.OTHER, None, None),
        ("3", None, None, "not classified"),  # no classifier, or it failed: nothing ruled out a hazard
        ("5 thanks, great job", None, None, "not classified"),
        ("this is a joke, the leak is back and I want to complain", Label.COMPLAINT, None, "asks to complain"),
        ("1/5 I will go to the Ombudsman", Label.SURVEY_FEEDBACK, None, "asks to complain"),
        ("please escalate this", None, None, "asks to complain"),
        ("3 - ok but the tap still drips a bit", Label.SURVEY_FEEDBACK, Hazard.WATER_LEAK, "possible hazard"),
        ("the mould is back already", Label.COMPLAINT, None, "reads as a new complaint or request"),
        ("can someone look at my fence as well", Label.SERVICE_REQUEST, None, "reads as a new complaint or request"),
    ],
)
def test_which_replies_go_to_staff(
    text: str, predicted: Label | None, hazard: Hazard | None, reason: str | None
) -> None:
    assert needs_staff(ReplyFacts(text, predicted, hazard)) == reason


# ----------------------------------------------------------------------------------- asking


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine_at(tmp_path)
    with Session(eng) as session:
        add_staff(
            session,
            data=StaffMemberCreate(name="Tess", email="tess@riverside.example", telegram_user_id=700_001),
            now=datetime.now(UTC),
        )
        session.commit()
    try:
        yield eng
    finally:
        eng.dispose()


def seed_request(
    engine: sa.Engine,
    *,
    telegram_user_id: int | None = RESIDENT,
    email: str | None = None,
    definition: str = "Kitchen tap dripping",
    kind: CaseKind = CaseKind.SERVICE_REQUEST,
    received: datetime | None = None,
) -> str:
    """A resident (by chat, by email, or both) with a case; returns the case's reference."""
    now = received or datetime.now(UTC)
    with Session(engine) as session:
        resident = add_resident(
            session,
            data=ResidentCreate(
                name="Kelly <Smith>",
                telegram_user_id=telegram_user_id,
                email=email,
                preferred_channel=ContactChannel.CHAT if telegram_user_id else ContactChannel.EMAIL,
                provisional=True,
            ),
            now=now,
        )
        resident.link_offered_at = now  # the linking offer is not what these tests are about
        case = create_case(session, kind=kind, received_at=now, now=now, resident_id=resident.id, definition=definition)
        session.commit()
        return case.reference


def ask(engine: sa.Engine, reference: str, now: datetime, question: str | None = None) -> SurveyRequest:
    with Session(engine, expire_on_commit=False) as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        request = send_survey(session, case=case, now=now, work=WORK, question=question)
        session.commit()
        return request


def outbox(engine: sa.Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def test_a_chat_resident_is_asked_by_chat_once(engine: sa.Engine) -> None:
    reference = seed_request(engine, email="kelly@example.org")  # reaches us by Telegram: chat wins
    now = datetime.now(UTC)
    request = ask(engine, reference, now)
    again = ask(engine, reference, now + timedelta(days=1), question="Something else?")

    assert again.id == request.id and again.question == DEFAULT_QUESTION
    (item,) = outbox(engine)
    assert (item.channel, item.recipient, item.idempotency_key) == (
        OutboxChannel.TELEGRAM,
        str(RESIDENT),
        f"survey-question:{reference}",
    )
    assert (request.channel, request.outbox_item_id, request.asked_at, request.answered_at) == (
        ContactChannel.CHAT,
        item.id,
        now,
        None,
    )
    text = item.body_text
    assert text.startswith("Dear Kelly <Smith>,\n\nWe would like to know how we did with ")
    assert f"{reference} (Kitchen tap dripping)" in text
    assert (
        "How happy were you with the repair? Please reply with a number from 1 (very unhappy) to 5 (very happy), "
        "and tell us why." in text
    )
    # Code 1.6: a request for feedback says how to complain.
    assert "want to make a complaint, tell us in your reply, email complaints@riverside.example" in text
    assert len(text) < 1000  # read on a phone
    with Session(engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "survey_sent")).all()
    assert event.detail["channel"] == "chat"


def test_an_email_resident_is_asked_by_email_with_the_html_escaped(engine: sa.Engine) -> None:
    reference = seed_request(engine, telegram_user_id=None, email="kelly@example.org", definition="Tap <b>drips</b>")
    request = ask(engine, reference, datetime.now(UTC), question="Did the plumber fix it?")

    (item,) = outbox(engine)
    assert (item.channel, item.recipient, request.channel) == (
        OutboxChannel.EMAIL,
        "kelly@example.org",
        ContactChannel.EMAIL,
    )
    assert item.subject == f"How did we do? ({reference})"
    assert item.message_id_header is not None and item.message_id_header.endswith("@triage.test>")  # replies thread
    assert "Did the plumber fix it?" in item.body_text and "Tap <b>drips</b>" in item.body_text
    assert item.body_html is not None
    assert "Tap &lt;b&gt;drips&lt;/b&gt;" in item.body_html and "<b>drips</b>" not in item.body_html
    assert "Kelly &lt;Smith&gt;" in item.body_html


def test_only_service_requests_with_a_resident_are_surveyed(engine: sa.Engine) -> None:
    complaint = seed_request(engine, kind=CaseKind.COMPLAINT)
    with pytest.raises(LifecycleError, match="is a complaint: surveys are about repairs"):
        ask(engine, complaint, datetime.now(UTC))
    with Session(engine) as session:
        orphan = create_case(
            session, kind=CaseKind.SERVICE_REQUEST, received_at=datetime.now(UTC), now=datetime.now(UTC)
        ).reference
        session.commit()
    with pytest.raises(LifecycleError, match="has no resident"):
        ask(engine, orphan, datetime.now(UTC))
    assert outbox(engine) == []


# ------------------------------------------------------------------------------- replies in the chat


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer(max_poll_seconds=2) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(
    api: BotApiServer, engine: sa.Engine, classifier: Classifier, clock: Clock
) -> AsyncIterator[TriageApplication]:
    async with running(api, engine, classifier, clock) as application:
        yield application


async def deliver(app: TriageApplication, engine: sa.Engine) -> None:
    """What is due in the outbox, sent by the real worker through the bot, as the service runs it."""

    async def send_text(chat_id: int, text: str) -> None:
        await app.bot.send_message(chat_id, text)

    sender = TelegramSender(send_text, loop=asyncio.get_running_loop())
    worker = OutboxWorker(engine, {OutboxChannel.TELEGRAM: sender}, DeliverySettings(), lambda: datetime.now(UTC))
    await asyncio.to_thread(worker.deliver_due)


def the(engine: sa.Engine, model: type, *where: object) -> object:
    with Session(engine) as session:
        return session.exec(select(model).where(*where)).one()  # type: ignore[call-overload]


def survey_requests(engine: sa.Engine) -> list[SurveyRequest]:
    with Session(engine) as session:
        return list(session.exec(select(SurveyRequest)))


def cases(engine: sa.Engine, kind: CaseKind) -> list[Case]:
    with Session(engine) as session:
        return list(session.exec(select(Case).where(Case.kind == kind).order_by(col(Case.id))))


async def test_a_chat_reply_is_recorded_as_survey_feedback_and_the_resident_thanked(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    await deliver(app, engine)
    update = await say(app, api, "4 - quick and tidy, thank you")
    await app.process_update(update)  # Telegram delivering it again changes nothing

    question, thanks, thanks_again = texts(api)
    assert question.startswith("Dear Kelly <Smith>,") and "How happy were you with the repair?" in question
    assert (
        thanks
        == thanks_again
        == (
            f"Thank you for your feedback about {reference}. You gave us 4 out of 5. "
            "We read every reply, and it helps us do better."
        )
    )
    (request,) = survey_requests(engine)
    message = the(engine, InboundMessage)
    assert isinstance(message, InboundMessage)
    assert (request.score, request.answer_message_id, request.answered_at) == (4, message.id, clock())
    (service_request,) = cases(engine, CaseKind.SERVICE_REQUEST)
    (feedback,) = cases(engine, CaseKind.SURVEY_FEEDBACK)
    assert message.status is MessageStatus.TRIAGED and message.case_id == service_request.id
    assert feedback.resident_id == service_request.resident_id and feedback.status is CaseStatus.OPEN
    assert feedback.definition is not None and "quick and tidy" in feedback.definition
    reply = the(engine, OutboxItem, OutboxItem.idempotency_key == f"survey:{feedback.reference}")
    assert isinstance(reply, OutboxItem) and reply.channel is OutboxChannel.TELEGRAM
    assert "make a complaint" in reply.body_text and "0300 111 3000" in reply.body_text  # Code 1.6
    inbound = the(engine, Correspondence, Correspondence.direction == Direction.INBOUND)
    assert isinstance(inbound, Correspondence) and inbound.case_id == service_request.id
    answered = the(engine, AuditEvent, AuditEvent.action == "survey_answered")
    assert isinstance(answered, AuditEvent) and answered.case_id == service_request.id
    assert answered.detail["feedback_case"] == feedback.reference and answered.detail["for_staff"] is None
    linked = the(engine, AuditEvent, AuditEvent.action == "survey_feedback")
    assert isinstance(linked, AuditEvent) and linked.case_id == feedback.id
    assert linked.detail["service_request"] == reference

    await say(app, api, "and my fence is down")  # answered: the next message is a new message
    assert texts(api)[-1].startswith("Thanks, we have your message.")
    await asyncio.sleep(0.3)
    cards = api.sent_messages(STAFF_CHAT)
    assert len(cards) == 1 and "my fence is down" in (cards[0].text or "")  # no card for the feedback
    await deliver(app, engine)
    assert texts(api)[-1].startswith("Dear Kelly <Smith>,\n\nThank you for taking the time to give us your feedback")


async def test_a_reply_that_is_a_new_complaint_stays_in_the_queue_with_its_score(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    await say(app, api, "this is a joke, the leak is back and I want to complain. 1/5")

    (told,) = texts(api)
    assert told.startswith(f"Thank you for your reply about {reference}. You gave us 1 out of 5.\n\n")
    assert re.search(r"Thanks, we have your message\. Your reference is MSG-\d{6}\.", told)
    (request,) = survey_requests(engine)
    message = the(engine, InboundMessage)
    assert isinstance(message, InboundMessage)
    assert (request.score, request.answer_message_id) == (1, message.id)
    (service_request,) = cases(engine, CaseKind.SERVICE_REQUEST)
    assert message.status is MessageStatus.AWAITING_REVIEW and message.case_id == service_request.id
    assert message.thread_hint == COMPLAINT_ABOUT_REQUEST
    assert cases(engine, CaseKind.SURVEY_FEEDBACK) == []
    answered = the(engine, AuditEvent, AuditEvent.action == "survey_answered")
    assert isinstance(answered, AuditEvent) and answered.detail["for_staff"] == "asks to complain"
    (card,) = await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT), timeout=5)
    assert "the leak is back" in (card.text or "")

    # A staff member confirms it as a complaint, as from the card: it is linked to the request (Code 1.5).
    with Session(engine) as session:
        tess = session.exec(select(StaffMember).where(StaffMember.name == "Tess")).one()
        stored = session.get(InboundMessage, message.id)
        assert stored is not None
        outcome = confirm_triage(session, message=stored, staff=tess, label=Label.COMPLAINT, now=clock(), work=WORK)
        session.commit()
        assert outcome.case is not None and outcome.case.linked_service_request_id == service_request.id


class BrokenClassifier(Classifier):
    """A classifier that fails on every message, as a broken model file would."""

    def __init__(self) -> None:
        pass

    def classify_many(self, messages: Sequence[MessageIn], *, received: date) -> list[Result]:
        raise RuntimeError("the model could not be loaded")


@pytest.mark.parametrize("broken", [False, True], ids=["no classifier", "classification failed"])
async def test_an_unclassified_reply_stays_in_the_queue_for_staff(
    api: BotApiServer, engine: sa.Engine, clock: Clock, broken: bool, caplog: pytest.LogCaptureFixture
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    async with running(api, engine, BrokenClassifier() if broken else None, clock) as application:
        await say(application, api, "5 thanks, great job")

    (told,) = texts(api)
    assert told.startswith(f"Thank you for your reply about {reference}. You gave us 5 out of 5.\n\n")
    assert re.search(r"Thanks, we have your message\. Your reference is MSG-\d{6}\.", told)
    (request,) = survey_requests(engine)
    assert (request.score, request.answered_at) == (5, clock())  # answered, the score kept
    message = the(engine, InboundMessage)
    assert isinstance(message, InboundMessage)
    (service_request,) = cases(engine, CaseKind.SERVICE_REQUEST)
    assert message.status is MessageStatus.NEW and message.case_id == service_request.id  # not triaged
    assert message.thread_hint == f"reply to the survey on {reference}: not classified"
    assert cases(engine, CaseKind.SURVEY_FEEDBACK) == []
    answered = the(engine, AuditEvent, AuditEvent.action == "survey_answered")
    assert isinstance(answered, AuditEvent)
    assert (answered.detail["for_staff"], answered.detail["feedback_case"]) == ("not classified", None)
    assert [i.idempotency_key for i in outbox(engine)] == [f"survey-question:{reference}"]  # no feedback reply
    assert ("classification failed" in caplog.text) is broken


async def test_a_reply_after_the_window_or_without_a_survey_is_an_ordinary_message(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    clock.advance(ANSWER_WINDOW + timedelta(minutes=1))
    await say(app, api, "5")

    assert texts(api)[0].startswith("Thanks, we have your message.")
    (request,) = survey_requests(engine)
    assert request.answered_at is None and cases(engine, CaseKind.SURVEY_FEEDBACK) == []
    message = the(engine, InboundMessage)
    assert isinstance(message, InboundMessage) and message.case_id is None


async def test_a_hazard_in_a_survey_reply_reaches_staff(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    await handle(app, api.push_message(RESIDENT, RESIDENT, "3 - ok but the tap still drips a bit", first_name="Kelly"))

    (request,) = survey_requests(engine)
    assert request.score == 3
    message = the(engine, InboundMessage)
    assert isinstance(message, InboundMessage) and message.status is MessageStatus.AWAITING_REVIEW
    assert message.thread_hint == f"reply to the survey on {reference}: possible hazard"
    (card,) = await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT), timeout=5)
    assert "HAZARD" in (card.text or "")


async def test_a_photo_during_a_survey_goes_to_staff_and_the_survey_stays_open(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    reference = seed_request(engine)
    ask(engine, reference, clock())
    await handle(app, api.push_message(RESIDENT, RESIDENT, None, photo=b"\xff\xd8 wall", caption="look at this"))
    await say(app, api, "2/5")

    photo_receipt, thanks = texts(api)
    assert photo_receipt.startswith("Thanks, we have your message.")
    assert thanks.startswith(f"Thank you for your feedback about {reference}. You gave us 2 out of 5.")
    (request,) = survey_requests(engine)
    with Session(engine) as session:
        photo = session.exec(select(InboundMessage).where(InboundMessage.body_text == "look at this")).one()
    assert request.answer_message_id != photo.id and request.score == 2
    assert photo.status is MessageStatus.AWAITING_REVIEW


# -------------------------------------------------------------------------------------------- the CLI


def test_triage_survey_send(tmp_path: Path) -> None:
    settings = DatabaseSettings(f"sqlite:///{(tmp_path / 'triage.db').resolve()}")
    upgrade(settings)
    engine = make_engine(settings)
    try:
        reference = seed_request(engine, telegram_user_id=None, email="kelly@example.org")
        complaint = seed_request(engine, telegram_user_id=None, email="k2@example.org", kind=CaseKind.COMPLAINT)
    finally:
        engine.dispose()
    runner = CliRunner()
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": None, "TRIAGE_DEBUG": None}

    first = runner.invoke(cli, ["survey", "send", reference.lower()], env=env)
    second = runner.invoke(cli, ["survey", "send", reference], env=env)
    wrong = runner.invoke(cli, ["survey", "send", complaint], env=env)
    missing = runner.invoke(cli, ["survey", "send", "SR-2026-09999"], env=env)

    assert (first.exit_code, first.stdout) == (
        0,
        f"Asked about {reference} by email; replies within 14 days are read as answers.\n",
    )
    assert second.exit_code == 0 and second.stdout.startswith(f"Already asked about {reference} by email on ")
    assert (wrong.exit_code, wrong.stderr) == (
        1,
        f"error: {complaint} is a complaint: surveys are about repairs and other service requests.\n",
    )
    assert (missing.exit_code, missing.stderr) == (1, "error: no case with reference 'SR-2026-09999'\n")
    engine = make_engine(settings)
    try:
        (item,) = outbox(engine)
        assert item.status is OutboxStatus.PENDING and item.recipient == "kelly@example.org"
    finally:
        engine.dispose()
