"""A creator's link goes viral: new shoppers pour in through one deep link to a product in short supply.

By default 1,000 shoppers arrive over 60 seconds (uniformly at random) through the link
``t.me/<bot>?start=p<product>_<creator code>`` to a product with 300 units. Each one opens the
link, adds the product, opens the cart, checks out (contact and address typed, standard
shipping, cash on delivery) and places the order, waiting 1-3 s (random) between taps as a
person does, and stops when told it sold out. With ``--journey buy-now`` each taps Buy now
on the card instead (contact and address typed, the preselected shipping, cash on delivery).

The fake Bot API is the tests' (bot/sandbox/emulator.py), in this process with the shoppers; it
answers every call but getUpdates after ``--rtt`` ms (default 50). The bot runs as real
``python -m bot`` processes with the shop's default settings: one on SQLite (long polling),
and two on PostgreSQL (webhook behind a round-robin proxy, 40 deliveries in flight as
Telegram's default max_connections).

Reported per store: orders placed (must equal the stock), shoppers told politely that it sold
out, errors (an apology, or a step that never showed what it should), taps unanswered within
60 s, time from tap to answer (p50/p95/max: from the update entering the fake's queue until the
fake has answered the bot's first call for it, the answer to a tap or the first message to the
chat, so the call's own round trip is included), and the peak inbox backlog (updates stored,
not yet finished).

    python bench/flash_crowd.py                                   # SQLite, then PostgreSQL (~4 min)
    python bench/flash_crowd.py --stores sqlite --shoppers 200 --over 15    # a quick look
    python bench/flash_crowd.py --stores sqlite --journey buy-now           # the same crowd with Buy now

``--database-url`` (default postgresql://postgres@127.0.0.1:5432/chatshop_flash) is wiped.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port, fresh_store, pct  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/chatshop_flash"
REFUSED_DATABASES = {"test", "chatshop_dev", "chatshop_tput", "chatshop_bench"}
TOKEN = "987654:flash-crowd-token-0123456789abcdef"
HOOK_PATH = "/tg/hook"
FIRST_SHOPPER = 8_000_000_001
CREATOR_USER = 7_999_999_999
ANSWER_TIMEOUT = 60.0
SORRY = "Sorry, something went wrong"


@dataclass
class Crowd:
    """What happened to the shoppers of one run."""

    outcomes: collections.Counter = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    taps: int = 0
    peak_backlog: int = 0
    errors: list[str] = field(default_factory=list)
    # Per shopper who ordered: seconds from opening the link to the order placed, and taps and messages.
    to_order: list[float] = field(default_factory=list)
    steps_to_order: int = 0


async def prepare(url: str, stock: int) -> tuple[int, str]:
    """A fresh store with the demo catalog, a creator, and the product of the day: (product id, code)."""
    from sqlalchemy import select

    from store.db import Database
    from store.models import Category, Creator, Product, Seller, User, Variant
    from store.services.catalog import bump_catalog_version

    await fresh_store(url, TOKEN)
    database = Database(url)
    try:
        async with database.transaction() as session:
            seller = await session.scalar(select(Seller).where(Seller.status == "approved").order_by(Seller.id))
            category = await session.scalar(select(Category).order_by(Category.id))
            product = Product(seller_id=seller.id, category_id=category.id, title="Limited Drop Sneakers",
                              description="The pair everyone is talking about.", status="active",
                              catalog_version=await bump_catalog_version(session))
            session.add(product)
            await session.flush()
            session.add(Variant(product_id=product.id, seller_id=seller.id, sku="DROP-42", label="", price=8999,
                                stock=stock, position=0))
            session.add(User(id=CREATOR_USER, first_name="Cleo"))
            await session.flush()
            session.add(Creator(user_id=CREATOR_USER, code="drapk726", status="approved"))
            return product.id, "drapk726"
    finally:
        await database.dispose()


class Bots:
    """The bot processes of one run (their logs in the run's directory)."""

    def __init__(self, tmp: Path, fake_url: str, url: str, processes: int, webhook: str | None) -> None:
        self.procs: list[asyncio.subprocess.Process] = []
        self.ports = [free_port() for _ in range(processes)]
        self.tmp, self.fake_url, self.url, self.webhook = tmp, fake_url, url, webhook
        self.env_extra: dict[str, str] = {}

    def hooks(self) -> list[str]:
        return [f"http://127.0.0.1:{port}{HOOK_PATH}" for port in self.ports]

    async def start(self) -> None:
        ours = ("BOT_", "DATABASE_", "WEBHOOK_", "TELEGRAM_", "HTTP_", "CONCURRENT_", "INBOX_")
        base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        for i, port in enumerate(self.ports):
            env = dict(base, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"{self.fake_url}/bot", DATABASE_URL=self.url,
                       HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), DEMO_CATALOG="true")
            if self.webhook:
                env["WEBHOOK_URL"] = self.webhook
            env.update(self.env_extra)
            with open(self.tmp / f"bot-{i}.log", "wb") as log:
                self.procs.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log))

    async def ready(self, timeout: float = 60) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            for i, port in enumerate(self.ports):
                while True:
                    if self.procs[i].returncode is not None:
                        log = (self.tmp / f"bot-{i}.log").read_text(errors="replace")
                        raise SystemExit(f"bot {i} exited:\n{log[-3000:]}")
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                            if response.status == 200:
                                break
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit(f"bot {i} not ready within {timeout}s")
                    await asyncio.sleep(0.2)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


