"""`python -m bot` as an operator runs it: clear one-line refusals, and a real start by long polling."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import socket
import sys

import pytest

from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from bot.runtime import BotRuntime

from .conftest import TOKEN
from .journeys import add_to_cart, place_order


def bot_env(tmp_path, **settings: str) -> dict[str, str]:
    """The environment of a bot process: no inherited chatshop settings, a SQLite store in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in {
        "BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_BASE_URL", "CURRENCY", "PAYMENT_PROVIDER_TOKEN"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shop.db'}"
    env["HTTP_PORT"] = "0"  # any free port: tests run beside other servers
    env.update(settings)
    return env


async def run_bot(tmp_path, *args: str, **settings: str) -> tuple[int, str]:
    """Run `python -m bot` to completion; return its exit status and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=bot_env(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, stderr.decode()


@pytest.mark.parametrize(("settings", "expected"), [
    ({"BOT_TOKEN": "not-a-token"}, "chatshop: setting BOT_TOKEN is invalid"),
    ({"BOT_TOKEN": TOKEN, "CURRENCY": "DOLLARS"}, "chatshop: setting CURRENCY is invalid"),
    ({"BOT_TOKEN": TOKEN, "CHECKOUT_EXPIRY_MINUTES": "soon"}, "chatshop: setting CHECKOUT_EXPIRY_MINUTES is invalid"),
    ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://db/shop"}, "chatshop: setting DATABASE_URL is invalid"),
    ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "localhost:8081"},
     "chatshop: setting TELEGRAM_API_BASE_URL is invalid"),
    ({"BOT_TOKEN": TOKEN, "CASH_ON_DELIVERY": "false", "STARS_ENABLED": "false"},
     "chatshop: settings are inconsistent: no way to pay"),
])
async def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path, settings, expected):
    status, stderr = await run_bot(tmp_path, **settings)
    assert status == 2
    assert stderr.startswith(expected)
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "shop.db").exists()


async def test_an_unreachable_database_is_named_in_one_line(tmp_path):
    status, stderr = await run_bot(tmp_path, BOT_TOKEN=TOKEN,
                                   DATABASE_URL="postgresql://shop@127.0.0.1:1/shop")
    assert status == 1
    assert stderr.startswith("chatshop: cannot reach the database at postgresql+asyncpg://shop@127.0.0.1:1/shop")
    assert stderr.count("\n") == 1


@pytest.mark.parametrize(("args", "settings"), [
    (("worker",), {}),
    (("run",), {}),  # asked for by name (a service unit does): the real bot or nothing
    ((), {"WEBHOOK_URL": "https://shop.example/telegram"}),  # a deployment, not a first try
    ((), {"HTTP_HOST": "0.0.0.0"}),
    ((), {"DATABASE_URL": "postgresql://shop@127.0.0.1:1/shop"}),
])
async def test_without_a_token_only_a_first_try_gets_the_sandbox(tmp_path, args, settings):
    status, stderr = await run_bot(tmp_path, *args, **settings)
    assert status == 2
    assert stderr == "chatshop: setting BOT_TOKEN is missing: set it in the environment or in .env\n"
    assert not (tmp_path / "shop.db").exists() and not (tmp_path / "sandbox.db").exists()


async def test_python_m_bot_serves_a_shopper_by_long_polling_and_stops_cleanly(tmp_path, fake):
    # The operator starts the bot against a local Bot API server, with a .env file.
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nTELEGRAM_API_BASE_URL={fake.url}/bot\n")
    env = bot_env(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for("getUpdates", timeout=30)
        ann = fake.user(2001, "Ann")
        await ann.send("/start")
        assert "Welcome to chatshop, Ann" in ann.last_text
        await ann.send("hoodie")
        assert "Pullover Hoodie" in ann.last_text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert (tmp_path / "shop.db").exists()


async def test_a_token_the_bot_api_rejects_stops_start_up_with_one_line(tmp_path, fake):
    status, stderr = await run_bot(tmp_path, BOT_TOKEN="654321:ANOTHER-token-the-server-does-not-know",
                                   TELEGRAM_API_BASE_URL=f"{fake.url}/bot")
    assert status == 2
    expected = "chatshop: setting BOT_TOKEN was rejected by the Bot API: check it with @BotFather"
    assert stderr.splitlines()[-1] == expected
    assert "Traceback" not in stderr and "ANOTHER-token" not in stderr


async def test_a_busy_http_port_is_named_in_one_line(tmp_path, fake):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status, stderr = await run_bot(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"{fake.url}/bot",
                                       HTTP_PORT=str(port))
    assert status == 2
    assert stderr.splitlines()[-1].startswith(f"chatshop: setting HTTP_PORT: cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_updates_bound_the_updates_in_hand_on_both_stores(tmp_path, caplog, backend):
    url = f"sqlite:///{tmp_path / 'shop.db'}" if backend == "sqlite" else "postgresql://shop@127.0.0.1:1/shop"
    # By default about 64 people's updates are handled at once per process, on either store.
    assert Settings(_env_file=None, bot_token=TOKEN, database_url=url).concurrent_updates == 64
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=url, concurrent_updates=8)
    with caplog.at_level(logging.WARNING):
        runtime = BotRuntime(settings, build_application(settings))
    assert runtime.dispatcher.concurrency == 8 and caplog.text == ""


def test_a_postgresql_store_without_its_driver_names_the_extra_to_install(monkeypatch):
    # A shop installed without the PostgreSQL extra, pointed at PostgreSQL.
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "asyncpg" else find_spec(name, *rest))
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, bot_token=TOKEN, database_url="postgresql://shop@db/shop")
    assert str(refused.value) == 'setting DATABASE_URL is invalid: PostgreSQL needs its driver: pip install ' \
                                 '"chatshop[postgresql]"'


async def test_debug_logs_of_a_whole_order_hold_no_secret_and_no_personal_data(tmp_path, fake):
    """At DEBUG PTB logs every update and Bot API call; names, phones, addresses and tokens are hidden."""
    provider = "284685063:TEST:Y2hhdHNob3AtcHJvdmlkZXItdG9rZW4"
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"{fake.url}/bot", LOG_LEVEL="DEBUG",
                  PAYMENT_PROVIDER_TOKEN=provider, WEBHOOK_SECRET="s3cret-webhook-value")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    # Read the logs as they come: a full pipe would stop the bot at its next log line (DEBUG writes hundreds of
    # kilobytes before the first update).
    reading = asyncio.create_task(process.stderr.read())
    try:
        await fake.wait_for("getUpdates", timeout=30)
        zeb = fake.user(2002, "Zebulon", last_name="Quill", username="zquill")
        await add_to_cart(zeb, "hoodie", "Pullover Hoodie", "M / Grey")
        await place_order(zeb, "42 Quiet Lane, Springfield 12345")
        # The bot repeated the shared phone and the typed address back to him.
        assert any("+12025550143" in text for text in zeb.texts)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        stderr = await asyncio.wait_for(reading, 30)
    logs = stderr.decode()
    assert process.returncode == 0, logs[-2000:]
    # Every sendMessage was logged, its text hidden.
    assert "'text': '[hidden]'" in logs and "endpoint `sendMessage` with parameters" in logs
    for secret in (TOKEN, provider, "s3cret-webhook-value", "Zebulon", "Quill", "zquill", "42 Quiet Lane",
                   "202 555 0143", "12025550143"):
        assert secret not in logs, secret
