"""The one error handler: log with the traceback, apologise briefly to the person."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from handlers.common import answer
from handlers.context import ShopContext, trace
from handlers.i18n import _
from handlers.render import SORRY
from store.db import unavailable, update_applied
from store.services.inbox import AlreadyApplied

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ShopContext) -> None:
    """Log an error raised by a handler and tell the person something went wrong, without details."""
    update_id = update.update_id if isinstance(update, Update) else None
    current = trace()
    if isinstance(context.error, AlreadyApplied):
        # Applied by another process (or before a restart) while this one worked on it: nothing to say.
        logger.info("update %s was applied already; nothing done", update_id)
        current.outcome = "duplicate"
        return
    if current.may_retry and unavailable(context.error) and not update_applied():
        logger.warning("update %s: the store is unavailable (%s)", update_id, type(context.error).__name__)
        current.outcome = "retry"
        return
    current.outcome = "error"
    if isinstance(context.error, NetworkError) and not isinstance(context.error, Forbidden):
        logger.warning("network error while handling update %s: %s", update_id, context.error)
    else:
        logger.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    sorry = _(SORRY)  # marked with N_ where it is written (handlers/render.py)
    if update.callback_query is not None and await answer(update.callback_query, sorry, alert=True):
        return
    if update.effective_chat is not None and update.effective_chat.type == "private":
        try:
            await update.effective_chat.send_message(sorry)
        except TelegramError:
            logger.warning("could not apologise for update %s", update_id)
