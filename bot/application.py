"""The bot's Application: applies one update from the inbox, timed, counted and logged."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import Application

from bot.observability import record_update
from handlers import i18n
from handlers.context import CURRENT_TRACE, SHOP_KEY, UpdateTrace
from store.shop import Shop

logger = logging.getLogger(__name__)


class ShopApplication(Application):
    """PTB's Application, fed by the inbox (:class:`bot.dispatcher.Dispatcher`) instead of its own queue.

    Handlers read and write the store in short transactions of their own; the first writing one
    also marks the update applied, so the effect happens once across deliveries, restarts and
    processes (:meth:`store.db.Database.applying`).
    """

    @property
    def shop(self) -> Shop:
        """The shop this application serves."""
        return self.bot_data[SHOP_KEY]

    async def apply(self, update: Update, owner: str, *, waited: float = 0.0, may_retry: bool = False) -> str:
        """Run the handlers for ``update`` (held in the inbox by ``owner``); return how it ended: ok, error,
        duplicate, or retry (the store was unavailable before anything was applied, and ``may_retry``
        allowed trying again)."""
        started = time.perf_counter()
        trace = UpdateTrace(outcome="unhandled", may_retry=may_retry)
        token = CURRENT_TRACE.set(trace)
        try:
            with self.shop.db.applying(update.update_id, owner), i18n.speaking(self.language(update)):
                await self.process_update(update)
        finally:
            CURRENT_TRACE.reset(token)
            record_update(update, trace.handler, trace.outcome, time.perf_counter() - started, waited)
        return trace.outcome

    @property
    def languages(self) -> dict[int, str | None]:
        """The languages chosen by the people whose updates this process holds (the inbox reads them)."""
        return self.shop.languages

    def language(self, update: Update) -> str:
        """The language to answer ``update`` in: its person's choice (read by the inbox when it claimed the
        update), else their Telegram app's language."""
        user = update.effective_user
        if user is None:
            return i18n.SOURCE
        return i18n.language_of(self.shop.languages.get(user.id), user.language_code)

    def count_duplicate(self, update: Update) -> None:
        """Count a second delivery of an update already in the inbox (it is not handled again)."""
        record_update(update, "-", "duplicate", 0.0, 0.0)
