"""The Telegram bot's handlers, driven one update at a time against the loopback Bot API server.

Each test builds the application as production does (`build_application`), starts it without polling,
fetches the updates it queued on the server with `getUpdates` and hands them to `process_update`, then
reads what the bot sent from the server. The card job is slowed right down so that only what a test
does posts cards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col, func, select
from telegram import Update
from telegram.error import BadRequest

import models.tables  # noqa: F401  (registers every table)
from bot.telegram import queries
from bot.telegram.app import TriageApplication
from bot.telegram.context import KEY, Triage
from bot.telegram.posting import post_new_cards
from classifier.classify import Classifier
from models.cases import Case
from models.classification import Classification, TriageDecision
from models.database import DatabaseSettings, make_engine
from models.enums import CaseKind, CaseStatus, Channel, ContactChannel, Hazard, Label, MessageStatus, OutboxChannel
from models.messages import Attachment, InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import ResidentCreate, StaffMember, StaffMemberCreate
from models.records import AuditEvent
from models.repository.messages import store_inbound
from models.repository.residents import add_resident
from models.repository.staff import add_staff
from scheduler.actions import confirm_triage
from tests.bot_harness import RESIDENT, STAFF_CHAT, WORK, handle, started_application, utc_now
from tests.servers.telegram_api import BotApiServer, BotMessage

OTHER_RESIDENT = 555_000_222
TESS = 700_001
SAM = 700_002
GONE = 700_003  # an inactive staff member
MOULD = (
    "There is black mould all over the bedroom wall <b>again</b> and my baby keeps coughing. "
    "Third time I've reported it and nobody came. I want it fixed properly this week."
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A SQLite file (WAL), as handlers use the database from several threads at once."""
    eng = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    SQLModel.metadata.create_all(eng)
    with Session(eng) as session:
        for name, user_id, active in (("Tess", TESS, True), ("Sam", SAM, True), ("Gone", GONE, False)):
            add_staff(
                session,
                data=StaffMemberCreate(
                    name=name, email=f"{name.lower()}@riverside.example", telegram_user_id=user_id, active=active
                ),
                now=utc_now(),
            )
        session.commit()
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
async def app(api: BotApiServer, engine: sa.Engine, classifier: Classifier) -> AsyncIterator[TriageApplication]:
    async with started_application(api, engine, classifier) as application:
        yield application


async def say(app: TriageApplication, api: BotApiServer, text: str, *, user: int = RESIDENT) -> Update:
    """A resident (or anyone) writing to the bot in a private chat."""
    return await handle(app, api.push_message(user, user, text, first_name="Kelly"))


async def in_staff_chat(app: TriageApplication, api: BotApiServer, text: str, *, user: int = TESS) -> Update:
    update_id = api.push_message(STAFF_CHAT, user, text, chat_type="supergroup", chat_title="Triage", first_name="Tess")
    return await handle(app, update_id)


async def tap(app: TriageApplication, api: BotApiServer, card: BotMessage, label: str, *, user: int = TESS) -> Update:
    data = f"t:{card_message_id(card)}:{label}"
    return await handle(app, api.push_callback(STAFF_CHAT, user, card.message_id, data, first_name="Tess"))


def card_message_id(card: BotMessage) -> int:
    """The inbound message a card is about, from its buttons' callback data."""
    assert card.reply_markup is not None
    data = card.reply_markup["inline_keyboard"][0][0]["callback_data"]
    return int(data.split(":")[1])


async def card_for_new_message(app: TriageApplication, api: BotApiServer, text: str = MOULD) -> BotMessage:
    await say(app, api, text)
    (card,) = await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT), timeout=5)
    return card


def texts(api: BotApiServer, chat_id: int) -> list[str]:
    return [m.text or "" for m in api.sent_messages(chat_id)]


