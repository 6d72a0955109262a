"""Bench seller notifications: many orders at once, delivered by the outbox worker within Telegram's limits.

A fresh, migrated store (SQLite in a temp dir; also PostgreSQL with
``--database-url``) gets S sellers, each with its own notification chat, and
B buyers. O cash-on-delivery orders are placed at once (one transaction per
order through ``place_order``, 50 in flight), which writes O ``seller_order``
outbox rows. Then the real ``OutboxWorker`` with ``rate_limited_bot`` (PTB's
AIORateLimiter) delivers them to the fake Bot API of the tests, which records
the arrival time of every call. From those arrivals the bench reports the peak
number of messages in any 1-second window, overall and per chat, and the
smallest gap between two messages to one chat, and checks them against
Telegram's limits (30 messages/s overall, 1/s per chat).

The baseline sends the same rendered notices with a bare ``telegram.Bot`` (no
rate limiter, no pacing, 32 in flight) to the same fake: what would happen
without the limits.

With 1 message/s per chat, S seller chats receive at most S messages per
second together, so O notices need about O/S - 1 seconds (99 s for 1,000 to
10 sellers); the overall limit alone would allow O/30 s.

    python bench/notify.py                                   # 1,000 orders, 10 sellers, 1,000 buyers
    python bench/notify.py --orders 200 --sellers 10 --buyers 200
    python bench/notify.py --database-url postgresql://postgres@127.0.0.1:5432/chatshop_bench
    python bench/notify.py --orders 500 --buyers 500 --group-chats 1   # seller 1 notified in a supergroup

``--group-chats N`` gives the first N sellers a supergroup as notification
chat; those are also checked against Telegram's 20 messages per minute per
group (any 60-second window).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import telegram  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.request import AiohttpRequest  # noqa: E402
from bot.sandbox.emulator import BotApiEmulator  # noqa: E402
from bot.worker import CHAT_INTERVAL, MESSAGES_PER_SECOND, OutboxWorker, rate_limited_bot  # noqa: E402
from handlers.notifications import render_notice  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import OutboxMessage, Variant, utcnow  # noqa: E402
from store.services import cart as cart_service  # noqa: E402
from store.services import checkout as co  # noqa: E402
from store.services import outbox  # noqa: E402
from store.states import (  # noqa: E402
    OutboxChannel,
    OutboxStatus,
    PaymentMethod,  # noqa: E402
)
from tests.factories import make_category, make_product, make_seller, make_user  # noqa: E402

TOKEN = "123456:TEST-token-for-the-fake-bot-api"
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), low_stock_threshold=3)
PRODUCTS_PER_SELLER = 5
STOCK = 1_000_000
PLACE_CONCURRENCY = 50
BASELINE_CONCURRENCY = 32
OVERALL_LIMIT = MESSAGES_PER_SECOND  # messages in any 1-second window
GAP_TOLERANCE = 0.05  # seconds of timer/HTTP jitter allowed below CHAT_INTERVAL
GROUP_LIMIT = 20  # messages to one group in any 60-second window
FIRST_BUYER, FIRST_CHAT = 10_000_001, 9_000_001
FIRST_GROUP = -1_009_000_000_001  # supergroup ids are negative
PROTECTED_DATABASES = {"test", "chatshop_dev", "chatshop_import"}


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Rates:
    """What the fake Bot API saw of a run of sendMessage calls."""

    sent: int
    failed: int
    span: float  # first to last arrival, seconds
    peak_overall: int  # most arrivals in any [t, t + 1 s) window
    peak_chat: int  # the same, per chat, max over chats
    min_gap_chat: float  # smallest gap between two arrivals to one chat
    peak_group_minute: int  # most arrivals to one group (chat id < 0) in any [t, t + 60 s) window
    gaps: list[float] = field(default_factory=list)  # all gaps within chats

    @classmethod
    def of(cls, calls: list) -> Rates:
        """Measure the sendMessage calls ``calls`` (``bot.sandbox.emulator.Call`` objects)."""
        ok = [c for c in calls if c.ok]
        times = sorted(c.time for c in ok)
        per_chat: dict[int, list[float]] = defaultdict(list)
        for c in ok:
            per_chat[c.params.get("chat_id")].append(c.time)
        gaps = []
        for chat_times in per_chat.values():
            chat_times.sort()
            gaps += [b - a for a, b in zip(chat_times, chat_times[1:], strict=False)]
        return cls(
            sent=len(ok), failed=len(calls) - len(ok),
            span=times[-1] - times[0] if times else 0.0,
            peak_overall=peak_in_window(times),
            peak_chat=max((peak_in_window(t) for t in per_chat.values()), default=0),
            min_gap_chat=min(gaps, default=float("inf")),
            peak_group_minute=max((peak_in_window(t, 60.0) for c, t in per_chat.items() if c < 0), default=0),
            gaps=gaps,
        )

    def gap_line(self) -> str:
        """Distribution of the gaps between two messages to one chat."""
        if not self.gaps:
            return "n/a"
        q = statistics.quantiles(self.gaps, n=100) if len(self.gaps) > 1 else self.gaps * 99
        below = sum(g < CHAT_INTERVAL - GAP_TOLERANCE for g in self.gaps)
        return (f"min {self.min_gap_chat:.3f} s, p1 {q[0]:.3f}, p50 {q[49]:.3f}, p99 {q[98]:.3f}, "
                f"max {max(self.gaps):.3f}; {below} of {len(self.gaps)} below {CHAT_INTERVAL - GAP_TOLERANCE:.2f} s")


def peak_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any half-open window [t, t + window) (``times`` sorted)."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + window:
            j += 1
        best = max(best, j - i)
    return best


def earliest_last(count: int, groups: bool) -> float:
    """Seconds from the first to the last of ``count`` messages to one chat sent as fast as allowed."""
    times: list[float] = []
    for k in range(count):
        t = times[-1] + CHAT_INTERVAL if times else 0.0
        if groups and k >= GROUP_LIMIT:
            t = max(t, times[k - GROUP_LIMIT] + 60.0)
        times.append(t)
    return times[-1] if times else 0.0


def pct(values: list[float], q: int) -> float:
    """The q-th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# --- the store --------------------------------------------------------------------------------


