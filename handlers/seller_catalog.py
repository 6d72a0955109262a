"""A seller's catalog in the chat: add a product step by step, edit prices, stock and text, pause, remove.

What each step takes is :data:`FLOW`, at the end; the steps and their order
are :mod:`store.services.catalog_flow`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from decimal import Decimal
from html import escape

from babel.numbers import format_percent
from telegram import PhotoSize, Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, lang, message_handler, reply, show
from handlers.context import ShopContext
from handlers.flows import SKIP, Flow, OnStep
from handlers.i18n import N_, Labels, _, current, ngettext
from handlers.messages import PRODUCT_STATUS
from store.errors import ErrorCode, NotAllowed
from store.models import Seller
from store.money import locale_for
from store.services import catalog_flow as flow
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView
from store.services.catalog_flow import ProductStep
from store.services.sellers import seller_of_user
from store.services.users import Step, clear_step
from store.states import ProductStatus

PRODUCTS_PAGE = 8
ASK_PHOTO = N_("Send a photo (as a picture), or /skip.")
# The step a variant's edit button asks for.
EDIT_FIELD = {cb.VariantField.PRICE: ProductStep.EDIT_PRICE, cb.VariantField.STOCK: ProductStep.EDIT_STOCK}
# Translators: short alerts after a product's Resume, Pause or Remove button.
STATUS_DONE = Labels({ProductStatus.ACTIVE: N_("On sale again."), ProductStatus.PAUSED: N_("Paused."),
                      ProductStatus.REMOVED: N_("Removed.")})


async def _shop(context: ShopContext, user_id: int) -> Seller:
    """The approved shop of the user, or NotAllowed."""
    async with context.shop.db.read() as session:
        shop = await seller_of_user(session, user_id)
    if shop is None:
        raise NotAllowed(ErrorCode.NOT_A_SELLER)
    return shop


def _product_admin(product: ProductView, currency: str, language: str | None) -> str:
    """A product as its seller manages it: state, variants with price and stock."""
    state = PRODUCT_STATUS[product.status]
    lines = [f"🏷 <b>{escape(product.title)}</b> — {state}", f"{escape(product.category_name)}"]
    for variant in product.variants:
        # Translators: what a product's only variant (one without options) is called in its seller's list.
        label = escape(variant.label) if variant.label else _("Price")
        # Translators: a variant in its seller's list: {label} its option (e.g. "M / Black"), {sku} its stock code,
        # {price} its price, {stock} how many are in stock (a figure, like a label: "stock: 10").
        lines.append(_("• {label} [{sku}]: {price} · stock {stock}").format(
            label=label, sku=escape(variant.sku), price=render.money(variant.price, currency, language),
            stock=variant.stock))
    # Translators: {percent} is a percentage, e.g. "12.5%".
    lines.append(_("Creator commission: {percent}").format(percent=percent(product.commission_bp)))
    if product.description:
        lines.append(f"\n{escape(product.description[:300])}")
    return "\n".join(lines)


def percent(basis_points: int) -> str:
    """Basis points as a percentage, the language's way: 1250 -> "12.5%" ("12,5%" in Spanish)."""
    return format_percent(Decimal(basis_points).scaleb(-4), "#,##0.##%", locale=locale_for(current()))


# --- adding a product --------------------------------------------------------------------------


@message_handler
async def on_add_product(update: Update, context: ShopContext) -> None:
    """/add_product: start with the title."""
    await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        await flow.begin(session, update.effective_user.id)
    await reply(update, _("➕ <b>New product</b> (1/5)\nWhat is its title? e.g. <i>Linen Shirt</i>\n"
                          "/cancel to stop."))