def audit(engine: sa.Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def seed_message(
    engine: sa.Engine,
    received: datetime,
    text: str,
    *,
    key: str,
    hazard: Hazard | None = None,
    telegram_user_id: int | None = None,
    status: MessageStatus = MessageStatus.AWAITING_REVIEW,
) -> int:
    """An email message (or a chat one, with a Telegram user), classified and awaiting review."""
    with Session(engine) as session:
        resident = add_resident(
            session,
            data=ResidentCreate(
                name=f"Resident {key}",
                email=None if telegram_user_id else f"{key}@resident.example",
                telegram_user_id=telegram_user_id,
                preferred_channel=ContactChannel.CHAT if telegram_user_id else ContactChannel.EMAIL,
            ),
            now=received,
        )
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.CHAT if telegram_user_id else Channel.EMAIL,
                source_key=f"test:{key}",
                content_hash=key,
                received_at=received,
                sender_address=f"{key}@resident.example",
                subject=f"About {key}",
                body_text=text,
                new_text=text,
            ),
            now=received,
        )
        message.resident_id = resident.id
        message.status = status
        session.add(message)
        session.flush()
        session.add(
            Classification(
                message_id=message.id,
                model_version="t",
                label=Label.COMPLAINT,
                confidence=0.8,
                hazard=hazard,
                definition_summary=text,
                created_at=received,
            )
        )
        session.commit()
        assert message.id is not None
        return message.id


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock UTC, which is the same time in London in winter (GMT)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def triage_of(app: TriageApplication) -> Triage:
    found = app.bot_data[KEY]
    assert isinstance(found, Triage)
    return found


# ------------------------------------------------------------------------------------ residents


async def test_start_explains_privacy_complaints_and_the_ombudsman_without_its_old_email(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await say(app, api, "/start")

    (text,) = texts(api, RESIDENT)
    assert "Riverside Homes" in text
    assert "Your privacy" in text and "we store what you send us" in text
    assert "How to make a complaint" in text and "0161 000 0000" in text
    assert "www.housing-ombudsman.org.uk/residents/make-a-complaint/" in text
    assert "0300 111 3000" in text
    # The Ombudsman takes no new cases by email: the only address shown is the landlord's own.
    assert set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)) == {"complaints@riverside.example"}
    assert count(engine, InboundMessage) == 0  # a command is not a message to store


async def test_a_message_is_stored_once_and_the_receipt_follows_the_commit(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_at_commit: list[tuple[bool, int]] = []
    real_store = queries.store_message

    def store_and_look(*args: Any, **kwargs: Any) -> queries.Stored:
        stored = real_store(*args, **kwargs)
        with Session(engine) as other:  # another connection sees it: it is committed
            visible = other.exec(select(InboundMessage)).first() is not None
        seen_at_commit.append((visible, len(api.sent_messages(RESIDENT))))
        return stored

    monkeypatch.setattr(queries, "store_message", store_and_look)
    update = await say(app, api, "engineer never turned up AGAIN for the boiler, 3rd time now. not happy")
    await app.process_update(update)  # Telegram delivering the same update again

    assert seen_at_commit == [(True, 0), (True, 1)]  # committed before each receipt went out
    with Session(engine) as session:
        (message,) = session.exec(select(InboundMessage)).all()
    assert update.message is not None
    assert message.source_key == f"telegram:{RESIDENT}:{update.message.message_id}"
    assert message.status is MessageStatus.AWAITING_REVIEW
    reference = f"MSG-{message.id:06d}"
    assert (
        texts(api, RESIDENT)
        == [
            f"Thanks, we have your message. Your reference is {reference}. A member of our team will read it and get "
            "back to you. If it is a complaint, we will acknowledge it within 5 working days. If anyone is in danger "
            "right now, call 999."
        ]
        * 2
    )
    await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT), timeout=5)
    await asyncio.sleep(0.2)  # the second delivery's card run has finished too
    assert len(api.sent_messages(STAFF_CHAT)) == 1
    assert [e.message_id for e in audit(engine, "card_posted")] == [message.id]


