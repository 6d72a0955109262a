"""The start menu, help, and browsing by category."""

from __future__ import annotations

from telegram import Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, lang, reply, show
from handlers.context import ShopContext
from handlers.i18n import _
from store.errors import ErrorCode, NotFound
from store.services import sellers
from store.services.cart import cart_count
from store.services.catalog import category_page, list_categories

CATEGORY_PAGE_SIZE = 8
# The payload of a plain "open the shop" link (the inline mode's button uses it).
SHOP_START = "shop"


async def on_start(update: Update, context: ShopContext) -> None:
    """/start: the person is recorded (a first contact: notices to them are then written in their app's
    language), and greeted with the menu."""
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
    await show_start(update, context)


async def show_start(update: Update, context: ShopContext, *, note: bool = True) -> None:
    """Greet with the menu: search hint, categories, cart, orders (``note``: say when the /start link named
    nothing valid)."""
    async with context.shop.db.read() as session:
        count = await cart_count(session, update.effective_user.id)
    name = update.effective_user.first_name
    text = render.welcome(name)
    if note and context.args and context.args[0] != SHOP_START:
        text = _("That link isn't valid any more, so here is the shop's front page.") + "\n\n" + text
    await reply(update, text, keyboards.main_menu(count))


async def on_help(update: Update, context: ShopContext) -> None:
    """Explain how to shop, and to sellers and operators what they can do too."""
    parts = [_(render.HELP)]
    async with context.shop.db.read() as session:
        if await sellers.seller_of_user(session, update.effective_user.id) is not None:
            parts.append(_(render.SELLER_HELP) + "\n" + _(render.COUPONS_HELP))
    if update.effective_user.id in context.shop.options.operator_ids:
        parts.append(_(render.OPERATOR_HELP) + "\n" + _(render.OPERATOR_COUPONS_HELP))
    await reply(update, "\n\n".join(parts))


@button_handler
async def on_menu(update: Update, context: ShopContext, _pressed: cb.Menu) -> None:
    """Show the menu again (from a button)."""
    await answer(update.callback_query)
    await show_start(update, context)


async def show_categories(update: Update, context: ShopContext) -> None:
    """List the categories that have products on sale."""
    async with context.shop.db.read() as session:
        items = await list_categories(session)
    text = _("🗂 <b>Categories</b>\nPick one to browse:") if items else _("The catalog is empty for now.")
    await show(update, text, keyboards.categories(items))


@button_handler
async def on_categories(update: Update, context: ShopContext, _pressed: cb.Categories) -> None:
    """Show the categories (from a button)."""
    await answer(update.callback_query)
    await show_categories(update, context)


@button_handler
async def on_category(update: Update, context: ShopContext, pressed: cb.CategoryPage) -> None:
    """Show one page of a category, edited in place."""
    query = update.callback_query
    category_id, page = pressed.category_id, pressed.page
    async with context.shop.db.read() as session:
        found = await category_page(session, category_id, page * CATEGORY_PAGE_SIZE, CATEGORY_PAGE_SIZE)
    if found is None:
        raise NotFound(ErrorCode.CATEGORY_GONE)
    category, products = found
    pages = max(1, -(-category.product_count // CATEGORY_PAGE_SIZE))
    if page >= pages:
        raise NotFound(ErrorCode.CATEGORY_PAGE_GONE)
    await answer(query)
    start = page * CATEGORY_PAGE_SIZE
    options = context.shop.options
    await edit(query, render.category_page(category.name, products, start, category.product_count,
                                           options.currency, lang(update)),
               keyboards.category_page(products, start, page, pages, category.id))
