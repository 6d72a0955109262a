"""Typed text: an answer to the checkout step the shopper is at, otherwise a search."""

from __future__ import annotations

from telegram import Update

from handlers import checkout, search
from handlers.context import ShopContext
from store.services.users import get_step


async def on_text(update: Update, context: ShopContext) -> None:
    """Route typed text by the shopper's stored step."""
    text = update.effective_message.text or ""
    async with context.shop.db.transaction() as session:
        step = await get_step(session, update.effective_user.id)
    if step is not None and step.name in checkout.STEPS:
        await checkout.on_step_text(update, context, step, text)
    else:
        await search.search(update, context, text)
