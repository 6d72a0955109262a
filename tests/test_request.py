"""AiohttpRequest against real HTTP servers on 127.0.0.1: what goes on the wire, and how errors map.

A small recording server (below) checks the bytes against PTB's own HTTPXRequest;
`BotApiEmulator` plays Telegram for error answers, long polling and a whole Application.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.request import AiohttpRequest
from bot.sandbox.emulator import BotApiEmulator

TOKEN = "424242:request-tests-token-0123456789"
CHAT = {"id": 42, "type": "private", "first_name": "Ann"}
MESSAGE = {"message_id": 1, "date": 1_700_000_000, "chat": CHAT}


class Recorder:
    """A Bot API stand-in that records each request's headers and body, and answers canned JSON."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Recorder:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Cancel handlers whose client gave up, so the slow endpoint does not outlive its test.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()

    def last(self, method: str) -> dict:
        """The latest recorded request for `method`."""
        return [r for r in self.requests if r["method"] == method][-1]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        record = {
            "method": method,
            "http_method": request.method,
            "content_type": request.headers.get("Content-Type"),
            "content_length": request.headers.get("Content-Length"),
            "user_agent": request.headers.get("User-Agent"),
        }
        if request.content_type == "multipart/form-data":
            record["parts"] = [
                (part.headers.get("Content-Disposition"), part.headers.get("Content-Type"), bytes(await part.read()))
                async for part in await request.multipart()
            ]
        else:
            record["body"] = await request.read()
        self.requests.append(record)
        if method == "slow":
            await asyncio.sleep(float(request.query.get("delay", "3")))
        result = {"id": 424242, "is_bot": True, "first_name": "Rec", "username": "rec_bot"}
        if method.startswith("send"):
            result = MESSAGE
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def recorder():
    """The recording server."""
    async with Recorder() as server:
        yield server


@pytest.fixture
async def fake_api():
    """BotApiEmulator on 127.0.0.1, speaking for this module's token."""
    async with BotApiEmulator(token=TOKEN, bot_username="request_test_bot") as server:
        yield server


def make_bot(base: str, **requests: object) -> Bot:
    """A Bot talking to `base` (a server URL) through the given requests."""
    return Bot(TOKEN, base_url=f"{base}/bot", **requests)


async def test_form_fields_are_sent_as_httpx_sends_them(recorder):
    """A plain call carries the same urlencoded body, with nested values as JSON strings."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Buy ✓", callback_data="add:7:2")]])
    seen = {}
    for name, request in (("httpx", HTTPXRequest()), ("aiohttp", AiohttpRequest())):
        async with make_bot(recorder.url, request=request) as bot:
            await bot.send_message(
                chat_id=42,
                text="Hi & <b>welcome</b> — café",
                parse_mode="HTML",
                reply_markup=keyboard,
                disable_notification=True,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        seen[name] = {m: recorder.last(m) for m in ("getMe", "sendMessage")}

    # Byte for byte the same request, including getMe's empty body.
    assert seen["aiohttp"] == seen["httpx"]
    sent = seen["aiohttp"]["sendMessage"]
    assert sent["content_type"] == "application/x-www-form-urlencoded"
    assert b"reply_markup=%7B%22inline_keyboard%22" in sent["body"]
    assert seen["aiohttp"]["getMe"]["body"] == b""


async def test_photo_upload_is_multipart_like_httpx(recorder):
    """Uploading bytes sends the same multipart parts (fields, file name, type, content)."""
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    seen = {}
    for name, request in (("httpx", HTTPXRequest()), ("aiohttp", AiohttpRequest())):
        async with make_bot(recorder.url, request=request) as bot:
            await bot.send_photo(42, photo=InputFile(image, filename='café "1".png'), caption="<i>New</i> in — café")
        seen[name] = recorder.last("sendPhoto")

    ours, theirs = seen["aiohttp"], seen["httpx"]
    assert ours["content_type"].startswith("multipart/form-data; boundary=")
    assert ours["content_length"] is not None  # sized, not chunked
    fields = {disposition: body for disposition, _, body in ours["parts"]}
    assert fields['form-data; name="chat_id"'] == b"42"
    assert fields['form-data; name="caption"'] == "<i>New</i> in — café".encode()
    # The file part's headers and bytes match httpx exactly, odd file name included.
    file_part = [p for p in ours["parts"] if "filename=" in p[0]]
    assert file_part == [p for p in theirs["parts"] if "filename=" in p[0]]
    assert file_part[0][1:] == ("image/png", image)
    # Text fields too, except their label: aiohttp adds "text/plain; charset=utf-8", httpx
    # none (RFC 7578's default is text/plain).
    assert [(d, body) for d, _, body in ours["parts"]] == [(d, body) for d, _, body in theirs["parts"]]


@pytest.mark.parametrize("per_call", [False, True], ids=["default", "per-call"])
async def test_slow_server_times_out_within_read_timeout(recorder, per_call):
    """A server that does not answer raises TimedOut once the read timeout is spent."""
    request = AiohttpRequest() if per_call else AiohttpRequest(read_timeout=0.3)
    kwargs = {"read_timeout": 0.3} if per_call else {}
    async with request:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await request.post(f"{recorder.url}/bot{TOKEN}/slow?delay=3", **kwargs)
        assert time.monotonic() - started < 1.5


async def test_stalled_upload_times_out_within_its_budget():
    """An upload to a peer that stops reading ends with TimedOut, not a hang (connect + write + read)."""
    held: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with AiohttpRequest(connect_timeout=0.2, read_timeout=0.2) as request:
        bot = make_bot(f"http://127.0.0.1:{port}", request=request)
        # Far more than loopback socket buffers hold, so the write itself stalls.
        video = InputFile(b"\0" * (64 * 1024 * 1024), filename="big.mp4")
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_video(42, video, write_timeout=0.5)
        assert time.monotonic() - started < 2.0
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_refused_port_is_a_network_error():
    """Nobody listening: NetworkError (not TimedOut), carrying aiohttp's error as the cause."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as err:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(err.value, TimedOut)
    assert isinstance(err.value.__cause__, aiohttp.ClientConnectorError)
    assert "ClientConnectorError" in err.value.message