async def test_when_storing_fails_the_resident_is_asked_to_send_again_and_gets_no_receipt(
    app: TriageApplication, api: BotApiServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> queries.Stored:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(queries, "store_message", broken)
    await say(app, api, "my kitchen tap is dripping")

    (text,) = texts(api, RESIDENT)
    assert text.startswith("Sorry, we could not save your message just now.")
    assert "reference" not in text
    assert "error while handling update" in caplog.text  # the one error handler logged it
    assert "kitchen tap" not in caplog.text  # and not what the resident wrote


async def test_a_photo_with_a_caption_is_stored_with_its_bytes(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    update_id = api.push_message(RESIDENT, RESIDENT, None, photo=b"\xff\xd8 mould photo", caption="mould again")
    await handle(app, update_id)

    with Session(engine) as session:
        message = session.exec(select(InboundMessage)).one()
        attachment = session.exec(select(Attachment)).one()
    assert message.body_text == "mould again"
    assert attachment.size == len(b"\xff\xd8 mould photo") and attachment.storage_ref is not None
    assert texts(api, RESIDENT)[0].startswith(f"Thanks, we have your message. Your reference is MSG-{message.id:06d}.")


async def test_a_sticker_or_voice_note_gets_a_polite_reply_and_is_not_stored(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    chat = {"id": RESIDENT, "type": "private", "first_name": "Kelly"}
    sender = {"id": RESIDENT, "is_bot": False, "first_name": "Kelly"}
    sticker = {
        "file_id": "sticker-1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3}
    for number, content in ((901, {"sticker": sticker}), (902, {"voice": voice})):
        message = {"message_id": number, "date": 1_790_000_000, "chat": chat, "from": sender, **content}
        await handle(app, api.push_update({"message": message}))

    assert (
        texts(api, RESIDENT)
        == [
            "Sorry, we can only read text messages and photos here. Please type your message, or send a photo with a "
            "caption saying what it shows."
        ]
        * 2
    )
    assert count(engine, InboundMessage) == 0


async def test_unknown_commands_and_edits_get_a_short_answer(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await say(app, api, "/frobnicate")
    edited = {
        "message_id": 5,
        "date": 1_790_000_000,
        "edit_date": 1_790_000_100,
        "chat": {"id": RESIDENT, "type": "private", "first_name": "Kelly"},
        "from": {"id": RESIDENT, "is_bot": False, "first_name": "Kelly"},
        "text": "actually it is the bathroom",
    }
    await handle(app, api.push_update({"edited_message": edited}))

    assert texts(api, RESIDENT)[0].startswith("Sorry, I do not know that command.")
    assert texts(api, RESIDENT)[1].startswith("We have kept your message as you first sent it.")
    assert count(engine, InboundMessage) == 0


async def test_status_shows_the_residents_own_cases_and_nobody_elses(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    mine = seed_message(engine, at(date(2026, 11, 2)), "Boiler broken", key="mine", telegram_user_id=RESIDENT)
    theirs = seed_message(engine, at(date(2026, 11, 3)), "Lift broken", key="theirs", telegram_user_id=OTHER_RESIDENT)
    with Session(engine) as session:
        tess = session.exec(select(StaffMember).where(StaffMember.name == "Tess")).one()
        for message_id in (mine, theirs):
            message = session.get(InboundMessage, message_id)
            assert message is not None
            confirm_triage(
                session, message=message, staff=tess, label=Label.COMPLAINT, now=at(date(2026, 11, 4)), work=WORK
            )
        session.commit()
    await say(app, api, "/status")
    await say(app, api, "/status", user=OTHER_RESIDENT)
    await say(app, api, "/status", user=424242)  # never wrote to us

    (mine_text,) = texts(api, RESIDENT)
    assert "CMP-2026-00001 (complaint): stage 1 complaint: we are looking into it" in mine_text
    assert "next step due by Wed 18 Nov 2026" in mine_text  # 10 WD after the acknowledgement on 4 Nov
    assert "CMP-2026-00002" not in mine_text
    (theirs_text,) = texts(api, OTHER_RESIDENT)
    assert "CMP-2026-00002" in theirs_text and "CMP-2026-00001" not in theirs_text
    assert texts(api, 424242) == [
        "We do not have any cases for you yet. Send us a message and we will give you a reference."
    ]


async def test_status_lists_messages_still_being_read(app: TriageApplication, api: BotApiServer) -> None:
    await say(app, api, "my kitchen tap is dripping")
    await say(app, api, "/status")

    receipt, status = texts(api, RESIDENT)
    reference = re.search(r"MSG-\d{6}", receipt)
    assert reference is not None
    assert status.startswith("You do not have any cases with us yet.")
    assert f"Messages we are still reading:\n\u2022 {reference.group()}, received" in status


# ------------------------------------------------------------------------------------- cards


async def test_a_new_chat_message_gets_a_card_with_the_hazard_first_and_its_text_escaped(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await card_for_new_message(app, api)

    text = card.text or ""
    assert card.parse_mode == "HTML"
    lines = text.split("\n")
    assert lines[0].startswith("<b>New chat message MSG-")
    assert lines[1].startswith("<b>\u26a0\ufe0f HAZARD: damp and mould (Awaab's Law)</b> \u00b7 vulnerability")
    assert "From: Kelly (telegram:555000111) \u00b7 provisional" in text
    assert "&lt;b&gt;again&lt;/b&gt;" in text and "<b>again</b>" not in text  # shown as typed, never bold
    assert "Predicted: <b>complaint</b> (9" in text
    assert "Draft definition: The resident is unhappy that: (1) There is black mould" in text
    assert text.count("Outcome sought: I want it fixed properly this week") == 1
    assert re.search(r"Received: \w{3} \d+ \w{3} 20\d\d \d\d:\d\d \u00b7 acknowledge by <b>\w{3} \d+", text)
    assert card.reply_markup is not None
    buttons = [[b["text"] for b in row] for row in card.reply_markup["inline_keyboard"]]
    assert buttons == [
        ["Complaint", "Service request"],
        ["Survey feedback", "Other"],
        ["Edit definition", "Link to case\u2026"],
    ]
    (posted,) = await api.wait_for_async(lambda: audit(engine, "card_posted"))  # recorded just after sending
    assert posted.detail == {"chat_id": STAFF_CHAT, "card_message_id": card.message_id}
    assert posted.actor == "telegram"


async def test_email_messages_awaiting_review_get_cards_from_the_job_once(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    first = seed_message(engine, at(date(2026, 11, 2)), "Nobody came about the gas smell", key="a")
    second = seed_message(engine, at(date(2026, 11, 3)), "Bins not collected", key="b")
    seed_message(engine, at(date(2026, 11, 3)), "Done", key="c", status=MessageStatus.TRIAGED)
    poster = triage_of(app).poster

    assert await poster.run(app.bot) == 2
    assert await poster.run(app.bot) == 0

    cards = api.sent_messages(STAFF_CHAT)
    assert [card_message_id(c) for c in cards] == [first, second]
    assert cards[0].text is not None and "<b>New email message" in cards[0].text
    assert "Subject: About a" in cards[0].text and "acknowledge by <b>Mon 9 Nov 2026</b>" in cards[0].text
    assert "From: Resident a (a@resident.example) \u00b7 known resident" in cards[0].text


async def test_a_card_telegram_refuses_is_set_aside_and_does_not_block_the_rest(engine: sa.Engine) -> None:
    first = seed_message(engine, at(date(2026, 11, 2)), "one", key="a")
    second = seed_message(engine, at(date(2026, 11, 3)), "two", key="b")

    class Refusing:
        async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
            if f"MSG-{first:06d}" in text:
                raise BadRequest("Can't parse entities: something new")
            return type("Sent", (), {"message_id": 77})()

    bot: Any = Refusing()
    posted = await post_new_cards(bot, engine=engine, work=WORK, chat_id=STAFF_CHAT, clock=utc_now)

    assert posted == 1
    assert [e.message_id for e in audit(engine, "card_failed")] == [first]
    assert [e.message_id for e in audit(engine, "card_posted")] == [second]
    assert await post_new_cards(bot, engine=engine, work=WORK, chat_id=STAFF_CHAT, clock=utc_now) == 0


# ------------------------------------------------------------------------------------ staff taps


async def test_a_staff_tap_confirms_a_complaint_acknowledges_it_and_redraws_the_card(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await card_for_new_message(app, api)
    await tap(app, api, card, "c")

    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        (item,) = session.exec(select(OutboxItem)).all()
        decision = session.exec(select(TriageDecision)).one()
        message = session.exec(select(InboundMessage)).one()
    assert case.kind is CaseKind.COMPLAINT and case.status is CaseStatus.STAGE1_OPEN
    assert case.hazard is Hazard.DAMP_MOULD
    reference = case.reference
    assert re.fullmatch(r"CMP-2026-00001", reference)
    assert item.idempotency_key == f"ack:{reference}:stage1"
    assert (item.channel, item.recipient) == (OutboxChannel.TELEGRAM, str(RESIDENT))
    assert decision.label is Label.COMPLAINT and message.status is MessageStatus.TRIAGED
    (edited,) = api.edited_messages(STAFF_CHAT)
    assert edited.message_id == card.message_id and edited.parse_mode == "HTML"
    assert edited.reply_markup is None  # the buttons go
    outcome = re.search(rf"Confirmed as complaint {reference} by Tess at \d\d:\d\d", edited.text or "")
    assert outcome is not None
    assert (edited.text or "").startswith((card.text or "").split("\n")[0])  # the same card, redrawn
    assert "&lt;b&gt;again&lt;/b&gt;" in (edited.text or "")
    (answer,) = api.answered_callbacks()
    assert answer["text"] == outcome.group()


async def test_a_second_tap_is_told_who_decided_and_changes_nothing(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await card_for_new_message(app, api)
    await tap(app, api, card, "c")
    await tap(app, api, card, "s", user=SAM)

    _, second = api.answered_callbacks()
    assert re.fullmatch(r"Already decided by Tess: complaint CMP-2026-00001 at \d\d:\d\d\.", second["text"])
    assert second.get("show_alert") is True
    assert len(api.edited_messages()) == 1
    assert count(engine, Case) == 1 and count(engine, TriageDecision) == 1 and count(engine, OutboxItem) == 1


async def test_service_request_and_other_taps(app: TriageApplication, api: BotApiServer, engine: sa.Engine) -> None:
    card = await card_for_new_message(app, api, "my kitchen tap is dripping, can someone come and look")
    await tap(app, api, card, "s")
    seed_message(engine, at(date(2026, 11, 2)), "Thanks for the newsletter", key="x")
    await triage_of(app).poster.run(app.bot)
    other = api.sent_messages(STAFF_CHAT)[-1]
    await tap(app, api, other, "o")

    answers = [a["text"] for a in api.answered_callbacks()]
    assert re.fullmatch(r"Confirmed as service request SR-2026-00001 by Tess at \d\d:\d\d", answers[0])
    assert re.fullmatch(r"Confirmed as other by Tess at \d\d:\d\d", answers[1])
    assert count(engine, OutboxItem) == 0  # neither acknowledges anything


async def test_someone_not_on_the_staff_list_is_refused_and_audited(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await card_for_new_message(app, api)
    await tap(app, api, card, "c", user=RESIDENT)
    await say(app, api, "/queue")
    await say(app, api, "/case CMP-2026-00001")

    (answer,) = api.answered_callbacks()
    assert (answer["text"], answer.get("show_alert")) == ("Sorry, only staff can decide this.", True)
    assert (
        texts(api, RESIDENT)[1:]
        == ["Sorry, that is for staff only. If you are a resident, just send us your message here."] * 2
    )
    assert count(engine, TriageDecision) == 0 and api.edited_messages() == []
    refusals = audit(engine, "refused")
    assert [(e.actor, e.detail["what"], e.detail["reason"]) for e in refusals] == [
        ("telegram", "triage", "not staff"),
        ("telegram", "queue", "not staff"),
        ("telegram", "case", "not staff"),
    ]
    assert all(e.detail["telegram_user_id"] == RESIDENT and e.actor_staff_id is None for e in refusals)


async def test_an_inactive_staff_member_is_refused(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await card_for_new_message(app, api)
    await tap(app, api, card, "c", user=GONE)
    await in_staff_chat(app, api, "/queue", user=GONE)

    assert [a["text"] for a in api.answered_callbacks()] == ["Sorry, only staff can decide this."]
    assert texts(api, STAFF_CHAT)[1:] == [
        "Sorry, that is for staff only. If you are a resident, just send us your message here."
    ]
    refusals = audit(engine, "refused")
    assert [e.detail["reason"] for e in refusals] == ["inactive staff", "inactive staff"]
    assert all(e.actor_staff_id is not None for e in refusals)
    assert count(engine, TriageDecision) == 0


async def test_staff_commands_work_in_private_but_not_in_another_group(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await say(app, api, "/queue", user=TESS)
    await handle(app, api.push_message(-100999, TESS, "/queue", chat_type="group", chat_title="Tenants' forum"))

    assert texts(api, TESS) == ["Nothing is awaiting review."]
    assert texts(api, -100999) == [
        "Sorry, that is for staff only. If you are a resident, just send us your message here."
    ]
    assert [e.detail["reason"] for e in audit(engine, "refused")] == ["wrong chat"]


# --------------------------------------------------------------------------------- /queue, /case


async def test_queue_lists_messages_by_acknowledgement_deadline_with_their_references(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    late = seed_message(engine, at(date(2026, 11, 20)), "Lift broken <again>", key="late")
    early = seed_message(engine, at(date(2026, 11, 2)), "Damp in the hall", key="early", hazard=Hazard.DAMP_MOULD)
    # Friday after the 17:00 cut-off counts from Monday: due after a Friday-morning message.
    evening = seed_message(engine, datetime(2026, 11, 13, 17, 30, tzinfo=UTC), "Noise", key="evening")
    morning = seed_message(engine, datetime(2026, 11, 13, 9, 0, tzinfo=UTC), "Bins", key="morning")
    seed_message(engine, at(date(2026, 11, 1)), "Decided", key="done", status=MessageStatus.TRIAGED)

    await in_staff_chat(app, api, "/queue")

    (text,) = texts(api, STAFF_CHAT)
    assert text.startswith("<b>Awaiting review: 4</b> (earliest acknowledgement deadline first)")
    order = [int(ref) for ref in re.findall(r"<b>MSG-(\d{6})</b>", text)]
    assert order == [early, morning, evening, late]
    assert "ack by Mon 9 Nov 2026" in text and "<b>HAZARD: damp and mould</b>" in text
    assert "Lift broken &lt;again&gt;" in text


async def test_case_shows_status_stage_and_dates(app: TriageApplication, api: BotApiServer, engine: sa.Engine) -> None:
    card = await card_for_new_message(app, api)
    await tap(app, api, card, "c")
    await in_staff_chat(app, api, "/case cmp-2026-00001")
    await in_staff_chat(app, api, "/case CMP-2026-00099")
    await in_staff_chat(app, api, "/case")

    shown, missing, usage = texts(api, STAFF_CHAT)[1:]
    assert shown.startswith("<b>CMP-2026-00001</b> \u00b7 complaint\nStatus: <b>stage 1 open</b> \u00b7 stage 1")
    assert "Resident: Kelly (provisional)" in shown
    assert "<b>HAZARD: damp and mould</b>" in shown
    assert re.search(r"\u2022 stage 1 acknowledge: due \w{3} \d+ \w{3} 2026 \u2014 met ", shown)
    assert re.search(r"\u2022 stage 1 respond: due \w{3} \d+ \w{3} 2026 \u2014 open", shown)
    assert (
        "Definition: The resident is unhappy that: (1) There is black mould all over the bedroom wall &lt;b&gt;"
        in shown
    )
    assert missing == "No case with reference CMP-2026-00099."
    assert usage == "Send /case followed by a reference, e.g. /case CMP-2026-00042"
