"""The product card: photo or text, variant choice, stock state and Add to cart."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers import callbacks as cb
from handlers import keyboards, messages, photos, render
from handlers import reviews as review_chat
from handlers.common import answer, button_handler, chat_of, edit, ensure_user, lang, reply
from handlers.context import ShopContext
from handlers.fit import CAPTION_LIMIT, fit
from store.demo_photos import UnknownDemoPhoto
from store.errors import ErrorCode, Expired, NotFound
from store.services.cart import add_to_cart
from store.services.catalog import ProductView, VariantView
from store.services.creators import CardViewer, attributed_creator, card_viewer

logger = logging.getLogger(__name__)


def card(product: ProductView, selected: VariantView | None, who: CardViewer, context: ShopContext,
         language: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """Text and keyboard of a product card."""
    options = context.shop.options
    # The rating and the seller score from this process's memory (search refreshes the one, load_card the other).
    rating = context.shop.search.ratings.get(product.id)
    score = review_chat.score_line(context.shop.search.scores.peek(product.seller_id))
    return (render.product_card(product, selected, options.currency, language, options.low_stock_threshold,
                                context.shop.clock(), rating, score),
            card_keyboard(product, selected, who, context))


def card_keyboard(product: ProductView, selected: VariantView | None, who: CardViewer,
                  context: ShopContext) -> InlineKeyboardMarkup:
    """The keyboard of a product card for the person looking."""
    rating = context.shop.search.ratings.get(product.id)
    return keyboards.product_card(product, selected, who.cart_count, who.showcased, saved=who.saved,
                                  waiting=who.waiting, reviews=rating.count if rating else 0)


async def load_card(update: Update, context: ShopContext, product_id: int) -> tuple[ProductView, CardViewer]:
    """A product as the search index has it and what the person pressing has of it; NotFound if gone."""
    async with context.shop.db.read() as session:
        product = await context.shop.search.product(session, product_id, now=context.shop.clock())
        who = await card_viewer(session, update.effective_user.id, product_id)
        if product is not None:
            await context.shop.search.scores.get(session, product.seller_id, context.shop.clock())
    if product is None:
        raise NotFound(ErrorCode.PRODUCT_GONE)
    return product, who


@button_handler
async def on_product(update: Update, context: ShopContext, pressed: cb.ShowProduct) -> None:
    """Open a product card as a new message (a photo when the product has one)."""
    product, who = await load_card(update, context, pressed.product_id)
    # A demo picture is drawn (once) before the answer, so the card follows the answer without a pause.
    await photos.prepare(context, product.photo)
    await answer(update.callback_query)
    await send_card(update, context, product, who)


@button_handler
async def on_product_option(update: Update, context: ShopContext, pressed: cb.ShowOption) -> None:
    """Open a product card on the option a search matched (the usual one if that option is gone)."""
    product, who = await load_card(update, context, pressed.product_id)
    await photos.prepare(context, product.photo)
    await answer(update.callback_query)
    await send_card(update, context, product, who, product.variant(pressed.variant_id))


async def send_card(update: Update, context: ShopContext, product: ProductView, who: CardViewer,
                    selected: VariantView | None = None) -> None:
    """Send a product card (on the ``selected`` option, else the usual one); fall back to text when Telegram
    can't fetch the photo (or a demo photo has no picture)."""
    text, markup = card(product, selected or product.default_variant(), who, context, lang(update))
    if product.photo:
        try:
            await photos.send_photo(context, chat_of(update), product.photo, caption=fit(text, CAPTION_LIMIT),
                                    parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except (BadRequest, UnknownDemoPhoto) as exc:
            logger.warning("photo of product %s could not be sent: %s", product.id, exc)
    await reply(update, text, markup)


@button_handler
async def on_variant(update: Update, context: ShopContext, pressed: cb.PickVariant) -> None:
    """Select a variant on a card, edited in place."""
    query = update.callback_query
    product, who = await load_card(update, context, pressed.product_id)
    selected = product.variant(pressed.variant_id)
    if selected is None:
        raise Expired(ErrorCode.OPTION_GONE)
    await answer(query)
    await edit(query, *card(product, selected, who, context, lang(update)))


@button_handler
async def on_add(update: Update, context: ShopContext, pressed: cb.AddToCart) -> None:
    """Put the selected variant in the cart (attributed to the creator of the last link opened)."""
    query = update.callback_query
    variant_id = pressed.variant_id
    user_id = update.effective_user.id
    shop = context.shop
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        creator_id = await attributed_creator(session, user_id, shop.clock(), shop.options.attribution_window)
        change = await add_to_cart(session, user_id, variant_id, creator_id=creator_id,
                                   sold=shop.options.rules.kinds_sold, now=shop.clock())
        line = next(line for line in change.cart.lines if line.variant_id == variant_id)
        product = await shop.search.product(session, line.product_id, now=shop.clock())
        who = await card_viewer(session, user_id, line.product_id)
    await answer(query, messages.added_to_cart(change.cart.count))
    if product is not None:
        await edit(query, *card(product, product.variant(variant_id), who, context, lang(update)))