def chat_id_of(seller_index: int, groups: int) -> int:
    """The notification chat of seller number ``seller_index``: the first ``groups`` sellers use a supergroup."""
    return FIRST_GROUP - seller_index if seller_index < groups else FIRST_CHAT + seller_index


async def fresh_store(url: str | None, tmp: Path) -> Database:
    """An empty, migrated store: SQLite in ``tmp``, or ``url`` with its public schema wiped."""
    if url is None:
        db = Database(f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    else:
        db = Database(url)
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(db)
    return db


async def populate(db: Database, sellers: int, buyers: int, groups: int) -> dict[int, list[int]]:
    """Sellers with a notification chat and well-stocked products, and buyers; return variant ids per seller."""
    variants: dict[int, list[int]] = {}
    async with db.transaction() as session:
        category = await make_category(session, "Bench")
        for s in range(sellers):
            seller = await make_seller(session, f"Bench Shop {s + 1}")
            seller.notify_chat_id = chat_id_of(s, groups)
            for p in range(PRODUCTS_PER_SELLER):
                await make_product(session, seller, category, f"Item {s + 1}-{p + 1}", [("", 1000 + 100 * p, STOCK)])
            variants[s] = list(await session.scalars(select(Variant.id).where(Variant.seller_id == seller.id)
                                                     .order_by(Variant.id)))
        for b in range(buyers):
            await make_user(session, FIRST_BUYER + b, f"Buyer {b + 1}")
    return variants


async def fill_cart(session, buyer: int, variant: int) -> int:
    """Put one unit of ``variant`` in the buyer's cart; return the total to confirm."""
    await cart_service.add_to_cart(session, buyer, variant)
    cart = await cart_service.get_cart(session, buyer)
    return co.quote(cart, await co.get_shipping(session, "standard"), RULES.currency).total.amount


async def place_all(db: Database, orders: int, buyers: int,
                    variants: dict[int, list[int]]) -> tuple[float, list[float]]:
    """Place ``orders`` COD orders at once (order k: buyer k mod B, seller k mod S); return (seconds, latencies)."""
    sellers = len(variants)
    plan: dict[int, list[int]] = defaultdict(list)  # buyer -> variant of each of their orders, in turn
    for k in range(orders):
        seller_variants = variants[k % sellers]
        plan[FIRST_BUYER + k % buyers].append(seller_variants[(k // sellers) % len(seller_variants)])
    # Each buyer's first cart is filled before the clock starts; a buyer with several
    # orders refills the cart in the transaction of each later order.
    async with db.transaction() as session:
        for buyer, wanted in plan.items():
            await cart_service.add_to_cart(session, buyer, wanted[0])
    gate = asyncio.Semaphore(PLACE_CONCURRENCY)
    latencies: list[float] = []

    async def place(buyer: int, variant: int, first: bool) -> None:
        async with gate:
            started = time.perf_counter()
            async with db.transaction() as session:
                if first:
                    cart = await cart_service.get_cart(session, buyer)
                    total = co.quote(cart, await co.get_shipping(session, "standard"), RULES.currency).total.amount
                else:
                    total = await fill_cart(session, buyer, variant)
                await co.place_order(session, buyer, contact_name=f"Buyer {buyer}", phone="+12025550143",
                                     address="1 Main St, Springfield 12345", shipping_code="standard",
                                     payment_method=PaymentMethod.COD, expected_total=total, rules=RULES, now=utcnow())
            latencies.append(time.perf_counter() - started)

    async def buyer_orders(buyer: int, wanted: list[int]) -> None:
        for i, variant in enumerate(wanted):
            await place(buyer, variant, i == 0)

    started = time.perf_counter()
    await asyncio.gather(*(buyer_orders(b, w) for b, w in plan.items()))
    return time.perf_counter() - started, latencies


async def outbox_rows(db: Database) -> dict[str, int]:
    """Outbox rows per status."""
    async with db.read() as session:
        return await outbox.backlog(session)


# --- delivering ---------------------------------------------------------------------------------


@dataclass
class WorkerRun:
    """The outbox worker's run: how long, how many, what the fake saw."""

    total: int
    delivered: int
    until_all_sent: float | None  # worker start -> every row sent (None: timed out)
    until_last_arrival: float  # worker start -> the last sendMessage reached the fake
    first_arrival: float  # worker start -> the first sendMessage reached the fake
    last_private: float  # worker start -> the last sendMessage to a private chat (0: none)
    last_group: float  # worker start -> the last sendMessage to a group (0: none)
    rates: Rates
    backlog: dict[str, int]


async def run_worker(db: Database, fake: BotApiEmulator, total: int, timeout: float) -> WorkerRun:
    """Deliver the outbox with the real worker and rate-limited bot until every row is sent."""
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=db.url,
                        telegram_api_base_url=f"{fake.url}/bot")
    bot = rate_limited_bot(settings)
    await bot.initialize()
    mark = fake.mark()
    worker = OutboxWorker(db, bot)
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(worker.run(stop))
    finished = None
    next_check = started + 2.0
    try:
        while time.monotonic() - started < timeout:
            if task.done():
                break
            if worker.delivered >= total:
                finished = time.monotonic()
                break
            if time.monotonic() >= next_check:  # rows given up (dead) never count as delivered
                next_check = time.monotonic() + 2.0
                if (await outbox_rows(db)).get(OutboxStatus.PENDING, 0) == 0:
                    finished = time.monotonic()
                    break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
        await bot.shutdown()
    calls = fake.find_calls("sendMessage", since=mark)
    arrivals = [c.time - started for c in calls]
    last_private = max((c.time - started for c in calls if c.params.get("chat_id", 0) > 0), default=0.0)
    last_group = max((c.time - started for c in calls if c.params.get("chat_id", 0) < 0), default=0.0)
    return WorkerRun(total, worker.delivered, None if finished is None else finished - started,
                     max(arrivals, default=0.0), min(arrivals, default=0.0), last_private, last_group,
                     Rates.of(calls), await outbox_rows(db))


async def render_all(db: Database) -> list[tuple[int, str, telegram.InlineKeyboardMarkup | None]]:
    """The seller notices of the outbox as the worker sends them: (chat, text, buttons)."""
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.TELEGRAM)
                                          .order_by(OutboxMessage.id)))
        notices = []
        for row in rows:
            notice = await render_notice(session, row.template, row.payload)
            if notice is not None:
                notices.append((row.chat_id, notice.text, notice.markup))
    return notices


