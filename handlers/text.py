"""Typed text and /cancel: answers to the step a person is at, otherwise a search."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from handlers import checkout, search, seller, seller_catalog
from handlers.common import reply
from handlers.context import ShopContext
from store.services.users import clear_step, get_step

FLOWS = (
    (checkout.STEPS, checkout.on_step_text),
    (seller.STEPS, seller.on_step_text),
    (seller_catalog.STEPS, seller_catalog.on_step_text),
)


async def on_text(update: Update, context: ShopContext) -> None:
    """Route typed text by the person's stored step."""
    text = update.effective_message.text or ""
    async with context.shop.db.transaction() as session:
        step = await get_step(session, update.effective_user.id)
    if step is not None:
        for names, handle in FLOWS:
            if step.name in names:
                await handle(update, context, step, text)
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