class Shopper:
    """One person from the crowd, tapping through the checkout with a person's pauses."""

    def __init__(self, fake, user, rng: random.Random, crowd: Crowd) -> None:  # type: ignore[no-untyped-def]
        self.fake, self.user, self.rng, self.crowd = fake, user, rng, crowd

    def _answer_to(self, update: dict, since: int):  # type: ignore[no-untyped-def]
        """The bot's first call for this update: the answer to a tap, else the first message to the chat."""
        query = update.get("callback_query")
        for call in self.fake.calls[since:]:
            if call.answered_at is None:
                continue
            if query is not None:
                if call.method == "answerCallbackQuery" and str(call.params.get("callback_query_id")) == query["id"]:
                    return call
            elif str(call.params.get("chat_id")) == str(self.user.id) and call.method != "getUpdates":
                return call
        return None

    async def tap(self, action, check) -> str:  # type: ignore[no-untyped-def]
        """Do ``action`` (send or press), time the bot's answer, then wait until ``check()`` says how it went."""
        self.crowd.taps += 1
        since, started = len(self.fake.calls), time.monotonic()
        update = await action()
        answer = await self.fake.until(lambda: self._answer_to(update, since), ANSWER_TIMEOUT)
        if answer is None:
            self.crowd.unanswered += 1
            return "unanswered"
        self.crowd.latencies.append(answer.answered_at - started)
        outcome = await self.fake.until(check, ANSWER_TIMEOUT)
        if outcome is None:
            self.crowd.errors.append(f"user {self.user.id}: no expected reply; last: {self.user.last_text!r:.200}")
            return "error"
        return outcome

    def _state(self, *, ready: str | None = None, button: str | None = None, sold_out: tuple[str, ...] = (),
               answer_of: str | None = None) -> str | None:
        """Where the chat stands: "next" when it shows ``ready`` text or ``button``, "sold_out" when a
        sold-out note shows (in the last message or the answer to the last tap), "error" on an apology."""
        text = self.user.last_text or ""
        answer = ""
        if answer_of is not None:
            answer = (self.fake.answers.get(answer_of) or {}).get("text") or ""
        if SORRY in text or SORRY in answer:
            return "error"
        if any(note in text or note in answer for note in sold_out):
            return "sold_out"
        if ready is not None and ready in text:
            return "next"
        if button is not None and any(button in label for label in self.user.buttons()):
            return "next"
        return None

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(1.0, 3.0))

    async def shop(self, payload: str, journey: str = "cart") -> str:
        """The whole journey; returns placed, sold_out, error or unanswered."""
        steps = self._buy_now(payload) if journey == "buy-now" else self._cart(payload)
        started = time.monotonic()
        for i, (action, check) in enumerate(steps):
            if i:
                await self.pause()
            outcome = await self.tap(action, check)
            if outcome == "placed":
                self.crowd.to_order.append(time.monotonic() - started)
                self.crowd.steps_to_order = len(steps)
            if outcome != "next":
                return outcome
        return "error"

    def _contact_and_address(self) -> list:  # type: ignore[type-arg]
        user = self.user
        return [
            (lambda: user.send(f"Guest {user.id % 10_000} +1 202 555 {user.id % 10_000:04d}", wait=False),
             lambda: self._state(ready="shipping address")),
            (lambda: user.send(f"{user.id % 100} Market Street, Springfield 12345", wait=False),
             lambda: self._state(button="Standard delivery")),
        ]

    def _place(self) -> list:  # type: ignore[type-arg]
        user = self.user
        return [
            (lambda: user.press("Cash on delivery", wait=False), lambda: self._state(button="Place order")),
            (lambda: user.press("Place order", wait=False),
             lambda: "placed" if "is placed" in (user.last_text or "")
             else self._state(sold_out=("not enough stock", "sold out", "no longer available"))),
        ]

    def _buy_now(self, payload: str) -> list:  # type: ignore[type-arg]
        """Link, Buy now, contact and address typed, the cheapest shipping as preselected, pay, place."""
        user = self.user
        return [
            (lambda: user.send(f"/start {payload}", wait=False),
             lambda: self._state(button="Buy now", sold_out=("Sold out",))),
            (lambda: user.press("Buy now", wait=False),
             lambda: self._state(ready="Checkout — contact", sold_out=("sold out",), answer_of=user._last_callback_id)),
            *self._contact_and_address(),
            *self._place(),
        ]

    def _cart(self, payload: str) -> list:  # type: ignore[type-arg]
        """Link, Add to cart, the cart, checkout, contact and address typed, standard shipping, pay, place."""
        user = self.user
        return [
            (lambda: user.send(f"/start {payload}", wait=False),
             lambda: self._state(button="Add to cart", sold_out=("Sold out",))),
            (lambda: user.press("Add to cart", wait=False),
             lambda: self._state(button="Cart (", sold_out=("sold out", "in stock"), answer_of=user._last_callback_id)),
            (lambda: user.press("🛒 Cart", wait=False), lambda: self._state(button="Checkout")),
            (lambda: user.press("Checkout", wait=False),
             lambda: self._state(button="Continue", sold_out=("sold out", "no longer", "cart is empty"))),
            (lambda: user.press("Continue", wait=False), lambda: self._state(ready="Checkout — contact")),
            *self._contact_and_address(),
            (lambda: user.press("Standard delivery", wait=False), lambda: self._state(button="Cash on delivery")),
            *self._place(),
        ]


