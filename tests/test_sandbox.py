"""The sandbox without a browser: what the web chat's API does with good and bad input, how a message is
drawn, and `python -m bot` without a token."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys

import aiohttp
import telegram
from PIL import Image
from sqlalchemy import select

from bot.sandbox.chat import Sandbox, chat_view, telegram_pieces
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.personas import CREATOR, PLATFORM_SELLER, RETAILER_SELLER, SECOND_SHOPPER, SHOPPER
from bot.sandbox.render import entities_html, message_view
from store.db import Database
from store.models import Creator, Seller

from .conftest import TOKEN
from .sandboxes import sandbox_running
from .test_entrypoint import bot_env

ANN, BEN = SHOPPER.user_id, SECOND_SHOPPER.user_id
BOT = "chatshop_sandbox_bot"
NOBODY = "persona must be one of the sandbox's people"


def texts(view: dict) -> list[str]:
    """The bubbles' text, tags stripped."""
    return [re.sub(r"<[^>]+>", "", m["html"]) for m in view["messages"]]


def test_formatting_is_drawn_from_entities_and_everything_else_is_escaped():
    text = "Hoodie <script>alert(1)</script> & more — see /cart or https://t.me/chatshop_sandbox_bot?start=p_7."
    entities = [{"type": "bold", "offset": 0, "length": 6}]
    html = entities_html(text, entities, BOT)
    assert html.startswith("<b>Hoodie</b> &lt;script&gt;alert(1)&lt;/script&gt; &amp; more")
    assert '<a class="command" data-command="/cart">/cart</a>' in html
    # A link to this bot opens in the person's own chat (its payload kept); the full stop is not part of it.
    assert 'class="deep-link"' in html and 'data-start="p_7"' in html and "</a>." in html
    # Offsets count UTF-16 units, as Telegram's do: an emoji before a bold word.
    assert entities_html("😀 big", [{"type": "bold", "offset": 3, "length": 3}]) == "😀 <b>big</b>"
    # Overlapping entities still close in order; a bad entity is ignored, not trusted.
    assert entities_html("abc", [{"type": "bold", "offset": 0, "length": 2},
                                 {"type": "italic", "offset": 1, "length": 2}]) == "<b>a<i>b</i></b><i>c</i>"
    assert entities_html("ab", [{"type": "bold", "offset": 1, "length": 50}]) == "ab"
    # A link entity with a script address can't become one.
    link = entities_html("tap", [{"type": "text_link", "offset": 0, "length": 3, "url": "javascript:alert(1)"}])
    assert 'href="https://javascript:alert(1)"' in link


def test_a_message_view_has_its_photo_invoice_and_buttons():
    message = {"message_id": 5, "from": {"id": 1}, "caption": "Mug", "photo": [{"file_id": "s"}, {"file_id": "big"}],
               "reply_markup": {"inline_keyboard": [[{"text": "Add", "callback_data": "a:1"},
                                                     {"text": "Shop", "url": "https://t.me/chatshop_sandbox_bot?start=x"}]]}}
    view = message_view(message, bot_id=1, bot_username=BOT, file_link=lambda file_id: f"/f/{file_id}")
    assert view["photo"] == "/f/big" and view["html"] == "Mug" and not view["mine"]
    assert [[b["kind"] for b in row] for row in view["buttons"]] == [["callback", "url"]]
    invoice = {"message_id": 6, "from": {"id": 1}, "invoice": {"title": "Order #3", "description": "2 items",
                                                               "currency": "USD", "total_amount": 12496}}
    assert message_view(invoice, bot_id=1, bot_username=BOT, file_link=lambda f: None)["invoice"]["total"] == "$124.96"


