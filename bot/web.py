"""The bot's aiohttp server: Telegram's webhook, the retailers' HTTP API, health and metrics.

    POST <WEBHOOK_URL path>   Telegram updates (webhook mode), checked against the secret token
    GET  /healthz             the process is alive
    GET  /readyz              the store answers and its migrations are current
    GET  /metrics             Prometheus text format
    /api/v1/...               the retailers' API (bot/http_api.py)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from telegram import Update
from telegram.ext import Application

from bot import http_api
from bot.application import UpdateNotRecorded
from bot.observability import UPDATES, render_metrics
from handlers.context import Shop
from store.migrate import pending

logger = logging.getLogger(__name__)

APPLICATION = web.AppKey("application", Application)
WEBHOOK_SECRET = web.AppKey("webhook_secret", str)
ACCEPTING = web.AppKey("accepting", dict)
MAX_UPDATE_BYTES = 1024 * 1024


class UpdatesInHand:
    """The webhook updates being handled right now, so that shutdown can wait for them."""

    def __init__(self) -> None:
        self.count = 0
        self._none = asyncio.Event()
        self._none.set()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Count one update in hand for the duration of the block."""
        self.count += 1
        self._none.clear()
        try:
            yield
        finally:
            self.count -= 1
            if not self.count:
                self._none.set()

    async def wait_until_none(self) -> None:
        """Return once no update is in hand."""
        await self._none.wait()


IN_HAND = web.AppKey("in_hand", UpdatesInHand)

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store is reachable and fully migrated, and the process takes updates."""
    shop = request.app[http_api.SHOP]
    try:
        async with shop.db.read() as session:
            await session.execute(text("SELECT 1"))
        missing = await pending(shop.db)
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readiness: store unreachable: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "reason": "database unreachable"}, status=503)
    if missing:
        return web.json_response({"status": "unavailable", "reason": "migrations pending",
                                  "pending": missing}, status=503)
    if not request.app[ACCEPTING]["updates"]:
        return web.json_response({"status": "unavailable", "reason": "shutting down"}, status=503)
    return web.json_response({"status": "ready"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics."""
    body = await render_metrics(request.app[http_api.SHOP].db)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def telegram_webhook(request: web.Request) -> web.Response:
    """Handle an update from Telegram, answering once it is applied and recorded in the store.

    A handler's failure is answered 200 (it is recorded as failed, logged and counted), so Telegram
    does not retry it forever. Only when the store could not record the update is it answered 500:
    Telegram then delivers it again, as it does when this process dies before answering.
    """
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(secret.encode(), request.app[WEBHOOK_SECRET].encode()):
        logger.warning("webhook request with a missing or wrong secret token from %s", request.remote)
        return web.json_response({"error": "forbidden"}, status=403)
    application = request.app[APPLICATION]
    try:
        body = await request.read()
        if len(body) > MAX_UPDATE_BYTES:
            raise ValueError("too large")
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        update = Update.de_json(data, application.bot)
    except Exception:  # malformed JSON or an object PTB cannot read
        UPDATES.labels("malformed", "rejected").inc()
        return web.json_response({"error": "malformed update"}, status=400)
    # No await between this check and holding(): shutdown waits for every update let through.
    if not request.app[ACCEPTING]["updates"]:
        return web.json_response({"error": "shutting down"}, status=503)  # Telegram retries elsewhere
    try:
        with request.app[IN_HAND].holding():
            # Through PTB's update processor, so CONCURRENT_UPDATES bounds webhook updates as polled ones.
            await application.update_processor.process_update(update, application.apply_update(update))
    except UpdateNotRecorded:
        return web.json_response({"error": "not recorded, try again"}, status=500)
    return web.Response(status=200)


def init_web_app(shop: Shop, application: Application | None = None, *, webhook_path: str | None = None,
                 webhook_secret: str = "") -> web.Application:
    """The aiohttp application serving the shop over HTTP."""
    app = web.Application(middlewares=[http_api.api_errors], client_max_size=MAX_UPDATE_BYTES)
    app[http_api.SHOP] = shop
    app[ACCEPTING] = {"updates": True}
    app[IN_HAND] = UpdatesInHand()
    app.add_routes(routes)
    app.add_routes(http_api.routes)
    if webhook_path and application is not None:
        app[APPLICATION] = application
        app[WEBHOOK_SECRET] = webhook_secret
        app.router.add_post(webhook_path, telegram_webhook)
    return app


class WebServer:
    """Runs an aiohttp application on a host and port (port 0: any free port)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.requested_port = app, host, port
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Start listening."""
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.requested_port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked for
        logger.info("HTTP server on http://%s:%s", self.host, self.port)

    def stop_taking_updates(self) -> None:
        """Refuse new webhook updates (503) while the ones received are finished."""
        self.app[ACCEPTING]["updates"] = False

    async def finish_updates(self) -> None:
        """Wait until the webhook updates being handled are done."""
        await self.app[IN_HAND].wait_until_none()

    async def stop(self) -> None:
        """Stop listening and finish open requests."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"
