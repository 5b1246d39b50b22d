"""The optional linking conversation, driven through the real application against the loopback Bot API server.

As in test_bot_handlers: the application is built as production builds it, updates are queued on the
server and handed to `process_update` one by one, and the tests read what the resident saw from the
server and what was kept from the database. A "restart" is a second application on the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select
from telegram import Update

import models.tables  # noqa: F401  (registers every table)
from bot import wiring
from bot.settings import TriageSettings
from bot.telegram import linking
from bot.telegram.app import TriageApplication
from classifier.classify import Classifier
from models.database import DatabaseSettings, make_engine
from models.enums import Channel, ContactChannel, Label, MessageStatus, OutboxChannel, OutboxStatus, Party, StaffRole
from models.messages import InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import Resident, ResidentCreate, StaffMember, StaffMemberCreate
from models.records import AuditEvent
from models.repository.messages import store_inbound
from models.repository.residents import LINK_ACTION, add_resident
from models.repository.staff import add_staff
from scheduler.actions import confirm_triage
from scheduler.fallback import FALLBACK_SUFFIX
from scheduler.senders import TelegramSender
from tests.bot_harness import RESIDENT, STAFF_CHAT, WORK, Clock, handle, started_application
from tests.servers.telegram_api import BotApiServer, BotMessage

OFFICER = 700_009
REPORT = (
    "There is black mould all over the bedroom wall again and my baby keeps coughing. "
    "Third time I've reported it and nobody came. I want it fixed properly this week."
)

EMAIL_TO_CONFIRM = (
    "Thank you. A member of our team will check your details, and will confirm your email address with you "
    "before we use it. Until then we will write to you here. You can carry on sending us messages here."
)


# ------------------------------------------------------------------ the harness (shared with test_surveys)


def make_engine_at(path: Path) -> sa.Engine:
    """A SQLite file (WAL), as handlers use the database from several threads at once, with one officer."""
    eng = make_engine(DatabaseSettings(f"sqlite:///{path}/triage.db"))
    SQLModel.metadata.create_all(eng)
    with Session(eng) as session:
        add_staff(
            session,
            data=StaffMemberCreate(
                name="Olga",
                email="olga@riverside.example",
                telegram_user_id=OFFICER,
                roles=[StaffRole.COMPLAINTS_OFFICER],
            ),
            now=datetime.now(UTC),
        )
        session.commit()
    return eng


running = started_application


async def say(app: TriageApplication, api: BotApiServer, text: str, *, user: int = RESIDENT) -> Update:
    return await handle(app, api.push_message(user, user, text, first_name="Kelly"))


async def press(
    app: TriageApplication, api: BotApiServer, message: BotMessage, label: str, *, user: int = RESIDENT
) -> Update:
    """Press the button labelled `label` on a message the bot sent to the resident."""
    assert message.reply_markup is not None, f"no buttons on {message.text!r}"
    data = next(
        b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row if b["text"] == label
    )
    return await handle(app, api.push_callback(user, user, message.message_id, data, first_name="Kelly"))


def sent(api: BotApiServer, chat_id: int = RESIDENT) -> list[BotMessage]:
    return api.sent_messages(chat_id)


def texts(api: BotApiServer, chat_id: int = RESIDENT) -> list[str]:
    return [m.text or "" for m in api.sent_messages(chat_id)]


def buttons(message: BotMessage) -> list[list[str]]:
    markup = message.reply_markup or {"inline_keyboard": []}
    return [[b["text"] for b in row] for row in markup["inline_keyboard"]]


def resident(engine: sa.Engine, telegram_user_id: int = RESIDENT) -> Resident:
    with Session(engine) as session:
        return session.exec(select(Resident).where(Resident.telegram_user_id == telegram_user_id)).one()


def count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def events(engine: sa.Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def steps(engine: sa.Engine) -> list[str]:
    return [str(e.detail["step"]) for e in events(engine, LINK_ACTION)]


def outbox_items(engine: sa.Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


# --------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine_at(tmp_path)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(
    api: BotApiServer, engine: sa.Engine, classifier: Classifier, clock: Clock
) -> AsyncIterator[TriageApplication]:
    async with running(api, engine, classifier, clock) as application:
        yield application


async def offered(app: TriageApplication, api: BotApiServer, text: str = "my kitchen tap is dripping") -> BotMessage:
    """A new resident's first message; returns its receipt, which carries the offer."""
    await say(app, api, text)
    return sent(api)[-1]


