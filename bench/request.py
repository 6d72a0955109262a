"""Bench the Bot API client: PTB's default HTTPXRequest against our AiohttpRequest (bot/request.py).

A local aiohttp server, in its own process so it does not share the client's core,
answers every sendMessage with a canned Message. Each client makes N
`bot.send_message` calls at concurrency 1 and 32; runs alternate between the
clients and the median of the runs is reported. "raw aiohttp" (bare
`session.post`, no PTB) shows the ceiling of this server and machine.

    python bench/request.py [--requests 3000] [--runs 3] [--concurrency 1 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.request import AiohttpRequest  # noqa: E402

TOKEN = "123456:bench-token-0123456789abcdef"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
MESSAGE = {
    "message_id": 1,
    "date": 1_700_000_000,
    "chat": {"id": 42, "type": "private", "first_name": "Ann"},
    "from": BOT_USER,
    "text": "Your order #1042 is on its way",
}
WARMUP = 200


def serve(port_out: multiprocessing.connection.Connection) -> None:
    """Run the canned Bot API on 127.0.0.1 until killed; send the chosen port through `port_out`."""
    get_me = json.dumps({"ok": True, "result": BOT_USER}).encode()
    sent = json.dumps({"ok": True, "result": MESSAGE}).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        body = get_me if request.match_info["method"] == "getMe" else sent
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        port_out.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def drive(call: Callable[[], Awaitable[object]], total: int, concurrency: int) -> float:
    """Make `total` calls with `concurrency` in flight; return calls per second."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def bench_bot(base: str, request: BaseRequest, total: int, concurrency: int, runs: int) -> list[float]:
    """Rates of `runs` timed rounds of bot.send_message through `request`."""
    async with Bot(TOKEN, base_url=f"{base}/bot", request=request) as bot:

        def call() -> Awaitable[object]:
            return bot.send_message(chat_id=42, text="Your order #1042 is on its way")

        await drive(call, WARMUP, concurrency)
        return [await drive(call, total, concurrency) for _ in range(runs)]


async def bench_raw(base: str, total: int, concurrency: int, runs: int) -> list[float]:
    """Rates of bare aiohttp posts of the same form, without PTB."""
    url = f"{base}/bot{TOKEN}/sendMessage"
    form = b"chat_id=42&text=Your+order+%231042+is+on+its+way"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def call() -> None:
            async with session.post(url, data=form, headers=headers) as response:
                json.loads(await response.read())

        await drive(call, WARMUP, concurrency)
        return [await drive(call, total, concurrency) for _ in range(runs)]


async def run(base: str, total: int, runs: int, levels: list[int]) -> None:
    """Bench every client at every concurrency level and print the table."""
    clients: dict[str, Callable[[int], Awaitable[list[float]]]] = {
        "httpx (PTB default)": lambda c: bench_bot(base, HTTPXRequest(), total, c, 1),
        "AiohttpRequest": lambda c: bench_bot(base, AiohttpRequest(), total, c, 1),
        "raw aiohttp (no PTB)": lambda c: bench_raw(base, total, c, 1),
    }
    print(f"{total:,} send_message calls per run, {runs} runs, median req/s\n")
    print(f"{'client':<22}{'conc':>5}  {'runs (req/s)':<28}{'median':>8}")
    medians: dict[tuple[str, int], float] = {}
    for level in levels:
        rates: dict[str, list[float]] = {name: [] for name in clients}
        # Alternate clients run by run, so drift on the machine hits them alike.
        for _ in range(runs):
            for name, bench in clients.items():
                rates[name] += await bench(level)
        for name, values in rates.items():
            medians[name, level] = statistics.median(values)
            shown = " ".join(f"{v:7,.0f}" for v in values)
            print(f"{name:<22}{level:>5}  {shown:<28}{medians[name, level]:>8,.0f}")
    print()
    for level in levels:
        ratio = medians["AiohttpRequest", level] / medians["httpx (PTB default)", level]
        print(f"concurrency {level:>2}: AiohttpRequest / httpx = {ratio:.2f}x")


def main() -> None:
    """Parse arguments, start the server process and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="send_message calls per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per client and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    port_in, port_out = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(port_out,), daemon=True)
    server.start()
    try:
        if not port_in.poll(15):
            raise SystemExit("the bench server did not start")
        base = f"http://127.0.0.1:{port_in.recv()}"
        asyncio.run(run(base, args.requests, args.runs, args.concurrency))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
