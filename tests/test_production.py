"""Production: the webhook on the bot's own server, exactly-once updates, several processes on PostgreSQL.

The webhook tests run the real Application in this process; the multi-process tests start real
`python -m bot` processes behind a round-robin proxy (one webhook URL, as Telegram sees it), all
against the fake Bot API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import signal
import socket
import sys
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update
from telegram import Update

import bot.app
from bot.app import build_application
from bot.config import Settings
from bot.startup import prepare_store
from bot.worker import OutboxWorker, rate_limited_bot
from store.db import Database
from store.models import (
    CartLine,
    Checkout,
    Order,
    OutboxMessage,
    ProcessedUpdate,
    Product,
    User,
    UserStep,
    Variant,
    utcnow,
)
from store.services import outbox
from store.services.catalog import touch_products
from store.services.events import STOCK_TEMPLATE
from store.services.users import set_step

from .conftest import PG_URL, TOKEN, eventually, make_database
from .proxy import RoundRobinProxy

HOOK_PATH = "/tg/hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PHONE = "+1 202 555 0143"  # what the fake shares for "Share my contact"
needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")


def free_port() -> int:
    """A port nobody listens on right now (the server is told its port before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def pressed(fake, user, label: str) -> dict:
    """The update Telegram sends when ``user`` presses ``label``, built but not delivered."""
    button, message = user._find_button(label, None)
    query_id = str(next(fake._query_ids))
    fake._open_queries[query_id] = "callback_query"
    return {"update_id": fake.next_update_id(), "callback_query": {
        "id": query_id, "from": dict(user.info), "chat_instance": f"-{fake.bot_id}{user.id}",
        "data": button["callback_data"], "message": copy.deepcopy(message)}}


def answers_to(fake, update: dict) -> list:
    """Every answerCallbackQuery the bot made for the callback query of ``update``."""
    query_id = update["callback_query"]["id"]
    return [c for c in fake.find_calls("answerCallbackQuery") if str(c.params.get("callback_query_id")) == query_id]


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, http.get(url) as response:
        return response.status, await response.text()


async def post(url: str, body: bytes | str, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
            http.post(url, data=body, headers=headers) as response:
        return response.status


async def cart_quantity(db: Database, user_id: int) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.coalesce(func.sum(CartLine.quantity), 0))
                                    .where(CartLine.user_id == user_id))


async def count(db: Database, column) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await session.scalar(select(func.count(column)))


async def stock_of(db: Database, title: str) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.sum(Variant.stock)).join(Product, Product.id == Variant.product_id)
                                    .where(Product.title == title))


async def callback_outcomes(*processes) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Callback queries handled so far, by outcome, summed over ``processes``."""
    totals: dict[str, float] = defaultdict(float)
    for process in processes:
        text = (await get(f"{process.url}/metrics"))[1]
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "chatshop_updates_total" and sample.labels["type"] == "callback_query":
                    totals[sample.labels["outcome"]] += sample.value
    return dict(totals)


# --- one process in webhook mode, in this process ----------------------------------------------


class WebhookBot:
    """The real Application serving Telegram's webhook on its own HTTP server, as `run_webhook` does."""

    def __init__(self, fake, database_url: str, clock, **settings: object) -> None:  # type: ignore[no-untyped-def]
        port = free_port()
        self.fake, self.clock = fake, clock
        self.settings = Settings(_env_file=None, bot_token=TOKEN, database_url=database_url,
                                 telegram_api_base_url=f"{fake.url}/bot", http_port=port,
                                 webhook_url=f"http://127.0.0.1:{port}{HOOK_PATH}", **settings)
        self.application = None

    async def start(self) -> None:
        """Prepare the store, start the Application and its server, register the webhook."""
        await prepare_store(self.settings, migrate=True)
        application = build_application(self.settings, clock=self.clock, search_refresh_interval=0)
        await application.initialize()
        await application.post_init(application)
        await application.start()
        self.application = application
        await application.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_token,
                                          allowed_updates=Update.ALL_TYPES)

    async def stop(self) -> None:
        """Stop as on SIGTERM: refuse new updates, finish those in hand, shut down."""
        application, self.application = self.application, None
        if application is None:
            return
        self.runtime(application).web.stop_taking_updates()
        await self.runtime(application).web.finish_updates()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)

    @staticmethod
    def runtime(application):  # type: ignore[no-untyped-def]
        return application.bot_data[bot.app.RUNTIME_KEY]

    @property
    def url(self) -> str:
        """The base URL of the bot's HTTP server."""
        return f"http://127.0.0.1:{self.settings.http_port}"

    @property
    def db(self) -> Database:
        return self.application.bot_data["shop"].db