async def run_crowd(args: argparse.Namespace, store: str, tmp: Path) -> tuple[Crowd, dict]:
    """One run on one store: prepare it, start the bots, let the crowd in, measure."""
    from sqlalchemy import func, select

    from bot.sandbox.emulator import BotApiEmulator
    from store.db import Database
    from store.models import InboxUpdate, Order, Variant
    from store.states import UNFINISHED
    from tests.proxy import RoundRobinProxy

    url = f"sqlite+aiosqlite:///{tmp / 'flash.db'}" if store == "sqlite" else args.database_url
    product_id, code = await prepare(url, args.stock)
    processes = 1 if store == "sqlite" else args.pg_processes
    crowd = Crowd()
    rng = random.Random(args.seed)
    async with BotApiEmulator(token=TOKEN, bot_username="chatshop_flash_bot", webhook_connections=40) as fake, \
            RoundRobinProxy(HOOK_PATH) as proxy:
        webhook = proxy.url if store != "sqlite" else None
        bots = Bots(tmp, fake.url, url, processes, webhook)
        proxy.backends = bots.hooks()
        await bots.start()
        db = Database(url)
        try:
            await bots.ready()
            fake.latency = args.rtt / 1000
            shoppers = [Shopper(fake, fake.user(FIRST_SHOPPER + i, f"Guest {i}"), random.Random(rng.random()), crowd)
                        for i in range(args.shoppers)]
            arrivals = sorted(rng.uniform(0, args.over) for _ in shoppers)
            payload = f"p{product_id}_{code}"
            done = asyncio.Event()

            async def watch_backlog() -> None:
                while not done.is_set():
                    async with db.read() as session:
                        backlog = await session.scalar(select(func.count()).where(InboxUpdate.state.in_(UNFINISHED)))
                    crowd.peak_backlog = max(crowd.peak_backlog, backlog)
                    await asyncio.sleep(0.5)

            async def arrive(shopper: Shopper, at: float, started: float) -> None:
                await asyncio.sleep(max(0.0, started + at - time.monotonic()))
                crowd.outcomes[await shopper.shop(payload, args.journey)] += 1

            watcher = asyncio.create_task(watch_backlog())
            started = time.monotonic()
            await asyncio.gather(*(arrive(s, at, started) for s, at in zip(shoppers, arrivals)))
            wall = time.monotonic() - started
            done.set()
            await watcher
            async with db.read() as session:
                orders = await session.scalar(select(func.count(Order.id)))
                left = await session.scalar(select(Variant.stock).where(Variant.product_id == product_id))
            stats = {"wall": wall, "orders": orders, "stock_left": left, "processes": processes,
                     "updates": len([c for c in fake.calls if c.method != "getUpdates"])}
        finally:
            await db.dispose()
            await bots.stop()
    return crowd, stats


