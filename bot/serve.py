"""Running the bot: long polling (the default) or a webhook on the bot's own aiohttp server.

In webhook mode several processes may serve one URL (behind a load balancer):
updates are claimed once in the store, and each process registers the same
webhook and secret. SIGTERM or SIGINT stops taking updates (the webhook
answers 503, so Telegram retries them elsewhere), finishes the ones received,
gives back unattempted outbox rows and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update
from telegram.ext import Application

from bot.config import Settings

logger = logging.getLogger(__name__)


def run_polling(application: Application) -> None:
    """Long polling until SIGINT/SIGTERM (PTB finishes the updates in hand, then shuts down)."""
    logger.info("starting chatshop by long polling")
    application.run_polling(allowed_updates=Update.ALL_TYPES)


async def run_webhook(application: Application, settings: Settings) -> None:
    """Serve Telegram's webhook until SIGINT/SIGTERM, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = application.bot_data["runtime"]
    await application.initialize()
    try:
        await application.post_init(application)
        await application.start()
        await application.bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_token,
                                          allowed_updates=Update.ALL_TYPES)
        logger.info("serving the webhook %s", settings.webhook_url)
        await stop.wait()
        logger.info("stopping: no new updates; finishing those in hand")
        runtime.web.stop_taking_updates()
        await runtime.web.finish_updates()
        await application.stop()
    finally:
        await application.shutdown()
        await application.post_shutdown(application)
    logger.info("stopped")
