"""Typed text and /cancel: answers to the step a person is at, otherwise a search."""

from __future__ import annotations

from datetime import timedelta

from telegram import ReplyKeyboardRemove, Update

from handlers import checkout, search, seller, seller_catalog
from handlers.common import reply
from handlers.context import ShopContext
from store.models import utcnow
from store.services.checkout_flow import is_stale
from store.services.users import clear_step, get_step

# A dialogue left alone this long no longer captures what the person types.
STEP_TTL = timedelta(hours=24)


async def on_text(update: Update, context: ShopContext) -> None:
    """Route typed text by the person's stored step; anything else is a search."""
    text = update.effective_message.text or ""
    user_id = update.effective_user.id
    async with context.shop.db.read() as session:
        step = await get_step(session, user_id)
    # Inactivity is wall-clock time, like the step's own timestamp.
    if step is not None and is_stale(step, utcnow(), STEP_TTL):
        async with context.shop.db.transaction() as session:
            await clear_step(session, user_id)
        step = None
    if step is not None:
        if step.name in checkout.STEPS:
            if await checkout.on_step_text(update, context, step, text):
                return
        elif step.name in seller.STEPS:
            await seller.on_step_text(update, context, step, text)
            return
        elif step.name in seller_catalog.STEPS:
            await seller_catalog.on_step_text(update, context, step, text)
            return
    await search.search(update, context, text)


async def on_cancel(update: Update, context: ShopContext) -> None:
    """/cancel: leave whatever multi-step dialogue the person is in."""
    async with context.shop.db.transaction() as session:
        step = await get_step(session, update.effective_user.id)
        await clear_step(session, update.effective_user.id)
    if step is None:
        text = "There is nothing to cancel. Type what you are looking for, or /start."
    elif step.name in checkout.STEPS:
        text = checkout.LEFT
    else:
        text = "Cancelled. Nothing was changed."
    await reply(update, text, ReplyKeyboardRemove())


async def on_other_message(update: Update, context: ShopContext) -> None:
    """A sticker, voice note, location or unknown command: say what the bot understands here."""
    async with context.shop.db.read() as session:
        step = await get_step(session, update.effective_user.id)
    message = update.effective_message
    if message.text and message.text.startswith("/"):
        text = "I don't know that command. /help lists what I can do."
    elif step is not None and step.name in checkout.TYPED_STEPS:
        text = ("Please type your name and phone number, or tap Share my contact." if step.name == checkout.flow.CONTACT
                else "Please type your shipping address as text.")
    else:
        text = "I can only read text here: type what you are looking for, or /help."
    await reply(update, text)