async def test_the_api_acts_for_the_sandboxes_people_and_refuses_what_no_page_sends(tmp_path):
    async with sandbox_running(tmp_path) as sandbox:
        status, who = await sandbox.call("GET", "/sandbox/api/personas")
        assert status == 200 and who["bot"] == BOT
        assert [p["name"] for p in who["personas"]] == ["Ann", "Ben", "Sam", "Rita", "Cleo", "Omar"]

        # The page is served by the bot's own HTTP server, beside its health check.
        async with aiohttp.ClientSession() as http:
            async with http.get(sandbox.url + "/") as page:
                assert page.status == 200 and "chatshop sandbox" in await page.text()
            async with http.get(sandbox.url + "/healthz") as health:
                assert health.status == 200

        assert (await sandbox.call("POST", "/sandbox/api/send", {"persona": ANN, "text": "/start"}))[0] == 200
        view = await sandbox.until(ANN, lambda v: any("Welcome to chatshop, Ann" in t for t in texts(v)))
        before = view["revision"]

        refusals = [
            ("/sandbox/api/send", None, b"not json", "the body must be JSON"),
            ("/sandbox/api/send", ["a list"], None, "the body must be a JSON object"),
            ("/sandbox/api/send", {"persona": 1, "text": "hi"}, None, NOBODY),
            ("/sandbox/api/send", {"persona": [ANN], "text": "hi"}, None, NOBODY),
            ("/sandbox/api/send", {"persona": ANN, "text": "   "}, None, "type something first"),
            ("/sandbox/api/send", {"persona": ANN, "text": 42}, None, "text must be text"),
            ("/sandbox/api/send", {"persona": ANN, "text": "a\ud800"}, None,
             "text has half a character in it (a lone surrogate), which no keyboard types"),
            ("/sandbox/api/send", None, b"[" * 20_000 + b"]" * 20_000, "the body must be JSON"),
            ("/sandbox/api/send", None, b"{" + b" " * 70_000 + b"}", "the request is too large"),
            ("/sandbox/api/press", {"persona": ANN, "message": 9999, "row": 0, "col": 0}, None,
             "that message is no longer in the chat"),
            ("/sandbox/api/press", {"persona": ANN, "message": 2, "row": 7, "col": 0}, None,
             "that button is no longer there"),
            ("/sandbox/api/press", {"persona": ANN, "message": "2", "row": 0, "col": 0}, None,
             "message must be a whole number"),
            ("/sandbox/api/tap", {"persona": ANN, "row": 0, "col": 0}, None, "that button is no longer there"),
            ("/sandbox/api/pay", {"persona": ANN, "message": 2}, None, "that message is not an invoice"),
            ("/sandbox/api/inline/choose", {"persona": ANN, "result_id": "1"}, None,
             "that result is no longer offered: type the query again"),
        ]
        for path, body, raw, reason in refusals:
            status, answer = await sandbox.call("POST", path, body, raw=raw)
            assert (status, answer) == (400, {"error": reason}), path
        # Another site's page can't act for anyone: a form post, or anything from a foreign origin.
        async with aiohttp.ClientSession() as http:
            async with http.post(sandbox.url + "/sandbox/api/reset", data={"x": "1"}) as response:
                assert response.status == 415
            async with http.post(sandbox.url + "/sandbox/api/send", json={"persona": ANN, "text": "hi"},
                                 headers={"Origin": "https://evil.example"}) as response:
                assert (response.status, await response.json()) == (
                    403, {"error": "requests from other sites are refused"})
            form = aiohttp.FormData({"persona": str(ANN)})
            form.add_field("file", b"x", filename="x.txt")
            async with http.post(sandbox.url + "/sandbox/api/attach", data=form,
                                 headers={"Origin": "http://127.0.0.1:1"}) as response:
                assert response.status == 403
        assert sandbox.starts == 1
        status, answer = await sandbox.call("GET", "/sandbox/api/chat?persona=nobody")
        assert status == 400 and answer["error"] == "persona must be one of the sandbox's people"
        status, answer = await sandbox.call("GET", f"/sandbox/file/{view['boot']}/no-such-file")
        assert (status, answer) == (404, {"error": "no such file"})
        status, answer = await sandbox.call("GET", f"/sandbox/api/chat?persona={ANN}&seen=later")
        assert (status, answer) == (400, {"error": "seen must be a whole number: the revision the page has"})
        # A page of another site that had its name point at 127.0.0.1 is not this page.
        for method, path, body in (("GET", f"/sandbox/api/chat?persona={ANN}", None),
                                   ("POST", "/sandbox/api/reset", {})):
            status, answer = await sandbox.call(method, path, body, headers={"Host": "shop.example:8080"})
            assert (status, answer) == (403, {"error": "this sandbox answers on 127.0.0.1 only"})
        # Nothing reached the bot: the chat is as it was.
        assert (await sandbox.chat(ANN))["revision"] == before

        # Text longer than Telegram takes in one message goes as several, as Telegram splits it.
        await sandbox.call("POST", "/sandbox/api/send", {"persona": BEN, "text": "<b>x</b> " * 1200})
        view = await sandbox.until(BEN, lambda v: len([m for m in v["messages"] if m["mine"]]) == 3)
        mine = [m for m in view["messages"] if m["mine"]]
        assert mine[0]["html"].startswith("&lt;b&gt;x&lt;/b&gt;")  # what was typed, shown as typed


