"""Updates per second through the whole stack: fake Bot API -> polling or webhook -> inbox -> handlers -> store.

The fake Bot API is the tests' own (bot/sandbox/emulator.py: it checks every call as Telegram
would, parses the HTML and keeps each chat's messages), one per bot, all in one process of
their own so their CPU is measured apart from the bot's (the table's "fake" column). It
answers every call but getUpdates after ``--rtt`` milliseconds (default 50: what a server
near Telegram's data centres pays per call; getUpdates keeps its long poll). A button
press is made under a message the fake holds as sent by the bot, so edits are checked too.
Each measurement enqueues N updates in the fake at once and times from that moment to the
bot's last answer, once every update has been delivered, every callback
query answered, every text answered, and the bot has made no call for ``--quiet``
seconds (the quiet wait is not counted). The same injection serves the baseline and
our bot.

Configurations (all bots are subprocesses; ours run ``bot.__main__.main`` exactly as
``python -m bot`` does):

  bare-off   a bare PTB Application, default HTTPXRequest, long polling, one
             sendMessage per update (echo)
  bare-on    the same with ``concurrent_updates(64)`` (or --concurrency): the baseline
             (--baseline), alive the whole run and measured next to every configuration of
             ours (alternating bursts)
  aio-off/on the bare echo with our ``AiohttpRequest`` (bot/request.py) instead of httpx:
             what PTB and our Bot API client cost per update before any of our work
  sqlite-*   our bot, long polling, SQLite, 1 process
  pg1-*      our bot, webhook, PostgreSQL, 1 process
  pg2-*      our bot, webhook, PostgreSQL, 2 processes behind the tests' round-robin
             proxy (tests/proxy.py, a load balancer, in the fake's process), 40 deliveries
             in flight (Telegram's default max_connections)
  *-off/-on  one update at a time, or ``CONCURRENT_UPDATES=64`` (or --concurrency), the
             shop's default

The default run is the headline: bare-on, aio-on, sqlite-on, pg1-on, pg2-on at 50 ms.

The mix (per burst, exact shares, shuffled): 60% search (text, 20 queries incl. typos
and a no-result one), 20% product card (callback ``p:<id>`` pressed on a search result),
15% cart edits (``cl:<line>:inc|dec`` alternating per line, on 2 lines per user
prepared in the store at quantity 5), 5% checkout steps (Checkout then Continue,
alternating per user, by 50 checkout users whose carts are prepared; a press that
arrives out of order is answered "this step is over", which counts as work done). 500
users: 450 shop, 50 check out. Each configuration gets a fresh store (SQLite file, or
PostgreSQL ``public`` schema wiped, migrated and the demo catalog loaded by
``bot.startup.prepare_store``).

Latency: "handler" is the bot's own duration per update from its log line (the value
``chatshop_handler_seconds`` observes: the handlers and their Bot API calls, not the
time the update waited in the inbox); for the baseline the same span around
``Application.process_update``. A paced phase at half the measured throughput then gives
p95 at a steady load, plus "e2e": fake-side time from enqueue to the bot's
answerCallbackQuery (callbacks). ``/metrics`` is read at the end as a cross-check (share of
observations <= 20 ms).

    python bench/throughput.py                 # ~5 min: N=1500, 3 runs, the headline at 50 ms
    python bench/throughput.py --rtt 0         # the same with a fake that answers at once
    python bench/throughput.py --quick         # ~1 min: N=500, 2 runs
    python bench/throughput.py --configs bare-off,pg1-off --baseline bare-off --rtt 0 --count-sql
    python bench/throughput.py --configs bare-on,pg1-on --profile pg1-on --py-spy /path/to/py-spy
    python bench/throughput.py --store-costs   # CPU and wall time of an update's store work, alone

``--database-url`` (default postgresql://postgres@127.0.0.1:5432/chatshop_tput) is
wiped; ``--skip-pg`` leaves PostgreSQL out.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

SCRIPT = str(Path(__file__).resolve())
ROOT = Path(SCRIPT).parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port, fresh_store, pct  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/chatshop_tput"
REFUSED_DATABASES = {"test", "chatshop_dev", "chatshop_import", "chatshop_bench", "chatshop_inline",
                     "chatshop_earn", "chatshop_prod"}
SHOP_USERS = 450
CHECKOUT_USERS = 50
FIRST_USER = 7_000_000_001
QUERIES = ["hoodie", "running shoes", "mug", "creme", "notebook", "coffee", "t-shirt", "boots", "umbrella",
           "soap", "bamboo", "sneakers", "tea towels", "cast iron skillet", "pens", "hodie", "sneekers",
           "french desserts", "beanie", "xylophone"]
MIX = (("search", 0.60), ("product", 0.20), ("cart", 0.15), ("checkout", 0.05))
WEBHOOK_CONNECTIONS = 40  # Telegram's default max_connections
WEBHOOK_PATH = "/telegram-webhook"
LOG_LINE = re.compile(r"update (\d+) user \S+ type \S+ handler (\S+) outcome (\S+) ([\d.]+)ms")


# =========================================================================== the fake Bot API


class _Run:
    """One injected batch of updates and what the bot answered to it."""

    def __init__(self, updates: list[dict], expect: str) -> None:
        self.n = len(updates)
        self.expect = expect
        self.first_id = updates[0]["update_id"]
        self.last_id = updates[-1]["update_id"]
        self.t0 = time.monotonic()
        self.entries: list = []  # the fake's queue entries, in update order
        self.delivered = 0  # entries[:delivered] have gone out
        self.enqueued: dict[int, float] = {}
        self.callbacks: dict[str, int] = {}
        self.n_callbacks = 0
        self.n_text = 0
        for u in updates:
            if "callback_query" in u:
                self.callbacks[u["callback_query"]["id"]] = u["update_id"]
                self.n_callbacks += 1
            else:
                self.n_text += 1
        self.answered = 0
        self.alerts = 0
        self.chat_calls = 0
        self.send_messages = 0
        self.last_call = self.t0
        self.calls: collections.Counter[str] = collections.Counter()
        self.cb_latency: list[float] = []
        self.webhook_failures = 0

    def complete(self) -> bool:
        while self.delivered < len(self.entries) and self.entries[self.delivered].delivered.is_set():
            self.delivered += 1
        if self.delivered < self.n:
            return False
        if self.expect == "echo":
            return self.send_messages >= self.n
        return self.answered >= self.n_callbacks and self.chat_calls >= self.n_text + self.n_callbacks - self.alerts


# Calls a bot makes to set itself up, not in answer to an update.
SETUP_CALLS = {"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "setMyCommands",
               "getMyCommands", "deleteMyCommands"}


class _Bot:
    """One bot's fake Bot API (the tests' own, bot/sandbox/emulator.py), its webhook proxy and the current run."""

    def __init__(self, fake, proxy) -> None:  # type: ignore[no-untyped-def]
        self.fake = fake
        self.proxy = proxy
        self.run: _Run | None = None
        self.seen = 0  # fake.calls[:seen] are accounted for (or waiting in `unanswered`)
        self.unanswered: list = []
        self.deliveries = 0
        self.releaser: asyncio.Task | None = None

    def account(self) -> None:
        """Count the calls the fake has answered since the last look (each call looked at once)."""
        calls = self.fake.calls
        self.unanswered.extend(calls[self.seen:])
        self.seen = len(calls)
        run, waiting = self.run, []
        for call in self.unanswered:
            if call.answered_at is None:
                waiting.append(call)
            elif run is not None and call.method not in SETUP_CALLS:
                _count(run, call)
        self.unanswered = waiting
        deliveries = self.fake.webhook_deliveries
        if run is not None:
            run.webhook_failures += sum(1 for d in deliveries[self.deliveries:]
                                        if d.status is None or not 200 <= d.status < 300)
        self.deliveries = len(deliveries)


def _count(run: _Run, call) -> None:  # type: ignore[no-untyped-def]
    method = call.method
    run.calls[method] += 1
    run.last_call = max(run.last_call, call.answered_at)
    if method == "answerCallbackQuery":
        update_id = run.callbacks.pop(str(call.params.get("callback_query_id")), None)
        if update_id is not None:
            run.answered += 1
            run.cb_latency.append(call.answered_at - run.enqueued.get(update_id, run.t0))
            if call.params.get("show_alert") in (True, "true", "True"):
                run.alerts += 1
    elif method.startswith(("send", "edit")) and method != "sendChatAction":
        run.chat_calls += 1
        if method == "sendMessage":
            run.send_messages += 1


class Fakes:
    """The tests' fake Bot API, one per bot token, answering every call but getUpdates after ``rtt``
    seconds; webhooks go through the tests' round-robin proxy (a load balancer in front of the
    processes). Control endpoints let the bench open a bot, load updates and wait for the answers."""

    def __init__(self, rtt: float) -> None:
        self.rtt = rtt
        self.bots: dict[str, _Bot] = {}

    async def open(self, request):  # type: ignore[no-untyped-def]
        from aiohttp import web

        from bot.sandbox.emulator import BotApiEmulator
        from tests.proxy import RoundRobinProxy

        data = await request.json()
        fake = BotApiEmulator(token=data["token"], bot_username="chatshop_bench_bot",
                          webhook_connections=WEBHOOK_CONNECTIONS)
        await fake.start()
        fake.latency = self.rtt
        proxy = None
        if data.get("backends"):
            proxy = RoundRobinProxy(WEBHOOK_PATH)
            await proxy.__aenter__()
            proxy.backends = list(data["backends"])
        self.bots[data["token"]] = _Bot(fake, proxy)
        return web.json_response({"api": f"{fake.url}/bot", "webhook": proxy.url if proxy else None})

    async def load(self, request):  # type: ignore[no-untyped-def]
        from aiohttp import web

        data = await request.json()
        st = self.bots[data["token"]]
        if st.releaser is not None:
            st.releaser.cancel()
        st.account()
        updates = data["updates"]
        for update in updates:
            query = update.get("callback_query")
            if query is not None:
                # The message the button is under, as the bot sent it (so it can be edited).
                query["message"] = st.fake.bot_message(query["from"]["id"], query["message"]["text"])
        run = _Run(updates, data.get("expect", "shop"))
        st.run = run
        rate = data.get("rate")
        if rate:
            st.releaser = asyncio.create_task(self._release(st, run, updates, float(rate)))
        else:
            for update in updates:
                run.enqueued[update["update_id"]] = run.t0
                run.entries.append(st.fake.enqueue(update))
        return web.json_response({"ok": True})

    async def _release(self, st: _Bot, run: _Run, updates: list[dict], rate: float) -> None:
        released = 0
        while released < len(updates):
            due = min(len(updates), int((time.monotonic() - run.t0) * rate) + 1)
            now = time.monotonic()
            for update in updates[released:due]:
                run.enqueued[update["update_id"]] = now
                run.entries.append(st.fake.enqueue(update))
            released = max(released, due)
            await asyncio.sleep(0.002)

    async def wait(self, request):  # type: ignore[no-untyped-def]
        from aiohttp import web

        st = self.bots[request.query["token"]]
        quiet = float(request.query.get("quiet", 0.3))
        deadline = time.monotonic() + float(request.query.get("timeout", 120))
        run = st.run
        complete = False
        while time.monotonic() < deadline:
            st.account()
            if run.complete() and time.monotonic() - run.last_call >= quiet:
                complete = True
                break
            await asyncio.sleep(0.005)
        return web.json_response({
            "complete": complete, "n": run.n, "elapsed": run.last_call - run.t0, "calls": dict(run.calls),
            "callbacks": run.n_callbacks, "answered": run.answered, "alerts": run.alerts,
            "chat_calls": run.chat_calls, "text": run.n_text, "delivered": run.delivered,
            "last_id": run.last_id, "webhook_failures": run.webhook_failures,
            "cb_latency_ms": [round(x * 1000, 3) for x in run.cb_latency],
        })

    async def state(self, request):  # type: ignore[no-untyped-def]
        from aiohttp import web

        fake = self.bots[request.query["token"]].fake
        return web.json_response({"get_updates": sum(1 for call in fake.calls if call.method == "getUpdates"),
                                  "webhook": fake.webhook_url})


def child_fake(rtt_ms: float) -> None:
    """The fake Bot API process: prints its control port, serves until killed."""
    from aiohttp import web

    async def main() -> None:
        fakes = Fakes(rtt_ms / 1000)
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/control/open", fakes.open)
        app.router.add_post("/control/load", fakes.load)
        app.router.add_get("/control/wait", fakes.wait)
        app.router.add_get("/control/state", fakes.state)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# =========================================================================== bot processes


def child_echo(concurrent: int, client: str) -> None:
    """The baseline: a bare PTB Application (default HTTPXRequest), one sendMessage per update;
    with ``client`` "aiohttp", the same on our AiohttpRequest."""
    from telegram import Update
    from telegram.ext import Application, ApplicationBuilder, TypeHandler

    durations: list[tuple[int, float]] = []

    class TimedApplication(Application):
        async def process_update(self, update: object) -> None:
            started = time.perf_counter()
            try:
                await super().process_update(update)
            finally:
                if isinstance(update, Update):
                    durations.append((update.update_id, time.perf_counter() - started))

    async def echo(update: Update, context) -> None:  # type: ignore[no-untyped-def]
        text = update.callback_query.data if update.callback_query else update.effective_message.text
        await context.bot.send_message(update.effective_chat.id, text or "echo")

    base = os.environ["TELEGRAM_API_BASE_URL"]
    builder = (ApplicationBuilder().token(os.environ["BOT_TOKEN"]).base_url(base)
               .base_file_url(base.replace("/bot", "/file/bot")).application_class(TimedApplication))
    if concurrent > 1:
        builder = builder.concurrent_updates(concurrent)
    if client == "aiohttp":
        from bot.request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    application = builder.build()
    application.add_handler(TypeHandler(Update, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    with open(os.environ["BENCH_DURATIONS"], "w") as out:
        out.writelines(f"{i} {d * 1000:.3f}\n" for i, d in durations)


def child_ours() -> None:
    """Our bot, exactly as `python -m bot` runs it (CONCURRENT_UPDATES from the environment)."""
    if os.environ.get("BENCH_SQL_COUNTS"):
        _count_sql(os.environ["BENCH_SQL_COUNTS"])
    from bot.__main__ import main

    sys.exit(main(["run"]))


def _count_sql(path: str) -> None:
    """Diagnostic (--count-sql, concurrency off only): store round trips per update, by handler."""
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    import bot.application

    box: collections.Counter[str] = collections.Counter()
    per: dict[str, list[dict]] = collections.defaultdict(list)
    event.listen(Engine, "before_cursor_execute", lambda *a: box.update(["statements"]))
    event.listen(Engine, "commit", lambda *a: box.update(["commits"]))
    event.listen(Engine, "rollback", lambda *a: box.update(["rollbacks"]))
    event.listen(Pool, "checkout", lambda *a: box.update(["checkouts"]))
    record = bot.application.record_update

    def counted(update, handler, outcome, seconds, waited=0.0):  # type: ignore[no-untyped-def]
        per[handler].append(dict(box))
        box.clear()
        record(update, handler, outcome, seconds, waited)

    bot.application.record_update = counted

    def dump() -> None:
        summary = {}
        for handler, rows in per.items():
            keys = sorted({k for row in rows for k in row})
            summary[handler] = {"n": len(rows), **{k: sum(r.get(k, 0) for r in rows) / len(rows) for k in keys}}
        Path(path).write_text(json.dumps(summary))

    atexit.register(dump)


# =========================================================================== the workload


@dataclass
class Store:
    """What a prepared store holds for the workload, and where each user is."""

    product_ids: list[int]
    lines: dict[int, list[int]]  # user -> cart line ids
    next_line_action: dict[int, str] = field(default_factory=dict)
    next_checkout: dict[int, str] = field(default_factory=dict)


SHOP = [FIRST_USER + i for i in range(SHOP_USERS)]
BUYERS = [FIRST_USER + SHOP_USERS + i for i in range(CHECKOUT_USERS)]
_update_ids = itertools.count(int(time.time()) % 1_000_000 * 1000 + 1)
_message_ids = itertools.count(1)


def _person(user_id: int) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "Shopper", "language_code": "en"}


def _chat(user_id: int) -> dict:
    return {"id": user_id, "type": "private", "first_name": "Shopper"}


def _callback(user_id: int, data: str, bot_id: int, shown: str) -> dict:
    update_id = next(_update_ids)
    message = {"message_id": next(_message_ids), "from": {"id": bot_id, "is_bot": True, "first_name": "Bench Bot"},
               "chat": _chat(user_id), "date": int(time.time()), "text": shown}
    return {"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": _person(user_id), "chat_instance": f"-{user_id}", "data": data,
        "message": message}}


def _text(user_id: int, text: str) -> dict:
    return {"update_id": next(_update_ids), "message": {
        "message_id": next(_message_ids), "from": _person(user_id), "chat": _chat(user_id),
        "date": int(time.time()), "text": text}}


def make_mix(rng: random.Random, store: Store, n: int, bot_id: int) -> list[dict]:
    """N updates in the shopping mix, valid for the store's current state, in a shuffled order."""
    kinds: list[str] = []
    for kind, share in MIX:
        kinds += [kind] * round(n * share)
    kinds = (kinds + ["search"] * n)[:n]
    rng.shuffle(kinds)
    updates = []
    for kind in kinds:
        if kind == "search":
            updates.append(_text(rng.choice(SHOP), rng.choice(QUERIES)))
        elif kind == "product":
            updates.append(_callback(rng.choice(SHOP), f"p:{rng.choice(store.product_ids)}", bot_id,
                                     "🔎 Results for your search"))
        elif kind == "cart":
            user = rng.choice(SHOP)
            line = rng.choice(store.lines[user])
            action = store.next_line_action.get(line, "inc")
            store.next_line_action[line] = "dec" if action == "inc" else "inc"
            updates.append(_callback(user, f"cl:{line}:{action}", bot_id, "🛒 Your cart"))
        else:
            user = rng.choice(BUYERS)
            step = store.next_checkout.get(user, "co")
            store.next_checkout[user] = "cg" if step == "co" else "co"
            updates.append(_callback(user, step, bot_id, "🛒 Your cart" if step == "co" else "🧾 Review"))
    return updates