async def run_baseline(fake: BotApiEmulator, notices: list, timeout: float) -> tuple[float, Rates]:
    """Send ``notices`` with a bare Bot (no limiter, no pacing), 32 in flight; return (seconds, rates)."""
    mark = fake.mark()
    bot = telegram.Bot(TOKEN, base_url=f"{fake.url}/bot", request=AiohttpRequest())
    await bot.initialize()
    queue = iter(notices)

    async def sender() -> None:
        for chat_id, body, markup in queue:
            await bot.send_message(chat_id, body, parse_mode="HTML", reply_markup=markup,
                                   disable_web_page_preview=True)

    started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(sender() for _ in range(BASELINE_CONCURRENCY))), timeout)
    finally:
        elapsed = time.monotonic() - started
        await bot.shutdown()
    return elapsed, Rates.of(fake.find_calls("sendMessage", since=mark))


# --- the run ------------------------------------------------------------------------------------


async def bench(label: str, url: str | None, args: argparse.Namespace) -> bool:
    """One full run on one backend; print the figures and return True if within the limits."""
    print(f"\n=== {label}: {args.orders:,} COD orders, {args.sellers} sellers "
          f"({chats_label(args)}), {args.buyers:,} buyers ===")
    with tempfile.TemporaryDirectory(prefix="chatshop-notify-") as tmp:
        db = await fresh_store(url, Path(tmp))
        try:
            return await bench_store(db, args)
        finally:
            await db.dispose()


