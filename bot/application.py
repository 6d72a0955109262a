"""The bot's Application: each update claimed once in the store, timed, counted and logged."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import Application

from bot.observability import record_update
from handlers.context import CURRENT_TRACE, SHOP_KEY, Shop, UpdateTrace
from store.services.updates import claim_update

logger = logging.getLogger(__name__)


class ShopApplication(Application):
    """PTB's Application, applying each update once across deliveries and processes."""

    async def process_update(self, update: object) -> None:
        """Claim the update in the store, then handle it; a second delivery is skipped."""
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        started = time.perf_counter()
        shop: Shop = self.bot_data[SHOP_KEY]
        async with shop.db.transaction() as session:
            first = await claim_update(session, update.update_id, shop.clock())
        if not first:
            record_update(update, "-", "duplicate", time.perf_counter() - started)
            return
        trace = UpdateTrace(outcome="unhandled")
        token = CURRENT_TRACE.set(trace)
        try:
            await super().process_update(update)
        finally:
            CURRENT_TRACE.reset(token)
            record_update(update, trace.handler, trace.outcome, time.perf_counter() - started)
