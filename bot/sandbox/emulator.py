"""A Telegram Bot API emulator, for the sandbox and the end-to-end tests, plus the people who use it.

`BotApiEmulator` is a real aiohttp server on 127.0.0.1 (ephemeral port) that serves the Bot
API methods chatshop uses well enough for a real `telegram.ext.Application` to run against
it by long polling or by webhook (any other method gets Telegram's 404 "Not Found"): it
parses form, multipart, JSON and query-string calls, keeps the chats the bot writes to
(messages, edits, deletions, keyboards, invoices), answers with Telegram's JSON envelope
and Telegram's error texts, records every call in `fake.calls`, and can inject faults
(`fail_next`, `block_user`).

`Persona` (from `fake.user(...)`) plays a person in a private chat: each action
enqueues a realistic Update and, when awaited, returns once the bot has fetched it and
gone quiet ("settled"), so a test reads as a user story (the sandbox's web chat acts
with ``wait=False`` and watches the chats change instead):

    async with BotApiEmulator() as fake:
        ann = fake.user(1001, first_name="Ann")
        await ann.send("/start")
        await ann.press("Red hoodie")
        assert ann.last_text == "You picked Red hoodie"

Deliberate limits: HTML is the only parse mode that is parsed into entities (others keep
the raw text), files given by URL are never downloaded, a failed webhook delivery is
not retried, and group chats exist only as targets of sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import telegram
from aiohttp import web

__all__ = [
    "ApiError",
    "NoAnswer",
    "Call",
    "BotApiEmulator",
    "Persona",
    "UploadedFile",
    "WebhookDelivery",
    "canonical_method",
    "parse_html",
]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Telegram limits, counted in UTF-16 code units after entity parsing.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"

# Parameters that are plain strings even when they look like JSON ("123", "true").
_STRING_FIELDS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "description",
        "document",
        "emoji",
        "error_message",
        "explanation",
        "file_id",
        "first_name",
        "game_short_name",
        "inline_message_id",
        "inline_query_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "photo_url",
        "pre_checkout_query_id",
        "provider_data",
        "provider_token",
        "query",
        "question",
        "secret_token",
        "shipping_query_id",
        "short_description",
        "start_parameter",
        "sticker",
        "switch_pm_parameter",
        "switch_pm_text",
        "telegram_payment_charge_id",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)
# Update types Telegram leaves out unless allowed_updates asks for them.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Methods that deliver content into a chat, hence fail for a user who blocked the bot.
_CHAT_WRITE_PREFIXES = ("send", "edit", "copy", "forward", "stop")
_MEDIA_KINDS = ("photo", "document", "video", "animation", "audio", "voice", "sticker")
_REPLY_PREFIXES = ("send", "edit", "delete", "copy", "forward", "stop")


# Telegram refuses inline keyboards with more buttons than this.
MAX_INLINE_BUTTONS = 100


def _build_method_names() -> dict[str, str]:
    """Map lower-cased Bot API method names to their documented camelCase spelling."""
    names = {}
    for name in dir(telegram.Bot):
        if name[:1].islower() and "_" not in name and name != name.lower():
            names[name.lower()] = name
    return names


_METHOD_NAMES = _build_method_names()


def canonical_method(name: str) -> str:
    """Return the documented camelCase spelling of a (case-insensitive) method name."""
    return _METHOD_NAMES.get(name.lower(), name)


def _utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code, as Telegram does."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON envelope Telegram sends for this error."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class NoAnswer(AssertionError):
    """The bot did not make the call waited for in time, or the emulator refused it (in a test: a failed
    expectation; in the sandbox: nothing happened, said so to the person)."""


def _bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


# --------------------------------------------------------------------------- HTML


_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*?)?)\s*/?>")
_ATTR_RE = re.compile(r"""([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_SPECIAL_RE = re.compile(r"[<&]")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_error(what: str) -> ApiError:
    return _bad_request(f"can't parse entities: {what}")


def _decode_char_ref(ref: str) -> str:
    if ref in _NAMED_REFS:
        return _NAMED_REFS[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _tag_attrs(raw: str) -> dict[str, str]:
    attrs = {}
    for m in _ATTR_RE.finditer(raw):
        value = next((g for g in m.groups()[1:] if g is not None), "")
        attrs[m.group(1).lower()] = _CHAR_REF_RE.sub(lambda r: _decode_char_ref(r.group(1)), value)
    return attrs


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into (plain text, entities) or raise ApiError 400."""
    pieces: list[str] = []
    pos16 = 0
    stack: list[list[Any]] = []  # [tag name, entity or None, start offset]
    entities: list[JSONDict] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if m is None:
                raise _parse_error(f"Unexpected end of name token at byte offset {_byte_offset(text, i)}")
            closing, name, attrs = m.group(1), m.group(2).lower(), _tag_attrs(m.group(3))
            if closing:
                if not stack:
                    raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                open_name, entity, start = stack.pop()
                if open_name != name:
                    raise _parse_error(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if entity is not None and pos16 > start:
                    entities.append({**entity, "offset": start, "length": pos16 - start})
            else:
                entity = _entity_for_tag(name, attrs, stack, _byte_offset(text, i))
                stack.append([name, entity, pos16])
            i = m.end()
            continue
        if ch == "&":
            m = _CHAR_REF_RE.match(text, i)
            # A bare "&" is kept as is, like Telegram does.
            piece, i = (_decode_char_ref(m.group(1)), m.end()) if m else ("&", i + 1)
        else:
            nxt = _SPECIAL_RE.search(text, i)
            end = nxt.start() if nxt else len(text)
            piece, i = text[i:end], end
        pieces.append(piece)
        pos16 += _utf16_len(piece)
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(pieces), entities


def _entity_for_tag(name: str, attrs: dict[str, str], stack: list[list[Any]], byte_offset: int) -> JSONDict | None:
    simple = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "pre": "pre",
    }
    if name in simple:
        return {"type": simple[name]}
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _parse_error('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler"}
    if name == "a":
        href = attrs.get("href", "")
        if href.startswith("tg://user?id="):
            user_id = int(href.split("=", 1)[1] or 0)
            return {"type": "text_mention", "user": {"id": user_id, "is_bot": False, "first_name": ""}}
        return {"type": "text_link", "url": href} if href else None
    if name == "code":
        language = attrs.get("class", "")
        if stack and stack[-1][0] == "pre" and language.startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language.
            stack[-1][1]["language"] = language.removeprefix("language-")
            return None
        return {"type": "code"}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if name == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace as Telegram does, shifting entities to match."""
    left = _utf16_len(text) - _utf16_len(text.lstrip())
    stripped = text.strip()
    size = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- records


@dataclasses.dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass
class Call:
    """One Bot API call as the fake received and answered it."""

    index: int
    method: str
    params: JSONDict
    time: float
    http_method: str = "POST"
    response: JSONDict | None = None
    answered_at: float | None = None  # monotonic time the fake answered it

    @property
    def ok(self) -> bool:
        """True when the call was answered with ok=true."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The `result` of a successful call (None otherwise)."""
        return (self.response or {}).get("result")

    @property
    def error_code(self) -> int | None:
        """The error_code of a failed call."""
        return (self.response or {}).get("error_code")

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return (self.response or {}).get("description")

    def summary(self) -> str:
        """A one-line description for assertion messages."""
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        if self.response is None:
            outcome = "pending"
        return f"#{self.index} {self.method} {shown!r} -> {outcome}"


@dataclasses.dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float


@dataclasses.dataclass
class _Fault:
    method: str
    error_code: int | None  # None: answer normally, only later
    description: str
    parameters: JSONDict | None
    times: int
    delay: float
    match: JSONDict | None = None  # only calls whose parameters include these

    def applies(self, method: str, params: JSONDict) -> bool:
        if self.method != method or self.times <= 0:
            return False
        return all(str(params.get(key)) == str(value) for key, value in (self.match or {}).items())


@dataclasses.dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None = dataclasses.field(default=None, repr=False)
    filename: str | None = None
    mime_type: str | None = None
    url: str | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 4096


class _Pending:
    """An update waiting to be fetched (getUpdates) or pushed (webhook)."""

    def __init__(self, update: JSONDict, forced: bool):
        self.update = update
        self.forced = forced  # a resent update: delivered once whatever the offset
        self.delivered = asyncio.Event()
        self.delivered_at = 0.0

    @property
    def update_id(self) -> int:
        return self.update["update_id"]

    @property
    def kind(self) -> str:
        return next(k for k in self.update if k != "update_id")

    def mark_delivered(self) -> None:
        if not self.delivered.is_set():
            self.delivered_at = time.monotonic()
            self.delivered.set()


class _Chat:
    def __init__(self, info: JSONDict):
        self.info = info
        self.messages: dict[int, JSONDict] = {}
        self.reply_keyboard: JSONDict | None = None
        self._ids = itertools.count(1)

    @property
    def id(self) -> int:
        return self.info["id"]

    def next_message_id(self) -> int:
        return next(self._ids)


_API_HANDLERS: dict[str, Callable[..., Any]] = {}


def _api(method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _API_HANDLERS[method] = func
        return func

    return register


def _decode_value(name: str, value: Any) -> Any:
    """JSON-decode a form value unless the parameter is a plain string."""
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _inline_keyboard(message: JSONDict | None) -> list[list[JSONDict]]:
    markup = (message or {}).get("reply_markup") or {}
    return markup.get("inline_keyboard") or []


def _message_text(message: JSONDict | None) -> str | None:
    if not message:
        return None
    return message.get("text", message.get("caption"))


# --------------------------------------------------------------------------- server


class BotApiEmulator:
    """A fake Telegram Bot API on 127.0.0.1; use as `async with BotApiEmulator() as fake`."""

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "chatshop_test_bot",
        *,
        bot_first_name: str = "Chatshop Test Bot",
        quiet_period: float = 0.05,
        reply_grace: float = 1.0,
        settle_timeout: float = 10.0,
        webhook_connections: int = 1,
    ):
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_first_name = bot_first_name
        self.quiet_period = quiet_period
        self.reply_grace = reply_grace
        self.settle_timeout = settle_timeout
        # Seconds every call but getUpdates takes, as Telegram's round trip would.
        self.latency = 0.0
        # Webhook deliveries in flight at once (Telegram's max_connections is 40 by default).
        self.webhook_connections = webhook_connections
        # While this returns True, `settle` keeps waiting (see `follow`).
        self.bot_busy: Callable[[], bool] | None = None

        self.calls: list[Call] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.dropped_updates: list[JSONDict] = []
        self.internal_errors: list[BaseException] = []
        self.invoices: list[JSONDict] = []
        self.charges: dict[str, JSONDict] = {}
        self.commands: dict[str, list[JSONDict]] = {}
        self.files: dict[str, _StoredFile] = {}
        self.chats: dict[int, _Chat] = {}
        self.users: dict[int, Persona] = {}
        self.blocked: set[int] = set()
        self.webhook_url = ""
        self.webhook_secret: str | None = None

        self._faults: list[_Fault] = []
        self._queue: list[_Pending] = []
        self._confirmed = 0  # highest update_id confirmed through getUpdates' offset
        self._allowed: set[str] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._open_queries: dict[str, str] = {}  # query id -> kind, until answered
        self.answers: dict[str, JSONDict] = {}  # query id -> answer params
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._charge_ids = itertools.count(1)
        self._poll_generation = 0
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._action_mark = 0
        self._changed = asyncio.Event()
        self._call_done = asyncio.Event()
        # Grows whenever a chat changes or the bot answers a query: the sandbox's web chat waits on it.
        self.revision = 0
        self._revised = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []
        self.url = ""

    # ---- lifecycle

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the HTTP server on an ephemeral 127.0.0.1 port and the webhook pusher."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._workers = [asyncio.create_task(self._webhook_worker(), name=f"emulator-webhook-{i}")
                         for i in range(self.webhook_connections)]

    async def close(self) -> None:
        """Stop the server; pending long polls return [] at once."""
        self._closing = True
        self._notify()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- public helpers

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a User object, as it appears in message.from."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool | None = None,
    ) -> Persona:
        """Return the person with this id (created on first use), acting in their private chat."""
        if user_id in self.users:
            return self.users[user_id]
        person = Persona(
            self,
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self.users[user_id] = person
        chat_info = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_info["last_name"] = last_name
        if username:
            chat_info["username"] = username
        if user_id in self.chats:
            self.chats[user_id].info = chat_info
        else:
            self.chats[user_id] = _Chat(chat_info)
        return person

    def mark(self) -> int:
        """A position in `calls`; pass it as `since=` to look only at later calls."""
        return len(self.calls)

    def find_calls(self, method: str, *, since: int = 0, chat_id: int | None = None) -> list[Call]:
        """All answered calls of `method` from index `since`, optionally for one chat."""
        method = canonical_method(method)
        return [
            c
            for c in self.calls[since:]
            if c.method == method and c.response is not None and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def messages(self, chat_id: int, *, from_bot: bool = True) -> list[JSONDict]:
        """Current messages of a chat in order (only the bot's unless from_bot=False)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.messages.values() if not from_bot or m.get("from", {}).get("id") == self.bot_id]

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        parameters: JSONDict | None = None,
        times: int = 1,
        *,
        delay: float = 0.0,
        match: JSONDict | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (whose parameters include `match`) fail with this
        error (after `delay` s)."""
        if parameters is None and error_code == 429:
            parameters = {"retry_after": 1}
        if description is None:
            description = {
                400: "Bad Request",
                403: "Forbidden",
                409: "Conflict",
                429: f"Too Many Requests: retry after {(parameters or {}).get('retry_after', 1)}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, "Error")
        self._faults.append(_Fault(canonical_method(method), error_code, description, parameters, times, delay,
                                   match))

    def slow_next(self, method: str, delay: float, *, times: int = 1, match: JSONDict | None = None) -> None:
        """Make the next `times` calls of `method` (whose parameters include `match`) take `delay` s,
        then succeed as usual: Telegram being slow, or a call the bot is stuck in."""
        self._faults.append(_Fault(canonical_method(method), None, "", None, times, delay, match))

    def block_user(self, chat_id: int) -> None:
        """From now on every send to this chat answers 403 "bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo `block_user`."""
        self.blocked.discard(chat_id)

    def next_update_id(self) -> int:
        """Allocate a fresh update_id."""
        return next(self._update_ids)

    async def send_update(self, update: JSONDict, *, wait: bool = True) -> JSONDict:
        """Enqueue a raw update (update_id added when missing); if `wait`, settle first."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", self.next_update_id())
        self._begin_action(update)
        entry = self._enqueue(update, forced=False)
        if wait:
            await self.settle(entry)
        return update

    async def resend(self, update: JSONDict, *, new_update_id: bool = False, wait: bool = True) -> JSONDict:
        """Deliver `update` again: same update_id (a Telegram retry) or a fresh one."""
        update = copy.deepcopy(update)
        if new_update_id:
            update["update_id"] = self.next_update_id()
        self._begin_action(update)
        entry = self._enqueue(update, forced=not new_update_id)
        if wait:
            await self.settle(entry)
        return update

    def enqueue(self, update: JSONDict) -> _Pending:
        """Queue a complete raw update as Telegram would, without copying or waiting (for load generators);
        a callback query in it stays open until the bot answers it. ``.delivered`` tells when it went out."""
        query = update.get("callback_query")
        if query is not None:
            self._open_queries[str(query["id"])] = "callback_query"
        return self._enqueue(update, forced=False)

    def bot_message(self, chat_id: int, text: str) -> JSONDict:
        """Store a message as if the bot had sent it earlier, so a button under it can be pressed and the
        bot can edit it; return it as Telegram would put it in a callback query."""
        return self._new_message(self._chat(chat_id), {}, {"text": text})

    def _begin_action(self, update: JSONDict) -> None:
        """Start a new action: `wait_for` and the sender's `replies` look from here on."""
        self._action_mark = self.mark()
        body = next((v for k, v in update.items() if k != "update_id"), None)
        sender = body.get("from", {}).get("id") if isinstance(body, dict) else None
        if sender in self.users:
            self.users[sender]._mark = self._action_mark

    def follow(self, busy: Callable[[], bool] | None) -> None:
        """Make `settle` wait while ``busy()`` says the bot (running in this process) still has work
        in hand for what it received; None stops following.

        Without it, a handler that answers a button at once and sends its reply after slower work
        (a busy database) looks done once the quiet period has passed after the answer.
        """
        self.bot_busy = busy

    def follow_application(self, application: Any | None) -> None:
        """`follow` a plain PTB Application: busy while it has updates queued or in its handlers."""
        self.follow(None if application is None else
                    lambda: (application.update_processor.current_concurrent_updates > 0
                             or not application.update_queue.empty()))

    async def settle(self, entry: _Pending, timeout: float | None = None) -> None:
        """Wait until the bot has fetched `entry`, answered it, and made no call for `quiet_period`
        (and, when following an application, until it has no update in hand)."""
        timeout = self.settle_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(entry.delivered.wait(), timeout)
        except TimeoutError:
            how = f"webhook {self.webhook_url}" if self.webhook_url else "getUpdates"
            raise AssertionError(
                f"the bot did not fetch update {entry.update_id} ({entry.kind}) via {how} "
                f"within {timeout}s; recent calls:\n{self.recent_calls()}"
            ) from None
        while True:
            now = time.monotonic()
            # A followed bot has the update in hand once it confirmed it (the next getUpdates' offset, or
            # the webhook's 200): until then a call it makes for someone else must not end the wait.
            held = self.bot_busy is None or entry.forced or entry.update_id <= self._confirmed
            idle = now - max(self._last_activity, entry.delivered_at)
            # The bot may take a while before its first answer (a cold cache, a slow
            # query): until it has made a call, wait up to `reply_grace`, not just the
            # quiet period. Updates that get no answer at all end after the grace.
            answered = self._last_activity > entry.delivered_at or self._in_flight > 0
            quiet_enough = idle >= (self.quiet_period if answered else self.reply_grace)
            if held and self._in_flight == 0 and quiet_enough and not (self.bot_busy and self.bot_busy()):
                return
            if now >= deadline:
                raise AssertionError(
                    f"the bot did not go quiet within {timeout}s after update "
                    f"{entry.update_id}; recent calls:\n{self.recent_calls()}"
                )
            await asyncio.sleep(0.005 if answered else 0.01)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> Call:
        """Wait for an answered call of `method` (matching `predicate`) made at or after `since`.

        `since` defaults to the start of the latest user action, so already-made calls
        in reaction to it count; pass `fake.mark()` to wait only for later ones.
        """
        method = canonical_method(method)
        start = self._action_mark if since is None else since

        def found() -> Call | None:
            return next((call for call in self.calls[start:] if call.method == method and call.response is not None
                         and (predicate is None or predicate(call))), None)

        call = await self.until(found, timeout)
        if call is None:
            raise NoAnswer(f"no matching {method} call within {timeout}s; recent calls:\n{self.recent_calls()}")
        return call

    async def until(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``check()`` returns something truthy (it is tried again after every answered call);
        return it, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            event = self._call_done
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def revise(self) -> None:
        """Tell whoever waits in :meth:`next_revision` that something may have changed."""
        self.revision += 1
        self._revised.set()
        self._revised = asyncio.Event()

    async def next_revision(self, seen: int, timeout: float) -> int:
        """The revision, once it differs from `seen` (or after `timeout` seconds)."""
        if self.revision == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._revised.wait(), timeout)
        return self.revision

    def recent_calls(self, n: int = 15) -> str:
        """The last `n` calls other than getUpdates, one per line."""
        shown = [c for c in self.calls if c.method != "getUpdates"][-n:]
        return "\n".join(c.summary() for c in shown) or "(no calls)"

    def unanswered_queries(self) -> dict[str, str]:
        """Query ids (callback, pre-checkout, inline, shipping) the bot has not answered."""
        return dict(self._open_queries)

    # ---- queue

    def _notify(self) -> None:
        """Wake every long poll and the webhook pusher."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed

    def _enqueue(self, update: JSONDict, *, forced: bool) -> _Pending:
        entry = _Pending(update, forced)
        if not self._is_allowed(entry.kind):
            # Telegram never creates updates of a type the bot did not ask for.
            self.dropped_updates.append(update)
            entry.mark_delivered()
            return entry
        self._queue.append(entry)
        self._notify()
        return entry

    def _collect(self, offset: int, limit: int) -> list[JSONDict]:
        """Updates for getUpdates: resent ones first, then unconfirmed ones by id."""
        if offset > 0:
            self._confirmed = max(self._confirmed, offset - 1)
        regular = [p for p in self._queue if not p.forced]
        if offset < 0:
            # A negative offset keeps only the last -offset updates.
            for p in regular[:offset]:
                self._confirmed = max(self._confirmed, p.update_id)
        self._queue = [p for p in self._queue if p.forced or p.update_id > self._confirmed]
        for p in [p for p in self._queue if not self._is_allowed(p.kind)]:
            self._queue.remove(p)
            self.dropped_updates.append(p.update)
            p.mark_delivered()
        forced = [p for p in self._queue if p.forced]
        regular = sorted((p for p in self._queue if not p.forced), key=lambda p: p.update_id)
        batch = (forced + regular)[:limit]
        for p in batch:
            p.mark_delivered()
            if p.forced:
                self._queue.remove(p)
        return [copy.deepcopy(p.update) for p in batch]

    async def _webhook_worker(self) -> None:
        while not self._closing:
            if self.webhook_url and self._queue:
                entry = self._queue.pop(0)
                await self._deliver(entry, self.webhook_url)
                continue
            await self._changed.wait()

    async def _deliver(self, entry: _Pending, url: str) -> None:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        status, error = None, None
        try:
            async with self._session.post(url, data=json.dumps(entry.update).encode(), headers=headers) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = repr(exc)
        self.webhook_deliveries.append(WebhookDelivery(entry.update_id, url, status, error, time.monotonic()))
        if status is None or not 200 <= status < 300:
            self._webhook_error = (int(time.time()), error or f"Wrong response from the webhook: {status}")
        if not entry.forced:
            self._confirmed = max(self._confirmed, entry.update_id)
        entry.mark_delivered()

    # ---- HTTP

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if self._file_path(stored) == path and stored.data is not None:
                return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = dict(request.query)
        if request.method == "POST" and request.body_exists:
            ctype = request.content_type
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                    else:
                        params[key] = value
            else:
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _bad_request("can't parse JSON object") from None
                    if not isinstance(body, dict):
                        raise _bad_request("JSON object expected")
                    params.update(body)
        return {key: _decode_value(key, value) for key, value in params.items()}

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        try:
            params = await self._read_params(request)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.error_code)
        method = canonical_method(request.match_info["method"])
        call = Call(len(self.calls), method, params, time.monotonic(), request.method)
        self.calls.append(call)
        # Long polls are not bot "activity": they run all the time.
        active = method != "getUpdates"
        if active:
            self._in_flight += 1
            self._last_activity = time.monotonic()
        try:
            body: JSONDict = {"ok": True, "result": await self._dispatch(method, params, request)}
            status = 200
        except ApiError as exc:
            body, status = exc.body(), exc.error_code
        except Exception as exc:  # a bug in the fake: make it loud in the test
            logger.exception("fake Bot API failed on %s", method)
            self.internal_errors.append(exc)
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"}
            status = 500
        finally:
            if active:
                self._in_flight -= 1
                self._last_activity = time.monotonic()
                self.revise()
        call.response = body
        call.answered_at = time.monotonic()
        self._call_done.set()
        self._call_done = asyncio.Event()
        return web.json_response(body, status=status)

    async def _dispatch(self, method: str, params: JSONDict, request: web.Request) -> Any:
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        for fault in self._faults:
            if fault.applies(method, params):
                fault.times -= 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.error_code is not None:
                    raise ApiError(fault.error_code, fault.description, fault.parameters)
                break
        self._faults = [f for f in self._faults if f.times > 0]
        if method.startswith(_CHAT_WRITE_PREFIXES) and self._chat_id(params, required=False) in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if method == "getUpdates":
            return await self._get_updates(params, request)
        handler = _API_HANDLERS.get(method)
        if handler is not None:
            return handler(self, params)
        raise ApiError(404, "Not Found")  # as Telegram answers a method it does not know

    # ---- parameter helpers

    def _chat_id(self, params: JSONDict, *, required: bool = True, key: str = "chat_id") -> Any:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if value in (None, "") and required:
            raise _bad_request(f"{key} is empty")
        return value

    def _chat(self, chat_id: Any) -> _Chat:
        if not isinstance(chat_id, int):
            raise _bad_request("chat not found")
        if chat_id not in self.chats:
            # Sends to chats no test person opened still work; they get a stub chat.
            info = (
                {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
                if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
            )
            self.chats[chat_id] = _Chat(info)
        return self.chats[chat_id]

    def _format(self, text: Any, parse_mode: Any, entities: Any, *, empty_ok: bool) -> tuple[str, list[JSONDict]]:
        text = "" if text is None else str(text)
        if entities:
            plain, ents = text, list(entities)
        elif isinstance(parse_mode, str) and parse_mode.lower() == "html":
            plain, ents = parse_html(text)
        else:
            plain, ents = text, []
        plain, ents = _trim(plain, ents)
        if not plain and not empty_ok:
            raise _bad_request("message text is empty")
        return plain, ents

    def _text_fields(self, params: JSONDict) -> JSONDict:
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), empty_ok=False
        )
        if _utf16_len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        fields: JSONDict = {"text": text}
        if entities:
            fields["entities"] = entities
        return fields

    def _caption_fields(self, caption: Any, parse_mode: Any, entities: Any) -> JSONDict:
        text, ents = self._format(caption, parse_mode, entities, empty_ok=True)
        if _utf16_len(text) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        fields: JSONDict = {}
        if text:
            fields["caption"] = text
        if ents:
            fields["caption_entities"] = ents
        return fields

    def _caption_of(self, item: JSONDict) -> JSONDict:
        """Caption fields of an InputMedia object or a send call."""
        return self._caption_fields(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        actions = (
            "url",
            "callback_data",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "web_app",
            "login_url",
            "pay",
            "callback_game",
            "copy_text",
        )
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
            raise _bad_request("reply markup is too long")
        text_only = _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not button.get("text"):
                raise text_only
            if not any(button.get(a) not in (None, "") for a in actions) and "callback_data" not in button:
                raise text_only
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")

    def _markup_fields(self, chat: _Chat | None, markup: Any) -> JSONDict:
        """The reply_markup part of a sent message; reply keyboards go to the chat."""
        if markup in (None, ""):
            return {}
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return {"reply_markup": {"inline_keyboard": markup["inline_keyboard"]}}
        if chat is not None:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        return {}

    def _new_message(self, chat: _Chat, params: JSONDict, fields: JSONDict) -> JSONDict:
        fields = {**fields, **self._markup_fields(chat, params.get("reply_markup"))}
        message = {
            "message_id": chat.next_message_id(),
            "from": self.bot_user,
            "chat": dict(chat.info),
            "date": int(time.time()),
            **fields,
        }
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id")
        if isinstance(reply_to, int) and reply_to in chat.messages:
            original = dict(chat.messages[reply_to])
            original.pop("reply_to_message", None)
            message["reply_to_message"] = original
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    def _stored_message(self, params: JSONDict, *, action: str) -> JSONDict | None:
        """The stored message an edit/delete call targets (None for inline messages)."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None or message_id not in chat.messages:
            raise _bad_request(f"message to {action} not found")
        return chat.messages[message_id]

    def _apply_edit(self, message: JSONDict, changes: JSONDict, drop: Iterable[str]) -> JSONDict:
        """Apply an edit in place, or raise "message is not modified" like Telegram."""
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        candidate = {k: v for k, v in message.items() if k not in drop and k != "edit_date"}
        candidate.update(changes)
        current = {k: v for k, v in message.items() if k != "edit_date"}
        if candidate == current:
            raise ApiError(400, NOT_MODIFIED)
        message.clear()
        message.update(candidate)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    # ---- files

    def _new_file(self, kind: str, **kwargs: Any) -> _StoredFile:
        n = next(self._file_ids)
        stored = _StoredFile(f"fake-{kind}-{n}", f"u-{kind}-{n}", kind, **kwargs)
        self.files[stored.file_id] = stored
        return stored

    def _file_input(self, value: Any, params: JSONDict, kind: str) -> _StoredFile:
        """Resolve an uploaded file, attach:// reference, known file_id or URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._new_file(kind, data=value.data, filename=value.filename, mime_type=value.content_type)
        if isinstance(value, str):
            if value in self.files:
                return self.files[value]
            if value.startswith(("http://", "https://")):
                # Telegram would download the URL; the fake never leaves 127.0.0.1.
                return self._new_file(kind, url=value)
        raise ApiError(400, WRONG_FILE)

    @staticmethod
    def _file_path(stored: _StoredFile) -> str:
        return f"{stored.kind}s/{stored.file_id}"

    def _media_fields(self, kind: str, stored: _StoredFile) -> JSONDict:
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
        if kind == "photo":
            small_id = stored.file_id + "-s"
            self.files.setdefault(small_id, stored)
            small = {**base, "file_id": small_id, "file_unique_id": stored.file_unique_id + "s"}
            small.update(width=90, height=90)
            return {"photo": [small, {**base, "width": 800, "height": 800}]}
        if kind in ("video", "animation"):
            extra = {"width": 640, "height": 480, "duration": 5}
        elif kind in ("audio", "voice"):
            extra = {"duration": 5}
        elif kind == "sticker":
            extra = {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        else:
            extra = {}
        if kind in ("document", "animation", "audio", "video") and stored.filename:
            extra["file_name"] = stored.filename
        if stored.mime_type and kind != "sticker":
            extra["mime_type"] = stored.mime_type
        return {kind: {**base, **extra}}

    # ---- long polling and webhooks

    async def _get_updates(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates") is not None:
            self._allowed = set(params["allowed_updates"]) or None
        # A newer getUpdates ends an older one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = time.monotonic() + timeout
        while True:
            if self._closing:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if self.webhook_url:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            transport = request.transport
            if transport is None or transport.is_closing():
                return []  # the client went away: keep its updates for the next poll
            batch = self._collect(offset, limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    @_api("getMe")
    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("setWebhook")
    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        if params.get("allowed_updates") is not None:
            self._allowed = set(params["allowed_updates"]) or None
        self.webhook_url = url
        self.webhook_secret = secret or None
        self._webhook_error = None
        self._notify()
        return True

    @_api("deleteWebhook")
    def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = ""
        self.webhook_secret = None
        self._notify()
        return True

    def _drop_pending(self) -> None:
        for entry in self._queue:
            self.dropped_updates.append(entry.update)
            entry.mark_delivered()
        self._queue.clear()

    @_api("getWebhookInfo")
    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ---- commands

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    @_api("setMyCommands")
    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        self.commands[self._commands_key(params)] = commands
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    @_api("deleteMyCommands")
    def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    # ---- sending

    @_api("sendMessage")
    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(self._chat_id(params))
        return self._new_message(chat, params, self._text_fields(params))

    def _send_media(self, kind: str, params: JSONDict) -> JSONDict:
        chat = self._chat(self._chat_id(params))
        if params.get(kind) in (None, ""):
            raise _bad_request(f"there is no {kind} in the request")
        stored = self._file_input(params[kind], params, kind)
        fields = self._media_fields(kind, stored)
        fields.update(self._caption_of(params))
        return self._new_message(chat, params, fields)

    @_api("sendPhoto")
    def _send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_media("photo", params)

    @_api("sendDocument")
    def _send_document(self, params: JSONDict) -> JSONDict:
        return self._send_media("document", params)

    # ---- invoices and payments

    def _invoice_spec(self, params: JSONDict) -> JSONDict:
        for name in ("title", "description", "payload", "currency"):
            if not params.get(name):
                raise _bad_request(f"{name} is empty" if name != "payload" else "invoice payload is empty")
        prices = params.get("prices")
        if not isinstance(prices, list) or not prices:
            raise _bad_request("prices are empty")
        if not all(isinstance(p, dict) and isinstance(p.get("amount"), int) for p in prices):
            raise _bad_request("can't parse prices JSON object")
        if params["currency"] == "XTR" and len(prices) != 1:
            # Telegram documents "exactly one item" for Stars; the wording here is ours.
            raise _bad_request("invoice in Telegram Stars must contain exactly one price")
        return {
            "title": params["title"],
            "description": params["description"],
            "payload": params["payload"],
            "provider_token": params.get("provider_token") or "",
            "currency": params["currency"],
            "prices": prices,
            "total_amount": sum(p["amount"] for p in prices),
            "start_parameter": params.get("start_parameter") or "",
            "params": params,
        }

    @_api("sendInvoice")
    def _send_invoice(self, params: JSONDict) -> JSONDict:
        chat = self._chat(self._chat_id(params))
        spec = self._invoice_spec(params)
        invoice = {k: spec[k] for k in ("title", "description", "start_parameter", "currency", "total_amount")}
        message = self._new_message(chat, params, {"invoice": invoice})
        self.invoices.append({**spec, "chat_id": chat.id, "message_id": message["message_id"]})
        return message

    def _answer_query(self, kind: str, params: JSONDict, key: str) -> bool:
        query_id = str(params.get(key) or "")
        if self._open_queries.get(query_id) != kind:
            raise ApiError(400, QUERY_INVALID)
        del self._open_queries[query_id]
        self.answers[query_id] = params
        return True

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, params: JSONDict) -> bool:
        return self._answer_query("callback_query", params, "callback_query_id")

    @_api("answerPreCheckoutQuery")
    def _answer_pre_checkout_query(self, params: JSONDict) -> bool:
        if params.get("ok") is not True and not params.get("error_message"):
            raise _bad_request("error_message is empty")
        return self._answer_query("pre_checkout_query", params, "pre_checkout_query_id")

    @_api("answerInlineQuery")
    def _answer_inline_query(self, params: JSONDict) -> bool:
        if not isinstance(params.get("results"), list):
            raise _bad_request("can't parse results JSON object")
        return self._answer_query("inline_query", params, "inline_query_id")

    @_api("refundStarPayment")
    def _refund_star_payment(self, params: JSONDict) -> bool:
        charge = self.charges.get(str(params.get("telegram_payment_charge_id") or ""))
        if charge is None or charge["user_id"] != self._chat_id(params, key="user_id"):
            raise _bad_request("CHARGE_NOT_FOUND")
        if charge["refunded"]:
            raise _bad_request("CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        return True

    # ---- editing and deleting

    def _markup_change(self, params: JSONDict) -> tuple[JSONDict, list[str]]:
        """Telegram drops the inline keyboard of an edited message unless it is re-sent."""
        fields = self._markup_fields(None, params.get("reply_markup"))
        return fields, ([] if fields else ["reply_markup"])

    @_api("editMessageText")
    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        changes = self._text_fields(params)
        message = self._stored_message(params, action="edit")
        if message is None:
            return True
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        markup, drop = self._markup_change(params)
        return self._apply_edit(message, {**changes, **markup}, ["entities", *drop])

    @_api("editMessageCaption")
    def _edit_message_caption(self, params: JSONDict) -> JSONDict | bool:
        changes = self._caption_of(params)
        message = self._stored_message(params, action="edit")
        if message is None:
            return True
        if not any(kind in message for kind in (*_MEDIA_KINDS, "caption")):
            raise _bad_request("there is no caption in the message to edit")
        markup, drop = self._markup_change(params)
        return self._apply_edit(message, {**changes, **markup}, ["caption", "caption_entities", *drop])

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        message = self._stored_message(params, action="edit")
        if message is None:
            return True
        markup, drop = self._markup_change(params)
        return self._apply_edit(message, markup, drop)

    @_api("deleteMessage")
    def _delete_message(self, params: JSONDict) -> bool:
        message = self._stored_message(params, action="delete")
        if message is not None:
            del self.chats[message["chat"]["id"]].messages[message["message_id"]]
        return True

    # ---- reads that PTB must be able to parse

    @_api("getFile")
    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": params["file_id"],
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": self._file_path(stored),
        }



# --------------------------------------------------------------------------- people


class Persona:
    """A person talking to the bot in their private chat (chat id = user id)."""

    def __init__(
        self,
        fake: BotApiEmulator,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        is_premium: bool | None,
    ):
        self.fake = fake
        self.id = user_id
        self.info: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
            ("is_premium", is_premium),
        ):
            if value is not None:
                self.info[key] = value
        self._mark = 0
        self._last_callback_id: str | None = None

    def __repr__(self) -> str:
        return f"Persona({self.id}, {self.info['first_name']!r})"

    @property
    def chat(self) -> _Chat:
        """This person's private chat with the bot."""
        return self.fake.chats[self.id]

    # ---- what the person sees

    @property
    def messages(self) -> list[JSONDict]:
        """The bot's current messages in this chat, oldest first, after edits and deletions."""
        return self.fake.messages(self.id)

    @property
    def last_message(self) -> JSONDict | None:
        """The bot's newest message in this chat."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def last_text(self) -> str | None:
        """Text (or caption) of the bot's newest message."""
        return _message_text(self.last_message)

    @property
    def texts(self) -> list[str | None]:
        """Text (or caption) of every current bot message, oldest first."""
        return [_message_text(m) for m in self.messages]

    def buttons(self, message: JSONDict | int | None = None) -> list[str]:
        """Inline button labels of `message`, or of the newest bot message with a keyboard."""
        target = (
            self._resolve(message)
            if message is not None
            else next((m for m in reversed(self.messages) if _inline_keyboard(m)), None)
        )
        return [b["text"] for row in _inline_keyboard(target) for b in row]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Rows of the reply keyboard the bot currently shows, or None."""
        markup = self.chat.reply_keyboard
        if markup is None:
            return None
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]

    @property
    def last_answer(self) -> JSONDict | None:
        """The bot's answerCallbackQuery params for this person's latest button press."""
        return self.fake.answers.get(self._last_callback_id or "")

    def sent_since(self, mark: int) -> list[Call]:
        """Calls from index `mark` that send, edit or delete in this chat."""
        return [
            c
            for c in self.fake.calls[mark:]
            if c.method.startswith(_REPLY_PREFIXES)
            and c.method != "sendChatAction"
            and self.fake._chat_id(c.params, required=False) == self.id
        ]

    @property
    def replies(self) -> list[Call]:
        """Send/edit/delete calls for this chat since this person's latest action began."""
        return self.sent_since(self._mark)

    @property
    def reply_texts(self) -> list[str | None]:
        """Texts (or captions) the bot successfully sent or edited since the latest action."""
        return [_message_text(c.result) for c in self.replies if c.ok and isinstance(c.result, dict)]

    # ---- actions

    def _begin(self) -> None:
        self._mark = self.fake._action_mark = self.fake.mark()

    def _message(self, **fields: Any) -> JSONDict:
        return {
            "message_id": self.chat.next_message_id(),
            "from": dict(self.info),
            "chat": dict(self.chat.info),
            "date": int(time.time()),
            **fields,
        }

    async def _push(self, update_body: JSONDict, *, wait: bool, forced: bool = False) -> JSONDict:
        update = {"update_id": self.fake.next_update_id(), **update_body}
        message = update.get("message")
        if message is not None:
            self.chat.messages[message["message_id"]] = message
        entry = self.fake._enqueue(copy.deepcopy(update), forced=forced)
        self.fake.revise()
        if wait:
            await self.fake.settle(entry)
        return update

    async def send(self, text: str, *, reply_to: JSONDict | int | None = None, wait: bool = True) -> JSONDict:
        """Send a text message (a leading /command gets its bot_command entity)."""
        self._begin()
        fields: JSONDict = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}]
        if reply_to is not None:
            fields["reply_to_message"] = copy.deepcopy(self._resolve(reply_to))
        return await self._push({"message": self._message(**fields)}, wait=wait)

    async def send_contact(
        self,
        phone_number: str,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        user_id: int | None = None,
        wait: bool = True,
    ) -> JSONDict:
        """Share a contact (by default this person's own, as the "share phone" button does)."""
        self._begin()
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or self.info["first_name"],
            "user_id": self.id if user_id is None else user_id,
        }
        if last_name:
            contact["last_name"] = last_name
        return await self._push({"message": self._message(contact=contact)}, wait=wait)

    async def send_media(
        self,
        kind: str,
        data: bytes = b"",
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        caption: str | None = None,
        wait: bool = True,
    ) -> JSONDict:
        """Send a file message of `kind` ("document", "photo", "video", "sticker", ...). The fake keeps the bytes,
        so getFile and the file URL serve them; `size` replaces the file_size the message reports."""
        self._begin()
        stored = self.fake._new_file(kind, data=data, filename=filename, mime_type=mime_type)
        fields = self.fake._media_fields(kind, stored)
        if size is not None:
            for item in fields[kind] if isinstance(fields[kind], list) else [fields[kind]]:
                item["file_size"] = size
        if caption is not None:
            fields["caption"] = caption
        return await self._push({"message": self._message(**fields)}, wait=wait)

    async def send_document(
        self, data: bytes, filename: str = "file.pdf", mime_type: str = "application/pdf", **options: Any
    ) -> JSONDict:
        """Send a file as a file (📎 → File); see `send_media` for the options."""
        return await self.send_media("document", data, filename=filename, mime_type=mime_type, **options)

    async def send_photo(self, data: bytes = b"\xff\xd8\xff\xe0 picture", **options: Any) -> JSONDict:
        """Send a picture (Telegram gives it in several sizes); see `send_media` for the options."""
        return await self.send_media("photo", data, mime_type="image/jpeg", **options)

    async def tap(self, label: str, *, wait: bool = True) -> JSONDict:
        """Tap a reply-keyboard button (exact label, else substring): sends its text, or the contact."""
        markup = self.chat.reply_keyboard
        buttons = [b for row in (markup or {}).get("keyboard", []) for b in row]
        labels = [button if isinstance(button, str) else button.get("text") for button in buttons]
        # Exact label first, then a label containing it (as press() does).
        matches = [i for i, text in enumerate(labels) if text == label] or [
            i for i, text in enumerate(labels) if label in (text or "")]
        if matches:
            button, text = buttons[matches[0]], labels[matches[0]]
            if isinstance(button, dict) and button.get("request_contact"):
                return await self.send_contact("+1 202 555 0143", wait=wait)
            return await self.send(text, wait=wait)
        raise AssertionError(f"no reply-keyboard button {label!r}; keyboard: {self.reply_keyboard}")

    def _resolve(self, message: JSONDict | int) -> JSONDict:
        message_id = message["message_id"] if isinstance(message, dict) else message
        stored = self.chat.messages.get(message_id)
        if stored is None:
            raise AssertionError(f"message {message_id} is not (or no longer) in chat {self.id}")
        return stored

    def _visible_buttons(self) -> str:
        lines = [
            f"  message {m['message_id']} ({_message_text(m)!r}): "
            + " | ".join(b["text"] for row in _inline_keyboard(m) for b in row)
            for m in reversed(self.messages)
            if _inline_keyboard(m)
        ]
        return "\n".join(lines) or "  (no inline keyboards)"

    def _find_button(self, label: str, message: JSONDict | int | None) -> tuple[JSONDict, JSONDict]:
        candidates = [self._resolve(message)] if message is not None else list(reversed(self.messages))
        for msg in candidates:
            buttons = [b for row in _inline_keyboard(msg) for b in row]
            exact = [b for b in buttons if b.get("text") == label]
            partial = [b for b in buttons if label in b.get("text", "")]
            if not exact and len(partial) > 1:
                raise AssertionError(
                    f"{label!r} matches several buttons of message {msg['message_id']}: {[b['text'] for b in partial]}"
                )
            if exact or partial:
                return (exact or partial)[0], msg
        raise AssertionError(
            f"no button {label!r} to press in chat {self.id}; visible buttons:\n{self._visible_buttons()}"
        )

    async def press(self, label: str, *, message: JSONDict | int | None = None, wait: bool = True) -> JSONDict:
        """Press the inline button labelled `label` (exact, else substring; newest message first)."""
        button, msg = self._find_button(label, message)
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} is not a callback button: {button}")
        return await self._callback(button["callback_data"], msg, wait=wait)

    async def press_data(self, data: str, *, message: JSONDict | int | None = None, wait: bool = True) -> JSONDict:
        """Send a callback query with arbitrary (possibly forged) data."""
        if message is not None:
            msg: JSONDict | None = self._resolve(message)
        else:
            msg = next((m for m in reversed(self.messages) if _inline_keyboard(m)), self.last_message)
        return await self._callback(data, msg, wait=wait)

    async def _callback(self, data: str, message: JSONDict | None, *, wait: bool) -> JSONDict:
        self._begin()
        query_id = str(next(self.fake._query_ids))
        self.fake._open_queries[query_id] = "callback_query"
        self._last_callback_id = query_id
        query: JSONDict = {
            "id": query_id,
            "from": dict(self.info),
            "chat_instance": f"-{self.fake.bot_id}{self.id}",
            "data": data,
        }
        if message is not None:
            query["message"] = copy.deepcopy(message)
        return await self._push({"callback_query": query}, wait=wait)

    def _invoice(self, invoice_message: JSONDict | int | None) -> JSONDict:
        if invoice_message is not None:
            message_id = invoice_message["message_id"] if isinstance(invoice_message, dict) else invoice_message
            found = [i for i in self.fake.invoices if i["chat_id"] == self.id and i["message_id"] == message_id]
        else:
            found = [i for i in self.fake.invoices if i["chat_id"] == self.id]
        if not found:
            raise AssertionError(f"no invoice {invoice_message!r} was sent to chat {self.id}")
        return found[-1]

    async def pre_checkout(
        self,
        invoice_message: JSONDict | int | None = None,
        total_amount: int | None = None,
        currency: str | None = None,
        payload: str | None = None,
        *,
        timeout: float | None = None,
        settle: bool = True,
    ) -> JSONDict:
        """Start paying an invoice (default: the latest sent here); return the bot's answer params
        (once the bot is quiet again, unless `settle` is False)."""
        invoice = self._invoice(invoice_message)
        query = {
            "currency": currency or invoice["currency"],
            "total_amount": invoice["total_amount"] if total_amount is None else total_amount,
            "invoice_payload": invoice["payload"] if payload is None else payload,
        }
        return await self._ask("pre_checkout_query", query, timeout=timeout, settle=settle)

    async def _ask(self, kind: str, query: JSONDict, *, timeout: float | None, settle: bool) -> JSONDict:
        """Send a query of `kind` (pre_checkout_query, inline_query) and return the bot's answer's params
        (NoAnswer when none comes in time or the emulator refused it)."""
        self._begin()
        query_id = str(next(self.fake._query_ids))
        self.fake._open_queries[query_id] = kind
        await self._push({kind: {"id": query_id, "from": dict(self.info), **query}}, wait=False)
        method = {"pre_checkout_query": "answerPreCheckoutQuery", "inline_query": "answerInlineQuery"}[kind]
        call = await self.fake.wait_for(
            method,
            lambda c: str(c.params.get(f"{kind}_id")) == query_id,
            timeout=self.fake.settle_timeout if timeout is None else timeout,
            since=self._mark,
        )
        if not call.ok:
            raise NoAnswer(f"the bot's answer was refused: {call.summary()}")
        if settle:
            await self._quiet()
        return call.params

    async def pay(
        self,
        invoice_message: JSONDict | int | None = None,
        charge_id: str | None = None,
        provider_charge_id: str | None = None,
        *,
        total_amount: int | None = None,
        currency: str | None = None,
        payload: str | None = None,
        wait: bool = True,
    ) -> JSONDict:
        """Complete a payment: send a successful_payment message and return its update."""
        invoice = self._invoice(invoice_message)
        self._begin()
        n = next(self.fake._charge_ids)
        charge_id = charge_id or f"fake-charge-{self.id}-{n}"
        payment = {
            "currency": currency or invoice["currency"],
            "total_amount": invoice["total_amount"] if total_amount is None else total_amount,
            "invoice_payload": invoice["payload"] if payload is None else payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id or f"fake-provider-{n}",
        }
        self.fake.charges.setdefault(
            charge_id,
            {"user_id": self.id, "refunded": False, **payment},
        )
        invoice["paid"] = True  # Telegram shows a paid invoice's receipt, not its Pay button
        return await self._push({"message": self._message(successful_payment=payment)}, wait=wait)

    async def inline_query(self, query: str, offset: str = "", *, timeout: float | None = None,
                           settle: bool = True) -> JSONDict:
        """Type `@bot query` anywhere; return the bot's answerInlineQuery params (once the bot is quiet
        again, unless `settle` is False)."""
        body = {"query": query, "offset": offset, "chat_type": "sender"}
        return await self._ask("inline_query", body, timeout=timeout, settle=settle)

    async def send_inline_result(self, result: JSONDict, *, wait: bool = True) -> JSONDict:
        """Send a chosen inline result into this chat, as Telegram does: this person's message, via the bot."""
        self._begin()
        content = result.get("input_message_content") or {}
        text, entities = self.fake._format(content.get("message_text"), content.get("parse_mode"),
                                           content.get("entities"), empty_ok=False)
        fields: JSONDict = {"text": text, "via_bot": self.fake.bot_user}
        if entities:
            fields["entities"] = entities
        fields.update(self.fake._markup_fields(None, result.get("reply_markup")))
        return await self._push({"message": self._message(**fields)}, wait=wait)

    async def _quiet(self) -> None:
        done = _Pending({"update_id": 0, "noop": True}, forced=False)
        done.mark_delivered()
        await self.fake.settle(done)
