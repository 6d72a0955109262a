"""Running the sandbox: the real bot (same Application, store, outbox worker and jobs) against the Bot API
emulator in this process, with the web chat on the bot's own HTTP server.

The sandbox keeps its own SQLite store, ``sandbox.db``, apart from the shop's, with the demo catalog and
the sandbox's people in their roles. **Reset** stops everything, deletes that store and starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app import build_application
from bot.config import Settings
from bot.runtime import BotRuntime
from bot.sandbox import chat
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.personas import OPERATOR, seat_personas
from bot.startup import prepare_store
from store.db import Database
from store.models import utcnow

logger = logging.getLogger(__name__)

# Never sent anywhere but the emulator in this process.
SANDBOX_TOKEN = "7000000001:sandbox-token-known-only-to-the-emulator"
SANDBOX_BOT = "chatshop_sandbox_bot"
SANDBOX_STORE = Path("sandbox.db")
# Card payments in the sandbox go through the emulator's test payment: no provider is ever reached.
TEST_PROVIDER_TOKEN = "000000000:TEST:sandbox"


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def first_try(settings: Settings) -> bool:
    """Whether a start without a token looks like someone trying the shop on their own machine (SQLite, no
    webhook, the HTTP server on loopback): then the sandbox starts; anywhere else the missing token is an error."""
    return (settings.webhook_url is None and settings.http_host in LOOPBACK
            and make_url(settings.database_url).get_backend_name() == "sqlite")


def sandbox_settings(settings: Settings, api_url: str, store: Path) -> Settings:
    """The shop's settings with what makes it a sandbox: the emulator, its own store, its operator."""
    return settings.model_copy(update={
        "bot_token": SANDBOX_TOKEN,
        "telegram_api_base_url": f"{api_url}/bot",
        "database_url": f"sqlite+aiosqlite:///{store}",
        "webhook_url": None,
        "demo_catalog": True,
        "outbox_worker": True,
        "operator_ids": str(OPERATOR.user_id),
        "payment_provider_token": settings.payment_provider_token or TEST_PROVIDER_TOKEN,
    })


async def _seat(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            await seat_personas(session, utcnow())
    finally:
        await database.dispose()


def forget_store(store: Path) -> None:
    """Delete the sandbox's store (and SQLite's side files) so the next start loads the demo afresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{store}{suffix}").unlink()


Started = Callable[[str, chat.Sandbox], None]


async def serve_once(settings: Settings, stop: asyncio.Event, store: Path, started: Started) -> int | None:
    """Run the sandbox until `stop` is set (returns None) or the page asks for a reset (returns the port the
    web chat was on, for the next start to take again)."""
    reset = asyncio.Event()
    emulator = BotApiEmulator(token=SANDBOX_TOKEN, bot_username=SANDBOX_BOT, bot_first_name="Chatshop")
    await emulator.start()
    sandbox = chat.Sandbox(emulator, reset, open_to_all=settings.http_host not in LOOPBACK)
    runtime: BotRuntime | None = None
    try:
        shop = sandbox_settings(settings, emulator.url, store)
        await prepare_store(shop, migrate=True)
        await _seat(shop)
        runtime = BotRuntime(shop, build_application(shop))
        chat.install(runtime.web.app, sandbox)
        await runtime.start()
        started(runtime.web.url, sandbox)
        done = asyncio.ensure_future(stop.wait())
        again = asyncio.ensure_future(reset.wait())
        await asyncio.wait((done, again), return_when=asyncio.FIRST_COMPLETED)
        for waiter in (done, again):
            waiter.cancel()
        return runtime.web.port if reset.is_set() and not stop.is_set() else None
    finally:
        sandbox.closing = True
        emulator.revise()  # the page's waiting requests answer now rather than hold up the stop
        if runtime is not None:
            await runtime.stop()
        await emulator.close()


async def run_sandbox(settings: Settings, stop: asyncio.Event, *, store: Path = SANDBOX_STORE,
                      started: Started = lambda url, sandbox: None) -> None:
    """Serve the sandbox until `stop` is set, starting afresh on a new demo store whenever the page asks.

    `started` is told the web chat's address and what its requests act on after each start.
    """
    while (port := await serve_once(settings, stop, store, started)) is not None:
        logger.info("sandbox reset: starting again on a fresh demo store")
        forget_store(store)
        settings = settings.model_copy(update={"http_port": port})  # the page waits for it where it was
    logger.info("sandbox stopped")


async def serve_sandbox(settings: Settings) -> None:
    """`python -m bot sandbox`: the sandbox in ./sandbox.db until SIGINT or SIGTERM; says where it is once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    announced: list[str] = []

    def announce(url: str, sandbox: chat.Sandbox) -> None:
        if not announced:
            print(f"chatshop sandbox: the real bot with a stand-in for Telegram (no token, no real payment); "
                  f"its store is {SANDBOX_STORE}", flush=True)
            print(f"Open {url}/ in a browser to shop, sell and share as six people.", flush=True)
        announced.append(url)

    await run_sandbox(settings, stop, started=announce)
