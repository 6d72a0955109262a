"""The product card: photo or text, variant choice, stock state and Add to cart."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers import keyboards, render
from handlers.common import button_handler, edit, ensure_user, lang, reply
from handlers.context import ShopContext
from store.errors import Expired, NotFound
from store.services.cart import add_to_cart, cart_count
from store.services.catalog import ProductView, get_product

logger = logging.getLogger(__name__)

GONE = "This product is no longer available."


@button_handler
async def on_product(update: Update, context: ShopContext, product_id: int) -> None:
    """Open a product card as a new message (a photo when the product has one)."""
    query = update.callback_query
    async with context.shop.db.read() as session:
        product = await get_product(session, product_id)
        count = await cart_count(session, update.effective_user.id)
    if product is None:
        raise NotFound(GONE)
    await query.answer()
    await send_card(update, context, product, count)


async def send_card(update: Update, context: ShopContext, product: ProductView, count: int) -> None:
    """Send a product card; fall back to text when Telegram can't fetch the photo."""
    selected = product.default_variant()
    text = render.product_card(product, selected, context.shop.options.currency, lang(update))
    markup = keyboards.product_card(product, selected, count)
    if product.photo:
        try:
            await update.effective_chat.send_photo(product.photo, caption=text, parse_mode=ParseMode.HTML,
                                                   reply_markup=markup)
            return
        except BadRequest as exc:
            logger.warning("photo of product %s could not be sent: %s", product.id, exc.message)
    await reply(update, text, markup)


@button_handler
async def on_variant(update: Update, context: ShopContext, product_id: int, variant_id: int) -> None:
    """Select a variant on a card, edited in place."""
    query = update.callback_query
    async with context.shop.db.read() as session:
        product = await get_product(session, product_id)
        count = await cart_count(session, update.effective_user.id)
    if product is None:
        raise NotFound(GONE)
    selected = product.variant(variant_id)
    if selected is None:
        raise Expired("That option is no longer offered.")
    await query.answer()
    await edit(query, render.product_card(product, selected, context.shop.options.currency, lang(update)),
               keyboards.product_card(product, selected, count))


@button_handler
async def on_add(update: Update, context: ShopContext, variant_id: int) -> None:
    """Put the selected variant in the cart and show the new cart count on the card."""
    query = update.callback_query
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        change = await add_to_cart(session, user_id, variant_id)
        line = next(line for line in change.cart.lines if line.variant_id == variant_id)
        product = await get_product(session, line.product_id)
    await query.answer(f"✓ Added to your cart ({change.cart.count} item{'s' if change.cart.count != 1 else ''}).")
    if product is not None:
        selected = product.variant(variant_id)
        await edit(query, render.product_card(product, selected, context.shop.options.currency, lang(update)),
                   keyboards.product_card(product, selected, change.cart.count))