async def prepare_store_for(url: str, token: str) -> Store:
    """A fresh store: schema, demo catalog, 500 users, 2 cart lines each (quantity 5)."""
    from sqlalchemy import select

    from store.db import Database
    from store.models import CartLine, Product, User, Variant

    await fresh_store(url, token)
    database = Database(url)
    try:
        async with database.transaction() as session:
            products = list(await session.scalars(select(Product.id).where(Product.status == "active")))
            variants = (await session.execute(
                select(Variant.id, Variant.price).join(Product, Product.id == Variant.product_id)
                .where(Product.status == "active", Variant.stock >= 12).order_by(Variant.id))).all()
            session.add_all(User(id=u, first_name="Shopper", language_code="en") for u in SHOP + BUYERS)
            await session.flush()
            for i, user in enumerate(SHOP + BUYERS):
                for k in (0, 1):
                    variant_id, price = variants[(i + k) % len(variants)]
                    session.add(CartLine(user_id=user, variant_id=variant_id, quantity=5, seen_price=price))
        async with database.read() as session:
            lines: dict[int, list[int]] = collections.defaultdict(list)
            for line_id, user in (await session.execute(select(CartLine.id, CartLine.user_id))).all():
                lines[user].append(line_id)
    finally:
        await database.dispose()
    return Store(products, dict(lines))


