"""Production: the webhook on the bot's own server, exactly-once updates, several processes on PostgreSQL.

The webhook tests run the real Application in this process; the multi-process tests start real
`python -m bot` processes behind a round-robin proxy (one webhook URL, as Telegram sees it), all
against the fake Bot API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

import bot.app
from bot.app import build_application
from bot.config import Settings
from bot.runtime import BotRuntime
from bot.startup import prepare_store
from bot.worker import OutboxWorker, rate_limited_bot
from store.db import Database
from store.models import (
    CartLine,
    Checkout,
    InboxUpdate,
    Order,
    OutboxMessage,
    Product,
    User,
    UserStep,
    utcnow,
)
from store.services import outbox
from store.services.catalog import touch_products
from store.services.users import set_step
from store.states import Notice, OutboxChannel, OutboxStatus

from .conftest import PG_URL, TOKEN, eventually, make_database
from .journeys import answers_to, go_to_confirm_step, pressed, product_stock
from .processes import HOOK_PATH, BotProcess, free_port, get, metric, post
from .proxy import RoundRobinProxy

PHONE = "+1 202 555 0143"  # what the fake shares for "Share my contact"
needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")


async def cart_quantity(db: Database, user_id: int) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.coalesce(func.sum(CartLine.quantity), 0))
                                    .where(CartLine.user_id == user_id))


async def count(db: Database, column) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await session.scalar(select(func.count(column)))


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
    """The real bot serving Telegram's webhook on its own HTTP server, in this process."""

    def __init__(self, fake, database_url: str, clock, **settings: object) -> None:  # type: ignore[no-untyped-def]
        port = free_port()
        self.fake, self.clock = fake, clock
        self.settings = Settings(_env_file=None, bot_token=TOKEN, database_url=database_url,
                                 telegram_api_base_url=f"{fake.url}/bot", http_port=port,
                                 webhook_url=f"http://127.0.0.1:{port}{HOOK_PATH}", **settings)
        self.runtime: BotRuntime | None = None

    async def start(self) -> None:
        """Prepare the store, start the bot and its server, register the webhook."""
        await prepare_store(self.settings, migrate=True)
        application = build_application(self.settings, clock=self.clock, search_refresh_interval=0)
        self.runtime = BotRuntime(self.settings, application)
        await self.runtime.start()
        self.fake.follow(self.runtime.dispatcher.busy)

    async def stop(self) -> None:
        """Stop as on SIGTERM: refuse new updates, finish those in hand, shut down."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            self.fake.follow(None)
            await runtime.stop()

    @property
    def url(self) -> str:
        """The base URL of the bot's HTTP server."""
        return f"http://127.0.0.1:{self.settings.http_port}"

    @property
    def db(self) -> Database:
        return self.runtime.shop.db


async def broken_help(update, context) -> None:  # type: ignore[no-untyped-def]
    """A handler with a bug, hit after its store work committed (while rendering the answer)."""
    async with context.shop.db.transaction() as session:
        await set_step(session, update.effective_user.id, "help_tour", {"page": 1})
    raise RuntimeError("the help page is broken")


@pytest.fixture
async def webhook_bot(fake, store_url, clock, monkeypatch):
    """The bot in webhook mode; its /help handler raises."""
    monkeypatch.setitem(bot.app.COMMANDS, "help", broken_help)
    runner = WebhookBot(fake, store_url, clock)
    await runner.start()
    yield runner
    await runner.stop()


