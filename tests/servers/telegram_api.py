"""A loopback HTTP server speaking the Telegram Bot API methods the bot uses, for tests.

Point python-telegram-bot at it with ``ApplicationBuilder().token(api.token).base_url(api.base_url)
.base_file_url(api.base_file_url)`` (or the same arguments to ``telegram.Bot``): PTB appends the token,
so requests go to ``{base_url}{token}/{method}`` and downloads to ``{base_file_url}{token}/{file_path}``.

It serves getMe, getUpdates (long polling: ``offset`` acknowledges, ``timeout`` waits until an update is
queued, ``limit``, ``allowed_updates``; a newer poll ends an older one with 409 as Telegram does),
sendMessage, sendDocument, editMessageText, answerCallbackQuery, getFile and file downloads,
sendChatAction, deleteWebhook and set/get/deleteMyCommands. Bodies may be JSON, a URL-encoded form
(what PTB sends) or multipart (PTB uploading a file). Errors look like Telegram's: 401 for another
token, 404 for another method, 400 for HTML that Telegram would refuse to parse, an edit that changes
nothing, an unknown message, callback query or file. Tests queue updates with `push_message` and
`push_callback`, read what the bot did from `calls`, `sent_messages()` and `edited_messages()`, and can
make the send methods answer 429 (`throttle_sends`) or 403 (`block_chat`).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

T = TypeVar("T")
ChatId = int | str
JSON = dict[str, Any]

BOT_ID = 7000000001
MAX_TEXT = 4096
MAX_CAPTION = 1024
SEND_METHODS = frozenset({"sendmessage", "senddocument"})
# Parameters Telegram reads as strings; every other form value is JSON-decoded as PTB encoded it.
TEXT_PARAMS = frozenset(
    "text caption parse_mode callback_query_id file_id inline_message_id url business_connection_id "
    "message_effect_id description short_description name language_code title".split()
)
HTML_TAGS = frozenset("b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split())


class Call(NamedTuple):
    method: str  # as the client spelled it, e.g. "sendMessage"
    params: JSON


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent (sendMessage, sendDocument) or edited (editMessageText), as it asked."""

    chat_id: ChatId
    message_id: int
    text: str | None  # the caption for a document
    parse_mode: str | None
    reply_markup: JSON | None
    params: JSON = field(repr=False)
    document: Upload | None = None


