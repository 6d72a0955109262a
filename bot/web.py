"""The bot's aiohttp server: the retailers' HTTP API (and, later, webhooks and health)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot import http_api
from handlers.context import Shop

logger = logging.getLogger(__name__)


def init_web_app(shop: Shop) -> web.Application:
    """The aiohttp application serving the shop over HTTP."""
    app = web.Application(middlewares=[http_api.api_errors], client_max_size=http_api.MAX_BODY)
    app[http_api.SHOP] = shop
    app.add_routes(http_api.routes)
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

    async def stop(self) -> None:
        """Stop listening and finish open requests."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"
