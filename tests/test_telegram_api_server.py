"""The loopback Bot API server answers python-telegram-bot's real networking path (httpx over HTTP)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.servers.telegram_api import BotApiServer

RESIDENT = 424242
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Complaint", callback_data="label:complaint")]])


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer(max_poll_seconds=5) as server:
        yield server


@pytest.fixture
async def bot(api: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def test_get_me_answers_the_bot_user(api: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.id == int(api.token.split(":")[0])
    assert bot.username == "triage_test_bot"
    assert [call.method for call in api.calls] == ["getMe", "getMe"]  # initialize() asks too


async def test_send_message_is_recorded_and_echoed(api: BotApiServer, bot: Bot) -> None:
    first = await bot.send_message(RESIDENT, "Thanks, we have your message.")
    second = await bot.send_message(
        RESIDENT,
        "<b>Damp &amp; mould</b> in the kitchen",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
        reply_to_message_id=first.message_id,
    )

    assert (first.message_id, second.message_id) == (1, 2)
    assert second.text == "Damp & mould in the kitchen"
    assert second.reply_markup == KEYBOARD
    assert second.reply_to_message is not None
    assert second.reply_to_message.message_id == 1
    assert second.from_user is not None
    assert second.from_user.is_bot
    sent = api.sent_messages(RESIDENT)
    assert [(m.message_id, m.text, m.parse_mode) for m in sent] == [
        (1, "Thanks, we have your message.", None),
        (2, "<b>Damp &amp; mould</b> in the kitchen", "HTML"),
    ]
    assert sent[1].reply_markup == KEYBOARD.to_dict()
    assert api.sent_messages(chat_id=1) == []
    assert api.calls_to("sendMessage")[0]["chat_id"] == RESIDENT


async def test_refuses_what_telegram_refuses(bot: Bot) -> None:
    # PTB drops Telegram's "Bad Request: " and capitalises what is left.
    with pytest.raises(BadRequest, match="Can't parse entities: unclosed start tag at byte offset 5"):
        await bot.send_message(RESIDENT, "rent < £500", parse_mode="HTML")
    with pytest.raises(BadRequest, match='unsupported start tag "br"'):
        await bot.send_message(RESIDENT, "line<br>break", parse_mode="HTML")
    with pytest.raises(BadRequest, match="can't find end tag corresponding"):
        await bot.send_message(RESIDENT, "<b>bold", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(RESIDENT, "x" * 4097)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", chat_id=RESIDENT, message_id=99)
    # Our 404 for an unknown method: PTB raises InvalidToken for any 404, do_api_request EndPointNotFound.
    with pytest.raises(EndPointNotFound, match="sendHovercraft"):
        await bot.do_api_request("sendHovercraft", api_kwargs={"chat_id": RESIDENT})


async def test_edits_are_recorded_and_a_no_op_edit_is_refused(api: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_message(RESIDENT, "Is this a complaint?", reply_markup=KEYBOARD)

    edited = await bot.edit_message_text("Marked as a complaint", chat_id=RESIDENT, message_id=sent.message_id)

    assert isinstance(edited, type(sent))
    assert edited.text == "Marked as a complaint"
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    assert [(m.message_id, m.text) for m in api.edited_messages()] == [(sent.message_id, "Marked as a complaint")]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Marked as a complaint", chat_id=RESIDENT, message_id=sent.message_id)


async def test_long_polling_waits_acknowledges_and_ends_an_older_poll(api: BotApiServer, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    asyncio.get_running_loop().call_later(0.2, api.push_message, RESIDENT, RESIDENT, "hello")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=4)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["hello"]
    second = api.push_message(RESIDENT, RESIDENT, "again")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [updates[0].update_id, second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert api.pending_updates == 0

    async with Bot(api.token, base_url=api.base_url) as other:
        polls = len(api.calls_to("getUpdates"))
        older = asyncio.create_task(bot.get_updates(timeout=4))
        await api.wait_for_async(lambda: len(api.calls_to("getUpdates")) > polls)
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await older


async def test_allowed_updates_filters_the_queue(api: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_message(RESIDENT, "Pick one", reply_markup=KEYBOARD)
    api.push_message(RESIDENT, RESIDENT, "not wanted")
    press = api.push_callback(RESIDENT, RESIDENT, sent.message_id, "label:complaint")

    (update,) = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])

    assert update.update_id == press
    assert update.callback_query is not None
    assert update.callback_query.data == "label:complaint"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id


async def test_application_polls_replies_and_answers_a_callback(api: BotApiServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome")

    async def triage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Got: {update.effective_message.text}", reply_markup=KEYBOARD)

    async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Saved")
        await query.edit_message_text(f"Decision: {query.data}")

    application: Application = (  # type: ignore[type-arg]
        ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url).build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, triage))
    application.add_handler(CallbackQueryHandler(decide))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=2, poll_interval=0)
        try:
            api.push_message(RESIDENT, RESIDENT, "/start")
            api.push_message(RESIDENT, RESIDENT, "The boiler has been broken for 3 weeks")
            sent = await api.wait_for_async(lambda: api.sent_messages(RESIDENT)[1:], timeout=10)
            api.push_callback(RESIDENT, RESIDENT, sent[0].message_id, "label:complaint")
            edited = await api.wait_for_async(api.edited_messages, timeout=10)
        finally:
            await application.updater.stop()
            await application.stop()

    assert [m.text for m in api.sent_messages(RESIDENT)] == [
        "Welcome",
        "Got: The boiler has been broken for 3 weeks",
    ]
    assert api.sent_messages()[1].reply_markup == KEYBOARD.to_dict()
    assert [a["text"] for a in api.answered_callbacks()] == ["Saved"]
    assert [(m.message_id, m.text) for m in edited] == [(sent[0].message_id, "Decision: label:complaint")]
    assert api.calls_to("deleteWebhook")
    assert api.pending_updates == 0  # the updater's last getUpdates acknowledged everything


async def test_throttled_send_raises_retry_after_then_succeeds(
    api: BotApiServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else PTB warns (an error here) when it builds RetryAfter
    api.throttle_sends(1, retry_after=3)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(RESIDENT, "first try")
    assert raised.value.retry_after == dt.timedelta(seconds=3)
    await bot.send_message(RESIDENT, "second try")

    assert [m.text for m in api.sent_messages()] == ["second try"]
    assert len(api.calls_to("sendMessage")) == 2


async def test_blocked_chat_raises_forbidden(api: BotApiServer, bot: Bot) -> None:
    api.block_chat(RESIDENT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(RESIDENT, "hello")
    await bot.send_message(RESIDENT + 1, "someone else")
    api.block_chat(RESIDENT, blocked=False)
    await bot.send_message(RESIDENT, "hello again")

    assert [m.chat_id for m in api.sent_messages()] == [RESIDENT + 1, RESIDENT]


async def test_get_file_and_download(api: BotApiServer, bot: Bot) -> None:
    api.register_file("tenancy-agreement", b"%PDF-1.7 tenancy", file_path="documents/tenancy.pdf")
    update_id = api.push_message(RESIDENT, RESIDENT, None, photo=b"\xff\xd8 mould photo", caption="/report")

    file = await bot.get_file("tenancy-agreement")
    assert file.file_path == f"{api.base_file_url}{api.token}/documents/tenancy.pdf"
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.7 tenancy"

    (update,) = await bot.get_updates(timeout=0)
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.caption == "/report"
    photo = await update.message.photo[-1].get_file()
    assert bytes(await photo.download_as_bytearray()) == b"\xff\xd8 mould photo"
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nothing-here")


async def test_multipart_upload_is_parsed_and_downloadable(api: BotApiServer, bot: Bot) -> None:
    message = await bot.send_document(RESIDENT, b"letter body", filename="letter.txt", caption="Your letter")

    (sent,) = api.sent_messages(RESIDENT)
    assert sent.document is not None
    assert (sent.document.filename, sent.document.content, sent.text) == ("letter.txt", b"letter body", "Your letter")
    assert message.document is not None
    assert message.document.file_name == "letter.txt"
    file = await message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"letter body"


async def test_unknown_token_is_unauthorized(api: BotApiServer) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123:wrong", base_url=api.base_url):
            pass
    assert api.calls == []


async def test_stop_ends_a_waiting_long_poll_promptly(api: BotApiServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for_async(lambda: api.calls_to("getUpdates"))

    started = time.monotonic()
    await asyncio.to_thread(api.stop)

    assert time.monotonic() - started < 2
    assert await poll == ()


def test_wait_for_is_bounded(api: BotApiServer) -> None:
    with pytest.raises(TimeoutError, match=r"condition not met within 0\.2s"):
        api.wait_for(api.sent_messages, timeout=0.2)