async def broken_help(update, context) -> None:  # type: ignore[no-untyped-def]
    """A handler with a bug, hit in its second store block."""
    async with context.shop.db.transaction() as session:
        await set_step(session, update.effective_user.id, "help_tour", {"page": 1})
    async with context.shop.db.transaction() as session:
        await set_step(session, update.effective_user.id, "help_tour", {"page": 2})
        raise RuntimeError("the help page is broken")


@pytest.fixture
async def webhook_bot(fake, store_url, clock, monkeypatch):
    """The bot in webhook mode; its /help handler raises."""
    monkeypatch.setitem(bot.app.COMMANDS, "help", broken_help)
    runner = WebhookBot(fake, store_url, clock)
    await runner.start()
    yield runner
    await runner.stop()


async def test_the_webhook_serves_shoppers_and_refuses_everything_else(fake, webhook_bot):
    hook = webhook_bot.settings.webhook_url
    secret = webhook_bot.settings.webhook_token
    before = (await get(f"{webhook_bot.url}/metrics"))[1]

    # The bot registered its webhook with a secret token, so Telegram pushes instead of being polled.
    registered = fake.find_calls("setWebhook")[-1].params
    assert registered["url"] == hook and registered["secret_token"] == secret and len(secret) >= 32
    assert fake.webhook_url == hook

    # Ann starts the bot and searches; both reach the bot through the webhook.
    ann = fake.user(3001, "Ann")
    await ann.send("/start")
    assert "Welcome to chatshop, Ann" in ann.last_text
    await ann.send("hoodie")
    assert "Pullover Hoodie" in ann.last_text
    assert [(d.url, d.status) for d in fake.webhook_deliveries] == [(hook, 200), (hook, 200)]

    # Someone who is not Telegram posts an update: without the secret, or with a wrong one.
    forged = {"update_id": 990001, "message": {
        "message_id": 1, "date": 1, "text": "/start", "chat": {"id": 3666, "type": "private"},
        "from": {"id": 3666, "is_bot": False, "first_name": "Mallory"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    assert await post(hook, json.dumps(forged), secret=None) == 403
    assert await post(hook, json.dumps(forged), secret="not-the-secret") == 403
    # Garbage gets 400: not JSON, not an object, no update_id.
    assert await post(hook, b"{not json", secret=secret) == 400
    assert await post(hook, b"[1, 2]", secret=secret) == 400
    assert await post(hook, json.dumps({"message": forged["message"]}), secret=secret) == 400

    # Nothing of it was processed: Ann's next message is answered, Mallory never hears a word.
    await ann.send("/cart")
    assert "cart is empty" in ann.last_text.lower()
    assert fake.find_calls("sendMessage", chat_id=3666) == []
    async with webhook_bot.db.read() as session:
        assert await session.get(ProcessedUpdate, 990001) is None
        assert await session.get(User, 3666) is None

    # A handler fails: Ann gets an apology, the webhook still answered 200, so Telegram does not retry.
    # The store block it failed in is undone, the one it finished is kept; the update is recorded as failed.
    help_update = await ann.send("/help")
    assert "Sorry, something went wrong" in ann.last_text
    assert fake.webhook_deliveries[-1].status == 200
    info = await webhook_bot.application.bot.get_webhook_info()
    assert info.last_error_message is None and info.pending_update_count == 0
    async with webhook_bot.db.read() as session:
        assert (await session.get(UserStep, 3001)).data == {"page": 1}
        assert (await session.get(ProcessedUpdate, help_update["update_id"])).outcome == "failed"
    # Delivered again, the failed update is not handled again: no second apology.
    apologies = len(fake.find_calls("sendMessage", chat_id=3001))
    await fake.resend(help_update)
    assert fake.webhook_deliveries[-1].status == 200
    assert len(fake.find_calls("sendMessage", chat_id=3001)) == apologies

    # Health, readiness and metrics.
    assert await get(f"{webhook_bot.url}/healthz") == (200, '{"status": "ok"}')
    assert await get(f"{webhook_bot.url}/readyz") == (200, '{"status": "ready"}')
    status, after = await get(f"{webhook_bot.url}/metrics")
    assert status == 200
    for name in ("chatshop_updates_total", "chatshop_handler_seconds_bucket", "chatshop_outbox_rows",
                 "chatshop_orders"):
        assert name in after
    delta = {outcome: metric(after, "chatshop_updates_total", type="message", outcome=outcome)
             - metric(before, "chatshop_updates_total", type="message", outcome=outcome)
             for outcome in ("ok", "error", "duplicate")}
    assert delta == {"ok": 3, "error": 1, "duplicate": 1}
    assert metric(after, "chatshop_updates_total", type="malformed", outcome="rejected") \
        - metric(before, "chatshop_updates_total", type="malformed", outcome="rejected") == 3
    assert metric(after, "chatshop_handler_seconds_count", handler="test_production.broken_help") >= 1
    assert metric(after, "chatshop_outbox_rows", status="pending") == 0

    # Told to stop, the process refuses new updates with 503 (Telegram delivers them again later)
    # and stops being ready, while staying alive.
    WebhookBot.runtime(webhook_bot.application).web.stop_taking_updates()
    late = {"update_id": 990002, "message": {**forged["message"], "chat": {"id": 3001, "type": "private"},
                                             "from": ann.info}}
    assert await post(hook, json.dumps(late), secret=secret) == 503
    assert (await get(f"{webhook_bot.url}/readyz"))[0] == 503
    assert (await get(f"{webhook_bot.url}/healthz"))[0] == 200


async def test_an_update_delivered_twice_is_applied_once(fake, webhook_bot):
    bob = fake.user(3002, "Bob")
    await bob.send("wireless earbuds")
    await bob.press("Wireless Earbuds")
    before = (await get(f"{webhook_bot.url}/metrics"))[1]

    # Bob adds the earbuds; Telegram, unsure it was received, delivers the same update again.
    press = await bob.press("Add to cart")
    assert "Added to your cart (1 item)" in bob.last_answer["text"]
    await fake.resend(press)
    assert [d.status for d in fake.webhook_deliveries if d.update_id == press["update_id"]] == [200, 200]

    # One earbud in the cart, one answer to the press; the second delivery was counted as a duplicate.
    assert await cart_quantity(webhook_bot.db, 3002) == 1
    assert len(answers_to(fake, press)) == 1
    after = (await get(f"{webhook_bot.url}/metrics"))[1]
    assert metric(after, "chatshop_updates_total", type="callback_query", outcome="duplicate") \
        - metric(before, "chatshop_updates_total", type="callback_query", outcome="duplicate") == 1
    await bob.send("/cart")
    assert "Wireless Earbuds" in bob.last_text and "1 × $49.99" in bob.last_text


# --- real processes ---------------------------------------------------------------------------


class BotProcess:
    """`python -m bot` serving the webhook on its own port (WEBHOOK_URL: that port unless given); its log
    goes to a file."""

    def __init__(self, name: str, tmp_path: Path, fake, **settings: str) -> None:  # type: ignore[no-untyped-def]
        self.name, self.port = name, free_port()
        self.log_path = tmp_path / f"{name}.log"
        self.cwd = tmp_path
        ours = {field.upper() for field in Settings.model_fields}
        self.env = {k: v for k, v in os.environ.items() if k not in ours}
        self.env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"{fake.url}/bot", HTTP_HOST="127.0.0.1",
                        HTTP_PORT=str(self.port), WEBHOOK_URL=self.hook)
        self.env.update(settings)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook(self) -> str:
        return f"{self.url}{HOOK_PATH}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def ready(self) -> bool:
        """True once /readyz answers 200 (fails at once if the process died)."""
        assert self.process.returncode is None, f"{self.name} exited {self.process.returncode}:\n{self.log[-3000:]}"
        try:
            return (await get(f"{self.url}/readyz"))[0] == 200
        except aiohttp.ClientError:
            return False

    async def terminate(self, timeout: float = 20) -> int:
        """SIGTERM; the exit status, within ``timeout`` seconds."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def test_python_m_bot_serves_the_webhook_and_stops_cleanly_on_sigterm(tmp_path, fake):
    process = BotProcess("solo", tmp_path, fake, DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}",
                         WEBHOOK_SECRET="only-telegram_knows-this")
    await process.start()
    try:
        # The operator sets WEBHOOK_URL: the bot registers it with the secret and serves it.
        call = await fake.wait_for("setWebhook", timeout=30, since=0)
        assert call.params["url"] == process.hook
        assert call.params["secret_token"] == "only-telegram_knows-this"
        await eventually(process.ready, timeout=10)
        cy = fake.user(3003, "Cy")
        await cy.send("/start")
        assert "Welcome to chatshop, Cy" in cy.last_text
        await cy.send("hoodie")
        assert "Pullover Hoodie" in cy.last_text
        assert await post(process.hook, json.dumps({"update_id": 1}), secret="guess") == 403

        # Stopped with SIGTERM, it exits 0; its log has one line per update and no secrets.
        assert await process.terminate() == 0
    finally:
        await process.kill()
    log = process.log
    assert "outcome ok" in log and "user 3003 type message handler start.on_start" in log
    assert TOKEN not in log and "only-telegram_knows-this" not in log
    assert "stopped" in log.splitlines()[-1]


@needs_pg
async def test_two_processes_behind_one_url_serve_a_shopper_once_and_stop_cleanly(tmp_path, fake):
    db = await make_database("postgresql", tmp_path)
    secret = Settings(_env_file=None, bot_token=TOKEN).webhook_token
    async with RoundRobinProxy(HOOK_PATH) as proxy:
        procs = [BotProcess(name, tmp_path, fake, DATABASE_URL=PG_URL, WEBHOOK_URL=proxy.url, OUTBOX_WORKER="true")
                 for name in ("a", "b")]
        a, b = procs
        proxy.backends = [a.hook, b.hook]
        try:
            # Two processes start together on an empty database and register the same webhook.
            await asyncio.gather(a.start(), b.start())

            async def both_ready() -> bool:
                return all(await asyncio.gather(a.ready(), b.ready()))

            await eventually(both_ready, timeout=40, interval=0.2)

            async def both_registered() -> bool:
                return len(fake.find_calls("setWebhook")) == 2

            await eventually(both_registered, timeout=10)
            assert fake.webhook_url == proxy.url and fake.webhook_secret == secret
            async with db.read() as session:  # the demo catalog was loaded once
                assert await session.scalar(select(func.count()).where(Product.title == "Wireless Earbuds")) == 1

            ann = fake.user(4001, "Ann")

            # A product is renamed in the store (as any process would write it); each process's search
            # finds it under the new name within about a second (the index refresh interval).
            async with db.transaction() as session:
                product_id = await session.scalar(select(Product.id)
                                                   .where(Product.title == "French Press Coffee Maker"))
                await session.execute(update(Product).where(Product.id == product_id)
                                      .values(title="Moonlight Pour-Over Kettle"))
                await touch_products(session, [product_id])
            for index in (0, 1):
                proxy.pinned = index

                async def finds_new_title() -> bool:
                    await ann.send("moonlight kettle")
                    return "Moonlight Pour-Over Kettle" in ann.last_text

                await eventually(finds_new_title, timeout=5, interval=0.2)
            proxy.pinned = None

            # Ann shops and orders; her updates alternate between the two processes.
            stock = await stock_of(db, "Wireless Earbuds")
            first = len(proxy.forwarded)
            await ann.send("/start")
            assert "Welcome to chatshop, Ann" in ann.last_text
            await ann.send("wireless earbuds")
            await ann.press("Wireless Earbuds")
            await ann.press("Add to cart")
            assert "Added to your cart (1 item)" in ann.last_answer["text"]
            await ann.press("🛒 Cart")
            await ann.press("Checkout")
            assert "Checkout — review" in ann.last_text
            await ann.press("Continue")
            await ann.tap("Share my contact")
            assert "shipping address" in ann.last_text
            await ann.send("22 Baker Street, London NW1 6XE")
            assert "Checkout — shipping" in ann.last_text
            await ann.press("Standard delivery")
            await ann.press("Cash on delivery")
            assert "22 Baker Street" in ann.last_text
            await ann.press("Place order")
            assert "is placed" in ann.last_text
            await ann.send("/orders")
            assert "placed (cash on delivery)" in ann.last_text
            served = [f.backend for f in proxy.forwarded[first:]]
            assert len(served) == 13 and all(x != y for x, y in zip(served, served[1:]))
            assert all(f.status == 200 for f in proxy.forwarded)
            assert await count(db, Checkout.id) == 1 and await count(db, Order.id) == 1
            assert await stock_of(db, "Wireless Earbuds") == stock - 1
            assert metric((await get(f"{a.url}/metrics"))[1], "chatshop_orders", status="placed") == 1

            # The same "Add to cart" press reaches both processes at the same moment: applied once.
            await ann.send("wireless earbuds")
            await ann.press("Wireless Earbuds")
            press = pressed(fake, ann, "Add to cart")
            body = json.dumps(press)
            before = await callback_outcomes(a, b)
            assert await asyncio.gather(post(a.hook, body, secret), post(b.hook, body, secret)) == [200, 200]

            async def both_done() -> dict[str, float] | None:
                after = await callback_outcomes(a, b)
                delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
                return delta if sum(delta.values()) == 2 else None

            assert await eventually(both_done, timeout=5) == {"ok": 1, "duplicate": 1}
            assert len(answers_to(fake, press)) == 1
            assert "Added to your cart (1 item)" in answers_to(fake, press)[0].params["text"]
            assert await cart_quantity(db, 4001) == 1

            # Ann checks out again; the process that takes her address is stopped while handling it.
            await ann.press("🛒 Cart")
            await ann.press("Checkout")
            await ann.press("Continue")
            await ann.tap("Share my contact")
            sent = await ann.send("7 Harbour Road, Brighton BN1 1AA", wait=False)

            async def accepted() -> bool:
                return proxy.served_by(sent["update_id"]) is not None

            await eventually(accepted, timeout=5, interval=0.005)
            taker = proxy.served_by(sent["update_id"])
            stopped, survivor = procs[taker], procs[1 - taker]
            assert await stopped.terminate() == 0
            assert await survivor.ready()

            # Nothing was lost: the address step was finished and is in the store.
            assert "Checkout — shipping" in ann.last_text
            async with db.read() as session:
                step = await session.get(UserStep, 4001)
            assert "7 Harbour Road" in step.data["address"]

            # She carries on through the other process and places her second order.
            first = len(proxy.forwarded)
            await ann.press("Express delivery")
            await ann.press("Cash on delivery")
            assert "7 Harbour Road" in ann.last_text
            await ann.press("Place order")
            assert "is placed" in ann.last_text
            await ann.send("/orders")
            assert ann.last_text.count("placed (cash on delivery)") == 2
            assert {procs[f.backend].name for f in proxy.forwarded[first:] if f.status == 200} == {survivor.name}
            assert await count(db, Checkout.id) == 2 and await count(db, Order.id) == 2
            assert await stock_of(db, "Wireless Earbuds") == stock - 2

            # The other process stops cleanly too.
            assert await survivor.terminate() == 0
        finally:
            for process in procs:
                await process.kill()
            await db.dispose()

    # Each log says what happened to every update, without the token, phone numbers or addresses.
    for process in procs:
        log = process.log
        assert "user 4001 type" in log and "stopped" in log.splitlines()[-1]
        for secret_text in (TOKEN, secret, PHONE, PHONE.replace(" ", ""), "Baker Street", "Harbour Road"):
            assert secret_text not in log, f"{secret_text!r} in the log of {process.name}"


async def test_a_process_killed_mid_update_loses_nothing_and_applies_it_once(tmp_path, fake, store_url):
    """The update's record commits with its effect: a process that dies mid-update leaves neither,
    and the redelivered update is handled in full by the other process."""
    secret = Settings(_env_file=None, bot_token=TOKEN).webhook_token
    db = Database(store_url)
    async with RoundRobinProxy(HOOK_PATH) as proxy:
        procs = [BotProcess(name, tmp_path, fake, DATABASE_URL=store_url, WEBHOOK_URL=proxy.url)
                 for name in ("a", "b")]
        proxy.backends = [process.hook for process in procs]
        try:
            for process in procs:  # one after the other: the first loads the demo catalog
                await process.start()
                await eventually(process.ready, timeout=40, interval=0.2)

            async def both_registered() -> bool:
                return len(fake.find_calls("setWebhook")) == 2

            await eventually(both_registered, timeout=10)
            assert fake.webhook_secret == secret
            dee = fake.user(4101, "Dee")
            await dee.send("wireless earbuds")
            await dee.press("Wireless Earbuds")

            # Dee presses "Add to cart". The process that takes it adds the earbuds, then hangs on
            # answering her (Telegram is slow) and is killed there: its work is not committed.
            fake.fail_next("answerCallbackQuery", 400, delay=10)
            taker = procs[proxy.next_backend]
            press = pressed(fake, dee, "Add to cart")
            query_id = press["callback_query"]["id"]

            async def hanging() -> bool:
                return any(c.method == "answerCallbackQuery" and str(c.params.get("callback_query_id")) == query_id
                           for c in fake.calls)  # asked, not yet answered

            await fake.send_update(press, wait=False)
            await eventually(hanging, timeout=10, interval=0.01)
            await taker.kill()

            # The connection dropped, so the update is delivered again (here the proxy retries the
            # other process at once, as a load balancer does; Telegram would retry later). The
            # survivor adds the earbuds once and answers Dee.
            async def served() -> bool:
                return proxy.served_by(press["update_id"]) is not None

            await eventually(served, timeout=20)
            survivor = procs[proxy.served_by(press["update_id"])]
            assert survivor is not taker
            assert [c.params["text"] for c in answers_to(fake, press) if c.ok] == ["✓ Added to your cart (1 item)."]
            assert await cart_quantity(db, 4101) == 1
            async with db.read() as session:
                assert (await session.get(ProcessedUpdate, press["update_id"])).outcome == "ok"

            # Telegram delivering it yet again changes nothing.
            await fake.resend(press)
            assert await cart_quantity(db, 4101) == 1
            assert [c.ok for c in answers_to(fake, press)] == [False, True]  # the killed process's try failed
            assert await survivor.terminate() == 0
        finally:
            for process in procs:
                await process.kill()
            await db.dispose()
    assert f"update {press['update_id']} " not in taker.log  # it never finished the update


def lamp(call) -> str:  # type: ignore[no-untyped-def]
    """The product a low-stock notice is about."""
    return re.search(r"Lamp \d+-\d+", call.params["text"]).group(0)


@needs_pg
async def test_two_outbox_workers_deliver_every_notice_once_and_in_order(tmp_path, fake):
    db = await make_database("postgresql", tmp_path)
    chats = list(range(5001, 5021))

    # Sellers in 20 chats have 10 low-stock notices each waiting (200 rows).
    async with db.transaction() as session:
        for n in range(10):
            for chat in chats:
                await outbox.enqueue(
                    session, key=f"stock-{chat}-{n}", channel=outbox.TELEGRAM, template=STOCK_TEMPLATE,
                    payload={"variant_id": n, "title": f"Lamp {chat}-{n:02}", "label": "", "sku": f"L-{chat}-{n}",
                             "stock": 2},
                    chat_id=chat, now=utcnow())

    # Two processes run the outbox worker, each with its own store connection and bot.
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=PG_URL, telegram_api_base_url=f"{fake.url}/bot")
    workers, sent_by = [], defaultdict(set)
    for name in ("w1", "w2"):
        worker_bot = rate_limited_bot(settings)
        await worker_bot.initialize()
        # Small batches, so that neither worker can hold every chat's next notice at once.
        worker = OutboxWorker(Database(PG_URL), worker_bot, batch=5, idle_poll=0.05)
        send = worker._send_message

        async def recorded(delivery, name=name, send=send):  # type: ignore[no-untyped-def]
            sent_by[name].add(delivery.payload["title"])
            await send(delivery)

        worker._send_message = recorded
        workers.append(worker)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:
        async def all_sent() -> bool:
            async with db.read() as session:
                return await session.scalar(select(func.count()).where(OutboxMessage.status == outbox.SENT)) == 200

        await eventually(all_sent, timeout=30, interval=0.1)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        for worker in workers:
            await worker.bot.shutdown()
            await worker.db.dispose()
        await db.dispose()

    # Every seller got each notice exactly once, in the order they were written.
    sends = [c for c in fake.find_calls("sendMessage") if c.params.get("chat_id") in chats]
    assert all(c.ok for c in sends)
    twice = [title for title, times in Counter(lamp(c) for c in sends).items() if times > 1]
    assert twice == [] and len(sends) == 200
    for chat in chats:
        titles = [lamp(c) for c in sends if c.params["chat_id"] == chat]
        assert titles == [f"Lamp {chat}-{n:02}" for n in range(10)]
    assert workers[0].delivered + workers[1].delivered == 200
    assert workers[0].delivered > 0 and workers[1].delivered > 0
    assert not sent_by["w1"] & sent_by["w2"]

    # Each worker kept about a second between two messages to one chat.
    for titles in sent_by.values():
        by_chat = defaultdict(list)
        for c in sends:
            if lamp(c) in titles:
                by_chat[c.params["chat_id"]].append(c.time)
        for times in by_chat.values():
            assert all(later - earlier >= 0.9 for earlier, later in zip(times, times[1:]))