# =========================================================================== the parent


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench's database (not the parent's own)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                 password=parsed.password, database=parsed.database)
    try:
        pids = [row[0] for row in await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    finally:
        await conn.close()
    return {pid: cpu_seconds(pid) for pid in pids}


def ms(value: float, width: int) -> str:
    return f"{'-':>{width}}" if value != value else f"{value:>{width}.1f}"


@dataclass
class Config:
    name: str
    kind: str  # echo | ours
    concurrent: int
    client: str = "httpx"  # the echo bot's Bot API client: httpx (PTB's default) | aiohttp (ours)
    store: str = ""  # sqlite | pg
    webhook: bool = False
    processes: int = 1
    token: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    durations_file: Path | None = None
    state: Store | None = None
    bursts: list[dict] = field(default_factory=list)
    paced: dict | None = None
    metrics: dict | None = None
    handler_ms: dict[int, tuple[str, str, float]] = field(default_factory=dict)

    @property
    def describe(self) -> str:
        if self.kind == "echo":
            client = "httpx" if self.client == "httpx" else "our AiohttpRequest"
            return f"bare PTB echo, {client}, polling, concurrency {self.on_off}"
        how = "webhook" if self.webhook else "polling"
        db = "PostgreSQL" if self.store == "pg" else "SQLite"
        return f"ours, {how}, {db}, {self.processes} proc, concurrency {self.on_off}"

    @property
    def on_off(self) -> str:
        if self.concurrent <= 1:
            return "off"
        return f"{self.concurrent}"


ALL_CONFIGS = ["bare-off", "bare-on", "aio-off", "aio-on", "sqlite-off", "sqlite-on", "pg1-off", "pg1-on", "pg2-off",
               "pg2-on"]
HEADLINE = ["bare-on", "aio-on", "sqlite-on", "pg1-on", "pg2-on"]


def make_config(name: str, index: int, on: int = 64) -> Config:
    token = f"{900000 + index}:bench-{name}-token-0123456789abcdef"
    conc = on if name.endswith("-on") else 1
    if name.startswith("bare"):
        return Config(name, "echo", conc, token=token)
    if name.startswith("aio"):
        return Config(name, "echo", conc, client="aiohttp", token=token)
    if name.startswith("sqlite"):
        return Config(name, "ours", conc, store="sqlite", token=token)
    return Config(name, "ours", conc, store="pg", webhook=True, processes=2 if name.startswith("pg2") else 1,
                  token=token)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="chatshop-tput-"))
        self.fake_proc: subprocess.Popen | None = None
        self.fake_url = ""
        self.http = None
        self.profiles: list[Path] = []

    # ---- processes

    def start_fake(self) -> None:
        self.fake_proc = subprocess.Popen([sys.executable, SCRIPT, "--child", "fake", "--rtt", str(self.args.rtt)],
                                          stdout=subprocess.PIPE, cwd=self.tmp)
        port = int(self.fake_proc.stdout.readline())
        self.fake_url = f"http://127.0.0.1:{port}"

    async def start_bots(self, cfg: Config) -> None:
        if cfg.kind == "ours":
            cfg.ports = [free_port() for _ in range(cfg.processes)]
        hooks = [f"http://127.0.0.1:{port}{WEBHOOK_PATH}" for port in cfg.ports] if cfg.webhook else []
        backends = hooks if len(hooks) > 1 else []  # several processes: a load balancer in front
        opened = await self.post("/control/open", {"token": cfg.token, "backends": backends})
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("BOT_", "DATABASE_", "WEBHOOK_", "TELEGRAM_", "HTTP_"))}
        base_env.update(BOT_TOKEN=cfg.token, TELEGRAM_API_BASE_URL=opened["api"], PYTHONUNBUFFERED="1")
        for i in range(cfg.processes if cfg.kind == "ours" else 1):
            env = dict(base_env)
            log = self.tmp / f"{cfg.name}-{i}.log"
            if cfg.kind == "echo":
                cfg.durations_file = self.tmp / f"{cfg.name}.durations"
                env["BENCH_DURATIONS"] = str(cfg.durations_file)
            else:
                port = cfg.ports[i]
                env.update(DATABASE_URL=self.db_url(cfg), HTTP_HOST="127.0.0.1", HTTP_PORT=str(port),
                           LOG_LEVEL="INFO", DEMO_CATALOG="true", OPERATOR_IDS="")
                env["CONCURRENT_UPDATES"] = str(cfg.concurrent)
                if self.args.count_sql and cfg.concurrent == 1:
                    env["BENCH_SQL_COUNTS"] = str(self.tmp / f"{cfg.name}-{i}.sql.json")
                if cfg.webhook:
                    env["WEBHOOK_URL"] = opened["webhook"] or hooks[i]
            cfg.logs.append(log)
            with open(log, "w") as err:
                cfg.procs.append(subprocess.Popen(
                    [sys.executable, SCRIPT, "--child", cfg.kind, "--concurrent", str(cfg.concurrent),
                     "--client", cfg.client],
                    env=env, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=err))

    def db_url(self, cfg: Config) -> str:
        if cfg.store == "pg":
            return self.args.database_url
        return f"sqlite+aiosqlite:///{self.tmp / (cfg.name + '.db')}"

    async def wait_ready(self, cfg: Config, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for proc, log in zip(cfg.procs, cfg.logs):
                if proc.poll() is not None:
                    raise SystemExit(f"{cfg.name}: bot exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            state = await self.get("/control/state", token=cfg.token)
            ready = bool(state["webhook"]) if cfg.webhook else state["get_updates"] > 0
            if ready and cfg.kind == "ours":
                for port in cfg.ports:
                    try:
                        async with self.http.get(f"http://127.0.0.1:{port}/readyz") as response:
                            ready = ready and response.status == 200
                    except OSError:
                        ready = False
            if ready:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{cfg.name}: not ready within {timeout}s; log:\n{cfg.logs[0].read_text()[-3000:]}")
            await asyncio.sleep(0.2)

    def stop_bots(self, cfg: Config) -> None:
        for proc in cfg.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in cfg.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.read_durations(cfg)

    def read_durations(self, cfg: Config) -> None:
        if cfg.kind == "echo":
            if cfg.durations_file and cfg.durations_file.exists():
                for line in cfg.durations_file.read_text().split("\n"):
                    if line:
                        update_id, ms = line.split()
                        cfg.handler_ms[int(update_id)] = ("echo", "ok", float(ms))
            return
        for log in cfg.logs:
            for match in LOG_LINE.finditer(log.read_text(errors="replace")):
                cfg.handler_ms[int(match.group(1))] = (match.group(2), match.group(3), float(match.group(4)))

    # ---- control of the fake

    async def get(self, path: str, **params: object) -> dict:
        async with self.http.get(self.fake_url + path, params={k: str(v) for k, v in params.items()}) as response:
            return await response.json()

    async def post(self, path: str, body: dict) -> dict:
        async with self.http.post(self.fake_url + path, json=body) as response:
            return await response.json()

    async def burst(self, cfg: Config, updates: list[dict], rate: float | None = None) -> dict:
        """Enqueue the updates (at once, or at `rate`/s) and wait until every one is answered."""
        pids = [p.pid for p in cfg.procs]
        pg0 = await backend_cpu(self.args.database_url) if cfg.store == "pg" else {}
        cpu0 = [cpu_seconds(p) for p in pids], cpu_seconds(self.fake_proc.pid)
        await self.post("/control/load", {"token": cfg.token, "updates": updates, "rate": rate,
                                          "expect": "echo" if cfg.kind == "echo" else "shop"})
        result = await self.get("/control/wait", token=cfg.token, quiet=self.args.quiet,
                                timeout=self.args.timeout)
        cpu1 = [cpu_seconds(p) for p in pids], cpu_seconds(self.fake_proc.pid)
        pg1 = await backend_cpu(self.args.database_url) if cfg.store == "pg" else {}
        if not result["complete"]:
            print(f"  ! {cfg.name}: not all answered within {self.args.timeout}s: "
                  f"{ {k: v for k, v in result.items() if k != 'cb_latency_ms'} }", file=sys.stderr)
        result["ids"] = (updates[0]["update_id"], updates[-1]["update_id"])
        result["rate"] = result["n"] / result["elapsed"] if result["elapsed"] > 0 else float("nan")
        result["cpu_bot"] = [b - a for a, b in zip(cpu0[0], cpu1[0])]
        result["cpu_fake"] = cpu1[1] - cpu0[1]
        result["cpu_pg"] = sum(cpu - pg0.get(pid, 0.0) for pid, cpu in pg1.items()) if cfg.store == "pg" else None
        return result

    def mix(self, cfg: Config, rng: random.Random, n: int) -> list[dict]:
        bot_id = int(cfg.token.split(":")[0])
        if cfg.state is None:  # the echo bot needs no store; any product and line ids will do
            cfg.state = Store(list(range(1, 33)), {u: [2 * i + 1, 2 * i + 2] for i, u in enumerate(SHOP + BUYERS)})
        return make_mix(rng, cfg.state, n, bot_id)

    async def metrics(self, cfg: Config) -> dict:
        """Share of chatshop_handler_seconds observations <= 20 ms, summed over the processes."""
        le20 = total = 0.0
        for port in cfg.ports:
            async with self.http.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
            for line in text.splitlines():
                if line.startswith("chatshop_handler_seconds_bucket") and 'le="0.02"' in line:
                    le20 += float(line.rsplit(" ", 1)[1])
                elif line.startswith("chatshop_handler_seconds_count"):
                    total += float(line.rsplit(" ", 1)[1])
        return {"le20": le20, "count": total}

    # ---- the run

    async def run(self) -> None:
        import aiohttp

        args = self.args
        names = args.configs
        configs = [make_config(name, i, args.concurrency) for i, name in enumerate(names)]
        started = time.monotonic()
        self.start_fake()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=args.timeout + 60))
        try:
            echo = [c for c in configs if c.kind == "echo"]
            ours = [c for c in configs if c.kind == "ours"]
            base = next((c for c in echo if c.name == args.baseline), None)
            for cfg in echo:
                await self.start_bots(cfg)
            for cfg in echo:
                await self.wait_ready(cfg)
            rng_base = random.Random(args.seed)
            for cfg in echo:
                await self.burst(cfg, self.mix(cfg, rng_base, args.warmup))
            print(f"{args.updates} updates per burst, {args.runs} runs per configuration; "
                  f"setup {time.monotonic() - started:.0f}s", flush=True)
            for cfg in echo:
                if cfg is base:
                    continue
                for _ in range(args.runs):
                    cfg.bursts.append(await self.burst(cfg, self.mix(cfg, rng_base, args.updates)))
                self.progress(cfg)
            for cfg in ours:
                cfg.state = await prepare_store_for(self.db_url(cfg), cfg.token)
                await self.start_bots(cfg)
                await self.wait_ready(cfg)
                rng = random.Random(args.seed)
                await self.burst(cfg, self.mix(cfg, rng, args.warmup))
                for _ in range(args.runs):
                    if base is not None:
                        base.bursts.append(await self.burst(base, self.mix(base, rng_base, args.updates)))
                    if args.profile == cfg.name:
                        cfg.bursts.append(await self.profiled_burst(cfg, self.mix(cfg, rng, args.updates)))
                    else:
                        cfg.bursts.append(await self.burst(cfg, self.mix(cfg, rng, args.updates)))
                self.progress(cfg)
                if args.paced > 0:
                    rate = 0.5 * statistics.median(b["rate"] for b in cfg.bursts)
                    cfg.paced = await self.burst(cfg, self.mix(cfg, rng, max(50, int(rate * args.paced))), rate)
                cfg.metrics = await self.metrics(cfg)
                self.stop_bots(cfg)
            if base is not None:
                if not ours:
                    for _ in range(args.runs):
                        base.bursts.append(await self.burst(base, self.mix(base, rng_base, args.updates)))
                self.progress(base)
                if args.paced > 0:
                    rate = 0.5 * statistics.median(b["rate"] for b in base.bursts)
                    base.paced = await self.burst(base, self.mix(base, rng_base, max(50, int(rate * args.paced))),
                                                  rate)
            for cfg in echo:
                self.stop_bots(cfg)
        finally:
            for cfg in configs:
                for proc in cfg.procs:
                    if proc.poll() is None:
                        proc.kill()
            if self.fake_proc is not None:
                self.fake_proc.kill()
                self.fake_proc.wait()
            await self.http.close()
        self.report(configs, time.monotonic() - started)
        if not args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"logs kept in {self.tmp}")

    @staticmethod
    def bot_cpu_ms(cfg: Config) -> float:
        """CPU of the configuration's bot process(es) per update, in ms (= CPU seconds per 1,000 updates)."""
        return sum(sum(b["cpu_bot"]) for b in cfg.bursts) / (sum(b["n"] for b in cfg.bursts) / 1000)

    def progress(self, cfg: Config) -> None:
        rates = "  ".join(f"{b['rate']:7,.0f}" for b in cfg.bursts[-self.args.runs:])
        print(f"  {cfg.name:<10} {rates}", flush=True)

    async def profiled_burst(self, cfg: Config, updates: list[dict]) -> dict:
        """A burst with py-spy sampling every bot process of the configuration."""
        spy = self.args.py_spy or shutil.which("py-spy")
        if not spy:
            raise SystemExit("--profile needs py-spy (pip install py-spy, or --py-spy PATH)")
        outs, spies = [], []
        for i, proc in enumerate(cfg.procs):
            out = self.tmp / f"{cfg.name}-{i}.{len(cfg.bursts)}.collapsed"
            outs.append(out)
            spies.append(subprocess.Popen([spy, "record", "--pid", str(proc.pid), "--format", "raw", "--rate", "200",
                                           "--output", str(out), "--nonblocking"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        await asyncio.sleep(1.0)  # py-spy attaches
        result = await self.burst(cfg, updates)
        for s in spies:
            s.send_signal(signal.SIGINT)
        for s in spies:
            s.wait(timeout=30)
        self.profiles.extend(outs)
        return result

    # ---- the report

    def report(self, configs: list[Config], wall: float) -> None:
        for cfg in configs:
            if not cfg.handler_ms:
                self.read_durations(cfg)
        base = next((c for c in configs if c.name == self.args.baseline and c.bursts), None)
        base_median = statistics.median(b["rate"] for b in base.bursts) if base else None
        print()
        print(f"Whole stack throughput: {self.args.updates:,} updates per burst, median of {self.args.runs} runs "
              f"(baseline {self.args.baseline}: {len(base.bursts) if base else 0} bursts, alternating with ours); "
              f"the fake Bot API answers every call after {self.args.rtt:g} ms")
        header = (f"{'config':<11}{'what':<60}{'runs (updates/s)':<28}{'median':>8}{'x bare':>8}"
                  f"{'p50 ms':>8}{'p95 ms':>8}{'paced p95':>10}{'e2e p95':>9}  cpu s/1k upd: bot fake pg")
        print(header)
        print("-" * len(header))
        for cfg in configs:
            if not cfg.bursts:
                continue
            rates = [b["rate"] for b in cfg.bursts]
            median = statistics.median(rates)
            shown = " ".join(f"{r:,.0f}" for r in rates[:5]) + (" ..." if len(rates) > 5 else "")
            burst_ms = self.handler_values(cfg, cfg.bursts)
            paced_ms = self.handler_values(cfg, [cfg.paced]) if cfg.paced else []
            e2e = cfg.paced["cb_latency_ms"] if cfg.paced and cfg.kind == "ours" else []
            n = sum(b["n"] for b in cfg.bursts) / 1000
            cpu_bot = self.bot_cpu_ms(cfg)
            cpu_fake = sum(b["cpu_fake"] for b in cfg.bursts) / n
            cpu_pg = (f"{sum(b['cpu_pg'] for b in cfg.bursts) / n:5.2f}" if cfg.store == "pg" else "    -")
            ratio = f"{median / base_median:.2f}x" if base_median else "-"
            print(f"{cfg.name:<11}{cfg.describe:<60}{shown:<28}{median:>8,.0f}{ratio:>8}"
                  f"{ms(pct(burst_ms, 50), 8)}{ms(pct(burst_ms, 95), 8)}{ms(pct(paced_ms, 95), 10)}"
                  f"{ms(pct(e2e, 95), 9)}  {cpu_bot:5.2f} {cpu_fake:5.2f} {cpu_pg}")
        print()
        print("p50/p95: handler time per update under the bursts (the bot's log line, = chatshop_handler_seconds;")
        print("  baseline: around Application.process_update). paced p95: the same at half the median rate.")
        print("  e2e p95: paced, fake-side enqueue -> answerCallbackQuery. cpu: CPU seconds per 1,000 updates")
        print("  of the bot process(es), the fake, and the PostgreSQL backends serving the bench's database.")
        for cfg in configs:
            if cfg.kind != "ours" or not cfg.bursts:
                continue
            outcomes = collections.Counter()
            per_handler: dict[str, list[float]] = collections.defaultdict(list)
            for burst in cfg.bursts + ([cfg.paced] if cfg.paced else []):
                lo, hi = burst["ids"]
                for update_id in range(lo, hi + 1):
                    entry = cfg.handler_ms.get(update_id)
                    if entry:
                        outcomes[entry[1]] += 1
                        if burst is cfg.paced:
                            per_handler[entry[0]].append(entry[2])
            missing = sum(b["n"] for b in cfg.bursts) + (cfg.paced["n"] if cfg.paced else 0) - sum(outcomes.values())
            alerts = sum(b["alerts"] for b in cfg.bursts)
            failures = sum(b["webhook_failures"] for b in cfg.bursts)
            share = f"{cfg.metrics['le20'] / cfg.metrics['count']:.1%}" if cfg.metrics and cfg.metrics["count"] else "-"
            paced = "  ".join(f"{h.split('.')[-1]} {pct(v, 95):.1f}" for h, v in sorted(per_handler.items()))
            print(f"{cfg.name}: outcomes {dict(outcomes)}, no log line {missing}, refused presses (alerts) {alerts}, "
                  f"webhook failures {failures}; /metrics <= 20 ms: {share}")
            if paced:
                print(f"  paced p95 ms by handler: {paced}")
        medians = [(statistics.median(b["rate"] for b in c.bursts), c.name) for c in configs
                   if c.kind == "ours" and c.bursts]
        if base_median and medians:
            best = max(medians)
            if best:
                print(f"\nbest of ours: {best[1]} {best[0]:,.0f}/s = {best[0] / base_median:.2f}x the bare echo bot "
                      f"({base_median:,.0f}/s)")
        lean = next((c for c in configs if c.kind == "echo" and c.client == "aiohttp" and c.bursts), None)
        if base and lean and medians:
            ours_cpu = [self.bot_cpu_ms(c) for c in configs if c.kind == "ours" and c.bursts]
            spread = f"{min(ours_cpu):.2f}" + (f"-{max(ours_cpu):.2f}" if len(ours_cpu) > 1 else "")
            print(f"bot CPU per update: bare echo {self.bot_cpu_ms(base):.2f} ms; the echo on our AiohttpRequest "
                  f"{self.bot_cpu_ms(lean):.2f} ms (PTB and our client, nothing else); ours {spread} ms")
        for name_on in [c.name for c in configs if c.concurrent > 1]:
            off = next((c for c in configs if c.name == name_on.replace("-on", "-off") and c.bursts), None)
            on = next(c for c in configs if c.name == name_on)
            if off and on.bursts:
                m_on = statistics.median(b["rate"] for b in on.bursts)
                m_off = statistics.median(b["rate"] for b in off.bursts)
                print(f"concurrency on/off {name_on[:-3]}: {m_on / m_off:.2f}x")
        if self.args.count_sql:
            self.report_sql(configs)
        if self.profiles:
            summarize_profiles(self.profiles)
        print(f"\nwall time {wall:.0f}s")

    def report_sql(self, configs: list[Config]) -> None:
        print("\nstore work per update (--count-sql; SQL statements, pool checkouts = transactions, commits),"
              " and Bot API calls per update:")
        for cfg in configs:
            if cfg.kind != "ours" or not cfg.bursts:
                continue
            calls = collections.Counter()
            for burst in cfg.bursts:
                calls.update(burst["calls"])
            n = sum(b["n"] for b in cfg.bursts)
            print(f"  {cfg.name}: Bot API " + ", ".join(f"{m} {c / n:.2f}" for m, c in calls.most_common()))
            for i in range(cfg.processes):
                path = self.tmp / f"{cfg.name}-{i}.sql.json"
                if not path.exists():
                    continue
                for handler, row in sorted(json.loads(path.read_text()).items()):
                    shown = ", ".join(f"{k} {v:.1f}" for k, v in row.items() if k != "n")
                    print(f"    proc {i} {handler:<26} n={row['n']:<5} {shown}")

    @staticmethod
    def handler_values(cfg: Config, bursts: list[dict]) -> list[float]:
        values = []
        for burst in bursts:
            lo, hi = burst["ids"]
            values += [cfg.handler_ms[i][2] for i in range(lo, hi + 1) if i in cfg.handler_ms]
        return values


# =========================================================================== profile summary


# A sample counts for the task the event loop was running (the frames after the innermost
# Handle._run); greenlet stacks of SQLAlchemy's async bridge and threads appear as their own
# roots. It goes to the first category with a marker among those frames.
PROFILE_CATEGORIES = (
    ("store: SQLAlchemy ORM/Core + DB driver",
     ("sqlalchemy/", "asyncpg/", "aiosqlite/", "sqlite3/", "greenlet")),
    ("Bot API calls: PTB Bot methods, AiohttpRequest, aiohttp client, reply parsing",
     ("telegram/_bot.py", "telegram/ext/_extbot.py", "bot/request.py", "aiohttp/client", "telegram/request/")),
    ("receiving updates: webhook server (aiohttp web) or getUpdates, Update.de_json",
     ("aiohttp/web_", "bot/web.py", "telegram/ext/_updater.py", "de_json")),
    ("logging + metrics (one line and one histogram sample per update)",
     ("logging/", "prometheus_client/", "record_update")),
    ("chatshop handlers (render, keyboards) and search index", ("handlers/", "store/search.py")),
    ("PTB dispatch (handler matching, contexts, update queue)", ("telegram/",)),
)
# Innermost frames of threads waiting, not working (py-spy's idle detection misses them here).
IDLE_LEAVES = ("EpollSelector.select", "_connection_worker_thread (aiosqlite/core.py:59)", "wait (threading.py")
# Store functions are left out: their ORM work runs in greenlets, whose stacks py-spy shows apart.
INCLUSIVE = ("process_update (bot/application.py", "_SelectorSocketTransport.write", "_async_ping", "de_json",
             "record_update")


def summarize_profiles(paths: list[Path]) -> None:
    """Where the bot's CPU goes, from py-spy raw (collapsed) stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            if any(marker in frames[-1] for marker in IDLE_LEAVES):
                idle += n
                continue
            total += n
            runs = [k for k, frame in enumerate(frames) if frame.startswith("Handle._run (asyncio/events.py")]
            task = ";".join(frames[runs[-1] + 1:] if runs else frames)
            category = next((label for label, markers in PROFILE_CATEGORIES if any(m in task for m in markers)),
                            "event loop, sockets, interpreter (no task frame of the above)")
            own[category] += n
            leaves[frames[-1]] += n
            for name in INCLUSIVE:
                if name in stack:
                    inclusive[name] += n
    if not total:
        print("\nno profile samples")
        return
    print(f"\npy-spy: {total:,} samples of work ({idle:,} more in idle waits left out), by category (first match):")
    for label, n in own.most_common():
        print(f"  {n / total:6.1%}  {label}")
    print("inclusive (samples with this on the stack):")
    for name, n in inclusive.most_common():
        print(f"  {n / total:6.1%}  {name}")
    print("hottest innermost frames:")
    for name, n in leaves.most_common(8):
        print(f"  {n / total:6.1%}  {name}")
    print("raw profiles: " + ", ".join(str(p) for p in paths))


# =========================================================================== store costs


async def store_costs(urls: list[str], n: int = 400) -> None:
    """CPU and wall time of the store work an update costs, alone (--store-costs): its share of the
    inbox's bookkeeping (stored and claimed in a batch, recorded as finished in a batch), a read, and
    a writing transaction that also marks the update applied."""
    from sqlalchemy import select

    from store.db import Database
    from store.models import Variant, utcnow
    from store.services import inbox
    from store.services.catalog import ProductCards
    from store.services.users import get_step, set_step

    async def measure(label: str, call, per: int = 1) -> None:  # type: ignore[no-untyped-def]
        for _ in range(10):
            await call()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n // per):
            await call()
        cpu, wall = (time.process_time() - cpu) / n * 1000, (time.perf_counter() - wall) / n * 1000
        print(f"  {label:<72} cpu {cpu:6.3f} ms   wall {wall:6.3f} ms")

    ids = itertools.count(4_000_000_000)
    lease = timedelta(seconds=10)
    for url in urls:
        database = Database(url)
        cards = ProductCards()
        async with database.read() as session:
            products = list(await session.scalars(select(Variant.product_id).distinct().limit(6)))
            await cards.get_many(session, products)
        print("SQLite" if database.is_sqlite else "PostgreSQL")

        def batch(size: int) -> list[inbox.Incoming]:
            return [inbox.Incoming(next(ids), SHOP[k % len(SHOP)], "message", '{"update_id": 1}')
                    for k in range(size)]

        async def bookkeeping(size: int, database: Database = database) -> None:
            async with database.transaction() as session:
                _, taken = await inbox.receive(session, batch(size), "bench", utcnow(), lease)
            async with database.transaction() as session:
                await inbox.finish(session, "bench", utcnow(), done=[t.update_id for t in taken])

        async def read_step(database: Database = database) -> None:
            async with database.read() as session:
                await get_step(session, SHOP[0])

        async def read_card(database: Database = database, cards: ProductCards = cards,
                            products: list[int] = products) -> None:
            async with database.read() as session:
                await get_step(session, SHOP[0])
                await cards.get_many(session, products)

        async def write_step(database: Database = database) -> None:
            async with database.transaction() as session:
                _, taken = await inbox.receive(session, batch(1), "bench", utcnow(), lease)
            with database.applying(taken[0].update_id, "bench"):
                async with database.transaction() as session:
                    await set_step(session, SHOP[0], "bench", {"n": 1})

        await measure("inbox bookkeeping, batches of 1 (store + claim, then finish)",
                      lambda: bookkeeping(1))
        await measure("inbox bookkeeping, batches of 20, per update", lambda: bookkeeping(20), per=20)
        await measure("search update's read: get_step in a read transaction", read_step)
        await measure("card update's read: get_step + ProductCards.get_many(6)", read_card)
        await measure("writing update: stored alone, then set_step + its applied mark", write_step)
        await database.dispose()


# =========================================================================== entry point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=("fake", "echo", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--concurrent", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("httpx", "aiohttp"), default="httpx", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="500 updates per burst, 2 runs, short paced phase")
    parser.add_argument("--updates", type=int, help="updates per burst (default 1500; quick 500)")
    parser.add_argument("--runs", type=int, help="bursts per configuration (default 3; quick 2)")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up updates per configuration")
    parser.add_argument("--paced", type=float,
                        help="seconds of the paced phase at half load (default 3; quick 1.5; 0 = off)")
    parser.add_argument("--quiet", type=float, default=0.3, help="seconds without a call that end a burst")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a burst may take")
    parser.add_argument("--configs", default=",".join(HEADLINE),
                        help=f"comma-separated subset of {ALL_CONFIGS} (default {','.join(HEADLINE)})")
    parser.add_argument("--baseline", default="bare-on",
                        help="the configuration the others are compared with (default bare-on: PTB's defaults "
                             "with the same concurrency)")
    parser.add_argument("--concurrency", type=int, default=64, choices=range(2, 513), metavar="2..512",
                        help="CONCURRENT_UPDATES of ours and concurrent_updates of the echo bots in the -on "
                             "configurations (default 64, the shop's default)")
    parser.add_argument("--rtt", type=float, default=50.0, metavar="MS",
                        help="milliseconds the fake Bot API takes to answer every call but getUpdates "
                             "(default 50: a server near Telegram; 0: the fake answers at once)")
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to wipe and use")
    parser.add_argument("--skip-pg", action="store_true", help="leave the PostgreSQL configurations out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", metavar="CONFIG", help="sample that configuration's bursts with py-spy")
    parser.add_argument("--py-spy", metavar="PATH", help="the py-spy executable (default: from PATH)")
    parser.add_argument("--count-sql", action="store_true",
                        help="count store statements and transactions per update (concurrency-off bots; the "
                             "inbox's batched bookkeeping counts for the update handled after it)")
    parser.add_argument("--store-costs", action="store_true",
                        help="only time the store work of an update, and leaner ways to do it (about 15 s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, profiles)")
    args = parser.parse_args()
    if args.child == "fake":
        child_fake(args.rtt)
        return
    if args.child == "echo":
        child_echo(args.concurrent, args.client)
        return
    if args.child == "ours":
        child_ours()
        return
    args.updates = args.updates or (500 if args.quick else 1500)
    args.runs = args.runs or (2 if args.quick else 3)
    if args.paced is None:
        args.paced = 1.5 if args.quick else 3.0
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = set(args.configs) - set(ALL_CONFIGS)
    if unknown:
        parser.error(f"unknown configurations {sorted(unknown)}")
    if args.skip_pg:
        args.configs = [c for c in args.configs if not c.startswith("pg")]
    if any(c.startswith("pg") for c in args.configs) or (args.store_costs and not args.skip_pg):
        from sqlalchemy.engine import make_url

        name = make_url(args.database_url).database
        if name in REFUSED_DATABASES:
            parser.error(f"refusing to wipe database {name!r}")
    if args.profile and args.profile not in args.configs:
        parser.error("--profile must name one of the configurations run")
    if args.store_costs:
        asyncio.run(run_store_costs(args))
        return
    asyncio.run(Bench(args).run())


async def run_store_costs(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="chatshop-tput-"))
    try:
        urls = [f"sqlite+aiosqlite:///{tmp / 'costs.db'}"]
        if not args.skip_pg:
            urls.append(args.database_url)
        for url in urls:
            await prepare_store_for(url, "900099:bench-costs-token-0123456789abcdef")
        await store_costs(urls)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
