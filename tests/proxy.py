"""A round-robin HTTP proxy on 127.0.0.1: one webhook address in front of several bot processes.

It forwards each POST to the next backend in turn, passing the headers Telegram sends and the
body through, and answers with the backend's status. Like a load balancer, it skips a backend
that refuses connections or answers 503 (a process shutting down) and tries the next one.
"""

from __future__ import annotations

import dataclasses
import json

import aiohttp
from aiohttp import web

FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


@dataclasses.dataclass
class Forwarded:
    """One request as a backend answered it."""

    update_id: int | None
    backend: int
    status: int


class RoundRobinProxy:
    """Forwards ``POST <path>`` to ``backends`` in turn; use as ``async with RoundRobinProxy(path)``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.backends: list[str] = []
        self.forwarded: list[Forwarded] = []
        self.pinned: int | None = None  # when set, every request goes to this backend only
        self.url = ""
        self._next = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RoundRobinProxy:
        app = web.Application()
        app.router.add_post(self.path, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{self.path}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def served_by(self, update_id: int) -> int | None:
        """The backend that accepted an update (2xx), if any."""
        return next((f.backend for f in self.forwarded if f.update_id == update_id and 200 <= f.status < 300), None)

    @property
    def next_backend(self) -> int:
        """The backend the next request goes to first."""
        return self.pinned if self.pinned is not None else self._next

    def _order(self) -> list[int]:
        if self.pinned is not None:
            return [self.pinned]
        start = self._next
        self._next = (self._next + 1) % len(self.backends)
        return [(start + i) % len(self.backends) for i in range(len(self.backends))]

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        try:
            update_id = json.loads(body).get("update_id")
        except (ValueError, AttributeError):
            update_id = None
        status = 502
        for index in self._order():
            try:
                async with self._session.post(self.backends[index], data=body, headers=headers) as response:
                    answer = await response.read()
                    status = response.status
            except aiohttp.ClientConnectionError:
                continue  # the process is gone: try the next one
            self.forwarded.append(Forwarded(update_id, index, status))
            if status != 503:
                return web.Response(status=status, body=answer)
        return web.Response(status=status)
