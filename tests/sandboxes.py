"""The sandbox (bot/sandbox) run in the test's process: its store in tmp_path, its page on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import Settings
from bot.sandbox.chat import Sandbox
from bot.sandbox.run import run_sandbox

from .processes import free_port


class RunningSandbox:
    """A sandbox started by :func:`sandbox_running`; `url` is its web chat."""

    def __init__(self, store: Path) -> None:
        self.store, self.url = store, ""
        self.starts = 0
        self.sandbox: Sandbox | None = None  # the latest start's emulator and people
        self.started = asyncio.Event()

    def on_start(self, url: str, sandbox: Sandbox) -> None:
        self.starts += 1
        self.url, self.sandbox = url, sandbox
        self.started.set()

    async def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                   timeout: float = 30, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One request to the web chat's API; the status and the JSON answer."""
        data = raw if raw is not None else (None if body is None else aiohttp.JsonPayload(body))
        headers = {**({"Content-Type": "application/json"} if method == "POST" else {}), **(headers or {})}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.request(method, self.url + path, data=data, headers=headers) as response:
                return response.status, await response.json()

    async def chat(self, persona: int, seen: int = -1) -> dict[str, Any]:
        """A persona's chat as the page gets it."""
        status, view = await self.call("GET", f"/sandbox/api/chat?persona={persona}&seen={seen}")
        assert status == 200, view
        return view

    async def until(self, persona: int, check, timeout: float = 15.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """The persona's chat once `check(view)` holds (waiting on the page's long poll, as the page does)."""
        deadline = asyncio.get_running_loop().time() + timeout
        view = await self.chat(persona)
        while not check(view):
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"the chat of {persona} never showed it; last messages: {view['messages'][-3:]}"
            view = await self.chat(persona, view["revision"])
        return view


@contextlib.asynccontextmanager
async def sandbox_running(tmp_path: Path, **settings: Any) -> AsyncIterator[RunningSandbox]:
    """Run the sandbox as `python -m bot sandbox` does, until the block ends (on a free port unless told)."""
    running = RunningSandbox(tmp_path / "sandbox.db")
    stop = asyncio.Event()
    config = Settings(_env_file=None, **{"http_port": free_port(), **settings})
    task = asyncio.create_task(run_sandbox(config, stop, store=running.store, started=running.on_start))
    started = asyncio.ensure_future(running.started.wait())
    try:
        done, _ = await asyncio.wait([task, started], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # a failed start: its error
        assert running.started.is_set(), "the sandbox did not start within 60 s"
        yield running
    finally:
        started.cancel()
        stop.set()
        await asyncio.wait_for(task, 60)
