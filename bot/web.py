"""The bot's aiohttp server: Telegram's webhook, the retailers' HTTP API, health, metrics and demo pictures.

    POST <WEBHOOK_URL path>       Telegram updates (webhook mode), checked against the secret token, into the inbox
    GET  /healthz                 the process is alive
    GET  /readyz                  the store answers and its migrations are current
    GET  /metrics                 Prometheus text format
    GET  /media/demo/{slug}.png   the drawn picture of a demo product whose photo is ``demo:<slug>``
                                  (store/demo_photos.py), cacheable for a day; 404 with a JSON error otherwise
    /api/v1/...                   the retailers' API (bot/http_api.py)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update

from bot import http_api
from bot.dispatcher import Dispatcher, NotTakingUpdates, well_formed
from bot.observability import UPDATES, render_metrics
from store import demo_photos
from store.migrate import pending
from store.shop import Shop

logger = logging.getLogger(__name__)

DISPATCHER = web.AppKey("dispatcher", Dispatcher)
WEBHOOK_SECRET = web.AppKey("webhook_secret", str)
ACCEPTING = web.AppKey("accepting", dict)
MAX_UPDATE_BYTES = 1024 * 1024
MAX_UPDATE_ID = 2**63 - 1
# The pictures never change for a given release: let browsers and proxies keep them a day.
MEDIA_CACHE = "public, max-age=86400"

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
        await shop.db.ping()
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


@routes.get("/media/demo/{slug}.png")
async def demo_photo(request: web.Request) -> web.Response:
    """A demo product's picture, as the bot uploads it to Telegram."""
    slug = request.match_info["slug"]
    try:
        # Drawing takes some 50 ms the first time (then it is cached): off the event loop.
        body = await asyncio.to_thread(demo_photos.draw, demo_photos.key_of(slug))
    except demo_photos.UnknownDemoPhoto:
        return http_api.error(404, "not_found", "photo_unknown", f"No demo product has the picture {slug[:40]!r}.")
    return web.Response(body=body, content_type="image/png", headers={"Cache-Control": MEDIA_CACHE})


async def telegram_webhook(request: web.Request) -> web.Response:
    """Store an update from Telegram in the inbox and answer 200 once it is committed.

    It is handled afterwards, by this process or another (:mod:`bot.dispatcher`). A body that is
    not an update gets 400; 503 while shutting down and 500 when the store could not take it,
    so Telegram delivers it again (to another process behind the same URL).
    """
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(secret.encode(), request.app[WEBHOOK_SECRET].encode()):
        logger.warning("webhook request with a missing or wrong secret token from %s", request.remote)
        return web.json_response({"error": "forbidden"}, status=403)
    dispatcher = request.app[DISPATCHER]
    try:
        body = await request.read()
        if len(body) > MAX_UPDATE_BYTES:
            raise ValueError("too large")
        raw = body.decode()
        data = json.loads(raw)
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or not 0 <= update_id <= MAX_UPDATE_ID:
            raise ValueError("not an update")
        update = Update.de_json(data, dispatcher.application.bot)
        if not well_formed(update):
            raise ValueError("not as Telegram sends it")
    except Exception as exc:  # malformed JSON, an object PTB cannot read, or one Telegram never sends
        UPDATES.labels("malformed", "rejected").inc()
        logger.warning("webhook: malformed update refused (%s: %s)", type(exc).__name__, str(exc)[:80])
        return web.json_response({"error": "malformed update"}, status=400)
    if not request.app[ACCEPTING]["updates"]:
        return web.json_response({"error": "shutting down"}, status=503)  # Telegram retries elsewhere
    try:
        await dispatcher.receive([(update, raw)])
    except NotTakingUpdates:
        return web.json_response({"error": "shutting down"}, status=503)
    except Exception as exc:  # the store is unreachable or the commit failed: Telegram delivers it again
        logger.error("webhook: update %s could not be stored (%s)", update.update_id, type(exc).__name__)
        return web.json_response({"error": "not stored, try again"}, status=500)
    return web.Response(status=200)


def init_web_app(shop: Shop, dispatcher: Dispatcher | None = None, *, webhook_path: str | None = None,
                 webhook_secret: str = "") -> web.Application:
    """The aiohttp application serving the shop over HTTP (and Telegram's webhook, when given a path)."""
    app = web.Application(middlewares=[http_api.api_errors], client_max_size=MAX_UPDATE_BYTES)
    app[http_api.SHOP] = shop
    app[ACCEPTING] = {"updates": True}
    app.add_routes(routes)
    app.add_routes(http_api.routes)
    if webhook_path and dispatcher is not None:
        app[DISPATCHER] = dispatcher
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
        """Refuse new webhook updates (503) and report not ready."""
        self.app[ACCEPTING]["updates"] = False

    async def stop(self) -> None:
        """Stop listening and finish open requests."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"
