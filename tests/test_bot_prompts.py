"""The card's Edit definition and Link to case… buttons: a prompt to reply to, and what the reply does.

Driven like test_bot_handlers: the application built as production builds it, updates processed one at a
time against the loopback Bot API server. A staff member's reply is delivered as Telegram delivers it,
with the prompt as `reply_to_message`; nothing about the prompt is kept in memory, so a reply to it is read
by a freshly built application too.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.telegram import queries
from bot.telegram.app import TriageApplication, build_application
from bot.telegram.cards import PromptKind
from bot.telegram.prompts import NOT_A_REFERENCE, parse_prompt, prompt_html
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from models.cases import Case
from models.classification import TriageDecision
from models.enums import CaseStatus, ContactChannel, Direction, Label, MessageStatus, Party
from models.messages import InboundMessage
from models.records import Correspondence
from tests import bot_staff_support as support
from tests.bot_staff_support import (
    NOW,
    RECEIVED,
    STAFF_ONLY,
    Clock,
    case_of,
    complaint,
    last,
    outbox,
    reply_to,
    shown,
    staff_id,
    staff_says,
)
from tests.servers.telegram_api import BotApiServer, BotMessage
from tests.test_bot_handlers import (
    RESIDENT,
    SAM,
    STAFF_CHAT,
    TESS,
    WORK,
    audit,
    count,
    handle,
    seed_message,
    texts,
    triage_of,
)

engine, clock, app = support.engine, support.clock, support.app  # the shared fixtures


async def post_card(app: TriageApplication, api: BotApiServer, engine: sa.Engine, text: str, *, key: str) -> BotMessage:
    """An e-mail message awaiting review (classified as a complaint), and its card in the staff chat."""
    seed_message(engine, RECEIVED, text, key=key)
    assert await triage_of(app).poster.run(app.bot) == 1
    return api.sent_messages(STAFF_CHAT)[-1]


def message_of(card: BotMessage) -> int:
    assert card.reply_markup is not None
    return int(card.reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[1])


async def press(app: TriageApplication, api: BotApiServer, card: BotMessage, data: str, *, user: int = TESS) -> None:
    await handle(app, api.push_callback(STAFF_CHAT, user, card.message_id, data, first_name="Tess"))


async def ask(
    app: TriageApplication, api: BotApiServer, card: BotMessage, kind: PromptKind, *, user: int = TESS
) -> BotMessage:
    """Tap Edit definition or Link to case… on the card; returns the prompt the bot sent."""
    await press(app, api, card, f"{kind.value}:{message_of(card)}", user=user)
    prompt = api.sent_messages(STAFF_CHAT)[-1]
    assert prompt.message_id != card.message_id
    return prompt


def reference(message_id: int) -> str:
    return f"MSG-{message_id:06d}"


# ----------------------------------------------------------------------------------------- the prompt


def test_a_prompt_starts_with_what_it_asks_and_the_reference_and_reads_back_from_its_shown_text() -> None:
    for kind in PromptKind:
        text = prompt_html(kind, "MSG-000123", staff_name="Tess <T>", telegram_user_id=TESS)
        assert parse_prompt(shown(text)) == (kind, 123)
        assert '<a href="tg://user?id=700001">Tess &lt;T&gt;</a>' in text
    assert parse_prompt("Thanks, we have your message. Your reference is MSG-000123.") is None
    assert parse_prompt("Please see New definition for MSG-000123") is None
    assert parse_prompt(None) is None


async def test_edit_definition_sends_a_prompt_to_reply_to_under_the_card(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Lift broken again", key="a")
    message_id = message_of(card)

    prompt = await ask(app, api, card, PromptKind.DEFINITION)

    assert shown(prompt.text) == (
        f"New definition for {reference(message_id)} \u2014 Tess, reply to this message with what the resident is "
        "unhappy about and the outcome they want (Code 5.6)."
    )
    assert prompt.parse_mode == "HTML"
    assert prompt.reply_markup is not None and prompt.reply_markup["force_reply"] is True
    assert prompt.reply_markup["selective"] is True
    assert prompt.params["reply_parameters"]["message_id"] == card.message_id  # under its card
    assert [a["text"] for a in api.answered_callbacks()] == ["Reply to the bot's message below."]


# ----------------------------------------------------------------------------------- edit definition


async def test_a_definition_given_before_triage_is_shown_on_the_card_and_used_for_the_complaint(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Lift broken again", key="a")
    message_id = message_of(card)
    prompt = await ask(app, api, card, PromptKind.DEFINITION)
    definition = "The lift at Riverside Court has <b>failed</b> 3 times since May.\nOutcome sought: a lasting repair"

    await reply_to(app, api, prompt, definition)

    assert last(api) == (
        f"\u2705 New definition kept for {reference(message_id)}: confirming it as a complaint uses it."
    )
    (redrawn,) = api.edited_messages(STAFF_CHAT)
    assert redrawn.message_id == card.message_id
    assert "Definition (edited by Tess): The lift at Riverside Court has &lt;b&gt;failed&lt;/b&gt; 3 times" in (
        redrawn.text or ""
    )
    assert redrawn.reply_markup == card.reply_markup  # still undecided: the buttons stay
    (event,) = audit(engine, "definition_edited")
    assert (event.message_id, event.actor_staff_id) == (message_id, staff_id(engine, TESS))
    with Session(engine) as session:
        waiting = session.get(InboundMessage, message_id)
        assert waiting is not None and waiting.status is MessageStatus.AWAITING_REVIEW

    await press(app, api, card, f"t:{message_id}:c", user=SAM)

    case = case_of(engine, "CMP-2026-00001")
    assert case.definition == definition
    with Session(engine) as session:
        assert session.exec(select(TriageDecision)).one().definition == definition
    (ack,) = outbox(engine)
    assert "has <b>failed</b> 3 times since May" in ack.body_text  # the letter is plain text: as typed
    assert "Definition (edited by Tess)" in (api.edited_messages(STAFF_CHAT)[-1].text or "")


async def test_a_definition_for_a_message_that_has_its_case_goes_on_the_case(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Lift broken again", key="a")
    prompt = await ask(app, api, card, PromptKind.DEFINITION)
    await press(app, api, card, f"t:{message_of(card)}:c")  # decided while the prompt was open

    await reply_to(app, api, prompt, "Lift out of order; wants it fixed")

    text = last(api)
    assert text.startswith(
        f"\u2705 Definition of CMP-2026-00001 updated (from {reference(message_of(card))}).\n\n<b>CMP-2026-00001</b>"
    )
    assert case_of(engine, "CMP-2026-00001").definition == "Lift out of order; wants it fixed"
    (event,) = audit(engine, "define")
    assert event.detail["previous"] == "Lift broken again" and event.actor_staff_id == staff_id(engine, TESS)
    assert audit(engine, "definition_edited") == []
    assert len(api.edited_messages(STAFF_CHAT)) == 1  # only the decision redrew the card


async def test_a_definition_for_a_closed_case_is_refused_politely(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Bins not collected", key="a")
    prompt = await ask(app, api, card, PromptKind.DEFINITION)
    await press(app, api, card, f"t:{message_of(card)}:s")
    await staff_says(app, api, "/close SR-2026-00001")

    await reply_to(app, api, prompt, "Bins")

    assert last(api) == "Sorry, that was not done: SR-2026-00001 is closed; its definition stays as it was."


# --------------------------------------------------------------------------------------- link to case


async def test_link_to_case_files_the_message_on_the_case_and_takes_it_off_the_queue(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    target = complaint(engine)  # CMP-2026-00001, stage 1 open
    card = await post_card(app, api, engine, "And now the hall light is broken too", key="b")
    message_id = message_of(card)
    prompt = await ask(app, api, card, PromptKind.LINK)
    assert shown(prompt.text).startswith(f"Case reference for {reference(message_id)} \u2014 Tess, reply")

    await reply_to(app, api, prompt, "it's cmp-2026-00001 I think")

    text = last(api)
    assert text.startswith(
        f"\u2705 {reference(message_id)} is linked to {target} and filed as its correspondence.\n"
        "Note: " + reference(message_id) + f" is from someone other than {target}'s resident.\n"
        f"New issues raised before the stage 1 response join the complaint (Code 6.8): update the definition "
        f"with /define {target} if they are not in it.\n\n<b>{target}</b>"
    )
    with Session(engine) as session:
        message = session.get(InboundMessage, message_id)
        assert message is not None
        decision = session.exec(select(TriageDecision).where(TriageDecision.message_id == message_id)).one()
        (filed,) = session.exec(select(Correspondence).where(Correspondence.inbound_message_id == message_id)).all()
    case = case_of(engine, target)
    assert (message.status, message.case_id) == (MessageStatus.TRIAGED, case.id)
    assert (decision.case_id, decision.label, decision.staff_id) == (case.id, Label.COMPLAINT, staff_id(engine, TESS))
    assert (filed.case_id, filed.direction, filed.channel, filed.party) == (
        case.id,
        Direction.INBOUND,
        ContactChannel.EMAIL,
        Party.OTHER,
    )
    assert filed.body == "And now the hall light is broken too" and filed.occurred_at == RECEIVED
    (event,) = audit(engine, "message_linked")
    assert (event.case_id, event.message_id, event.actor, event.actor_staff_id) == (
        case.id,
        message_id,
        "staff",
        staff_id(engine, TESS),
    )
    assert case.status is CaseStatus.STAGE1_OPEN and count(engine, Case) == 1  # nothing new created
    _, waiting = queries.awaiting_review(engine, WORK, limit=10)
    assert waiting == 0
    (redrawn,) = api.edited_messages(STAFF_CHAT)
    assert redrawn.message_id == card.message_id and redrawn.reply_markup is None
    assert re.search(rf"<b>\u2705 Linked to {target} by Tess at \d\d:\d\d</b>$", redrawn.text or "")


async def test_a_message_can_be_decided_once_however_it_is_decided(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    target = complaint(engine)
    card = await post_card(app, api, engine, "Any news on my lift?", key="b")
    message_id = message_of(card)
    first = await ask(app, api, card, PromptKind.LINK)
    second = await ask(app, api, card, PromptKind.LINK, user=SAM)
    await reply_to(app, api, first, target)

    await reply_to(app, api, second, target, user=SAM)
    await press(app, api, card, f"t:{message_id}:c", user=SAM)  # a tap on the card as it was
    await press(app, api, card, f"l:{message_id}", user=SAM)

    assert re.fullmatch(
        rf"Sorry, that was not done: Already decided by Tess: linked to {target} at \d\d:\d\d\.", last(api)
    )
    answers = [a["text"] for a in api.answered_callbacks()][-2:]
    assert all(re.fullmatch(rf"Already decided by Tess: linked to {target} at \d\d:\d\d\.", a) for a in answers)
    assert count(engine, TriageDecision) == 2 and count(engine, Correspondence) == 1
    assert count(engine, Case) == 1 and len(outbox(engine)) == 1


async def test_a_link_reply_without_a_known_case_changes_nothing(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Any news?", key="a")
    prompt = await ask(app, api, card, PromptKind.LINK)

    await reply_to(app, api, prompt, "the mould one")
    await reply_to(app, api, prompt, "CMP-2026-00077")

    assert texts(api, STAFF_CHAT)[-2:] == [
        NOT_A_REFERENCE,
        "Sorry, that was not done: there is no case CMP-2026-00077.",
    ]
    assert count(engine, TriageDecision) == 0 and api.edited_messages() == []


async def test_linking_to_a_responded_complaint_points_to_escalation(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    target = complaint(engine)
    await staff_says(app, api, f"/respond {target} not upheld\nreasons: the repair was done on time")
    card = await post_card(app, api, engine, "I am not happy with your answer at all", key="b")
    prompt = await ask(app, api, card, PromptKind.LINK)

    await reply_to(app, api, prompt, target)

    assert (
        "It reads as dissatisfaction with the stage 1 response: a stage 2 request (Code 6.10). "
        f"To escalate: /escalate {target}"
    ) in last(api)
    assert case_of(engine, target).status is CaseStatus.STAGE1_RESPONDED  # a person decides to escalate


# --------------------------------------------------------------------------------------- who may reply


async def test_a_reply_to_a_prompt_by_someone_not_on_the_staff_list_is_refused(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    target = complaint(engine)
    card = await post_card(app, api, engine, "Any news?", key="b")
    definition = await ask(app, api, card, PromptKind.DEFINITION)
    link = await ask(app, api, card, PromptKind.LINK)

    await reply_to(app, api, definition, "my own definition", user=RESIDENT)
    await reply_to(app, api, link, target, user=RESIDENT)
    await press(app, api, card, f"d:{message_of(card)}", user=RESIDENT)

    assert texts(api, STAFF_CHAT)[-2:] == [STAFF_ONLY, STAFF_ONLY]
    assert api.answered_callbacks()[-1]["text"] == "Sorry, only staff can decide this."
    assert [(e.detail["what"], e.detail["reason"]) for e in audit(engine, "refused")] == [
        ("reply to definition", "not staff"),
        ("reply to link", "not staff"),
        ("prompt", "not staff"),
    ]
    assert audit(engine, "definition_edited") == [] and count(engine, TriageDecision) == 1
    assert count(engine, InboundMessage) == 2  # neither reply was stored as a resident's message


async def test_replies_that_do_not_answer_a_bot_prompt_are_left_alone(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Any news?", key="a")
    prompt = await ask(app, api, card, PromptKind.DEFINITION)

    await reply_to(app, api, card, "who is taking this one?")  # a reply to the card itself
    await reply_to(app, api, prompt, "copied text", sender_is_bot=False)  # not the bot's own message

    assert texts(api, STAFF_CHAT) == [card.text, prompt.text]  # nothing answered, nothing stored
    assert audit(engine, "definition_edited") == [] and count(engine, InboundMessage) == 1

    await say_privately(app, api)  # a resident replying to their receipt is a resident's message as ever

    with Session(engine) as session:
        stored = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
    assert [m.body_text for m in stored] == [
        "Any news?",
        "the window in my kitchen is broken",
        "I meant the bedroom window, not the kitchen",
    ]
    assert texts(api, RESIDENT)[-1].startswith("Thanks, we have your message.")


async def say_privately(app: TriageApplication, api: BotApiServer) -> None:
    await handle(app, api.push_message(RESIDENT, RESIDENT, "the window in my kitchen is broken", first_name="Kelly"))
    receipt = api.sent_messages(RESIDENT)[-1]
    assert (receipt.text or "").startswith("Thanks, we have your message.")
    await reply_to(app, api, receipt, "I meant the bedroom window, not the kitchen", user=RESIDENT)


async def test_a_prompt_still_works_after_a_restart(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine, classifier: Classifier
) -> None:
    target = complaint(engine)
    card = await post_card(app, api, engine, "Any news?", key="b")
    prompt = await ask(app, api, card, PromptKind.LINK)
    settings = BotSettings(token=api.token, staff_chat_id=STAFF_CHAT, base_url=api.base_url, card_poll_seconds=3600)
    restarted = build_application(settings, engine=engine, casework=WORK, classifier=classifier, clock=Clock(NOW))

    async with restarted:
        await restarted.start()
        try:
            await reply_to(restarted, api, prompt, target)
        finally:
            await restarted.stop()

    assert last(api).startswith(f"\u2705 {reference(message_of(card))} is linked to {target}")
    assert count(engine, TriageDecision) == 2


async def test_the_old_triage_path_is_unchanged_for_a_message_with_no_edited_definition(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    card = await post_card(app, api, engine, "Lift broken again", key="a")
    await press(app, api, card, f"t:{message_of(card)}:c")

    assert case_of(engine, "CMP-2026-00001").definition == "Lift broken again"
    assert "Draft definition: Lift broken again" in (api.edited_messages(STAFF_CHAT)[-1].text or "")