async def test_the_sandboxes_people_have_their_roles(tmp_path):
    async with sandbox_running(tmp_path) as sandbox:
        database = Database(f"sqlite+aiosqlite:///{sandbox.store}")
        try:
            async with database.read() as session:
                owners = dict((await session.execute(select(Seller.name, Seller.owner_user_id))).all())
                creator = await session.scalar(select(Creator).where(Creator.user_id == CREATOR.user_id))
        finally:
            await database.dispose()
        assert owners["Chatshop Store"] == PLATFORM_SELLER.user_id
        assert owners["Urban Stride"] == RETAILER_SELLER.user_id
        assert creator is not None and creator.status == "approved"

        # The retailer's seller gets her shop's menu; the operator hers.
        await sandbox.call("POST", "/sandbox/api/send", {"persona": RETAILER_SELLER.user_id, "text": "/orders"})
        await sandbox.until(RETAILER_SELLER.user_id, lambda v: any("Urban Stride" in t or "orders" in t.lower()
                                                                   for t in texts(v) if t != "/orders"))


async def test_reset_starts_again_on_a_fresh_demo_store_at_the_same_address(tmp_path):
    async with sandbox_running(tmp_path, http_port=0) as sandbox:  # any free port: the page stays on it
        first_url = sandbox.url
        await sandbox.call("POST", "/sandbox/api/send", {"persona": ANN, "text": "hoodie"})
        view = await sandbox.until(ANN, lambda v: any("Pullover Hoodie" in t for t in texts(v)))
        status, answer = await sandbox.call("POST", "/sandbox/api/reset", {})
        assert (status, answer) == (200, {"resetting": True})
        await asyncio.wait_for(_second_start(sandbox), 60)
        assert sandbox.url == first_url
        # A new start: empty chats, the demo catalog searchable again.
        status, who = await sandbox.call("GET", "/sandbox/api/personas")
        assert status == 200 and who["boot"] != view["boot"]
        assert (await sandbox.chat(ANN))["messages"] == []
        await sandbox.call("POST", "/sandbox/api/send", {"persona": ANN, "text": "hoodie"})
        view = await sandbox.until(ANN, lambda v: any("Pullover Hoodie" in t for t in texts(v)))
        assert len(view["messages"]) == 2


async def _second_start(sandbox) -> None:  # type: ignore[no-untyped-def]
    while sandbox.starts < 2:
        await asyncio.sleep(0.05)


async def test_python_m_bot_without_a_token_serves_the_sandbox(tmp_path):
    env = bot_env(tmp_path)
    env.pop("BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        second = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert first.startswith("chatshop sandbox: the real bot with a stand-in for Telegram")
        url = re.search(r"http://127\.0\.0\.1:\d+", second).group(0)
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/") as page:
                assert page.status == 200 and "<title>chatshop sandbox</title>" in await page.text()
            async with http.post(url + "/sandbox/api/send", json={"persona": ANN, "text": "/start"}) as sent:
                assert sent.status == 200
            for _ in range(100):
                async with http.get(f"{url}/sandbox/api/chat?persona={ANN}&seen=-1") as chat:
                    if any("Welcome to chatshop" in m["html"] for m in (await chat.json())["messages"]):
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("Ann was never welcomed")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "Traceback" not in stderr.decode()
    # The sandbox keeps its own store; the shop's is never touched.
    assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "shop.db").exists()