async def bench_store(db: Database, args: argparse.Namespace) -> bool:
    variants = await populate(db, args.sellers, args.buyers, args.group_chats)
    placing, latencies = await place_all(db, args.orders, args.buyers, variants)
    rows = await outbox_rows(db)
    total = sum(rows.values())
    print(f"placing:    {args.orders:,} orders in {placing:.2f} s = {args.orders / placing:,.0f} orders/s "
          f"({PLACE_CONCURRENCY} in flight; per order p50 {pct(latencies, 50) * 1000:.0f} ms, "
          f"p95 {pct(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms)")
    print(f"outbox:     {total:,} notifications written ({rows})")

    per_chat = -(-total // args.sellers)
    ideal_chat = earliest_last(per_chat, args.group_chats > 0)
    ideal_overall = (total - 1) / OVERALL_LIMIT
    print(f"lower bound within the limits: {max(ideal_chat, ideal_overall):.1f} s "
          f"(per chat 1/s{' and 20/min' if args.group_chats else ''}: {per_chat} to the busiest chat -> "
          f"{ideal_chat:.1f} s; "
          f"overall {OVERALL_LIMIT}/s alone -> {ideal_overall:.1f} s)")

    async with BotApiEmulator(TOKEN, "chatshop_bench_bot") as fake:
        run = await run_worker(db, fake, total, args.timeout)
        notices = await render_all(db)
        base_time, base = await run_baseline(fake, notices, args.timeout)

    r = run.rates
    done = run.until_all_sent
    print("\nworker (OutboxWorker + rate_limited_bot):")
    if done is None:
        print(f"  TIMED OUT after {args.timeout:.0f} s: {run.delivered:,} of {total:,} delivered; outbox {run.backlog}")
    else:
        print(f"  every row sent {done:.2f} s after the worker started; outbox {run.backlog}")
    elapsed = done if done is not None else max(run.until_last_arrival, 1e-9)  # timed out: up to the last send
    print(f"  sendMessage at the fake: {r.sent:,} ok, {r.failed} failed; first {run.first_arrival:.2f} s, "
          f"last {run.until_last_arrival:.2f} s after start")
    if 0 < args.group_chats < args.sellers:
        print(f"  last arrival to a private chat {run.last_private:.2f} s (alone they need "
              f"{earliest_last(per_chat, False):.1f} s), to a group {run.last_group:.2f} s")
    print(f"  throughput: {run.delivered / elapsed:.2f} deliveries/s "
          f"({run.delivered / max(elapsed, 1e-9) / args.sellers:.2f} per chat per s; "
          + (f"{max(ideal_chat, ideal_overall) / elapsed * 100:.0f}% of the bound)" if done is not None
             else "until the timeout)"))
    print(f"  peak in any 1 s window: overall {r.peak_overall}, per chat {r.peak_chat} (max over chats)"
          + (f"; per group in any 60 s window {r.peak_group_minute}" if args.group_chats else ""))
    print(f"  gaps within a chat: {r.gap_line()}")

    print(f"\nbaseline (bare telegram.Bot, no limiter, {BASELINE_CONCURRENCY} in flight):")
    print(f"  {base.sent:,} sent in {base_time:.2f} s = {base.sent / base_time:,.0f} messages/s; "
          f"{base.failed} failed")
    print(f"  peak in any 1 s window: overall {base.peak_overall}, per chat {base.peak_chat}; "
          f"min gap within a chat {base.min_gap_chat * 1000:.1f} ms")
    print(f"  worker time / baseline time: {elapsed / base_time:,.0f}x")

    overall_ok = r.peak_overall <= OVERALL_LIMIT
    chat_ok = r.min_gap_chat >= CHAT_INTERVAL - GAP_TOLERANCE
    group_ok = r.peak_group_minute <= GROUP_LIMIT
    complete = done is not None and run.backlog.get(OutboxStatus.SENT, 0) == total
    verdict = overall_ok and chat_ok and group_ok and complete
    print(f"\n{'PASS' if verdict else 'FAIL'}: overall peak {r.peak_overall} <= {OVERALL_LIMIT} per 1 s window: "
          f"{'ok' if overall_ok else 'EXCEEDED'}; per chat min gap {r.min_gap_chat:.3f} s >= "
          f"{CHAT_INTERVAL - GAP_TOLERANCE:.2f} s (1 s less {GAP_TOLERANCE * 1000:.0f} ms jitter): "
          f"{'ok' if chat_ok else 'EXCEEDED'}; "
          + (f"per group {r.peak_group_minute} <= {GROUP_LIMIT} per 60 s window: {'ok' if group_ok else 'EXCEEDED'}; "
             if args.group_chats else "")
          + f"all {total:,} sent: {'yes' if complete else 'NO'}")
    return verdict


async def main(args: argparse.Namespace) -> int:
    print(f"{platform.python_version()} on {os.cpu_count()} cores; python-telegram-bot {telegram.__version__}")
    results = []
    if not args.skip_sqlite:
        results.append(await bench("SQLite", None, args))
    if args.database_url:
        results.append(await bench(f"PostgreSQL ({make_url(args.database_url).database})", args.database_url, args))
    return 0 if results and all(results) else 1


def chats_label(args: argparse.Namespace) -> str:
    """How the sellers' chats are made up, for the heading."""
    if args.group_chats == 0:
        return "private chats"
    if args.group_chats >= args.sellers:
        return "supergroup chats"
    return f"{args.group_chats} supergroup chats, {args.sellers - args.group_chats} private"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders placed at once (default 1,000)")
    parser.add_argument("--sellers", type=int, default=10, help="sellers, one notification chat each (default 10)")
    parser.add_argument("--buyers", type=int, default=1000, help="buyers (default 1,000)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed for delivery (default 300)")
    parser.add_argument("--group-chats", type=int, nargs="?", const=-1, default=0, metavar="N",
                        help="the first N sellers' chats are supergroups (no N: all), also checked against "
                             "20 messages per minute per group")
    parser.add_argument("--database-url", help="also run on this PostgreSQL database (its public schema is wiped)")
    parser.add_argument("--skip-sqlite", action="store_true", help="run only on --database-url")
    args = parser.parse_args(argv)
    if min(args.orders, args.sellers, args.buyers) < 1:
        parser.error("--orders, --sellers and --buyers must be at least 1")
    if args.group_chats < 0:
        args.group_chats = args.sellers
    if args.database_url and make_url(args.database_url).database in PROTECTED_DATABASES:
        parser.error(f"refusing to wipe database {make_url(args.database_url).database!r}: "
                     "use a database of its own, e.g. chatshop_bench")
    if args.skip_sqlite and not args.database_url:
        parser.error("--skip-sqlite needs --database-url")
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(parse_args())))
