"""Shared fixtures: a real, migrated store on SQLite (a file per test) and on PostgreSQL.

PostgreSQL runs when TEST_DATABASE_URL is set (CI sets it); each test then
gets the database's ``public`` schema wiped and migrated afresh.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.app import build_application
from bot.config import Settings
from bot.runtime import BotRuntime
from bot.sandbox.emulator import BotApiEmulator
from bot.startup import prepare_store
from store.db import Database, record_broken_rules
from store.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")),
]


async def make_database(backend: str, tmp_path) -> Database:
    """Create an empty, migrated store on ``backend``."""
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    else:
        database = Database(PG_URL)
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database)
    return database


@pytest.fixture(autouse=True)
def store_rules_enforced():
    """Every test runs with the store's rules checked: a network call while a store transaction is
    open, or a second writing transaction for one update, raises and fails the test (even when
    a handler's error handler swallowed the exception)."""
    broken: list[str] = []
    record_broken_rules(broken)
    yield broken
    record_broken_rules(None)
    assert not broken, f"store rules broken: {broken}"


@pytest.fixture(params=BACKENDS)
async def db(request, tmp_path):
    """A migrated, empty store on each backend."""
    database = await make_database(request.param, tmp_path)
    yield database
    await database.dispose()


# --- end to end: the real Application against the fake Bot API server ------------------------

TOKEN = "123456:TEST-token-for-the-fake-bot-api"


class Clock:
    """A clock the tests move by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


class BotRunner:
    """Starts and stops the real chatshop bot (long polling by default) against a fake Bot API."""

    def __init__(self, fake: BotApiEmulator, database_url: str, clock: Clock, **settings: object) -> None:
        self.fake, self.database_url, self.clock, self.settings = fake, database_url, clock, settings
        self.application = None
        self.runtime: BotRuntime | None = None

    def make_settings(self) -> Settings:
        """The bot's settings: the fake's Bot API, any free HTTP port, and what the test asked for."""
        options = {"http_port": 0, **self.settings}
        return Settings(_env_file=None, bot_token=TOKEN, database_url=self.database_url,
                        telegram_api_base_url=f"{self.fake.url}/bot", **options)

    async def start(self) -> None:
        """Prepare the store (schema, demo catalog) and start the bot, as `python -m bot` does."""
        settings = self.make_settings()
        await prepare_store(settings, migrate=True)
        application = build_application(settings, clock=self.clock, search_refresh_interval=0)
        runtime = BotRuntime(settings, application, poll_timeout=1)
        await runtime.start()
        self.application, self.runtime = application, runtime
        # A user's action ends when the bot has stored, handled and recorded what it received.
        self.fake.follow(runtime.dispatcher.busy)

    async def stop(self) -> None:
        """Stop as on Ctrl+C: no new updates, the ones in hand finished, then shut down."""
        runtime, self.runtime, self.application = self.runtime, None, None
        if runtime is None:
            return
        self.fake.follow(None)
        await runtime.stop()

    async def __aenter__(self) -> BotRunner:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def restart(self) -> None:
        """Stop the bot and start a new Application on the same store."""
        await self.stop()
        await self.start()

    @property
    def db(self) -> Database:
        """The running application's store."""
        return self.application.shop.db


@pytest.fixture
async def fake():
    """A fake Telegram Bot API server on 127.0.0.1."""
    async with BotApiEmulator(token=TOKEN, bot_username="chatshop_test_bot") as server:
        yield server


@pytest.fixture(params=BACKENDS)
async def store_url(request, tmp_path):
    """A migrated store on each backend; its URL."""
    database = await make_database(request.param, tmp_path)
    await database.dispose()
    return database.url


@pytest.fixture
def clock():
    """The shop's clock, moved by the test."""
    return Clock()


@pytest.fixture
async def bot(fake, store_url, clock):
    """The chatshop bot with the demo catalog, running by long polling against ``fake``."""
    runner = BotRunner(fake, store_url, clock)
    await runner.start()
    yield runner
    await runner.stop()


async def eventually(check, timeout: float = 10.0, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Await ``check()`` until it returns something truthy (work done by a background worker), or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check.__name__}")
        await asyncio.sleep(interval)
