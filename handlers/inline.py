"""Inline mode: ``@<bot> words`` in any chat offers matching products to share, each with a Buy deep link.

An empty query and a query that finds nothing both answer no results and an
"Open the shop" button above the (empty) list, which starts the bot with
``SHOP_START``. Pages hold ``PAGE_SIZE`` products; ``next_offset`` is the index
of the next one in the ranked ids, as a decimal string ("" after the last).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.helpers import create_deep_linked_url

from handlers import render
from handlers.common import lang
from handlers.context import ShopContext
from handlers.i18n import N_, _
from handlers.start import SHOP_START
from store.services.catalog import ProductView
from store.services.creators import creator_of_user
from store.services.links import product_payload

PAGE_SIZE = 20
QUERY_MAX_CHARS = 200
SHORT_DESCRIPTION = 160
# Short, because prices and stock change; personal, because the links carry the sharer's creator code.
CACHE_SECONDS = 30

# Translators: a button above inline results that opens a chat with the bot; keep it short.
SHOP_BUTTON = N_("Open the shop")
# Translators: a button under a shared product, keep it short.
BUY_BUTTON = N_("🛒 Buy")


def _offset(raw: str) -> int:
    """The page start Telegram echoes back from our ``next_offset``; anything else starts over."""
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 7 else 0


def _struck(text: str) -> str:
    """Plain text drawn struck through (a result's description takes no HTML): a combining long stroke
    after each character."""
    return "".join(f"{char}\u0336" for char in text)


def _summary(product: ProductView, currency: str, language: str | None, now: datetime) -> str:
    """One plain line under the title: price (a flash deal's, the usual one struck through, and the time left),
    seller, and whether it is sold out."""
    price = render.price_range(product, currency, language)
    if (deal := render.deal_variant(product)) is not None:
        # Translators: a flash deal in plain text (no HTML): {price} the deal's price, {was} the usual price (drawn
        # struck through), {left} the time left, e.g. "5 h 20 min".
        price = _("⚡ {price} instead of {was}, ends in {left}").format(
            price=render.money(deal.price, currency, language),
            was=_struck(render.money(deal.regular_price or 0, currency, language)),
            left=render.time_left(deal.deal_ends, now))
    if product.stock <= 0:
        # Translators: a line under a product's title in inline results: its price and seller, and that it is
        # sold out (plain text, no HTML).
        return _("{price} · {seller} · sold out").format(price=price, seller=product.seller_name)
    return f"{price} · {product.seller_name}"


def _message(product: ProductView, currency: str, language: str | None, now: datetime) -> str:
    """The HTML message a chosen result posts into the chat."""
    price, seller = render.price_range(product, currency, language), escape(product.seller_name)
    if (deal := render.deal_variant(product)) is not None:
        price = render.deal_price(deal, currency, language, now)
    if product.stock <= 0:
        # Translators: a shared product's price and {seller}, the shop selling it, and that it is sold out.
        byline = _("{price} · by {seller} · sold out").format(price=price, seller=seller)
    else:
        # Translators: a shared product's price and {seller}, the shop selling it.
        byline = _("{price} · by {seller}").format(price=price, seller=seller)
    lines = [f"<b>{escape(product.title)}</b>", byline]
    if product.description:
        text = product.description
        if len(text) > SHORT_DESCRIPTION:
            text = text[: SHORT_DESCRIPTION - 1].rstrip() + "…"
        lines.append(f"\n{escape(text)}")
    return "\n".join(lines)


def _result(product: ProductView, url: str, currency: str, language: str | None,
            now: datetime) -> InlineQueryResultArticle:
    """A product as a shareable inline result with one Buy button."""
    photo = product.photo or ""
    # Only a URL can be a thumbnail: not a seller's upload (a Telegram file_id), nor a drawn demo picture.
    thumbnail = photo if photo.startswith(("https://", "http://")) else None
    return InlineQueryResultArticle(
        id=str(product.id),
        title=product.title,
        description=_summary(product, currency, language, now),
        thumbnail_url=thumbnail,
        input_message_content=InputTextMessageContent(
            _message(product, currency, language, now), parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True)),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(_(BUY_BUTTON), url=url)]]),
    )


async def on_inline_query(update: Update, context: ShopContext) -> None:
    """Answer ``@bot words`` with a page of matching products, linked with the sharer's creator code."""
    inline = update.inline_query
    query = inline.query.strip()[:QUERY_MAX_CHARS]
    start = _offset(inline.offset)
    products: list[ProductView] = []
    more, creator = False, None
    if query:
        async with context.shop.db.read() as session:
            result = await context.shop.search.search(session, query)
            wanted = list(result.product_ids[start:start + PAGE_SIZE])
            more = start + PAGE_SIZE < len(result.product_ids)
            found = await context.shop.search.products(session, wanted, now=context.shop.clock())
            creator = await creator_of_user(session, inline.from_user.id) if found else None
        # A product taken off sale since the index last refreshed is simply left out.
        products = [found[i] for i in wanted if i in found]
    code = creator.code if creator is not None else None
    currency, language, now = context.shop.options.currency, lang(update), context.shop.clock()
    results = [_result(p, create_deep_linked_url(context.bot.username, product_payload(p.id, code)),
                       currency, language, now) for p in products]
    button = None if results or start else InlineQueryResultsButton(_(SHOP_BUTTON), start_parameter=SHOP_START)
    await inline.answer(results, cache_time=CACHE_SECONDS, is_personal=True,
                        next_offset=str(start + PAGE_SIZE) if more else "", button=button)
