"""A seller's catalog in the chat: add a product step by step, edit prices, stock and text, pause, remove."""

from __future__ import annotations

from html import escape

from telegram import Update

from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, lang, message_handler, reply
from handlers.context import ShopContext
from store.errors import Expired, InvalidInput, NotAllowed
from store.models import Seller
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView
from store.services.sellers import seller_of_user
from store.services.users import Step, clear_step, get_step, set_step

TITLE = "product:title"
DESCRIPTION = "product:description"
CATEGORY = "product:category"
PHOTO = "product:photo"
VARIANTS = "product:variants"
EDIT_PRICE = "product:price"
EDIT_STOCK = "product:stock"
EDIT_DESCRIPTION = "product:describe"
EDIT_COMMISSION = "product:commission"
STEPS = (TITLE, DESCRIPTION, CATEGORY, PHOTO, VARIANTS, EDIT_PRICE, EDIT_STOCK, EDIT_DESCRIPTION, EDIT_COMMISSION)

PRODUCTS_PAGE = 8
SKIP = "/skip"


async def _shop(context: ShopContext, user_id: int) -> Seller:
    """The approved shop of the user, or NotAllowed."""
    async with context.shop.db.read() as session:
        shop = await seller_of_user(session, user_id)
    if shop is None:
        raise NotAllowed("This is for sellers. To open a shop, send /sell.")
    return shop


def _product_admin(product: ProductView, currency: str, language: str | None) -> str:
    """A product as its seller manages it: state, variants with price and stock."""
    state = {"active": "on sale", "paused": "⏸ paused (hidden from shoppers)"}.get(product.status, product.status)
    lines = [f"🏷 <b>{escape(product.title)}</b> — {state}", f"{escape(product.category_name)}"]
    for variant in product.variants:
        label = escape(variant.label) if variant.label else "Price"
        lines.append(f"• {label} [{escape(variant.sku)}]: {render.money(variant.price, currency, language)} · "
                     f"stock {variant.stock}")
    lines.append(f"Creator commission: {percent(product.commission_bp)}")
    if product.description:
        lines.append(f"\n{escape(product.description[:300])}")
    return "\n".join(lines)


def percent(basis_points: int) -> str:
    """Basis points as a percentage: 1250 -> "12.5%"."""
    return f"{basis_points / 100:g}%"


async def _refuse(update: Update, exc: NotAllowed) -> None:
    await reply(update, escape(exc.message))


# --- adding a product --------------------------------------------------------------------------


@message_handler
async def on_add_product(update: Update, context: ShopContext) -> None:
    """/add_product: start with the title."""
    await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        await set_step(session, update.effective_user.id, TITLE)
    await reply(update, "➕ <b>New product</b> (1/5)\nWhat is its title? e.g. <i>Linen Shirt</i>\n/cancel to stop.")


