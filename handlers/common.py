"""Small helpers shared by the flows: opening the store, replying and editing in place."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from html import escape

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from handlers import callbacks as cb
from handlers import i18n
from handlers.context import ShopContext, trace
from handlers.fit import CAPTION_LIMIT, fit
from handlers.messages import error_text, refusal
from store.errors import ErrorCode, ShopError
from store.services.users import touch_user

logger = logging.getLogger(__name__)


def lang(update: Update) -> str:
    """The language of the person behind the update (their /language choice, else their app's): the
    application sets it for each update it handles."""
    return i18n.current()


async def ensure_user(session, update: Update) -> None:  # type: ignore[no-untyped-def]
    """Make sure the person behind the update has a row in the store."""
    user = update.effective_user
    await touch_user(session, user.id, user.first_name or "", user.username, user.language_code)


def chat_of(update: Update) -> int:
    """Where to answer: the update's chat, or the person's own chat with the bot for a button under a
    message sent in inline mode (it belongs to no chat the bot is in)."""
    return update.effective_chat.id if update.effective_chat is not None else update.effective_user.id


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
) -> Message:
    """Send a new HTML message in the chat of the update (the person's own chat with the bot for a button
    under a message sent in inline mode, which belongs to no chat the bot is in)."""
    return await update.get_bot().send_message(chat_of(update), fit(text), parse_mode=ParseMode.HTML,
                                               reply_markup=markup, disable_web_page_preview=True)


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text (or photo caption) and keyboard of the message a button belongs to."""
    message = query.message
    try:
        if isinstance(message, Message) and (message.photo or message.document):
            await query.edit_message_caption(caption=fit(text, CAPTION_LIMIT), parse_mode=ParseMode.HTML,
                                             reply_markup=markup)
        else:
            await query.edit_message_text(fit(text), parse_mode=ParseMode.HTML, reply_markup=markup,
                                          disable_web_page_preview=True)
    except BadRequest as exc:
        # A double tap re-renders the same thing; Telegram refuses that edit.
        if "not modified" not in exc.message.lower():
            raise


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Turn the page a button belongs to in place, or send the page as a new message for a command."""
    if update.callback_query:
        await edit(update.callback_query, text, markup)
    else:
        await reply(update, text, markup)


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> bool:
    """Answer a button press once; returns False when it was answered already or Telegram refused.

    A refused answer (the query is too old: the update was handled again after a restart) never
    stops the handler: its store work and the message showing the true state still happen.
    """
    current = trace()
    if current.answered:
        return False
    current.answered = True
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        logger.info("callback query of user %s not answered: %s", query.from_user.id, exc)
        return False
    return True


async def refuse(update: Update, text: str) -> None:
    """Tell the person a button did nothing: an alert, or a message when the press was answered already."""
    if await answer(update.callback_query, text, alert=True):
        return
    if update.effective_chat is not None:
        await reply(update, escape(text))


async def expired(update: Update) -> None:
    """Tell the person that the button they pressed no longer applies."""
    await refuse(update, refusal(ErrorCode.BUTTON_EXPIRED, {}))


def button_handler(func: Callable[..., Awaitable[None]]) -> Callable[[Update, ShopContext], Awaitable[None]]:
    """Wrap a button callback: read its data strictly, and turn a refusal into a short alert.

    The wrapped function receives the :class:`handlers.callbacks.Button` pressed
    after ``update`` and ``context``.
    Data that is not one of our shapes is answered "expired" and logged; a
    :class:`ShopError` from the store is said in words (``handlers/messages.py``).
    """

    @functools.wraps(func)
    async def wrapper(update: Update, context: ShopContext) -> None:
        query = update.callback_query
        try:
            pressed = cb.unpack(query.data)
        except cb.CallbackError as exc:
            logger.warning("refused callback data from user %s: %s", update.effective_user.id, exc)
            await expired(update)
            return
        try:
            await func(update, context, pressed)
        except ShopError as exc:
            logger.info("button %s refused for user %s: %s", pressed.prefix, update.effective_user.id, exc.code)
            await refuse(update, error_text(exc))

    return wrapper


async def say_refusal(update: Update, error: ShopError) -> None:
    """Answer a message the store refused, in words."""
    logger.info("refused for user %s: %s", update.effective_user.id, error.code)
    await reply(update, escape(error_text(error)))


def message_handler(func: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Wrap a message or command callback: a :class:`ShopError` from the store is answered politely."""

    @functools.wraps(func)
    async def wrapper(update: Update, context: ShopContext, *args: object) -> None:
        try:
            await func(update, context, *args)
        except ShopError as exc:
            await say_refusal(update, exc)

    return wrapper