async def test_the_webhook_serves_shoppers_and_refuses_everything_else(fake, webhook_bot, caplog):
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
        assert await session.get(InboxUpdate, 990001) is None
        assert await session.get(User, 3666) is None

    # A handler fails after its store work: Ann gets an apology, the webhook had answered 200 on
    # receipt, so Telegram does not retry. What it committed is kept; the update is recorded as failed.
    help_update = await ann.send("/help")
    assert "Sorry, something went wrong" in ann.last_text
    assert fake.webhook_deliveries[-1].status == 200
    info = await webhook_bot.runtime.application.bot.get_webhook_info()
    assert info.last_error_message is None and info.pending_update_count == 0
    async with webhook_bot.db.read() as session:
        assert (await session.get(UserStep, 3001)).data == {"page": 1}
        assert (await session.get(InboxUpdate, help_update["update_id"])).state == "failed"
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
                 "chatshop_orders", "chatshop_inbox_wait_seconds_bucket", "chatshop_inbox_in_hand"):
        assert name in after
    # The inbox has nothing left to do: no update waits or is in hand.
    assert metric(after, "chatshop_inbox_rows") == 0 and metric(after, "chatshop_inbox_oldest_pending_seconds") == 0
    assert metric(after, "chatshop_inbox_wait_seconds_count") >= 4
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
    webhook_bot.runtime.web.stop_taking_updates()
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
            stock = await product_stock(db, "Wireless Earbuds")
            first = len(proxy.forwarded)
            await ann.send("/start")
            assert "Welcome to chatshop, Ann" in ann.last_text
            await ann.send("wireless earbuds")
            await ann.press("Wireless Earbuds")
            await ann.press("Add to cart")
            assert "Added to your cart (1 item)" in ann.last_answer["text"]
            await go_to_confirm_step(ann, "22 Baker Street, London NW1 6XE")
            await ann.press("Place order")
            assert "is placed" in ann.last_text
            await ann.send("/orders")
            assert "placed (cash on delivery)" in ann.last_text
            served = [f.backend for f in proxy.forwarded[first:]]
            assert len(served) == 13 and all(x != y for x, y in zip(served, served[1:]))
            assert all(f.status == 200 for f in proxy.forwarded)
            assert await count(db, Checkout.id) == 1 and await count(db, Order.id) == 1
            assert await product_stock(db, "Wireless Earbuds") == stock - 1
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
            assert await product_stock(db, "Wireless Earbuds") == stock - 2

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


@needs_pg
async def test_one_persons_updates_received_by_two_processes_are_handled_in_order(tmp_path, fake):
    """Zoe types six searches in a row; Telegram delivers them to the two processes in turn. Whichever
    process takes them, they are answered in the order she sent them, one at a time."""
    await (await make_database("postgresql", tmp_path)).dispose()
    async with RoundRobinProxy(HOOK_PATH) as proxy:
        procs = [BotProcess(name, tmp_path, fake, DATABASE_URL=PG_URL, WEBHOOK_URL=proxy.url) for name in "ab"]
        proxy.backends = [process.hook for process in procs]
        try:
            for process in procs:
                await process.start()
                await eventually(process.ready, timeout=40, interval=0.2)

            async def both_registered() -> bool:
                return len(fake.find_calls("setWebhook")) == 2

            await eventually(both_registered, timeout=10)
            zoe = fake.user(4201, "Zoe")
            words = ["mug", "hoodie", "boots", "umbrella", "notebook", "soap"]
            # Telegram takes a while to accept each answer, so the next search arrives before it is done.
            fake.slow_next("sendMessage", 0.3, times=len(words), match={"chat_id": 4201})
            for word in words:
                await zoe.send(word, wait=False)

            async def all_answered() -> list:  # type: ignore[type-arg]
                calls = [c for c in fake.find_calls("sendMessage", chat_id=4201) if c.ok]
                return calls if len(calls) == len(words) else []

            answers = await eventually(all_answered, timeout=30)
            assert {f.backend for f in proxy.forwarded if f.status == 200} == {0, 1}
            assert [word for answer, word in zip(answers, words) if f"“{word}”" in answer.params["text"]] == words
            for before, after in zip(answers, answers[1:]):
                assert after.time >= before.answered_at  # never two of her updates at once
            for process in procs:
                assert await process.terminate() == 0
        finally:
            for process in procs:
                await process.kill()


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
                    session, key=f"stock-{chat}-{n}", channel=OutboxChannel.TELEGRAM, template=Notice.SELLER_STOCK,
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
                sent = await session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
                return sent == 200

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