async def on_step_text(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Text typed while adding or editing a product."""
    shop_options = context.shop.options
    user_id = update.effective_user.id
    try:
        shop = await _shop(context, user_id)
        if step.name == TITLE:
            data = {"title": catalog.clean_title(text)}
            await _move(context, user_id, DESCRIPTION, data)
            await reply(update, "(2/5) A short description for shoppers? Send it, or /skip.")
        elif step.name == DESCRIPTION:
            data = {**step.data, "description": "" if text.strip() == SKIP else catalog.clean_description(text)}
            async with context.shop.db.transaction() as session:
                await set_step(session, user_id, CATEGORY, data)
                choices = await catalog.list_category_choices(session)
            await reply(update, "(3/5) Which category?", keyboards.categories_to_file(choices))
        elif step.name == CATEGORY:
            await reply(update, "Please pick a category with the buttons above.")
        elif step.name == PHOTO:
            if text.strip() != SKIP:
                await reply(update, "Send a photo (as a picture), or /skip.")
                return
            await _ask_variants(update, context, user_id, {**step.data, "photo": None})
        elif step.name == VARIANTS:
            variant = catalog.parse_variant(text, shop_options.currency)
            variants = [*step.data.get("variants", []), [variant.label, variant.price, variant.stock]]
            if len(variants) > catalog.VARIANTS_MAX:
                raise InvalidInput(f"At most {catalog.VARIANTS_MAX} variants.")
            await _move(context, user_id, VARIANTS, {**step.data, "variants": variants})
            listed = "\n".join(f"• {escape(label) or '(single)'} — {render.money(price, shop_options.currency, None)}"
                               f" · stock {stock}" for label, price, stock in variants)
            await reply(update, f"Variants so far:\n{listed}\n\nSend another, or publish.", keyboards.variants_done())
        elif step.name in (EDIT_PRICE, EDIT_STOCK, EDIT_DESCRIPTION, EDIT_COMMISSION):
            await _apply_edit(update, context, shop, step, text)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
    except NotAllowed as exc:
        async with context.shop.db.transaction() as session:
            await clear_step(session, user_id)
        await _refuse(update, exc)


async def _move(context: ShopContext, user_id: int, name: str, data: dict) -> None:
    async with context.shop.db.transaction() as session:
        await set_step(session, user_id, name, data)


async def _ask_variants(update: Update, context: ShopContext, user_id: int, data: dict) -> None:
    await _move(context, user_id, VARIANTS, data)
    await reply(update, "(5/5) Now the variants, one message each: <i>option; price; stock</i>, e.g.\n"
                        "<code>M / Black; 19.99; 10</code>\nFor a product without options: <code>19.99; 10</code>")


@button_handler
async def on_category(update: Update, context: ShopContext, category_id: int) -> None:
    """The category of the new product was picked: ask for a photo."""
    query = update.callback_query
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        step = await get_step(session, user_id)
        if step is None or step.name != CATEGORY:
            raise Expired("This step is over. Send /add_product to start again.")
        names = dict(await catalog.list_category_choices(session))
        if category_id not in names:
            raise Expired("That category no longer exists.")
        await set_step(session, user_id, PHOTO, {**step.data, "category_id": category_id})
    await answer(query)
    await edit(query, f"(3/5) Category: <b>{escape(names[category_id])}</b> ✓")
    await reply(update, "(4/5) Send a photo of the product (as a picture), or /skip.")


async def on_photo(update: Update, context: ShopContext) -> None:
    """A picture: the new product's photo when at that step, otherwise a polite note."""
    user_id = update.effective_user.id
    async with context.shop.db.read() as session:
        step = await get_step(session, user_id)
    if step is None or step.name != PHOTO:
        await reply(update, "Nice picture! To search, type words; sellers add product photos with /add_product.")
        return
    photo = update.effective_message.photo[-1].file_id  # the largest size
    await _ask_variants(update, context, user_id, {**step.data, "photo": photo})


@button_handler
async def on_done(update: Update, context: ShopContext) -> None:
    """Publish the new product with the variants typed so far."""
    query = update.callback_query
    user_id = update.effective_user.id
    shop = await _shop(context, user_id)
    async with context.shop.db.transaction() as session:
        step = await get_step(session, user_id)
        if step is None or step.name != VARIANTS or not step.data.get("variants"):
            raise Expired("Add at least one variant first (or /add_product to start again).")
        data = step.data
        product = await catalog.create_product(
            session, shop.id, title=data["title"], description=data["description"],
            category_id=data["category_id"], photo=data.get("photo"),
            variants=[catalog.VariantInput(label, price, stock) for label, price, stock in data["variants"]])
        await clear_step(session, user_id)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await answer(query, "Published!")
    await edit(query, f"✅ <b>{escape(product.title)}</b> is on sale now and shows up in search.")
    await reply(update, _product_admin(product, context.shop.options.currency, lang(update)),
                keyboards.manage_product(product))


# --- managing products ------------------------------------------------------------------------


@message_handler
async def on_my_products(update: Update, context: ShopContext) -> None:
    """/my_products: the seller's products."""
    await _show_products(update, context, 0)


@button_handler
async def on_products_page(update: Update, context: ShopContext, page: int) -> None:
    """A page of the seller's products, edited in place."""
    await answer(update.callback_query)
    await _show_products(update, context, page)


async def _show_products(update: Update, context: ShopContext, page: int) -> None:
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        products, total = await catalog.seller_products(session, shop.id, page * PRODUCTS_PAGE, PRODUCTS_PAGE)
    pages = max(1, -(-total // PRODUCTS_PAGE))
    text = (f"🏷 <b>{escape(shop.name)}</b>: {total} products. Tap one to edit it." if total
            else "You have no products yet: /add_product")
    markup = keyboards.my_products(products, min(page, pages - 1), pages)
    if update.callback_query:
        await edit(update.callback_query, text, markup)
    else:
        await reply(update, text, markup)


@button_handler
async def on_manage(update: Update, context: ShopContext, product_id: int) -> None:
    """One of the seller's products with its edit buttons."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        product = await catalog.seller_product(session, shop.id, product_id)
    await answer(update.callback_query)
    await edit(update.callback_query, _product_admin(product, context.shop.options.currency, lang(update)),
               keyboards.manage_product(product))


@button_handler
async def on_manage_variant(update: Update, context: ShopContext, product_id: int, variant_id: int,
                            field: str) -> None:
    """Ask for a variant's new price ("p") or stock ("s")."""
    shop = await _shop(context, update.effective_user.id)
    if field not in ("p", "s"):
        raise Expired(render.EXPIRED_BUTTON)
    async with context.shop.db.transaction() as session:
        product = await catalog.seller_product(session, shop.id, product_id)
        variant = product.variant(variant_id)
        if variant is None:
            raise Expired("That option isn't part of this product any more.")
        await set_step(session, update.effective_user.id, EDIT_PRICE if field == "p" else EDIT_STOCK,
                       {"product_id": product_id, "variant_id": variant_id})
    await answer(update.callback_query)
    name = render.item_name(product.title, variant.label)
    if field == "p":
        await reply(update, f"New price for {name}? Now "
                            f"{render.money(variant.price, context.shop.options.currency, lang(update))}. "
                            "e.g. <i>24.99</i>")
    else:
        await reply(update, f"How many of {name} are in stock now? Now {variant.stock}.")


@button_handler
async def on_manage_commission(update: Update, context: ShopContext, product_id: int) -> None:
    """Ask for the creator commission of a product, as a percentage."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await catalog.seller_product(session, shop.id, product_id)
        await set_step(session, update.effective_user.id, EDIT_COMMISSION, {"product_id": product_id})
    await answer(update.callback_query)
    await reply(update, f"Creators who sell <b>{escape(product.title)}</b> earn {percent(product.commission_bp)} "
                        "of each sale now. Send the new percentage, e.g. <i>12.5</i> (0 to 50).")


@button_handler
async def on_manage_description(update: Update, context: ShopContext, product_id: int) -> None:
    """Ask for a new description."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await catalog.seller_product(session, shop.id, product_id)
        await set_step(session, update.effective_user.id, EDIT_DESCRIPTION, {"product_id": product_id})
    await answer(update.callback_query)
    await reply(update, f"Send the new description of <b>{escape(product.title)}</b>.")


async def _apply_edit(update: Update, context: ShopContext, shop: Seller, step: Step, text: str) -> None:
    product_id = step.data["product_id"]
    currency = context.shop.options.currency
    async with context.shop.db.transaction() as session:
        if step.name == EDIT_PRICE:
            product = await catalog.update_variant(session, shop.id, product_id, step.data["variant_id"],
                                                   price=catalog.parse_price(text, currency))
        elif step.name == EDIT_STOCK:
            product = await catalog.update_variant(session, shop.id, product_id, step.data["variant_id"],
                                                   stock=catalog.parse_stock(text))
        elif step.name == EDIT_COMMISSION:
            product = await catalog.set_commission(session, shop.id, product_id, catalog.parse_commission(text))
        else:
            product = await catalog.update_description(session, shop.id, product_id, text)
        await clear_step(session, update.effective_user.id)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await reply(update, "Saved ✓\n\n" + _product_admin(product, currency, lang(update)),
                keyboards.manage_product(product))


@button_handler
async def on_status(update: Update, context: ShopContext, product_id: int, status: str) -> None:
    """Pause, resume or remove a product."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await catalog.set_status(session, shop.id, product_id, status)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    query = update.callback_query
    await answer(query, {"active": "On sale again.", "paused": "Paused.", "removed": "Removed."}.get(status, "Done."))
    if status == catalog.REMOVED:
        await edit(query, f"🗑 <b>{escape(product.title)}</b> was removed from the shop.")
    else:
        await edit(query, _product_admin(product, context.shop.options.currency, lang(update)),
                   keyboards.manage_product(product))