async def started(app: TriageApplication, api: BotApiServer) -> BotMessage:
    """Offer made and accepted; returns the first question."""
    receipt = await offered(app, api)
    await press(app, api, receipt, "Add my details")
    return sent(api)[-1]


# ------------------------------------------------------------------------------------------ the offer


async def test_the_first_receipt_offers_the_conversation_once_even_after_a_restart(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, classifier: Classifier, clock: Clock
) -> None:
    receipt = await offered(app, api)

    assert receipt.text is not None and receipt.text.startswith("Thanks, we have your message. Your reference is MSG-")
    assert buttons(receipt) == [["Add my details", "Skip"]]
    assert receipt.parse_mode is None  # residents get plain text
    kelly = resident(engine)
    assert kelly.link_offered_at is not None and kelly.provisional
    assert steps(engine) == ["offered"]

    await say(app, api, "and the bathroom light flickers")  # ignored the offer
    async with running(api, engine, classifier, clock) as restarted:
        await say(restarted, api, "also the fence is down")

    later = sent(api)[1:]
    assert len(later) == 2
    assert all((m.text or "").startswith("Thanks, we have your message.") and buttons(m) == [] for m in later)
    assert count(engine, InboundMessage) == 3
    assert steps(engine) == ["offered"]


async def test_a_resident_staff_already_know_is_not_offered_it(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    with Session(engine) as session:
        add_resident(
            session,
            data=ResidentCreate(name="Kelly Smith", telegram_user_id=RESIDENT, preferred_channel=ContactChannel.CHAT),
            now=datetime.now(UTC),
        )
        session.commit()
    receipt = await offered(app, api)

    assert buttons(receipt) == []
    assert resident(engine).link_offered_at is None and steps(engine) == []


async def test_skip_on_the_offer_means_it_is_never_asked_again(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    receipt = await offered(app, api)
    await press(app, api, receipt, "Skip")
    await press(app, api, receipt, "Add my details")  # an old button, pressed later

    first, second = api.answered_callbacks()
    assert first["text"] == "No problem. We will not ask again."
    assert second["text"] == "Sorry, that has already been done."
    (edited,) = api.edited_messages(RESIDENT)
    assert edited.text == receipt.text and edited.reply_markup is None  # the reference stays, the buttons go
    assert len(sent(api)) == 1  # nothing more was said
    assert steps(engine) == ["offered", "declined"]
    await say(app, api, "Kelly Smith")
    assert texts(api)[-1].startswith("Thanks, we have your message.")  # a new message, not an answer


# -------------------------------------------------------------------------------------- the questions


async def test_name_and_address_go_onto_the_residents_own_record_and_the_email_is_only_a_claim(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    first = await started(app, api)
    assert first.text == (
        "Thank you. Your details help us find your tenancy and keep you up to date. Only our staff can see "
        "them. You can skip any question, or send /cancel to stop.\n\nWhat is your name?"
    )
    assert buttons(first) == [["Skip"]]
    assert api.edited_messages(RESIDENT)[0].reply_markup is None  # the offer's buttons are gone

    await say(app, api, "Kelly Smith")
    await say(app, api, "Flat 3, 12 Rose Court, Salford M5 4QQ")
    await say(app, api, " Kelly.Smith@Example.org ")

    assert texts(api)[-3:] == [
        "Thanks. What is your address? If you know your tenancy reference, you can send that instead.",
        "Thanks. What is your email address? We will only use it to write to you about your cases.",
        EMAIL_TO_CONFIRM,
    ]
    kelly = resident(engine)
    assert (kelly.name, kelly.address) == ("Kelly Smith", "Flat 3, 12 Rose Court, Salford M5 4QQ")
    # Anyone can type any address: intake and letters use Resident.email, so a chat-given one never goes there.
    assert kelly.email is None
    assert kelly.provisional  # until staff confirm who they are
    assert kelly.preferred_channel is ContactChannel.CHAT
    assert count(engine, Resident) == 1
    assert count(engine, InboundMessage) == 1  # the answers are not new messages
    assert steps(engine) == ["offered", "name", "address", "email", "done"]
    assert all(e.message_id == events(engine, LINK_ACTION)[0].message_id for e in events(engine, LINK_ACTION))
    claim = events(engine, LINK_ACTION)[-1].detail
    assert (claim["answered"], claim["claimed_email"]) == ("email", "kelly.smith@example.org")
    assert events(engine, linking.CONFLICT_ACTION) == []  # no other record holds it
    # Staff are told to check it, in the staff chat and by email to the complaints officers; nothing else
    # is sent anywhere, least of all to the address itself.
    alerts = outbox_items(engine)
    assert sorted((a.channel, a.recipient, a.party) for a in alerts) == [
        (OutboxChannel.EMAIL, "olga@riverside.example", Party.STAFF),
        (OutboxChannel.TELEGRAM, str(STAFF_CHAT), Party.STAFF),
    ]
    for alert in alerts:
        assert (
            "Unverified email given in chat: kelly.smith@example.org \u2014 check before using it." in alert.body_text
        )
        assert alert.idempotency_key.startswith(f"link-conflict:{kelly.id}:claim:")  # found by privacy erasure


async def test_the_conversation_carries_on_after_a_restart(
    api: BotApiServer, engine: sa.Engine, classifier: Classifier, clock: Clock
) -> None:
    async with running(api, engine, classifier, clock) as before:
        await started(before, api)
        await say(before, api, "Kelly Smith")
    async with running(api, engine, classifier, clock) as after:  # the process went away mid-conversation
        await say(after, api, "T-104233")

    assert texts(api)[-1].startswith("Thanks. What is your email address?")
    kelly = resident(engine)
    assert (kelly.name, kelly.tenancy_ref, kelly.address) == ("Kelly Smith", "T-104233", None)


async def test_questions_are_skipped_by_button_or_by_command_and_a_bad_email_is_asked_again(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    first = await started(app, api)
    await press(app, api, first, "Skip")
    await say(app, api, "/skip")
    await say(app, api, "kelly at home")
    await say(app, api, "/skip")
    await press(app, api, first, "Skip")  # the first question's button again, long after

    assert texts(api)[-4:] == [
        "Thanks. What is your address? If you know your tenancy reference, you can send that instead.",
        "Thanks. What is your email address? We will only use it to write to you about your cases.",
        "That does not look like an email address. Please check it and send it again, or tap Skip.",
        "That is fine. You can carry on sending us messages here.",
    ]
    assert buttons(sent(api)[-2]) == [["Skip"]]
    assert api.answered_callbacks()[-1]["text"] == "That question has already been answered."
    kelly = resident(engine)
    assert (kelly.name, kelly.address, kelly.email) == ("Kelly", None, None)  # the Telegram name is kept
    assert steps(engine) == ["offered", "name", "address", "email", "done"]
    assert [e.detail.get("skipped") for e in events(engine, LINK_ACTION)][2:] == ["name", "address", "email"]


async def test_cancel_stops_and_keeps_what_was_said(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await started(app, api)
    await say(app, api, "Kelly Smith")
    await say(app, api, "/cancel")
    await say(app, api, "my boiler is broken")
    await say(app, api, "/cancel")
    await say(app, api, "/skip")

    stopped, receipt, nothing_to_cancel, nothing_to_skip = texts(api)[-4:]
    assert stopped == (
        "OK, we have stopped asking. Anything you already told us is saved. You can carry on sending us messages here."
    )
    assert receipt.startswith("Thanks, we have your message.")
    assert nothing_to_cancel == "There is nothing to cancel just now. Just send us your message."
    assert nothing_to_skip == "There is nothing to skip just now. Just send us your message."
    assert resident(engine).name == "Kelly Smith"
    assert count(engine, InboundMessage) == 2
    assert steps(engine) == ["offered", "name", "address", "stopped"]


async def test_a_report_sent_instead_of_an_answer_is_kept_as_a_new_message(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await started(app, api)
    await say(app, api, REPORT)

    stopped, receipt = texts(api)[-2:]
    assert stopped == "We have stopped asking for your details, and kept your message as a new message."
    assert receipt.startswith("Thanks, we have your message.")
    assert resident(engine).name == "Kelly"  # not the report
    with Session(engine) as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.body_text == REPORT)).one()
    assert stored.status is MessageStatus.AWAITING_REVIEW
    await api.wait_for_async(lambda: len(api.sent_messages(STAFF_CHAT)) == 2, timeout=5)  # its card, too
    assert steps(engine)[-1] == "stopped"


async def test_a_photo_mid_conversation_is_stored_and_the_question_stays_open(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await started(app, api)
    await handle(app, api.push_message(RESIDENT, RESIDENT, None, photo=b"\xff\xd8 mould", caption="look"))
    await say(app, api, "Kelly Smith")

    assert texts(api)[-2].startswith("Thanks, we have your message.")
    assert texts(api)[-1].startswith("Thanks. What is your address?")
    assert count(engine, InboundMessage) == 2 and resident(engine).name == "Kelly Smith"


async def test_an_hour_later_a_text_is_a_new_message_again(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    await started(app, api)
    clock.advance(linking.TIMEOUT + timedelta(minutes=1))
    await say(app, api, "Kelly Smith")

    assert texts(api)[-1].startswith("Thanks, we have your message.")
    assert resident(engine).name == "Kelly" and count(engine, InboundMessage) == 2


async def test_the_same_answer_delivered_twice_is_taken_once(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await started(app, api)
    update = await say(app, api, "Kelly Smith")
    await app.process_update(update)  # Telegram delivering it again

    assert (
        texts(api)[-2:]
        == ["Thanks. What is your address? If you know your tenancy reference, you can send that instead."] * 2
    )
    kelly = resident(engine)
    assert (kelly.name, kelly.address) == ("Kelly Smith", None)
    assert steps(engine) == ["offered", "name", "address"]

    await say(app, api, "/skip")
    last = await say(app, api, "kelly@example.org")
    await app.process_update(last)  # the conversation is over: nothing more is said, nothing is stored
    assert texts(api)[-1] == EMAIL_TO_CONFIRM
    assert texts(api)[-2].startswith("Thanks. What is your email address?")
    assert count(engine, InboundMessage) == 1
    assert steps(engine) == ["offered", "name", "address", "email", "done"]


# ------------------------------------------------------------------------- an email another record holds


async def test_an_email_another_record_holds_is_not_merged_and_staff_are_told(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    with Session(engine) as session:
        someone = add_resident(
            session,
            data=ResidentCreate(name="K. Smith", email="kelly@example.org", preferred_channel=ContactChannel.EMAIL),
            now=datetime.now(UTC),
        )
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.EMAIL,
                source_key="imap:test:1",
                content_hash="h1",
                received_at=datetime.now(UTC),
                sender_address="kelly@example.org",
                body_text="About my rent account",
            ),
            now=datetime.now(UTC),
        )
        message.resident_id = someone.id
        session.add(message)
        session.commit()
        someone_id = someone.id
    await started(app, api)
    await say(app, api, "Kelly <b>Smith</b>")
    await say(app, api, "/skip")
    await say(app, api, "KELLY@example.org")
    await say(app, api, "/status")

    told, status = texts(api)[-2:]
    assert told == EMAIL_TO_CONFIRM  # the same words as for any address: the chat cannot probe whose we hold
    assert "MSG-000001" not in status  # the other record's message (the chat's own is MSG-000002)
    assert "MSG-000002" in status
    with Session(engine) as session:
        other = session.get(Resident, someone_id)
        assert other is not None
        assert (other.name, other.email, other.telegram_user_id) == ("K. Smith", "kelly@example.org", None)
        alerts = list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))
    kelly = resident(engine)
    assert kelly.id != someone_id and kelly.email is None  # an unverified claim, not on the record
    (flag,) = events(engine, linking.CONFLICT_ACTION)
    assert flag.detail == {
        "resident_id": kelly.id,
        "telegram_user_id": RESIDENT,
        "email": "kelly@example.org",
        "other_resident_id": someone_id,
    }
    by_channel = {a.channel: a for a in alerts}
    assert set(by_channel) == {OutboxChannel.EMAIL, OutboxChannel.TELEGRAM}
    assert all(a.party is Party.STAFF for a in alerts)
    assert by_channel[OutboxChannel.TELEGRAM].recipient == str(STAFF_CHAT)
    officer = by_channel[OutboxChannel.EMAIL]
    assert officer.recipient == "olga@riverside.example"
    assert officer.idempotency_key.startswith(f"link-conflict:{kelly.id}:{someone_id}:")
    assert officer.subject == f"Check a resident's email: resident {kelly.id} gave one already on our records"
    assert "Unverified email given in chat: kelly@example.org \u2014 check before using it." in officer.body_text
    assert f"Record that already has it: K. Smith (resident {someone_id})" in officer.body_text
    assert "Nothing has been merged" in officer.body_text
    assert "Kelly <b>Smith</b>" in officer.body_text  # the text part as written
    assert officer.body_html is not None and "Kelly &lt;b&gt;Smith&lt;/b&gt;" in officer.body_html
    assert "<b>Smith</b>" not in officer.body_html


async def test_a_blocked_chat_with_only_a_claimed_email_gets_no_email_fallback(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, clock: Clock
) -> None:
    await started(app, api)
    await say(app, api, "/skip")
    await say(app, api, "/skip")
    await say(app, api, "support.worker@agency.example")  # someone else's address, typed into the chat
    with Session(engine) as session:  # staff confirm the resident's first message as a complaint
        olga = session.exec(select(StaffMember).where(StaffMember.telegram_user_id == OFFICER)).one()
        first = session.exec(select(InboundMessage)).one()
        outcome = confirm_triage(session, message=first, staff=olga, label=Label.COMPLAINT, now=clock(), work=WORK)
        session.commit()
        assert outcome.case is not None and outcome.sent[0].channel is OutboxChannel.TELEGRAM
        reference = outcome.case.reference
    api.block_chat(RESIDENT)  # then the resident blocks the bot

    async def send_text(chat_id: int, text: str) -> None:
        await app.bot.send_message(chat_id, text)

    worker = wiring.outbox_worker(  # the production worker and its on_failure (the email fallback)
        TriageSettings(smtp_host=None, message_id_domain="triage.test"),
        engine,
        WORK,
        extra_senders={OutboxChannel.TELEGRAM: TelegramSender(send_text, loop=asyncio.get_running_loop())},
        clock=clock,
    )
    assert worker is not None
    await asyncio.to_thread(worker.deliver_due)

    items = {i.idempotency_key: i for i in outbox_items(engine)}
    assert items[f"ack:{reference}:stage1"].status is OutboxStatus.FAILED
    assert f"ack:{reference}:stage1{FALLBACK_SUFFIX}" not in items
    assert all(i.recipient != "support.worker@agency.example" for i in items.values())
    (fallback,) = events(engine, "delivery_fallback")
    assert fallback.detail["outcome"] == "no email address on record: reach them another way"
    kelly = resident(engine)
    assert kelly.email is None and kelly.preferred_channel is ContactChannel.CHAT


# ------------------------------------------------------------------ a report is not an answer, whatever its length

# 20 words, well within an address's length.
LEAK = (
    "Water is coming through my bathroom ceiling from the flat upstairs "
    "and dripping onto the floor near the light switch"
)


@pytest.mark.parametrize(
    ("skips", "text"),
    [
        (0, "I can smell gas in the hallway now"),
        (0, "smell of gas in hallway"),  # a name's length: the classifier's hazard flag stops it
        (1, LEAK),
        (1, "Flat 3, the front door is broken"),  # an address's shape, but a new repair to the classifier
        (2, "gas smell"),  # not an email: asked again, were it not a report
    ],
)
async def test_a_report_mid_conversation_is_stored_with_a_card_not_taken_as_an_answer(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, skips: int, text: str
) -> None:
    await started(app, api)
    for _ in range(skips):
        await say(app, api, "/skip")
    await say(app, api, text)

    stopped, receipt = texts(api)[-2:]
    assert stopped == "We have stopped asking for your details, and kept your message as a new message."
    assert receipt.startswith("Thanks, we have your message.")
    kelly = resident(engine)
    assert (kelly.name, kelly.address, kelly.tenancy_ref, kelly.email) == ("Kelly", None, None, None)
    with Session(engine) as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.body_text == text)).one()
    assert stored.status is MessageStatus.AWAITING_REVIEW
    await api.wait_for_async(lambda: any(text in (c.text or "") for c in api.sent_messages(STAFF_CHAT)), timeout=5)
    assert steps(engine)[-1] == "stopped"
    assert events(engine, LINK_ACTION)[-1].detail["reason"] in ("read as a report", "not an answer")


async def test_a_name_with_digits_in_it_is_kept_as_a_message(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await started(app, api)
    await say(app, api, "07700 900123")

    assert texts(api)[-2] == "We have stopped asking for your details, and kept your message as a new message."
    assert resident(engine).name == "Kelly" and count(engine, InboundMessage) == 2


@pytest.mark.parametrize(
    ("step", "text", "field"),
    [
        (linking.Step.NAME, "Kelly Smith", "name"),
        (linking.Step.NAME, "Anne-Marie O'Neill", "name"),
        (linking.Step.NAME, "Mr Mohammed Ali", "name"),
        (linking.Step.ADDRESS, "Flat 3, 12 Rose Court, Salford M5 4QQ", "address"),
        (linking.Step.ADDRESS, "Flat 7 Oak House", "address"),
        (linking.Step.ADDRESS, "45 Kings Road Sheffield S7 1AB", "address"),
        (linking.Step.ADDRESS, "Apartment 4, The Maltings, Canal Street, Manchester", "address"),
        (linking.Step.ADDRESS, "RH/00123", "tenancy_ref"),
        (linking.Step.EMAIL, "kelly@example.org", "email"),
        # reports: not answers
        (linking.Step.NAME, "I can smell gas in the hallway now", None),
        (linking.Step.NAME, "no heating or hot water", None),
        (linking.Step.NAME, "5", None),
        (linking.Step.ADDRESS, LEAK, None),
        (linking.Step.ADDRESS, "the front door is broken", None),
        (linking.Step.ADDRESS, "there is mould on the walls", None),
        (linking.Step.EMAIL, "gas leak", None),
    ],
)
def test_real_names_and_addresses_are_answers_and_reports_are_not(
    classifier: Classifier, step: linking.Step, text: str, field: str | None
) -> None:
    reading = linking.classify_answer(classifier, step, text, datetime.now(UTC))
    read = linking.read_answer(step, text, reading)
    if field is None:
        assert isinstance(read, linking.NotAnAnswer)
    else:
        assert isinstance(read, linking.Fits) and read.field == field


def test_without_a_classifier_the_shape_rules_decide_alone() -> None:
    assert linking.classify_answer(None, linking.Step.NAME, "smell of gas", datetime.now(UTC)) is None
    assert linking.read_answer(linking.Step.NAME, "Kelly Smith") == linking.Fits("name", "Kelly Smith")
    assert isinstance(linking.read_answer(linking.Step.NAME, "I can smell gas in the hallway"), linking.NotAnAnswer)