class ApiError(Exception):
    """Answered as ``{"ok": false, ...}`` with this HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def answer(self) -> JSON:
        answer: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            answer["parameters"] = self.parameters
        return answer


class BotApiServer:
    """A fake Bot API for one bot token on 127.0.0.1; thread-safe, every wait bounded."""

    def __init__(
        self,
        *,
        token: str | None = None,
        port: int | None = None,
        max_poll_seconds: float = 10.0,
        username: str = "triage_test_bot",
        first_name: str = "Triage Test Bot",
    ) -> None:
        self.token = token or f"{BOT_ID}:{secrets.token_urlsafe(26)}"
        self.port = port
        self.max_poll_seconds = max_poll_seconds
        self.bot_user: JSON = {
            "id": int(self.token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._cond = threading.Condition()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._calls: list[Call] = []
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._chats: dict[ChatId, JSON] = {}
        self._last_message_id: dict[ChatId, int] = {}
        self._messages: dict[tuple[ChatId, int], JSON] = {}
        self._sources: dict[tuple[ChatId, int], tuple[str, str | None, JSON | None]] = {}
        self._sent: list[BotMessage] = []
        self._edited: list[BotMessage] = []
        self._queries: dict[str, JSON] = {}
        self._answers: list[JSON] = []
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._commands: list[JSON] = []
        self._throttled = 0
        self._retry_after = 1
        self._blocked: set[ChatId] = set()
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getme": lambda _params: self.bot_user,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "sendchataction": lambda _params: True,
            "deletewebhook": self._delete_webhook,
            "setmycommands": self._set_my_commands,
            "getmycommands": lambda _params: self._commands,
            "deletemycommands": self._delete_my_commands,
        }

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on `port` (a free one the first time); a stopped server starts again on the same port."""
        if self._httpd is not None:
            return
        httpd = _HttpServer(("127.0.0.1", self.port or 0), self)
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"bot-api-{self.port}", daemon=True
        )
        self._httpd = httpd
        self._thread.start()

    def stop(self) -> None:
        """Answer waiting long polls, drop open connections and free the port; the recorded state stays."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()  # joins the request threads, each bounded by a poll or a socket timeout
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._cond:
            self._closing = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("start() the server first: its port is chosen then")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``base_url(...)``: PTB appends the token and then ``/{method}``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``base_file_url(...)``: PTB appends the token and then ``/{file_path}``."""
        return f"{self.url}/file/bot"

    # -- what a test queues ----------------------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None,
        *,
        chat_type: str = "private",
        first_name: str = "Resident",
        username: str | None = None,
        chat_title: str | None = None,
        photo: str | bytes | None = None,
        caption: str | None = None,
    ) -> int:
        """Queue a message from a person; `photo` is a registered file_id or the bytes of a new one.

        A text or caption starting with ``/command`` gets its bot_command entity, as CommandHandler
        needs. Returns the update_id.
        """
        if (text is None) == (photo is None):
            raise ValueError("a Telegram message has text, or a photo with an optional caption")
        if chat_type == "private":
            chat: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
        else:
            chat = {"id": chat_id, "type": chat_type, "title": chat_title or "Test chat"}
        sender: JSON = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            sender["username"] = username
        with self._cond:
            self._chats[chat_id] = chat
            content: JSON = {}
            if text is not None:
                content = {"text": text, **_command_entity(text, "entities")}
            else:
                content = {"photo": [self._photo_size(photo)]}
                if caption is not None:
                    content |= {"caption": caption, **_command_entity(caption, "caption_entities")}
            message = self._new_message(chat_id, sender, content)
            return self._queue({"message": message})

    def push_callback(
        self, chat_id: ChatId, user_id: int, message_id: int, data: str, *, first_name: str = "Resident"
    ) -> int:
        """Queue a press on an inline button of a message the bot sent; returns the update_id."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}: the bot has to send it first")
            query_id = str(4_000_000_000_000 + len(self._queries) + 1)
            query: JSON = {
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"},
                "message": copy.deepcopy(message),
                "chat_instance": str(int(_unique_id(f"chat {chat_id}"), 16)),
                "data": data,
            }
            self._queries[query_id] = query
            return self._queue({"callback_query": query})

    def push_update(self, update: JSON) -> int:
        """Queue any other update (``{"edited_message": ...}``); its update_id is filled in and returned."""
        with self._cond:
            return self._queue(copy.deepcopy(update))

    def register_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> str:
        """Make `file_id` known to getFile and downloadable; returns its file_path."""
        path = file_path or f"documents/{file_id}"
        with self._cond:
            self._files[file_id] = (path, content)
        return path

    def throttle_sends(self, count: int = 1, *, retry_after: int = 1) -> None:
        """The next `count` sendMessage/sendDocument calls answer 429 with this retry_after."""
        with self._cond:
            self._throttled, self._retry_after = count, retry_after

    def block_chat(self, chat_id: ChatId, *, blocked: bool = True) -> None:
        """Sends to this chat answer 403 "Forbidden: bot was blocked by the user" (until unblocked)."""
        with self._cond:
            if blocked:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)

    # -- what a test reads -----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every API call with the right token, in order (a copy)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[JSON]:
        """The params of every call to `method` (any capitalisation)."""
        return [call.params for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: ChatId | None = None) -> list[BotMessage]:
        with self._cond:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def edited_messages(self, chat_id: ChatId | None = None) -> list[BotMessage]:
        with self._cond:
            return [m for m in self._edited if chat_id is None or m.chat_id == chat_id]

    def answered_callbacks(self) -> list[JSON]:
        """The params of each successful answerCallbackQuery."""
        with self._cond:
            return list(self._answers)

    @property
    def pending_updates(self) -> int:
        """Updates not yet acknowledged by a getUpdates offset."""
        with self._cond:
            return len(self._updates)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until `predicate()` is truthy and return it; TimeoutError after `timeout` seconds.

        From a coroutine on the bot's event loop use `wait_for_async`, or the bot cannot run meanwhile.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                self._cond.wait(min(remaining, 0.05))
            return result

    async def wait_for_async(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """`wait_for` for a coroutine: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(timeout))
            await asyncio.sleep(0.01)
        return result

    def _timeout_message(self, timeout: float) -> str:
        methods = [call.method for call in self.calls[-10:]]
        return f"condition not met within {timeout}s; last calls: {methods}"

    # -- serving ---------------------------------------------------------------------------------

    def handle(self, path: str, content_type: str, body: bytes, query: str) -> tuple[int, JSON]:
        """Answer one request to ``/bot<token>/<method>`` with an HTTP status and Telegram's JSON."""
        try:
            return 200, {"ok": True, "result": self._call(path, content_type, body, query)}
        except ApiError as error:
            return error.status, error.answer()

    def _call(self, path: str, content_type: str, body: bytes, query: str) -> Any:
        token, _, method = unquote(path).removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method:
            raise ApiError(404, "Not Found")
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        params = _parse_params(content_type, body, query)
        with self._cond:
            self._calls.append(Call(method, params))
            self._cond.notify_all()
        serve = self._methods.get(method.lower())
        if serve is None:
            raise ApiError(404, f"Not Found: method {method} is not served by this test server")
        return serve(params)

    def download(self, path: str) -> tuple[int, bytes]:
        """Answer one request to ``/file/bot<token>/<file_path>``."""
        token, _, file_path = unquote(path).removeprefix("/file/bot").partition("/")
        if token != self.token:
            return 401, b"Unauthorized"
        with self._cond:
            content = next((data for fp, data in self._files.values() if fp == file_path), None)
        return (404, b"Not Found") if content is None else (200, content)

    def _queue(self, update: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **update})
        self._cond.notify_all()
        return update_id

    def _get_updates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_seconds)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older poll still waiting ends with 409
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) or None
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            if self._allowed_updates is not None:
                self._updates = [u for u in self._updates if _kind(u) in self._allowed_updates]
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._updates or self._closing:
                    return copy.deepcopy(self._updates[:limit])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def _check_send(self, chat_id: ChatId) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self._throttled > 0:
            self._throttled -= 1
            retry = self._retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _send_message(self, params: JSON) -> JSON:
        chat_id = _chat_id(params)
        text, parse_mode = str(params.get("text") or ""), params.get("parse_mode")
        shown = _shown_text(text, parse_mode)
        if not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(shown) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        with self._cond:
            self._check_send(chat_id)
            message = self._new_message(chat_id, self.bot_user, {"text": shown, **self._echoed(markup, params)})
            key = (chat_id, message["message_id"])
            self._sources[key] = (text, parse_mode, markup)
            self._sent.append(BotMessage(chat_id, key[1], text, parse_mode, markup, params))
            self._cond.notify_all()
            return copy.deepcopy(message)

    def _send_document(self, params: JSON) -> JSON:
        chat_id = _chat_id(params)
        document = params.get("document")
        caption, parse_mode = params.get("caption"), params.get("parse_mode")
        shown = None if caption is None else _shown_text(str(caption), parse_mode)
        if shown is not None and len(shown) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup")
        with self._cond:
            self._check_send(chat_id)
            if isinstance(document, Upload):
                file_id = f"upload-{len(self._files) + 1}"
                self._files[file_id] = (f"documents/{file_id}-{document.filename}", document.content)
                upload = document
            elif isinstance(document, str) and document in self._files:
                file_id = document
                path, data = self._files[file_id]
                upload = Upload(path.rsplit("/", 1)[-1], data, "application/octet-stream")
            else:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            fields: JSON = {
                "document": {
                    "file_id": file_id,
                    "file_unique_id": _unique_id(file_id),
                    "file_name": upload.filename,
                    "mime_type": upload.content_type,
                    "file_size": len(upload.content),
                },
                **self._echoed(markup, params),
            }
            if shown is not None:
                fields["caption"] = shown
            message = self._new_message(chat_id, self.bot_user, fields)
            sent = BotMessage(chat_id, message["message_id"], caption, parse_mode, markup, params, upload)
            self._sent.append(sent)
            self._cond.notify_all()
            return copy.deepcopy(message)

    def _edit_message_text(self, params: JSON) -> JSON | bool:
        text, parse_mode = str(params.get("text") or ""), params.get("parse_mode")
        shown = _shown_text(text, parse_mode)
        if not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        if params.get("inline_message_id"):
            with self._cond:
                self._edited.append(BotMessage("inline", 0, text, parse_mode, markup, params))
                self._cond.notify_all()
            return True
        chat_id, message_id = _chat_id(params), int(params.get("message_id") or 0)
        key = (chat_id, message_id)
        with self._cond:
            message = self._messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if message["from"]["id"] != self.bot_user["id"]:
                raise ApiError(400, "Bad Request: message can't be edited")
            if self._sources.get(key) == (text, parse_mode, markup):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message",
                )
            self._sources[key] = (text, parse_mode, markup)
            message["text"] = shown
            message["edit_date"] = int(time.time())
            message.pop("reply_markup", None)
            message |= _inline_keyboard(markup)
            self._edited.append(BotMessage(chat_id, message_id, text, parse_mode, markup, params))
            self._cond.notify_all()
            return copy.deepcopy(message)

    def _answer_callback_query(self, params: JSON) -> bool:
        with self._cond:
            if str(params.get("callback_query_id")) not in self._queries:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            self._answers.append(params)
            self._cond.notify_all()
        return True

    def _get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        with self._cond:
            known = self._files.get(file_id)
        if known is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = known
        return {"file_id": file_id, "file_unique_id": _unique_id(file_id), "file_size": len(content), "file_path": path}

    def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        with self._cond:
            self._commands = commands
        return True

    def _delete_my_commands(self, _params: JSON) -> bool:
        with self._cond:
            self._commands = []
        return True

    def _new_message(self, chat_id: ChatId, sender: JSON, content: JSON) -> JSON:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        chat = self._chats.get(chat_id) or _default_chat(chat_id)
        message = {"message_id": message_id, "from": sender, "date": int(time.time()), "chat": chat, **content}
        self._messages[(chat_id, message_id)] = message
        return message

    def _photo_size(self, photo: str | bytes | None) -> JSON:
        if isinstance(photo, bytes):
            number = len(self._files) + 1
            file_id = f"photo-{number}"
            self._files[file_id] = (f"photos/file_{number}.jpg", photo)
        elif isinstance(photo, str) and photo in self._files:
            file_id = photo
        else:
            raise ValueError(f"register_file({photo!r}, ...) before pushing it as a photo")
        size = len(self._files[file_id][1])
        return {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "width": 1280,
            "height": 960,
            "file_size": size,
        }

    def _echoed(self, markup: Any, params: JSON) -> JSON:
        """What Telegram echoes in a sent Message: an inline keyboard and the message replied to."""
        echoed = _inline_keyboard(markup)
        reply = params.get("reply_parameters")
        replied_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if replied_id is not None and (replied := self._messages.get((_chat_id(params), int(replied_id)))):
            echoed["reply_to_message"] = copy.deepcopy(replied)
        return echoed