async def test_full_pool_times_out_without_sending(recorder):
    """With every connection busy past pool_timeout, the call fails with a pool timeout."""
    async with AiohttpRequest(connection_pool_size=1, pool_timeout=0.2) as request:
        busy = asyncio.create_task(request.post(f"{recorder.url}/bot{TOKEN}/slow?delay=0.6"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await request.post(f"{recorder.url}/bot{TOKEN}/getMe")
        assert await busy is not None
    assert [r["method"] for r in recorder.requests] == ["slow"]


async def test_telegram_errors_map_to_ptb_exceptions(fake_api, monkeypatch):
    """429, 403 and 400 answers become RetryAfter, Forbidden and BadRequest."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    ann = fake_api.user(1001, "Ann")
    async with make_bot(fake_api.url, request=AiohttpRequest()) as bot:
        fake_api.fail_next("sendMessage", error_code=429, parameters={"retry_after": 7})
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(ann.id, "hello")
        assert flood.value.retry_after == timedelta(seconds=7)

        fake_api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(ann.id, "hello")

        fake_api.block_user(ann.id)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(ann.id, "hello")

        # Nothing is stuck afterwards: the next send goes through.
        fake_api.unblock_user(ann.id)
        await bot.send_message(ann.id, "hello again")
    assert ann.last_text == "hello again"


async def test_long_poll_outlasts_the_read_timeout(fake_api):
    """getUpdates(timeout=2) waits the full two seconds although read_timeout is 0.5 s."""
    updates_request = AiohttpRequest(connection_pool_size=1, read_timeout=0.5)
    async with make_bot(fake_api.url, request=AiohttpRequest(), get_updates_request=updates_request) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=2) == ()
        assert 1.9 <= time.monotonic() - started < 3.5

        # A message arriving mid-poll ends it early.
        poll = asyncio.create_task(bot.get_updates(timeout=2))
        await asyncio.sleep(0.2)
        await fake_api.user(1001, "Ann").send("hi", wait=False)
        updates = await asyncio.wait_for(poll, 1.5)
    assert [u.message.text for u in updates] == ["hi"]


async def test_initialize_and_shutdown_are_idempotent(recorder):
    """Opening or closing twice is harmless; a closed request refuses calls and can reopen."""
    request = AiohttpRequest()
    await request.initialize()
    await request.initialize()
    assert await request.post(f"{recorder.url}/bot{TOKEN}/getMe")
    await request.shutdown()
    await request.shutdown()
    assert not request.is_initialized
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{recorder.url}/bot{TOKEN}/getMe")
    async with request:
        assert await request.post(f"{recorder.url}/bot{TOKEN}/getMe")
    assert not request.is_initialized


async def test_application_answers_start_by_long_polling(fake_api):
    """A real Application on two AiohttpRequests answers /start through the fake Bot API."""

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"Welcome, {update.effective_user.first_name}!")

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake_api.url}/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            # Ann opens the bot and is greeted.
            ann = fake_api.user(1001, "Ann")
            await ann.send("/start")
            assert ann.last_text == "Welcome, Ann!"
        finally:
            await application.updater.stop()
            await application.stop()
    assert not fake_api.internal_errors
