"""One bot process: the inbox and how updates reach it, the HTTP server, the outbox worker, the jobs.

Start order: the Application (its Bot API client, the job queue), the search
index, the command menus, the inbox dispatcher, the HTTP server, the outbox
worker, and last the way updates come in: long polling, or the webhook
registered with Telegram. Stopping (SIGTERM, SIGINT) goes the other way: no
new updates (long polling stops; the webhook answers 503, so Telegram retries
elsewhere), the updates in hand are finished, the ones waiting stay in the
inbox for the next start or another process, outbox rows claimed but not
attempted are given back, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ExtBot

from bot.application import ShopApplication
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.jobs import schedule_jobs
from bot.polling import Poller
from bot.web import WebServer, init_web_app
from bot.worker import OutboxWorker, rate_limited_bot
from handlers import i18n
from handlers.menus import show_menu, show_menus
from store.models import utcnow
from store.services.users import recipient_language

logger = logging.getLogger(__name__)


class BotRuntime:
    """Everything one bot process runs around its Application."""

    def __init__(self, settings: Settings, application: ShopApplication, *,
                 worker_clock: Callable[[], datetime] = utcnow, poll_timeout: int = 10) -> None:
        self.settings, self.application = settings, application
        self.shop = application.shop
        self.dispatcher = Dispatcher(self.shop.db, application, concurrency=settings.concurrent_updates,
                                     lease=settings.inbox_lease_seconds)
        webhook = settings.webhook_url is not None
        app = init_web_app(self.shop, self.dispatcher if webhook else None, webhook_path=settings.webhook_path,
                           webhook_secret=settings.webhook_token)
        self.web = WebServer(app, settings.http_host, settings.http_port)
        self.poller = None if webhook else Poller(application.bot, self.dispatcher, timeout=poll_timeout)
        self.worker: OutboxWorker | None = None
        self.worker_bot: ExtBot | None = None
        self._worker_task: asyncio.Task | None = None
        self._worker_stop = asyncio.Event()
        self._worker_clock = worker_clock

    async def start(self) -> None:
        """Start everything; updates flow in last."""
        application = self.application
        await application.initialize()
        async with self.shop.db.read(scan=True) as session:  # the whole catalog
            await self.shop.search.refresh(session, force=True)
        await self._show_commands()
        schedule_jobs(application)
        await application.start()
        await self.dispatcher.start()
        await self.web.start()
        if self.settings.outbox_worker:
            self.worker_bot = rate_limited_bot(self.settings)
            await self.worker_bot.initialize()
            self.worker = OutboxWorker(self.shop.db, self.worker_bot, clock=self._worker_clock,
                                       operators=self.settings.operators,
                                       webhook_networks=self.settings.webhook_networks,
                                       webhook_retry=timedelta(days=self.settings.webhook_retry_days))
            self.shop.outbox_waker = self.worker.wake
            self._worker_stop.clear()
            self._worker_task = asyncio.create_task(self.worker.run(self._worker_stop), name="outbox-worker")
        if self.poller is not None:
            await self.poller.start()
            logger.info("taking updates by long polling")
        else:
            await application.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_token,
                                              allowed_updates=Update.ALL_TYPES)
            logger.info("serving the webhook %s", self.settings.webhook_url)

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in hand, then stop everything else."""
        if self.poller is not None:
            await self.poller.stop()
        self.web.stop_taking_updates()
        await self.dispatcher.stop()
        if self.application.running:
            await self.application.stop()
        self._worker_stop.set()
        if self._worker_task is not None:
            await self._worker_task
            self._worker_task = None
        if self.worker_bot is not None:
            await self.worker_bot.shutdown()
            self.worker_bot = None
        self.shop.outbox_waker = None
        await self.web.stop()
        await self.application.shutdown()
        await self.shop.db.dispose()

    async def run(self) -> None:
        """Run until SIGINT or SIGTERM, then stop gracefully (also when starting failed half-way)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            await stop.wait()
            logger.info("stopping: no new updates; finishing those in hand")
        finally:
            await self.stop()
        logger.info("stopped")

    async def _show_commands(self) -> None:
        """Command menus are a convenience: a refusal is logged, never fatal."""
        bot = self.application.bot
        await show_menus(bot)
        operators = sorted(self.settings.operators)
        async with self.application.shop.db.read() as session:
            languages = [await recipient_language(session, operator_id) for operator_id in operators]
        for operator_id, language in zip(operators, languages):
            with i18n.speaking(i18n.language_of(*language)):
                await show_menu(bot, operator_id, operator=True)