def sellers_only(answer_step: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A step of this flow is for approved sellers: anyone else's dialogue ends there, politely."""

    @functools.wraps(answer_step)
    async def run(update: Update, context: ShopContext, step: Step, sent: object) -> None:
        try:
            shop = await _shop(context, update.effective_user.id)
        except NotAllowed:
            async with context.shop.db.transaction() as session:
                await clear_step(session, update.effective_user.id)
            raise
        await answer_step(update, context, shop, sent)

    return run


@sellers_only
async def on_title(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The new product's title: ask for a description."""
    async with context.shop.db.transaction() as session:
        await flow.submit_title(session, update.effective_user.id, text)
    await reply(update, _("(2/5) A short description for shoppers? Send it, or /skip."))


@sellers_only
async def on_description(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The description, or /skip: ask for the category."""
    async with context.shop.db.transaction() as session:
        choices = await flow.submit_description(session, update.effective_user.id,
                                                None if text.strip() == SKIP else text)
    await reply(update, _("(3/5) Which category?"), keyboards.categories_to_file(choices))


async def on_text_at_category(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Typing where a category button is wanted."""
    await reply(update, _("Please pick a category with the buttons above."))


@button_handler
async def on_category(update: Update, context: ShopContext, pressed: cb.FileNewProduct) -> None:
    """The category of the new product was picked: ask for a photo."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        name = await flow.choose_category(session, update.effective_user.id, pressed.category_id)
    await answer(query)
    # Translators: {name} is the category picked.
    await edit(query, _("(3/5) Category: <b>{name}</b> ✓").format(name=escape(name)))
    await reply(update, _("(4/5) Send a photo of the product (as a picture), or /skip."))


@sellers_only
async def on_photo(update: Update, context: ShopContext, shop: Seller, photo: tuple[PhotoSize, ...]) -> None:
    """The new product's photo: ask for the variants."""
    await _take_photo(update, context, photo[-1].file_id)  # the largest size


@sellers_only
async def on_text_at_photo(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """/skip (no photo), or a reminder that a picture is wanted."""
    if text.strip() != SKIP:
        await reply(update, _(ASK_PHOTO))
        return
    await _take_photo(update, context, None)


async def _take_photo(update: Update, context: ShopContext, file_id: str | None) -> None:
    async with context.shop.db.transaction() as session:
        await flow.submit_photo(session, update.effective_user.id, file_id)
    # Translators: keep the examples in <code> as they are (the seller types them so; the decimal point is a dot).
    await reply(update, _("(5/5) Now the variants, one message each: <i>option; price; stock</i>, e.g.\n"
                          "<code>M / Black; 19.99; 10</code>\nFor a product without options: "
                          "<code>19.99; 10</code>"))


@sellers_only
async def on_variant(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """One variant typed: list them so far, with Publish."""
    currency = context.shop.options.currency
    async with context.shop.db.transaction() as session:
        variants = await flow.add_variant(session, update.effective_user.id, text, currency, lang(update))
    # Translators: a variant typed so far: {label} its option (or "(single)"), {price} its price, {stock} how many
    # are in stock (a figure, like a label: "stock: 10").
    listed = "\n".join(_("• {label} — {price} · stock {stock}").format(
        label=escape(v.label) or _("(single)"), price=render.money(v.price, currency, None), stock=v.stock)
        for v in variants)
    # Translators: {variants} is the list of variants typed so far, one a line.
    await reply(update, _("Variants so far:\n{variants}\n\nSend another, or publish.").format(variants=listed),
                keyboards.variants_done())


@button_handler
async def on_done(update: Update, context: ShopContext, _pressed: cb.PublishNewProduct) -> None:
    """Publish the new product with the variants typed so far."""
    query = update.callback_query
    user_id = update.effective_user.id
    shop = await _shop(context, user_id)
    async with context.shop.db.transaction() as session:
        product = await flow.publish(session, user_id, shop.id)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await answer(query, _("Published!"))
    await edit(query, _("✅ <b>{title}</b> is on sale now and shows up in search.").format(title=escape(product.title)))
    await reply(update, _product_admin(product, context.shop.options.currency, lang(update)),
                keyboards.manage_product(product))


# --- managing products ------------------------------------------------------------------------


@message_handler
async def on_my_products(update: Update, context: ShopContext) -> None:
    """/my_products: the seller's products."""
    await _show_products(update, context, 0)


@button_handler
async def on_products_page(update: Update, context: ShopContext, pressed: cb.MyProductsPage) -> None:
    """A page of the seller's products, edited in place."""
    await answer(update.callback_query)
    await _show_products(update, context, pressed.page)


async def _show_products(update: Update, context: ShopContext, page: int) -> None:
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        products, total = await catalog.seller_products(session, shop.id, page * PRODUCTS_PAGE, PRODUCTS_PAGE)
    pages = max(1, -(-total // PRODUCTS_PAGE))
    # Translators: {shop} is the seller's shop name, {count} the number of its products.
    text = (ngettext("🏷 <b>{shop}</b>: {count} product. Tap one to edit it.",
                     "🏷 <b>{shop}</b>: {count} products. Tap one to edit it.", total)
            .format(shop=escape(shop.name), count=total) if total
            else _("You have no products yet: /add_product"))
    markup = keyboards.my_products(products, min(page, pages - 1), pages)
    await show(update, text, markup)


@button_handler
async def on_manage(update: Update, context: ShopContext, pressed: cb.ManageProduct) -> None:
    """One of the seller's products with its edit buttons."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        product = await catalog.seller_product(session, shop.id, pressed.product_id)
    await answer(update.callback_query)
    await edit(update.callback_query, _product_admin(product, context.shop.options.currency, lang(update)),
               keyboards.manage_product(product))


async def _ask_edit(update: Update, context: ShopContext, step: ProductStep, product_id: int,
                    variant_id: int | None = None) -> ProductView:
    """Put the seller at an edit step for one of their products (the button answered)."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await flow.ask_edit(session, update.effective_user.id, shop.id, step, product_id, variant_id)
    await answer(update.callback_query)
    return product


@button_handler
async def on_manage_variant(update: Update, context: ShopContext, pressed: cb.EditVariant) -> None:
    """Ask for a variant's new price or stock."""
    product = await _ask_edit(update, context, EDIT_FIELD[pressed.field], pressed.product_id, pressed.variant_id)
    variant = product.variant(pressed.variant_id)
    name = render.item_name(product.title, variant.label)
    if pressed.field == cb.VariantField.PRICE:
        # Translators: {name} is the product (and its option), {price} its price now; keep the example as it is.
        await reply(update, _("New price for {name}? Now {price}. e.g. <i>24.99</i>").format(
            name=name, price=render.money(variant.price, context.shop.options.currency, lang(update))))
    else:
        # Translators: {name} is the product (and its option), {stock} how many are in stock now (a figure).
        await reply(update, _("How many of {name} are in stock now? Now {stock}.").format(name=name,
                                                                                        stock=variant.stock))


@button_handler
async def on_manage_commission(update: Update, context: ShopContext, pressed: cb.EditCommission) -> None:
    """Ask for the creator commission of a product, as a percentage."""
    product = await _ask_edit(update, context, ProductStep.EDIT_COMMISSION, pressed.product_id)
    # Translators: {title} is the product, {percent} a percentage, e.g. "12.5%"; write the example number as
    # your language does (12.5 and 12,5 are both understood).
    await reply(update, _("Creators who sell <b>{title}</b> earn {percent} of each sale now. Send the new "
                          "percentage, e.g. <i>12.5</i> (0 to 50).").format(title=escape(product.title),
                                                                            percent=percent(product.commission_bp)))


@button_handler
async def on_manage_description(update: Update, context: ShopContext, pressed: cb.EditDescription) -> None:
    """Ask for a new description."""
    product = await _ask_edit(update, context, ProductStep.EDIT_DESCRIPTION, pressed.product_id)
    await reply(update, _("Send the new description of <b>{title}</b>.").format(title=escape(product.title)))


@sellers_only
async def on_edit(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The new value of the field being edited."""
    currency = context.shop.options.currency
    async with context.shop.db.transaction() as session:
        product = await flow.submit_edit(session, update.effective_user.id, shop.id, text, currency, lang(update))
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await reply(update, "\n\n".join([_("Saved ✓"), _product_admin(product, currency, lang(update))]),
                keyboards.manage_product(product))


@button_handler
async def on_status(update: Update, context: ShopContext, pressed: cb.SetProductStatus) -> None:
    """Pause, resume or remove a product."""
    shop = await _shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await catalog.set_status(session, shop.id, pressed.product_id, pressed.status)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    query = update.callback_query
    await answer(query, STATUS_DONE[pressed.status])
    if pressed.status == ProductStatus.REMOVED:
        await edit(query, _("🗑 <b>{title}</b> was removed from the shop.").format(title=escape(product.title)))
    else:
        await edit(query, _product_admin(product, context.shop.options.currency, lang(update)),
                   keyboards.manage_product(product))


# What each step of adding or editing a product takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="catalog",
    steps={
        ProductStep.TITLE: OnStep(text=on_title),
        ProductStep.DESCRIPTION: OnStep(text=on_description),
        ProductStep.CATEGORY: OnStep(text=on_text_at_category, buttons={cb.FileNewProduct: on_category}),
        ProductStep.PHOTO: OnStep(text=on_text_at_photo, photo=on_photo, hint=ASK_PHOTO),
        ProductStep.VARIANTS: OnStep(text=on_variant, buttons={cb.PublishNewProduct: on_done}),
        **{step: OnStep(text=on_edit) for step in flow.EDIT_STEPS},
    },
)
