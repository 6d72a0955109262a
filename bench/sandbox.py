"""Bench the sandbox: from Enter in the web chat to the bot's answer in the page, against the bot's own time.

The sandbox runs in this process as ``python -m bot sandbox`` does (its store in a temp dir). Each round
a shopper searches through the page's API exactly as the page does (POST /sandbox/api/send, then the long
poll /sandbox/api/chat until the bot's answer is in it) and, alternating, through the emulator directly
(the update queued, the bot's sendMessage answered): the baseline, the bot's own time without the page.
The ratio is what the page (HTTP, the long poll, drawing the chat) adds. The emulator answers every call
after ``--rtt`` ms (0 by default: the sandbox has no network).

Also: a product card's first opening (its demo picture drawn and uploaded) against later ones (the
remembered file_id), and the cost of drawing a chat of 200 messages for the page.

    python bench/sandbox.py               # 200 rounds
    python bench/sandbox.py --rounds 50 --rtt 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.common import free_port, pct  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.sandbox import chat as sandbox_chat  # noqa: E402
from bot.sandbox import run as sandbox_run  # noqa: E402
from bot.sandbox.personas import SECOND_SHOPPER, SHOPPER  # noqa: E402

QUERIES = ("hoodie", "pulover hodie", "wireless earbuds", "yoga mat", "coffee", "socks", "charger", "notebook")


async def through_page(http: aiohttp.ClientSession, url: str, persona: int, text: str, seen: int) -> tuple[float, int]:
    """Seconds from the POST to the long poll bringing the bot's answer; the revision seen."""
    async with http.get(f"{url}/sandbox/api/chat?persona={persona}&seen=-1") as response:
        newest = max((m["id"] for m in (await response.json())["messages"]), default=0)
    start = time.perf_counter()
    async with http.post(f"{url}/sandbox/api/send", json={"persona": persona, "text": text}) as response:
        assert response.status == 200
    while True:
        async with http.get(f"{url}/sandbox/api/chat?persona={persona}&seen={seen}") as response:
            view = await response.json()
        seen = view["revision"]
        if any(m["id"] > newest and not m["mine"] for m in view["messages"]):
            return time.perf_counter() - start, seen


async def through_emulator(sandbox: sandbox_chat.Sandbox, persona: int, text: str) -> float:
    """Seconds from the update queued to the bot's answer accepted by the emulator."""
    emulator = sandbox.emulator
    person = sandbox.people[persona]
    mark = emulator.mark()
    start = time.perf_counter()
    await person.send(text, wait=False)
    await emulator.wait_for("sendMessage", lambda c: c.params.get("chat_id") == persona, timeout=30, since=mark)
    return time.perf_counter() - start


async def card_times(sandbox: sandbox_chat.Sandbox, persona: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds to a card's photo: each product's first opening, and its later ones."""
    emulator, person = sandbox.emulator, sandbox.people[persona]
    first, again = [], []
    for round_ in range(rounds):
        await person.send(QUERIES[round_ % len(QUERIES)], wait=False)
        await emulator.wait_for("sendMessage", lambda c: c.params.get("chat_id") == persona, timeout=30,
                                since=emulator.mark() - 1)
        await asyncio.sleep(0.05)
        message = person.messages[-1]
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row if b["text"][:1].isdigit()]
        for button in buttons[:4]:
            mark = emulator.mark()
            start = time.perf_counter()
            await person.press_data(button["callback_data"], message=message, wait=False)

            def card(mark: int = mark):  # type: ignore[no-untyped-def]
                return next((c for c in emulator.calls[mark:] if c.method in ("sendPhoto", "sendMessage")
                             and c.response is not None and c.params.get("chat_id") == persona), None)

            call = await emulator.until(card, 30)
            took = time.perf_counter() - start
            if call.method == "sendPhoto":  # a product without a picture is left out
                (again if isinstance(call.params.get("photo"), str) else first).append(took)
    return first, again


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--rtt", type=float, default=0.0, help="ms the emulator takes for every call but getUpdates")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    captured: dict[str, sandbox_chat.Sandbox] = {}

    def on_start(url: str, sandbox: sandbox_chat.Sandbox) -> None:
        captured["sandbox"] = sandbox
        sandbox.emulator.latency = args.rtt / 1000

    with tempfile.TemporaryDirectory() as tmp:
        stop = asyncio.Event()
        port = free_port()
        settings = Settings(_env_file=None, http_port=port)
        task = asyncio.create_task(sandbox_run.run_sandbox(settings, stop, store=Path(tmp) / "sandbox.db",
                                                           started=on_start))
        for _ in range(1200):  # a minute at most
            if "sandbox" in captured or task.done():
                break
            await asyncio.sleep(0.05)
        if "sandbox" not in captured:
            task.result() if task.done() else task.cancel()
            raise SystemExit("the sandbox did not start within a minute")
        url, sandbox = f"http://127.0.0.1:{port}", captured["sandbox"]
        page, direct, seen = [], [], -1
        async with aiohttp.ClientSession() as http:
            for warm in QUERIES:  # the search index and caches warm
                await through_emulator(sandbox, SECOND_SHOPPER.user_id, warm)
            for round_ in range(args.rounds):
                query = QUERIES[round_ % len(QUERIES)]
                took, seen = await through_page(http, url, SHOPPER.user_id, query, seen)
                page.append(took)
                direct.append(await through_emulator(sandbox, SECOND_SHOPPER.user_id, query))
        first, again = await card_times(sandbox, SECOND_SHOPPER.user_id, 2 * len(QUERIES))
        person = sandbox.people[SHOPPER.user_id]
        shown = len(person.chat.messages)
        draws = []
        for _ in range(50):
            start = time.perf_counter()
            view = sandbox_chat.chat_view(sandbox, person)
            draws.append(time.perf_counter() - start)
        size = len(json.dumps(view))
        stop.set()
        await task

    ms = 1000
    print(f"sandbox: {args.rounds} searches through the page and as many straight through the emulator "
          f"(emulator delay {args.rtt:g} ms), alternating")
    print(f"  page (POST + long poll)   p50 {pct(page, 50) * ms:6.1f} ms  p95 {pct(page, 95) * ms:6.1f} ms")
    print(f"  emulator (baseline)       p50 {pct(direct, 50) * ms:6.1f} ms  p95 {pct(direct, 95) * ms:6.1f} ms")
    print(f"  ratio page/baseline       p50 {pct(page, 50) / pct(direct, 50):5.2f}x   "
          f"mean {statistics.mean(page) / statistics.mean(direct):5.2f}x")
    print(f"card photo: first opening (drawn, uploaded) p50 {pct(first, 50) * ms:6.1f} ms over {len(first)}; "
          f"again (file_id) p50 {pct(again, 50) * ms:6.1f} ms over {len(again)}")
    print(f"drawing a chat of {min(shown, sandbox_chat.SHOWN_MESSAGES)} messages for the page: "
          f"p50 {pct(draws, 50) * ms:.2f} ms, {size / 1024:.0f} KB of JSON")


if __name__ == "__main__":
    asyncio.run(main())
