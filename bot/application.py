"""The bot's Application: each update applied once, in one store transaction, timed, counted and logged."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import Application

from bot.observability import record_update
from handlers.context import CURRENT_TRACE, SHOP_KEY, Shop, UpdateTrace
from store.services.updates import FAILED, claim_update, set_update_outcome

logger = logging.getLogger(__name__)


class UpdateNotRecorded(Exception):
    """The store could not record the update (it is unreachable or the commit failed): a redelivery
    of the update will be handled afresh."""


class ShopApplication(Application):
    """PTB's Application, applying each update once across deliveries and processes.

    An update is handled inside one unit of work (:meth:`store.db.Database.unit_of_work`): the
    record of its id and the changes its handlers make commit together. A crash mid-update
    commits neither, so Telegram's redelivery is handled afresh; a second delivery of a handled
    update finds the record and is skipped.
    """

    async def process_update(self, update: object) -> None:
        """Handle an update from long polling (see :meth:`apply_update`)."""
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        try:
            await self.apply_update(update)
        except UpdateNotRecorded:
            pass  # logged; long polling has already moved past it

    async def apply_update(self, update: Update) -> None:
        """Claim the update and handle it in one transaction; a handled update is skipped.

        When a handler fails, the store block it failed in is rolled back (each is a savepoint),
        what it finished before stays (say, a payment recorded before the reply to it failed), and
        the update is recorded as failed so that it is not retried. Raises
        :class:`UpdateNotRecorded` when the store could not record the update.
        """
        started = time.perf_counter()
        shop: Shop = self.bot_data[SHOP_KEY]
        trace = UpdateTrace(outcome="unhandled")
        token = CURRENT_TRACE.set(trace)
        try:
            async with shop.db.unit_of_work() as session:
                if not await claim_update(session, update.update_id, shop.clock()):
                    trace.outcome = "duplicate"
                    return
                await super().process_update(update)
                if trace.outcome == "error":
                    await set_update_outcome(session, update.update_id, FAILED)
        except Exception as exc:
            handler_failed = trace.outcome == "error"
            trace.outcome = "error"
            logger.error("update %s: the store failed (%s)", update.update_id, type(exc).__name__, exc_info=exc)
            if not handler_failed:
                raise UpdateNotRecorded from exc  # nothing of it is committed: a redelivery applies it afresh
            try:  # the handler failed and took the transaction down with it: do not retry it forever
                async with shop.db.transaction() as session:
                    await claim_update(session, update.update_id, shop.clock(), FAILED)
            except Exception as again:
                raise UpdateNotRecorded from again
        finally:
            CURRENT_TRACE.reset(token)
            record_update(update, trace.handler, trace.outcome, time.perf_counter() - started)
