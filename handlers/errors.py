"""The one error handler: log with the traceback, apologise briefly to the person."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from handlers.context import ShopContext, trace
from handlers.render import SORRY

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ShopContext) -> None:
    """Log an error raised by a handler and tell the person something went wrong, without details."""
    update_id = update.update_id if isinstance(update, Update) else None
    trace().outcome = "error"
    if isinstance(context.error, NetworkError) and not isinstance(context.error, Forbidden):
        logger.warning("network error while handling update %s: %s", update_id, context.error)
    else:
        logger.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY, show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await update.effective_chat.send_message(SORRY)
    except TelegramError:
        logger.warning("could not apologise for update %s", update_id)
