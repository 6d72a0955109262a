"""Search: any text that is not an answer to a checkout step looks for products."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.callbacks import fit_text
from handlers.common import answer, button_handler, edit, lang, reply
from handlers.context import ShopContext
from handlers.i18n import _
from store.errors import ErrorCode, Expired
from store.services.catalog import list_categories
from store.services.search import SearchResult

PAGE_SIZE = 6
QUERY_MAX_CHARS = 200


async def search(update: Update, context: ShopContext, text: str) -> None:
    """Answer a typed query with the first page of results, or suggestions and categories."""
    if len(text) > QUERY_MAX_CHARS:
        await reply(update, _("That's a long message! Please search with a few words, e.g. <i>red hoodie</i>."))
        return
    # The query travels in the paging buttons, so it is written back with its price first ("under 30 hoodie")
    # and cut to fit their 64 bytes; the first page is searched with it as well, so every page agrees.
    currency = context.shop.options.currency
    query = fit_text(context.shop.search.read(text, currency, lang(update)).canonical(currency),
                     keyboards.SEARCH_QUERY_BYTES)
    if not query:
        await reply(update, _("Type a few letters or words of what you're looking for, e.g. <i>headphones</i>."))
        return
    await reply(update, *await _answer(update, context, query, plain=False))


async def _answer(update: Update, context: ShopContext, query: str, *, plain: bool,
                  page: int | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """The first page of results (or a ``page`` of them, which must exist), or what finding nothing says."""
    shop = context.shop
    async with shop.db.read() as session:
        result = await shop.search.search(session, query, currency=shop.options.currency, language=lang(update),
                                          filters=not plain)
        if result.product_ids or page is not None:
            return await _page(context, session, result, page or 0, lang(update), query, plain)
        words = fit_text(result.words, keyboards.SEARCH_QUERY_BYTES) if result.filtered else None
        if result.filtered:
            text = render.no_filtered_results(result.words, result.price, result.category, result.options,
                                              shop.options.currency, lang(update))
        else:
            text = render.no_results(result.query, result.suggestions)
        return text, keyboards.no_results(await list_categories(session), words)


async def _page(context: ShopContext, session: AsyncSession, result: SearchResult, page: int,
                language: str | None, query: str, plain: bool) -> tuple[str, InlineKeyboardMarkup]:
    """Text and keyboard of one page of results."""
    ids = result.product_ids
    pages = -(-len(ids) // PAGE_SIZE)
    if page >= pages:
        raise Expired(ErrorCode.SEARCH_RESULTS_CHANGED)
    start = page * PAGE_SIZE
    wanted = list(ids[start:start + PAGE_SIZE])
    found = await context.shop.search.products(session, wanted, now=context.shop.clock())
    products = [found[i] for i in wanted if i in found]
    currency = context.shop.options.currency
    # With a price, the head shows the words and the price apart ("“hoodie” under $30.00"); else what was typed.
    shown = result.words if result.price is not None else result.query
    text = render.search_results(shown, products, start, len(ids), currency, language, context.shop.clock(),
                                 context.shop.search.ratings, price=result.price, category=result.category,
                                 options=result.options)
    words = fit_text(result.words, keyboards.SEARCH_QUERY_BYTES) if result.filtered else None
    return text, keyboards.search_page(products, start, page, pages, query, plain=plain, options=result.variants,
                                       words=words)


@button_handler
async def on_search_page(update: Update, context: ShopContext, pressed: cb.SearchPage) -> None:
    """Turn a page of search results, edited in place."""
    found = await _answer(update, context, pressed.query, plain=False, page=pressed.page)
    await answer(update.callback_query)
    await edit(update.callback_query, *found)


@button_handler
async def on_search_plain(update: Update, context: ShopContext, pressed: cb.SearchPlain) -> None:
    """Search the words again without the filters they stated (price, options, category), as a new message
    on the first page, edited in place on the others."""
    if pressed.page == 0:
        found = await _answer(update, context, pressed.query, plain=True)
        await answer(update.callback_query)
        await reply(update, *found)
        return
    found = await _answer(update, context, pressed.query, plain=True, page=pressed.page)
    await answer(update.callback_query)
    await edit(update.callback_query, *found)