async def test_a_configured_token_runs_the_bot_unless_the_sandbox_is_asked_for(tmp_path):
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")
    # With a token, `python -m bot` is the real bot: here it can't reach its Bot API and says so.
    run = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                               stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode == 1 and err.decode().splitlines()[-1].startswith("chatshop: cannot reach the Bot API")
    assert b"sandbox" not in out
    # Asked for explicitly, the sandbox starts all the same.
    sandbox = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "sandbox", cwd=tmp_path, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        first = (await asyncio.wait_for(sandbox.stdout.readline(), 60)).decode()
        assert first.startswith("chatshop sandbox:")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        await asyncio.wait_for(sandbox.communicate(), 60)
    assert sandbox.returncode == 0
    assert os.path.exists(tmp_path / "sandbox.db")


async def test_pictures_and_files_from_the_page_reach_the_bot_as_telegram_sends_them(tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(picture, "PNG")
    async with sandbox_running(tmp_path) as sandbox, aiohttp.ClientSession() as http:
        async def attach(persona, data: bytes, name: str, content_type: str) -> tuple[int, dict]:
            form = aiohttp.FormData()
            form.add_field("persona", str(persona))
            form.add_field("file", data, filename=name, content_type=content_type)
            async with http.post(sandbox.url + "/sandbox/api/attach", data=form) as response:
                return response.status, await response.json()

        assert await attach(ANN, picture.getvalue(), "red.png", "image/png") == (200, {"sent": "photo"})
        view = await sandbox.until(ANN, lambda v: any(m.get("photo") for m in v["messages"]))
        photo = next(m["photo"] for m in view["messages"] if m.get("photo"))
        assert photo.startswith(f"/sandbox/file/{view['boot']}/")  # a new start's pictures have new addresses
        async with http.get(sandbox.url + photo) as served:
            assert served.status == 200 and await served.read() == picture.getvalue()
        # The bot answered the picture (it is no search), politely.
        await sandbox.until(ANN, lambda v: any(not m["mine"] for m in v["messages"]))

        # A name with a line break in it (as a hand-made request may have) is kept out of any header.
        raw = (b"--b0undary\r\nContent-Disposition: form-data; name=\"persona\"\r\n\r\n" + str(BEN).encode()
               + b"\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\"; "
               b"filename*=UTF-8''notes%0D%0AX-Evil%3A%201.txt\r\nContent-Type: text/plain\r\n\r\n"
               b"order notes\r\n--b0undary--\r\n")
        async with http.post(sandbox.url + "/sandbox/api/attach", data=raw,
                             headers={"Content-Type": "multipart/form-data; boundary=b0undary"}) as response:
            assert (response.status, await response.json()) == (200, {"sent": "document"})
        view = await sandbox.until(BEN, lambda v: any(m.get("document") for m in v["messages"]))
        document = next(m["document"] for m in view["messages"] if m.get("document"))
        assert document["name"] == "notesX-Evil: 1.txt"  # no line breaks make it into a header
        async with http.get(sandbox.url + document["url"]) as served:
            assert served.status == 200 and await served.read() == b"order notes"
            assert served.headers["Content-Disposition"].startswith('attachment; filename="notesX-Evil_ 1.txt"')

        before = (await sandbox.chat(ANN))["revision"]
        assert await attach(ANN, b"x" * (10 * 1024 * 1024 + 1), "big.png", "image/png") == (
            400, {"error": "the file is larger than 10 MB"})
        assert await attach(ANN, b"", "empty.txt", "text/plain") == (400, {"error": "choose a file first"})
        assert await attach(42, b"x", "x.txt", "text/plain") == (400, {"error": NOBODY})
        async with http.post(sandbox.url + "/sandbox/api/attach", json={"persona": ANN}) as response:
            assert response.status == 400
            assert await response.json() == {"error": "send a persona and a file as multipart/form-data"}
        assert (await sandbox.chat(ANN))["revision"] == before


async def test_edits_and_deletions_are_what_the_page_shows():
    async with BotApiEmulator(token=TOKEN, bot_username=BOT) as emulator:
        sandbox = Sandbox(emulator, asyncio.Event())
        async with telegram.Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot:
            first = await bot.send_message(ANN, "<b>first</b>", parse_mode="HTML")
            second = await bot.send_message(ANN, "second")
            seen = chat_view(sandbox, sandbox.people[ANN])["revision"]
            await bot.edit_message_text("<i>first, edited</i>", chat_id=ANN, message_id=first.message_id,
                                        parse_mode="HTML")
            await bot.delete_message(ANN, second.message_id)
            await bot.send_document(ANN, b"%PDF-1.4 receipt", filename="receipt.pdf")
        view = chat_view(sandbox, sandbox.people[ANN])
    assert view["revision"] > seen
    [edited, document] = view["messages"]
    assert (edited["id"], edited["html"], edited["edited"]) == (first.message_id, "<i>first, edited</i>", True)
    assert document["document"]["name"] == "receipt.pdf" and document["document"]["url"].startswith("/sandbox/file/")
    assert view["counts"][str(ANN)] == 2


def test_long_text_is_cut_as_telegram_cuts_it():
    emoji = "😀" * 3000  # two UTF-16 units each
    pieces = telegram_pieces("a" + emoji)
    assert "".join(pieces) == "a" + emoji
    assert [len(p.encode("utf-16-le")) // 2 for p in pieces] == [4095, 1906]
    assert telegram_pieces("hi") == ["hi"]


async def test_an_invoice_is_paid_once_however_often_pay_is_tapped(tmp_path):
    async with sandbox_running(tmp_path) as sandbox:
        async def say(text: str, expect: str) -> dict:
            await sandbox.call("POST", "/sandbox/api/send", {"persona": BEN, "text": text})
            return await sandbox.until(BEN, lambda v: any(expect in t for t in texts(v)[-2:]))

        # A Stars invoice for the e-book: its card, Buy now, the confirmation, Place order.
        view = await say("pride and prejudice", "Results for")
        await press(sandbox, view, "1. Pride and Prejudice")
        view = await sandbox.until(BEN, lambda v: any("Buy now" in b["text"] for row in v["messages"][-1]["buttons"]
                                                      for b in row))
        await press(sandbox, view, "Buy now")
        view = await sandbox.until(BEN, lambda v: any("Place order" in b["text"] for m in v["messages"][-1:]
                                                      for row in m["buttons"] for b in row))
        await press(sandbox, view, "Place order")
        view = await sandbox.until(BEN, lambda v: any(m.get("invoice") for m in v["messages"]))
        invoice = next(m for m in view["messages"] if m.get("invoice"))
        taps = [sandbox.call("POST", "/sandbox/api/pay", {"persona": BEN, "message": invoice["id"]})
                for _ in range(3)]
        answers = [answer for _status, answer in await asyncio.gather(*taps)]
        assert sorted(a["paid"] for a in answers) == [False, False, True]
        assert {a.get("error") for a in answers if not a["paid"]} <= {"This invoice is being paid.",
                                                                      "This invoice is paid already."}
        view = await sandbox.until(BEN, lambda v: any(m.get("document") for m in v["messages"]))
        assert next(m for m in view["messages"] if m.get("invoice"))["invoice"]["paid"] is True
        assert len([m for m in view["messages"] if m.get("payment")]) == 1
        status, answer = await sandbox.call("POST", "/sandbox/api/pay", {"persona": BEN, "message": invoice["id"]})
        assert (status, answer) == (200, {"paid": False, "error": "This invoice is paid already."})


async def press(sandbox, view: dict, label: str) -> None:  # type: ignore[no-untyped-def]
    """Press the newest inline button whose label has `label`."""
    for message in reversed(view["messages"]):
        for button in (b for row in message["buttons"] for b in row):
            if label in button["text"]:
                status, _ = await sandbox.call("POST", "/sandbox/api/press", {
                    "persona": BEN, "message": message["id"], "row": button["row"], "col": button["col"]})
                assert status == 200
                return
    raise AssertionError(f"no button {label!r}")