def report(store: str, crowd: Crowd, stats: dict, args: argparse.Namespace) -> None:
    how = "SQLite, 1 process, long polling" if store == "sqlite" else \
        f"PostgreSQL, {stats['processes']} processes, webhook"
    lat = [x * 1000 for x in crowd.latencies]
    placed = crowd.outcomes["placed"]
    print(f"\n{how}: {args.shoppers} shoppers over {args.over:g} s, {args.stock} units, fake Bot API at "
          f"{args.rtt:g} ms; {stats['wall']:.0f} s until the last shopper was done")
    print(f"  orders placed        {placed:>6}   (store: {stats['orders']} orders, {stats['stock_left']} units left)")
    print(f"  told it sold out     {crowd.outcomes['sold_out']:>6}")
    print(f"  errors               {crowd.outcomes['error']:>6}")
    print(f"  taps unanswered      {crowd.unanswered:>6}   of {crowd.taps} taps")
    print(f"  tap to answer, ms    p50 {pct(lat, 50):.0f}   p95 {pct(lat, 95):.0f}   max {max(lat, default=0):.0f}"
          f"   (mean {statistics.fmean(lat) if lat else 0:.0f})")
    print(f"  peak inbox backlog   {crowd.peak_backlog:>6}   updates stored and not yet finished")
    spent = crowd.to_order
    print(f"  link to order, s     p50 {pct(spent, 50):.1f}   p95 {pct(spent, 95):.1f}   ({args.journey}: "
          f"{crowd.steps_to_order} taps and typed messages, a pause of 1-3 s before each but the first)")
    for line in crowd.errors[:5]:
        print(f"    {line}")


async def main_async(args: argparse.Namespace) -> None:
    for store in args.stores:
        tmp = Path(tempfile.mkdtemp(prefix=f"chatshop-flash-{store}-"))
        try:
            crowd, stats = await run_crowd(args, store, tmp)
            report(store, crowd, stats, args)
        finally:
            if args.keep:
                print(f"  logs kept in {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=1000)
    parser.add_argument("--over", type=float, default=60.0, help="seconds over which the shoppers arrive")
    parser.add_argument("--stock", type=int, default=300, help="units of the product")
    parser.add_argument("--rtt", type=float, default=50.0, metavar="MS", help="the fake Bot API's delay per call")
    parser.add_argument("--stores", default="sqlite,postgresql", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--pg-processes", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL database to wipe and use")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--journey", choices=("cart", "buy-now"), default="cart",
                        help="each shopper adds to the cart and checks out, or taps Buy now")
    parser.add_argument("--keep", action="store_true", help="keep the bots' logs")
    args = parser.parse_args()
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if set(args.stores) - {"sqlite", "postgresql"}:
        parser.error("--stores takes sqlite and/or postgresql")
    if "postgresql" in args.stores:
        from sqlalchemy.engine import make_url

        if make_url(args.database_url).database in REFUSED_DATABASES:
            parser.error(f"refusing to wipe database {make_url(args.database_url).database!r}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