def _inline_keyboard(markup: Any) -> JSON:
    """Telegram echoes an inline keyboard in the Message, never a reply keyboard."""
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return {"reply_markup": {"inline_keyboard": markup["inline_keyboard"]}}
    return {}


def _kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _default_chat(chat_id: ChatId) -> JSON:
    if isinstance(chat_id, int) and chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Resident"}
    return {"id": chat_id, "type": "supergroup", "title": "Test chat"}


def _chat_id(params: JSON) -> ChatId:
    value = params.get("chat_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if isinstance(value, str) and value.startswith("@"):
        return value
    raise ApiError(400, "Bad Request: chat not found")


def _unique_id(file_id: str) -> str:
    return hashlib.sha256(file_id.encode()).hexdigest()[:16]


def _command_entity(text: str, key: str) -> JSON:
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    return {key: [{"type": "bot_command", "offset": 0, "length": command.end()}]} if command else {}


def _shown_text(text: str, parse_mode: Any) -> str:
    return _html_text(text) if str(parse_mode).upper() == "HTML" else text


_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _unescape(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def _html_text(text: str) -> str:
    """The text Telegram shows for parse_mode=HTML, or its 400 "can't parse entities" for bad markup."""

    def refuse(reason: str) -> ApiError:
        return ApiError(400, f"Bad Request: can't parse entities: {reason}")

    shown: list[str] = []
    open_tags: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        shown.append(text[position:start])
        offset = len(text[:start].encode())
        end = text.find(">", start)
        if end == -1:
            raise refuse(f"Unclosed start tag at byte offset {offset}")
        inside = text[start + 1 : end]
        closing = inside.startswith("/")
        name = (inside[1:] if closing else inside).split(maxsplit=1)[0].lower() if inside.strip("/ ") else ""
        if closing:
            if not open_tags:
                raise refuse(f"Unexpected end tag at byte offset {offset}")
            if name != open_tags[-1]:
                raise refuse(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
        elif name not in HTML_TAGS or inside.startswith(" "):
            raise refuse(f'Unsupported start tag "{name}" at byte offset {offset}')
        else:
            open_tags.append(name)
        position = end + 1
    if open_tags:
        raise refuse(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    shown.append(text[position:])
    return _ENTITY.sub(_unescape, "".join(shown))


def _decode(name: str, raw: str) -> Any:
    if name in TEXT_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parse_params(content_type: str, body: bytes, query: str) -> JSON:
    params: JSON = {name: _decode(name, value) for name, value in parse_qsl(query, keep_blank_values=True)}
    mime = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if mime == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        params.update(decoded)
    elif mime == "application/x-www-form-urlencoded":
        params.update((n, _decode(n, v)) for n, v in parse_qsl(body.decode(), keep_blank_values=True))
    elif mime == "multipart/form-data":
        params.update(_multipart(content_type, body))
    return params


def _multipart(content_type: str, body: bytes) -> JSON:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ApiError(400, "Bad Request: can't parse multipart body")
    params: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        filename = part.get_filename()
        if filename is None:
            params[name] = _decode(name, payload.decode())
        else:
            params[name] = Upload(filename, payload, part.get_content_type())
    return params


class _HttpServer(ThreadingHTTPServer):
    """Keeps its open connections so `stop()` can end idle keep-alive ones at once."""

    def __init__(self, address: tuple[str, int], api: BotApiServer) -> None:
        self.api = api
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is closed after this long

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = self.server.api
        if url.path.startswith("/file/bot"):
            status, payload = api.download(url.path)
            content_type = "application/octet-stream"
        else:
            try:
                status, answer = api.handle(url.path, self.headers.get("Content-Type", ""), body, url.query)
            except Exception as error:  # a bug here should reach the test as an answer, not a hang
                status, answer = 500, {"ok": False, "error_code": 500, "description": f"Internal: {error!r}"}
            payload = json.dumps(answer).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `calls` instead."""
