"""A payment is never late: a pre-checkout query answered while thousands of updates wait.

Telegram cancels a payment whose ``pre_checkout_query`` is not answered within 10 seconds.
This bench starts the bot (``python -m bot``, SQLite, long polling, the shop's default
settings), lets 2,000 people write at once through a fake Bot API that answers every call
after 50 ms and, once their updates are all in the bot's inbox and waiting, sends the
pre-checkout query of a shopper who is paying by card. It prints how long the query took
to be answered and how many of the crowd's updates were still unanswered then; the run is
repeated (``--runs``).

    python bench/payments_ahead.py
    python bench/payments_ahead.py --crowd 5000 --rtt 100
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import pct  # noqa: E402
from bench.flash_crowd import TOKEN, Bots, prepare  # noqa: E402

PAYER = 9_000_000_001
FIRST_GUEST = 9_100_000_001


async def stored(db) -> int:  # type: ignore[no-untyped-def]
    """Updates of the crowd in the inbox."""
    from sqlalchemy import func, select

    from store.models import InboxUpdate

    async with db.read() as session:
        return await session.scalar(select(func.count()).where(InboxUpdate.lane >= FIRST_GUEST))


async def one_run(args: argparse.Namespace, tmp: Path, run: int) -> tuple[float, int]:
    """Seconds until the pre-checkout query was answered, and the crowd's updates unanswered then."""
    from bot.sandbox.emulator import BotApiEmulator
    from store.db import Database

    url = f"sqlite+aiosqlite:///{tmp / f'pay-{run}.db'}"
    product_id, _ = await prepare(url, stock=10)
    async with BotApiEmulator(token=TOKEN, bot_username="chatshop_pay_bot") as fake:
        bots = Bots(tmp, fake.url, url, 1, None)
        bots.env_extra = {"PAYMENT_PROVIDER_TOKEN": "284685063:TEST:provider"}
        await bots.start()
        try:
            await bots.ready()
            # The payer gets to the invoice of a card order (the fake answers at once meanwhile).
            payer = fake.user(PAYER, "Pat")
            await payer.send(f"/start p{product_id}")
            for label in ("Add to cart", "🛒 Cart", "Checkout", "Continue"):
                await payer.press(label)
            await payer.tap("Share my contact")
            await payer.send("4 Canal Street, Leeds LS1 4AB")
            for label in ("Standard delivery", "Card", "Place order"):
                await payer.press(label)
            # Telegram is now 50 ms away, and the crowd writes at once.
            fake.latency = args.rtt / 1000
            crowd = [fake.user(FIRST_GUEST + i, f"Guest {i}") for i in range(args.crowd)]
            for guest in crowd:
                await guest.send("/start", wait=False)
            db = Database(url)
            try:  # the crowd's updates are received and stored first
                while await stored(db) < args.crowd:
                    await asyncio.sleep(0.01)
            finally:
                await db.dispose()
            started = time.monotonic()
            answer = await payer.pre_checkout(timeout=30, settle=False)
            elapsed = time.monotonic() - started
            assert answer["ok"] is True, answer
            served = sum(1 for call in fake.calls if call.method == "sendMessage" and call.ok
                         and int(call.params["chat_id"]) >= FIRST_GUEST)
            fake.latency = 0.0
        finally:
            await bots.stop()
    return elapsed, args.crowd - served


async def main_async(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="chatshop-pay-"))
    try:
        results = [await one_run(args, tmp, run) for run in range(args.runs)]
    finally:
        print("kept", tmp) if args.keep else shutil.rmtree(tmp, ignore_errors=True)
    times = [r[0] * 1000 for r in results]
    print(f"pre-checkout answered while the {args.crowd:,} updates of a crowd wait in the inbox, fake Bot API at "
          f"{args.rtt:g} ms, SQLite, 1 process, {args.runs} runs:")
    print(f"  time to answer, ms: {', '.join(f'{t:.0f}' for t in times)}   (median {pct(times, 50):.0f})")
    print(f"  crowd updates still unanswered then: {', '.join(str(r[1]) for r in results)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crowd", type=int, default=2000)
    parser.add_argument("--rtt", type=float, default=50.0, metavar="MS")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bot's log")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
