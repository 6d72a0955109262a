"""Long polling that loses nothing: each batch is in the inbox before Telegram is told it arrived.

Telegram confirms the updates of a ``getUpdates`` answer when it is next asked
with a higher ``offset``. PTB's own poller asks again at once and handles the
batch afterwards, so a process killed in between loses it. This one asks for
the next batch only once the inbox has committed the previous one
(:meth:`bot.dispatcher.Dispatcher.receive`); if the store fails, it keeps the
batch and tries to store it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import Update
from telegram.error import InvalidToken, RetryAfter
from telegram.ext import ExtBot

from bot.dispatcher import Dispatcher, NotTakingUpdates, well_formed

logger = logging.getLogger(__name__)

BATCH = 100  # updates per getUpdates, Telegram's maximum
BACKOFF = (1, 2, 5, 10, 30)  # seconds between tries while Telegram or the store fails


class Poller:
    """Fetches updates by long polling and stores them in the inbox, one batch after the other."""

    def __init__(self, bot: ExtBot, dispatcher: Dispatcher, *, timeout: int = 10,
                 allowed_updates: Sequence[str] = Update.ALL_TYPES) -> None:
        self.bot, self.dispatcher = bot, dispatcher
        self.timeout, self.allowed_updates = timeout, list(allowed_updates)
        self.offset = 0
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Remove any webhook (Telegram allows one way of receiving) and start polling."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="long-polling")

    async def stop(self) -> None:
        """Stop polling. A batch fetched but not yet stored is fetched again by the next start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        failures = 0
        batch: list[Update] = []
        while True:
            try:
                if not batch:
                    batch = list(await self.bot.get_updates(offset=self.offset, limit=BATCH, timeout=self.timeout,
                                                            allowed_updates=self.allowed_updates))
                if batch:
                    readable = [update for update in batch if well_formed(update)]
                    for update in batch:
                        if update not in readable:
                            logger.warning("update %s is not as Telegram sends it; skipped", update.update_id)
                    await self.dispatcher.receive([(update, update.to_json()) for update in readable])
                    self.offset = batch[-1].update_id + 1  # the next getUpdates confirms them
                    batch = []
                failures = 0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                logger.critical("the Bot API refuses the token; polling stopped")
                return
            except RetryAfter as exc:
                delay = exc.retry_after
                delay = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
                logger.warning("getUpdates: Telegram asks to wait %ss", delay)
                await asyncio.sleep(delay)
            except NotTakingUpdates:
                return
            except Exception as exc:  # Telegram unreachable, another poller (Conflict), the store down
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                what = "storing updates" if batch else "getUpdates"
                logger.warning("%s failed (%s: %s); trying again in %ss", what, type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
