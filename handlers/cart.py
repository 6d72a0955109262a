"""The cart: one message, edited in place as lines change."""

from __future__ import annotations

from telegram import Update

from handlers import callbacks as cb
from handlers import keyboards, messages, render
from handlers.common import answer, button_handler, edit, lang, reply
from handlers.context import ShopContext
from store.services.cart import change_line, get_cart


async def on_cart_command(update: Update, context: ShopContext) -> None:
    """Show the cart as a new message (/cart)."""
    async with context.shop.db.read() as session:
        cart = await get_cart(session, update.effective_user.id, context.shop.clock())
    await reply(update, render.cart(cart, context.shop.options.currency, lang(update)), keyboards.cart(cart))


@button_handler
async def on_cart_button(update: Update, context: ShopContext, _pressed: cb.ShowCart) -> None:
    """Show the cart as a new message (from a Cart button)."""
    await answer(update.callback_query)
    await on_cart_command(update, context)


@button_handler
async def on_cart_line(update: Update, context: ShopContext, pressed: cb.ChangeCartLine) -> None:
    """Decrease, increase or remove one line, then redraw the cart in place."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        change = await change_line(session, update.effective_user.id, pressed.line_id, pressed.action,
                                   context.shop.clock())
    await answer(query, messages.cart_change(change.done, change.quantity))
    await edit(query, render.cart(change.cart, context.shop.options.currency, lang(update)),
               keyboards.cart(change.cart))
