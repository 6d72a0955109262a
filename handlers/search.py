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
from store.search import normalize
from store.services.catalog import list_categories
from store.services.search import SearchResult

PAGE_SIZE = 6
QUERY_MAX_CHARS = 200


async def search(update: Update, context: ShopContext, text: str) -> None:
    """Answer a typed query with the first page of results, or suggestions and categories."""
    if len(text) > QUERY_MAX_CHARS:
        await reply(update, _("That's a long message! Please search with a few words, e.g. <i>red hoodie</i>."))
        return
    # The query travels in the paging buttons, so it is cut to fit their 64 bytes.
    query = fit_text(normalize(text), keyboards.SEARCH_QUERY_BYTES)
    if not query:
        await reply(update, _("Type a few letters or words of what you're looking for, e.g. <i>headphones</i>."))
        return
    async with context.shop.db.read() as session:
        result = await context.shop.search.search(session, query)
        if result.product_ids:
            text, markup = await _page(context, session, result, 0, lang(update))
        else:
            text = render.no_results(query, result.suggestions)
            markup = keyboards.no_results(await list_categories(session))
    await reply(update, text, markup)


async def _page(context: ShopContext, session: AsyncSession, result: SearchResult, page: int,
                language: str | None) -> tuple[str, InlineKeyboardMarkup]:
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
    return (render.search_results(result.query, products, start, len(ids), currency, language, context.shop.clock(),
                                  context.shop.search.ratings),
            keyboards.search_page(products, start, page, pages, result.query))


@button_handler
async def on_search_page(update: Update, context: ShopContext, pressed: cb.SearchPage) -> None:
    """Turn a page of search results, edited in place."""
    async with context.shop.db.read() as session:
        result = await context.shop.search.search(session, pressed.query)
        found = await _page(context, session, result, pressed.page, lang(update))
    await answer(update.callback_query)
    await edit(update.callback_query, *found)
