"""Handler tests without a network: the real Application and store, a Bot API that answers in memory.

As python-telegram-bot's own tests do, the bot gets a request object that records each call and
answers it at once (:class:`RecordingRequest`); updates go through the inbox and
``ShopApplication.apply`` exactly as the dispatcher sends them, so handlers run under the same
contract (short transactions, the first write marks the update applied). No server, no polling:
a test reads what the bot said from ``person.said`` and ``person.answers``.

Use the HTTP fake (bot/sandbox/emulator.py) for what it adds: real HTTP, long polling and webhooks,
payments, files, concurrency and processes.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from bot.config import Settings
from bot.dispatcher import incoming
from bot.startup import prepare_store
from store.models import utcnow
from store.services import inbox

from .conftest import TOKEN

BOT_ID = int(TOKEN.split(":")[0])
OWNER = "offline-test"
# What a call answers beyond ``True``: the bot itself, or the message it sent or edited.
MESSAGE_METHODS = {"sendMessage", "sendPhoto", "sendInvoice", "editMessageText", "editMessageCaption",
                   "editMessageReplyMarkup"}


@dataclass(frozen=True)
class Call:
    """One Bot API call the bot made: its method and parameters."""

    method: str
    params: dict[str, Any]


class RecordingRequest(BaseRequest):
    """A Bot API in memory: records every call and answers it as Telegram would, at once."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(name, params))
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> object:
        if name == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "chatshop", "username": "chatshop_test_bot"}
        if name not in MESSAGE_METHODS:
            return True
        message_id = params.get("message_id") or next(self._message_ids)
        message: dict[str, Any] = {"message_id": message_id, "date": int(utcnow().timestamp()),
                                   "chat": {"id": params.get("chat_id", 0), "type": "private"}}
        if "text" in params:
            message["text"] = params["text"]
        if "inline_keyboard" in (params.get("reply_markup") or {}):
            message["reply_markup"] = params["reply_markup"]
        return message


@dataclass
class Person:
    """Someone in a private chat with the bot; what the bot said to them is read from the recorded calls."""

    shop: OfflineShop
    id: int
    first_name: str
    _seen: int = field(default=0, repr=False)

    @property
    def info(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": "en"}

    def _calls(self, *methods: str) -> list[Call]:
        return [call for call in self.shop.request.calls
                if call.method in methods and str(call.params.get("chat_id")) == str(self.id)]

    @property
    def said(self) -> list[str]:
        """Every text the bot sent or edited into this chat, oldest first."""
        return [call.params.get("text") or call.params.get("caption") or ""
                for call in self._calls("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")]

    @property
    def last_text(self) -> str:
        return self.said[-1] if self.said else ""

    @property
    def answers(self) -> list[Call]:
        """The bot's answers to this person's button presses (the small pop-up or alert)."""
        mine = {str(query_id) for query_id in self.shop.queries_by.get(self.id, ())}
        return [call for call in self.shop.request.calls
                if call.method == "answerCallbackQuery" and str(call.params.get("callback_query_id")) in mine]

    def buttons(self) -> list[tuple[str, str]]:
        """The inline buttons of the last message with any, as (label, callback data)."""
        for call in reversed(self._calls(*MESSAGE_METHODS)):
            keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard")
            if keyboard:
                return [(b["text"], b["callback_data"]) for row in keyboard for b in row if "callback_data" in b]
        return []

    async def send(self, text: str) -> None:
        """Type ``text`` (a command when it starts with "/")."""
        if not text.startswith("/"):
            await self._message(text=text)
            return
        await self._message(text=text, entities=[{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}])

    async def press(self, label: str) -> None:
        """Press the button labelled ``label`` (or containing it) on the last message with buttons."""
        found = [data for text, data in self.buttons() if label in text]
        assert found, f"no button {label!r} in {self.buttons()}"
        await self.press_data(found[0])

    async def press_data(self, data: str, *, inline: bool = False) -> None:
        """Send a button press with any callback data (as a forged or stale button would); ``inline``: a
        button under a message sent in inline mode (the query names it, and carries no message)."""
        query_id = next(self.shop.query_ids)
        self.shop.queries_by.setdefault(self.id, []).append(query_id)
        query: dict[str, Any] = {"id": str(query_id), "from": self.info, "data": data, "chat_instance": f"-{self.id}"}
        if inline:
            query["inline_message_id"] = f"inline-{query_id}"
        else:
            query["message"] = {"message_id": 1, "date": 0, "chat": {"id": self.id, "type": "private"}, "text": "…"}
        await self.shop.deliver({"callback_query": query})

    async def send_contact(self, phone_number: str) -> None:
        """Share a contact (this person's own, as the "share my contact" button does)."""
        await self._message(contact={"phone_number": phone_number, "first_name": self.first_name,
                                     "user_id": self.id})

    async def send_photo(self) -> None:
        """Send a picture."""
        await self._message(photo=[{"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90}])

    async def _message(self, **content: Any) -> None:
        await self.shop.deliver({"message": {
            "message_id": next(self.shop.message_ids), "date": int(utcnow().timestamp()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name}, "from": self.info,
            **content}})


class OfflineShop:
    """The real bot on a real store, its Bot API in memory; each update goes through the inbox."""

    def __init__(self, database_url: str, **settings: object) -> None:
        self.settings = Settings(_env_file=None, bot_token=TOKEN, database_url=database_url, http_port=0,
                                 **settings)
        self.request = RecordingRequest()
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.query_ids = itertools.count(1)
        self.queries_by: dict[int, list[int]] = {}
        self.application = None

    async def __aenter__(self) -> OfflineShop:
        await prepare_store(self.settings, migrate=True)
        self.application = build_application(self.settings, search_refresh_interval=0, request=self.request)
        await self.application.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.application.shutdown()
        await self.application.shop.db.dispose()

    def person(self, user_id: int, first_name: str = "Ann") -> Person:
        return Person(self, user_id, first_name)

    async def deliver(self, body: dict[str, Any]) -> None:
        """Receive an update into the inbox and apply it, as the dispatcher does; fail on a handler error."""
        data = {"update_id": next(self.update_ids), **body}
        update = Update.de_json(data, self.application.bot)
        db = self.application.shop.db
        async with db.transaction() as session:
            _, taken = await inbox.receive(session, [incoming(update, json.dumps(data))], OWNER, utcnow(),
                                           timedelta(minutes=1))
        assert [t.update_id for t in taken] == [update.update_id]
        outcome = await self.application.apply(update, OWNER)
        async with db.transaction() as session:
            await inbox.finish(session, OWNER, utcnow(), done=[update.update_id])
        assert outcome in ("ok", "unhandled"), f"update {update.update_id} ended {outcome}"
