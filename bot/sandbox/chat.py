"""The sandbox's web chat: a page on the bot's own HTTP server that acts as Telegram for six people.

    GET  /                               the page (static/index.html, chat.js, chat.css)
    GET  /sandbox/api/personas           who the page can act as, and the bot's username
    GET  /sandbox/api/chat?persona=&seen=  a persona's chat once it changed since revision `seen` (long poll)
    POST /sandbox/api/send               {persona, text}: a message typed in the box
    POST /sandbox/api/attach             multipart {persona, file}: a picture (as a photo) or any other file
    POST /sandbox/api/press              {persona, message, row, col}: an inline button
    POST /sandbox/api/tap                {persona, row, col}: a reply-keyboard button (Share my contact too)
    POST /sandbox/api/pay                {persona, message}: Pay (test) on an invoice
    POST /sandbox/api/inline             {persona, query, offset}: "@bot words" typed in the box
    POST /sandbox/api/inline/choose      {persona, query_id, result_id}: an inline result sent into the chat
    POST /sandbox/api/reset              start again on a fresh demo store
    GET  /sandbox/file/{boot}/{file_id}  a file in a chat (photos, documents) of this start of the sandbox

Everything goes through the Bot API emulator as Telegram would deliver it: a message, a callback
query (answered with a toast or an alert), a pre-checkout query then a successful payment, an
inline query. Input a person can't produce in Telegram gets a 400 with a one-line reason.

Only the page acts: on loopback (the default) a request must name the machine itself as its host
(a page of another site that renamed itself to 127.0.0.1 by DNS can't), and a request another
site's page makes is refused by its origin. Every start has a boot id: the page reloads when it
changes, and file addresses carry it, so a browser never shows a picture from before a Reset.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import BodyPartReader, web

from bot.sandbox import render
from bot.sandbox.emulator import MAX_TEXT_LENGTH, BotApiEmulator, NoAnswer, Persona
from bot.sandbox.personas import BY_ID, PERSONAS
from store.services.digital import FILE_MAX_BYTES, PHOTO_MAX_BYTES

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]

LONG_POLL_SECONDS = 20.0
ANSWER_SECONDS = 10.0  # Telegram waits about this long for a pre-checkout or inline answer
MAX_BODY_BYTES = 64 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
SURROGATE = re.compile("[\ud800-\udfff]")
SHOWN_MESSAGES = 200  # the newest messages of a chat the page draws
FILE_URL = "/sandbox/file"
STATIC = resources.files("bot.sandbox") / "static"
STATIC_TYPES = {"index.html": "text/html", "chat.js": "text/javascript", "chat.css": "text/css"}


@dataclasses.dataclass
class Sandbox:
    """What the page's requests act on: the emulator, its people, and the way to ask for a reset."""

    emulator: BotApiEmulator
    reset: asyncio.Event
    open_to_all: bool = False  # HTTP_HOST is not loopback: any host name may reach the page
    closing: bool = False  # stopping for a reset or for good: the page waits and tries again
    boot: str = dataclasses.field(default_factory=lambda: secrets.token_hex(4))
    paying: set[tuple[int, int]] = dataclasses.field(default_factory=set)  # invoices being paid now
    people: dict[int, Persona] = dataclasses.field(default_factory=dict)
    # The inline results each person was last shown, to send the one they choose.
    shown_results: dict[int, dict[str, JSONDict]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for persona in PERSONAS:
            self.people[persona.user_id] = self.emulator.user(
                persona.user_id, persona.first_name, username=persona.username, language_code="en")


SANDBOX = web.AppKey("sandbox", Sandbox)


class BadInput(Exception):
    """A request the page would never send; the message is the 400's reason."""


def _refuse(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _body(request: web.Request) -> JSONDict:
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise BadInput("the request is too large")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any page sends
        raise BadInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _integer(body: JSONDict, name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise BadInput(f"{name} must be a whole number")
    return value


def _person(sandbox: Sandbox, body: JSONDict) -> Persona:
    chosen = body.get("persona")
    person = sandbox.people.get(chosen) if isinstance(chosen, int) else None
    if person is None:
        raise BadInput("persona must be one of the sandbox's people")
    return person


def _text(body: JSONDict, name: str, *, empty_ok: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text")
    if not value.strip() and not empty_ok:
        raise BadInput("type something first")
    if SURROGATE.search(value):
        raise BadInput(f"{name} has half a character in it (a lone surrogate), which no keyboard types")
    return value


Route = Callable[[web.Request], Awaitable[web.Response]]


def _unwelcome(request: web.Request, *, acting: bool) -> web.Response | None:
    """A refusal for a request that is not the page's own (or comes while the sandbox restarts), else None."""
    sandbox = request.app[SANDBOX]
    if not sandbox.open_to_all and urlsplit(f"//{request.host}").hostname not in ("127.0.0.1", "localhost", "::1"):
        return _refuse("this sandbox answers on 127.0.0.1 only", 403)
    origin = request.headers.get("Origin")
    if acting and origin is not None and urlsplit(origin).netloc != request.host:
        return _refuse("requests from other sites are refused", 403)
    if sandbox.closing:
        return _refuse("the sandbox is starting again", 503)
    return None


def reading(handler: Route) -> Route:
    """A GET route of the page's: refused for another host name, or while the sandbox restarts."""

    async def route(request: web.Request) -> web.Response:
        return _unwelcome(request, acting=False) or await handler(request)

    return route


def action(handler: Callable[[Sandbox, JSONDict], Awaitable[JSONDict]]) -> Route:
    """A POST route: parse the JSON body, act, answer JSON; bad input gets a 400 and changes nothing.

    Only the page's own requests act: JSON (which another site's page can't send without asking
    first), from no other origin.
    """

    async def route(request: web.Request) -> web.Response:
        if (refused := _unwelcome(request, acting=True)) is not None:
            return refused
        if request.content_type != "application/json":
            return _refuse("send JSON (Content-Type: application/json)", 415)
        try:
            body = await _body(request)
            return web.json_response(await handler(request.app[SANDBOX], body))
        except BadInput as exc:
            return _refuse(str(exc))

    return route


# ---- reading


async def page(request: web.Request) -> web.Response:
    """The web chat itself, or one of its two files."""
    name = request.match_info.get("name", "index.html")
    if name not in STATIC_TYPES:
        return _refuse("not found", 404)
    return web.Response(body=(STATIC / name).read_bytes(), content_type=STATIC_TYPES[name],
                        headers={"Cache-Control": "no-cache"})


@reading
async def personas(request: web.Request) -> web.Response:
    """Who the page can act as, and which start of the sandbox this is."""
    sandbox = request.app[SANDBOX]
    people = [{"id": p.user_id, "name": p.first_name, "role": p.role} for p in PERSONAS]
    return web.json_response({"bot": sandbox.emulator.bot_username, "boot": sandbox.boot, "personas": people})


def chat_view(sandbox: Sandbox, person: Persona) -> JSONDict:
    """A person's chat as the page draws it, with how many bot messages each chat holds (for badges)."""
    emulator = sandbox.emulator

    def file_link(file_id: str) -> str | None:
        stored = emulator.files.get(file_id)
        return f"{FILE_URL}/{sandbox.boot}/{file_id}" if stored is not None and stored.data is not None else None

    paid = {(i["chat_id"], i["message_id"]) for i in emulator.invoices if i.get("paid")}
    messages = list(person.chat.messages.values())[-SHOWN_MESSAGES:]
    return {
        "revision": emulator.revision,
        "boot": sandbox.boot,
        "messages": [render.message_view(m, bot_id=emulator.bot_id, bot_username=emulator.bot_username,
                                         file_link=file_link, paid=(person.id, m["message_id"]) in paid)
                     for m in messages],
        "keyboard": render.reply_keyboard_view(person.chat.reply_keyboard),
        "counts": {str(p.user_id): len(emulator.messages(p.user_id)) for p in PERSONAS},
    }


@reading
async def chat(request: web.Request) -> web.Response:
    """A person's chat, as soon as anything changed since the revision the page has (or after 20 s)."""
    sandbox = request.app[SANDBOX]
    try:
        person = sandbox.people.get(int(request.query.get("persona", "")))
    except ValueError:
        person = None
    if person is None:
        return _refuse("persona must be one of the sandbox's people")
    try:
        seen = int(request.query.get("seen", "-1"))
    except ValueError:
        return _refuse("seen must be a whole number: the revision the page has")
    await sandbox.emulator.next_revision(seen, LONG_POLL_SECONDS)
    if sandbox.closing:
        return _refuse("the sandbox is starting again", 503)
    return web.json_response(chat_view(sandbox, person))


def _disposition(filename: str) -> str:
    """A Content-Disposition naming the file: plain ASCII for old clients, the real name per RFC 6266."""
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", filename) or "file"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


@reading
async def file(request: web.Request) -> web.Response:
    """The bytes of a file in a chat, at an address of this start of the sandbox."""
    sandbox = request.app[SANDBOX]
    stored = sandbox.emulator.files.get(request.match_info["file_id"])
    if request.match_info["boot"] != sandbox.boot or stored is None or stored.data is None:
        return _refuse("no such file", 404)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if stored.kind != "photo":
        headers["Content-Disposition"] = _disposition(stored.filename or "file")
    content_type = stored.mime_type if stored.kind == "photo" and stored.mime_type in PHOTO_TYPES else None
    return web.Response(body=stored.data, content_type=content_type or "application/octet-stream", headers=headers)


# ---- acting


def telegram_pieces(text: str) -> list[str]:
    """`text` cut as Telegram cuts a long message: at most 4,096 UTF-16 units each, never inside a character."""
    pieces, current, units = [], [], 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if units + size > MAX_TEXT_LENGTH:
            pieces.append("".join(current))
            current, units = [], 0
        current.append(char)
        units += size
    pieces.append("".join(current))
    return pieces


@action
async def send(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """A typed message; longer than Telegram's 4,096 characters, it goes as several, as Telegram splits it."""
    person, text = _person(sandbox, body), _text(body, "text")
    for piece in telegram_pieces(text):
        await person.send(piece, wait=False)
    return {"sent": True}


def _clean_filename(name: str) -> str:
    """A file name as a chat shows it: no control characters or path, at most 128 characters."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:128] or "file"


async def attach(request: web.Request) -> web.Response:
    """A file from the 📎 button: a picture goes as a photo (as Telegram compresses it), anything else as a file,
    each within the size the bot accepts (10 MB for a photo, 50 MB for a file)."""
    if (refused := _unwelcome(request, acting=True)) is not None:
        return refused
    sandbox = request.app[SANDBOX]
    fields: dict[str, Any] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ValueError("nested multipart")
            if part.name == "persona":
                fields["persona"] = int((await part.read_chunk()).decode())  # one chunk: a few digits
            elif part.name == "file":
                content_type = part.headers.get("Content-Type", "")
                most = PHOTO_MAX_BYTES if content_type in PHOTO_TYPES else FILE_MAX_BYTES
                data = bytearray()
                while chunk := await part.read_chunk(256 * 1024):
                    data += chunk
                    if len(data) > most:
                        return _refuse(f"the file is larger than {most // 2**20} MB")
                fields["file"] = (bytes(data), _clean_filename(part.filename or ""), content_type)
    except (ValueError, AssertionError, KeyError, LookupError):  # not multipart, or not what the page sends
        return _refuse("send a persona and a file as multipart/form-data")
    try:
        person = _person(sandbox, fields)
    except BadInput as exc:
        return _refuse(str(exc))
    if not fields.get("file") or not fields["file"][0]:
        return _refuse("choose a file first")
    data, filename, content_type = fields["file"]
    kind = "photo" if content_type in PHOTO_TYPES else "document"
    await person.send_media(kind, data, filename=filename, mime_type=content_type or None, wait=False)
    return web.json_response({"sent": kind})


def _message(person: Persona, body: JSONDict) -> JSONDict:
    message = person.chat.messages.get(_integer(body, "message"))
    if message is None:
        raise BadInput("that message is no longer in the chat")
    return message


@action
async def press(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """An inline button: a callback query (the bot's answer comes back for a toast or an alert), or a link."""
    person = _person(sandbox, body)
    message = _message(person, body)
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    row, col = _integer(body, "row"), _integer(body, "col")
    if row >= len(rows) or col >= len(rows[row]):
        raise BadInput("that button is no longer there")
    button = rows[row][col]
    if "url" in button:
        payload = render.deep_link(button["url"], sandbox.emulator.bot_username)
        if payload is None:
            return {"open": button["url"]} if render.web_address(button["url"]) else {"answer": None}
        await person.send(f"/start {payload}".rstrip(), wait=False)
        return {"sent": True}
    if "callback_data" not in button:
        raise BadInput("that button does nothing here")
    mark = sandbox.emulator.mark()
    update = await person.press_data(button["callback_data"], message=message, wait=False)
    query_id = update["callback_query"]["id"]
    try:
        call = await sandbox.emulator.wait_for(
            "answerCallbackQuery", lambda c: str(c.params.get("callback_query_id")) == query_id,
            timeout=ANSWER_SECONDS, since=mark)
    except NoAnswer:
        return {"answer": None}
    return {"answer": {"text": call.params.get("text") or "", "alert": bool(call.params.get("show_alert"))}}


@action
async def tap(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """A reply-keyboard button: its text, or the person's own contact for Share my contact."""
    person = _person(sandbox, body)
    rows = (person.chat.reply_keyboard or {}).get("keyboard") or []
    row, col = _integer(body, "row"), _integer(body, "col")
    if row >= len(rows) or col >= len(rows[row]):
        raise BadInput("that button is no longer there")
    button = rows[row][col]
    if isinstance(button, dict) and button.get("request_contact"):
        await person.send_contact(BY_ID[person.id].phone, wait=False)
    else:
        await person.send(button if isinstance(button, str) else button.get("text", ""), wait=False)
    return {"sent": True}


@action
async def pay(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """Pay (test): the pre-checkout query first; the payment only when the bot accepts it. As in Telegram, an
    invoice is paid once: a second tap while it is being paid, or after, pays nothing."""
    person = _person(sandbox, body)
    message = _message(person, body)
    if "invoice" not in message:
        raise BadInput("that message is not an invoice")
    invoice = (person.id, message["message_id"])
    if invoice in sandbox.paying:
        return {"paid": False, "error": "This invoice is being paid."}
    if any(i.get("paid") for i in sandbox.emulator.invoices if (i["chat_id"], i["message_id"]) == invoice):
        return {"paid": False, "error": "This invoice is paid already."}
    sandbox.paying.add(invoice)
    try:
        answer = await person.pre_checkout(message, timeout=ANSWER_SECONDS, settle=False)
        if not answer.get("ok"):
            return {"paid": False, "error": answer.get("error_message") or "The shop refused the payment."}
        await person.pay(message, wait=False)
    except NoAnswer:
        return {"paid": False, "error": "The shop did not answer in time. Nothing was charged."}
    finally:
        sandbox.paying.discard(invoice)
    return {"paid": True}


@action
async def inline(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """``@bot words``: the bot's inline results for them."""
    person = _person(sandbox, body)
    query, offset = _text(body, "query", empty_ok=True)[:256], _text(body, "offset", empty_ok=True)[:64]
    try:
        answer = await person.inline_query(query, offset, timeout=ANSWER_SECONDS, settle=False)
    except NoAnswer:
        return {"results": [], "next_offset": ""}
    results = [r for r in answer.get("results") or [] if isinstance(r, dict)]
    shown = sandbox.shown_results.setdefault(person.id, {})
    if not offset:
        shown.clear()
    shown.update({str(r.get("id")): r for r in results})
    return {"results": [render.inline_result_view(r) for r in results], "next_offset": answer.get("next_offset", "")}


@action
async def choose(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """An inline result tapped: sent into the chat as the person's message, via the bot."""
    person = _person(sandbox, body)
    result = sandbox.shown_results.get(person.id, {}).get(str(body.get("result_id")))
    if result is None:
        raise BadInput("that result is no longer offered: type the query again")
    await person.send_inline_result(result, wait=False)
    return {"sent": True}


@action
async def reset(sandbox: Sandbox, body: JSONDict) -> JSONDict:
    """Start again on a fresh demo store (the page reloads once the sandbox answers again)."""
    sandbox.reset.set()
    return {"resetting": True}


def install(app: web.Application, sandbox: Sandbox) -> None:
    """Serve the web chat from the bot's HTTP server."""
    app[SANDBOX] = sandbox
    app.router.add_get("/", page)
    app.router.add_get("/sandbox/{name}", page)
    app.router.add_get("/sandbox/api/personas", personas)
    app.router.add_get("/sandbox/api/chat", chat)
    app.router.add_get(FILE_URL + "/{boot}/{file_id}", file)
    app.router.add_post("/sandbox/api/send", send)
    app.router.add_post("/sandbox/api/attach", attach)
    app.router.add_post("/sandbox/api/press", press)
    app.router.add_post("/sandbox/api/tap", tap)
    app.router.add_post("/sandbox/api/pay", pay)
    app.router.add_post("/sandbox/api/inline", inline)
    app.router.add_post("/sandbox/api/inline/choose", choose)
    app.router.add_post("/sandbox/api/reset", reset)
