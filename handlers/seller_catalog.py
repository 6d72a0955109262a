"""A seller's catalog in the chat: add a product step by step, edit prices, stock and text, pause, remove;
for digital goods, the file, codes or link buyers get.

What each step takes is :data:`FLOW`, at the end; the steps and their order
are :mod:`store.services.catalog_flow`'s. What a digital variant delivers is
never said back: the seller reads how it is delivered and, for codes, how
many are left.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from html import escape

from babel.numbers import format_decimal
from telegram import Document, InlineKeyboardMarkup, PhotoSize, Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers import reviews as review_chat
from handlers.common import answer, button_handler, edit, lang, message_handler, reply, show
from handlers.context import ShopContext
from handlers.flows import SKIP, Flow, OnStep
from handlers.i18n import N_, Labels, _, current, ngettext
from handlers.messages import PRODUCT_STATUS
from store.errors import ErrorCode, NotAllowed
from store.models import Seller
from store.money import locale_for
from store.services import catalog_flow as flow
from store.services import digital
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView
from store.services.catalog_flow import ProductStep
from store.services.digital import CodesAdded
from store.services.sellers import seller_of_user
from store.services.users import Step, clear_step
from store.states import Delivery, ProductKind, ProductStatus

PRODUCTS_PAGE = 8
ASK_PHOTO = N_("Send a photo (as a picture), or /skip.")
PICK_KIND = N_("Please pick Physical or Digital with the buttons above.")
PICK_DELIVERY = N_("Please pick how buyers get it with the buttons above: a file, codes, or a link or text.")
ASK_FILE = N_("Send the file buyers get as a file (📎 → File), or as a photo.")
ASK_TEXT = N_("Send the link or text buyers get, as a message.")
ASK_NEW_FILE = N_("Send the new file as a file (📎 → File), or as a photo.")
ASK_NEW_TEXT = N_("Send the new link or text as a message.")
ASK_CODES = N_("Send the codes as a message, one per line, or as a .txt file.")
# The step a variant's edit button asks for.
EDIT_FIELD = {cb.VariantField.PRICE: ProductStep.EDIT_PRICE, cb.VariantField.STOCK: ProductStep.EDIT_STOCK}
# Translators: short alerts after a product's Resume, Pause or Remove button.
STATUS_DONE = Labels({ProductStatus.ACTIVE: N_("On sale again."), ProductStatus.PAUSED: N_("Paused."),
                      ProductStatus.REMOVED: N_("Removed.")})


async def approved_shop(context: ShopContext, user_id: int) -> Seller:
    """The approved shop of the user, or NotAllowed."""
    async with context.shop.db.read() as session:
        shop = await seller_of_user(session, user_id)
    if shop is None:
        raise NotAllowed(ErrorCode.NOT_A_SELLER)
    return shop


def _product_admin(product: ProductView, currency: str, language: str | None) -> str:
    """A product as its seller manages it: state, variants with price and stock (a digital one's delivery, never
    what it delivers)."""
    state = PRODUCT_STATUS[product.status]
    lines = [f"🏷 <b>{escape(product.title)}</b> — {state}", f"{escape(product.category_name)}"]
    if product.kind == ProductKind.DIGITAL:
        lines.append(_("⚡ Digital: sent in the chat once paid"))
    for variant in product.variants:
        # Translators: what a product's only variant (one without options) is called in its seller's list.
        label = escape(variant.label) if variant.label else _("Price")
        fields = {"label": label, "sku": escape(variant.sku), "stock": variant.stock,
                  "price": render.money(variant.price, currency, language)}
        if variant.delivery == Delivery.CODE:
            # Translators: a digital variant sold as codes in its seller's list: {label} its option, {sku} its stock
            # code, {price} its price, {count} how many codes are left to sell.
            lines.append(ngettext("• {label} [{sku}]: {price} · 🔑 {count} code left",
                                  "• {label} [{sku}]: {price} · 🔑 {count} codes left", variant.stock).format(
                count=_count(variant.stock), **fields))
        elif variant.delivery == Delivery.FILE:
            # Translators: a digital variant delivered as a file, in its seller's list: {label} its option, {sku} its
            # stock code, {price} its price, {stock} how many can be sold (a figure, like a label: "stock: 10").
            lines.append(_("• {label} [{sku}]: {price} · stock {stock} · 📎 file").format(**fields))
        elif variant.delivery == Delivery.TEXT:
            # Translators: a digital variant delivered as a link or text, in its seller's list: {label} its option,
            # {sku} its stock code, {price} its price, {stock} how many can be sold (a figure: "stock: 10").
            lines.append(_("• {label} [{sku}]: {price} · stock {stock} · 🔗 link or text").format(**fields))
        else:
            # Translators: a variant in its seller's list: {label} its option (e.g. "M / Black"), {sku} its stock
            # code, {price} its price, {stock} how many are in stock (a figure, like a label: "stock: 10").
            lines.append(_("• {label} [{sku}]: {price} · stock {stock}").format(**fields))
    # Translators: {percent} is a percentage, e.g. "12.5%".
    lines.append(_("Creator commission: {percent}").format(percent=render.percent(product.commission_bp)))
    if product.description:
        lines.append(f"\n{escape(product.description[:300])}")
    return "\n".join(lines)


def _keyboard(product: ProductView) -> InlineKeyboardMarkup:
    """A product's edit buttons (a digital one's with its goods)."""
    if product.kind == ProductKind.DIGITAL:
        return keyboards.manage_digital_product(product)
    return keyboards.manage_product(product)


def _count(number: int) -> str:
    """A count the language's way (1,000 or 1.000)."""
    return format_decimal(number, locale=locale_for(current()))


# --- adding a product --------------------------------------------------------------------------


@message_handler
async def on_add_product(update: Update, context: ShopContext) -> None:
    """/add_product: start with the title."""
    await approved_shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        await flow.begin(session, update.effective_user.id)
    await reply(update, _("➕ <b>New product</b> (1/6)\nWhat is its title? e.g. <i>Linen Shirt</i>\n"
                          "/cancel to stop."))


def sellers_only(answer_step: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A step of this flow is for approved sellers: anyone else's dialogue ends there, politely."""

    @functools.wraps(answer_step)
    async def run(update: Update, context: ShopContext, step: Step, sent: object) -> None:
        try:
            shop = await approved_shop(context, update.effective_user.id)
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
    await reply(update, _("(2/6) A short description for shoppers? Send it, or /skip."))


@sellers_only
async def on_description(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The description, or /skip: ask for the category."""
    async with context.shop.db.transaction() as session:
        choices = await flow.submit_description(session, update.effective_user.id,
                                                None if text.strip() == SKIP else text)
    await reply(update, _("(3/6) Which category?"), keyboards.categories_to_file(choices))


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
    await edit(query, _("(3/6) Category: <b>{name}</b> ✓").format(name=escape(name)))
    await reply(update, _("(4/6) Send a photo of the product (as a picture), or /skip."))


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
    await reply(update, _("(5/6) Is it a physical product, shipped to the buyer, or a digital one (a file, codes or "
                          "a link) sent in the chat once paid?"), keyboards.product_kinds())


def _ask_variants() -> str:
    """The variants step's question (a product whose stock is typed)."""
    # Translators: keep the examples in <code> as they are (the seller types them so; the decimal point is a dot).
    return _("(6/6) Now the variants, one message each: <i>option; price; stock</i>, e.g.\n"
             "<code>M / Black; 19.99; 10</code>\nFor a product without options: <code>19.99; 10</code>")


def _ask_code_variants() -> str:
    """The variants step's question for a product sold as codes (no stock typed: it is the codes added)."""
    # Translators: keep the examples in <code> as they are (the seller types them so; the decimal point is a dot).
    return _("(6/6) Now the variants, one message each: <i>option; price</i>, e.g.\n"
             "<code>Standard license; 9.99</code>\nFor a product without options: <code>9.99</code>\n"
             "No stock to type: it is the number of codes left. You add the codes once the product is published.")


async def on_text_at_kind(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Typing where the Physical or Digital button is wanted."""
    await reply(update, _(PICK_KIND))


@button_handler
async def on_kind(update: Update, context: ShopContext, pressed: cb.ChooseProductKind) -> None:
    """Physical: ask for the variants; digital: ask how buyers get it."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        kind = await flow.choose_kind(session, update.effective_user.id, pressed.kind)
    await answer(query)
    if kind == ProductKind.PHYSICAL:
        await edit(query, _("(5/6) Physical: shipped to the buyer ✓"))
        await reply(update, _ask_variants())
        return
    await edit(query, _("(5/6) Digital: sent in the chat once paid ✓"))
    await reply(update, _("⚡ How do buyers get it once they have paid?\n"
                          "📎 <b>File</b>: a document or a photo you send me now.\n"
                          "🔑 <b>Codes</b>: one code (a license key, a gift code) per unit, from a list you add "
                          "once the product is published.\n"
                          "🔗 <b>Link or text</b>: the same for every buyer, which you type now."),
                keyboards.deliveries())


async def on_text_at_delivery(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Typing where a delivery button is wanted."""
    await reply(update, _(PICK_DELIVERY))


@button_handler
async def on_delivery(update: Update, context: ShopContext, pressed: cb.ChooseDelivery) -> None:
    """A file or a link or text: ask for it; codes: ask for the variants (the codes come once published)."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        delivery = await flow.choose_delivery(session, update.effective_user.id, pressed.delivery)
    await answer(query)
    if delivery == Delivery.FILE:
        await edit(query, _("⚡ Buyers get a file ✓"))
        # Translators: {file_mb} and {photo_mb} are sizes in megabytes.
        await reply(update, _("📎 Send the file buyers get: a document (📎 → File, up to {file_mb} MB), or a photo "
                              "(up to {photo_mb} MB).").format(file_mb=digital.FILE_MAX_BYTES // 2**20,
                                                               photo_mb=digital.PHOTO_MAX_BYTES // 2**20))
    elif delivery == Delivery.TEXT:
        await edit(query, _("⚡ Buyers get a link or text ✓"))
        # Translators: {max} is a number of characters.
        await reply(update, _("🔗 Send the link or text buyers get once they have paid (up to {max} "
                              "characters).").format(max=_count(digital.TEXT_MAX)))
    else:
        await edit(query, _("⚡ Buyers get a code each ✓"))
        await reply(update, _ask_code_variants())


@sellers_only
async def on_file_document(update: Update, context: ShopContext, shop: Seller, document: Document) -> None:
    """The file buyers get, sent as a file: ask for the variants."""
    await _take_file(update, context, document.file_id, document.file_size, digital.DOCUMENT)


@sellers_only
async def on_file_photo(update: Update, context: ShopContext, shop: Seller, photo: tuple[PhotoSize, ...]) -> None:
    """The file buyers get, sent as a photo: ask for the variants."""
    largest = photo[-1]
    await _take_file(update, context, largest.file_id, largest.file_size, digital.PHOTO)


@sellers_only
async def on_text_at_file(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """Typing where a file is wanted: the step's question again."""
    await reply(update, _(ASK_FILE))


async def _take_file(update: Update, context: ShopContext, file_id: str, size: int | None, content_type: str) -> None:
    async with context.shop.db.transaction() as session:
        await flow.submit_file(session, update.effective_user.id, file_id, size, content_type)
    got = _("📎 Got the file ✓ Buyers get it in their chat with the bot once they have paid.")
    await reply(update, "\n\n".join([got, _ask_variants()]))


@sellers_only
async def on_goods_text(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The link or text buyers get: ask for the variants."""
    if text.strip() == SKIP:
        await reply(update, _(ASK_TEXT))
        return
    async with context.shop.db.transaction() as session:
        await flow.submit_text(session, update.effective_user.id, text)
    await reply(update, "\n\n".join([_("🔗 Got it ✓ Buyers see it in their chat with the bot once they have paid."),
                                      _ask_variants()]))


@sellers_only
async def on_variant(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """One variant typed: list them so far, with Publish."""
    currency = context.shop.options.currency
    async with context.shop.db.transaction() as session:
        variants = await flow.add_variant(session, update.effective_user.id, text, currency, lang(update))
    lines = []
    for v in variants:
        label, price = escape(v.label) or _("(single)"), render.money(v.price, currency, None)
        if v.delivery == Delivery.CODE:
            # Translators: a variant sold as codes typed so far: {label} its option (or "(single)"), {price} its price.
            lines.append(_("• {label} — {price}").format(label=label, price=price))
        else:
            # Translators: a variant typed so far: {label} its option (or "(single)"), {price} its price, {stock} how
            # many are in stock (a figure, like a label: "stock: 10").
            lines.append(_("• {label} — {price} · stock {stock}").format(label=label, price=price, stock=v.stock))
    # Translators: {variants} is the list of variants typed so far, one a line.
    await reply(update, _("Variants so far:\n{variants}\n\nSend another, or publish.").format(
        variants="\n".join(lines)), keyboards.variants_done())


@button_handler
async def on_done(update: Update, context: ShopContext, _pressed: cb.PublishNewProduct) -> None:
    """Publish the new product with the variants typed so far (codes: ask for them next)."""
    query = update.callback_query
    user_id = update.effective_user.id
    shop = await approved_shop(context, user_id)
    async with context.shop.db.transaction() as session:
        product = await flow.publish(session, user_id, shop.id)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await answer(query, _("Published!"))
    await edit(query, _("✅ <b>{title}</b> is on sale now and shows up in search.").format(title=escape(product.title)))
    parts = [_product_admin(product, context.shop.options.currency, lang(update))]
    if any(variant.delivery == Delivery.CODE for variant in product.variants):
        parts.append(_("🔑 Now add its codes with the button below: until then it shows as sold out."))
    await reply(update, "\n\n".join(parts), _keyboard(product))


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
    shop = await approved_shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        products, total = await catalog.seller_products(session, shop.id, page * PRODUCTS_PAGE, PRODUCTS_PAGE)
        score = await context.shop.search.scores.get(session, shop.id, context.shop.clock())
    pages = max(1, -(-total // PRODUCTS_PAGE))
    # Translators: {shop} is the seller's shop name, {count} the number of its products.
    text = (ngettext("🏷 <b>{shop}</b>: {count} product. Tap one to edit it.",
                     "🏷 <b>{shop}</b>: {count} products. Tap one to edit it.", total)
            .format(shop=escape(shop.name), count=total) if total
            else _("You have no products yet: /add_product"))
    if (line := review_chat.score_line(score)) is not None:
        text += "\n" + line  # the seller score as shoppers see it on the shop's cards
    markup = keyboards.my_products(products, min(page, pages - 1), pages)
    await show(update, text, markup)


@button_handler
async def on_manage(update: Update, context: ShopContext, pressed: cb.ManageProduct) -> None:
    """One of the seller's products with its edit buttons."""
    shop = await approved_shop(context, update.effective_user.id)
    async with context.shop.db.read() as session:
        product = await catalog.seller_product(session, shop.id, pressed.product_id)
    await answer(update.callback_query)
    await edit(update.callback_query, _product_admin(product, context.shop.options.currency, lang(update)),
               _keyboard(product))


async def _ask_edit(update: Update, context: ShopContext, step: ProductStep, product_id: int,
                    variant_id: int | None = None) -> ProductView:
    """Put the seller at an edit step for one of their products (the button answered)."""
    shop = await approved_shop(context, update.effective_user.id)
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
                                                                            percent=render.percent(product.commission_bp)))


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
                _keyboard(product))


@button_handler
async def on_manage_goods(update: Update, context: ShopContext, pressed: cb.EditGoods) -> None:
    """Ask for a digital variant's codes to add, its new file, or its new link or text."""
    shop = await approved_shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product, variant = await flow.ask_goods(session, update.effective_user.id, shop.id, pressed.product_id,
                                                pressed.variant_id)
    await answer(update.callback_query)
    name = render.item_name(product.title, variant.label)
    if variant.delivery == Delivery.CODE:
        # Translators: {name} is the product (and its option), {count} how many codes it has left to sell, {max} how
        # many codes one message or file may hold.
        await reply(update, ngettext(
            "🔑 {name} has {count} code left. Send more as a message, one per line (or separated by commas), or as "
            "a .txt file: up to {max} at a time. Codes it has had before are skipped.",
            "🔑 {name} has {count} codes left. Send more as a message, one per line (or separated by commas), or as "
            "a .txt file: up to {max} at a time. Codes it has had before are skipped.", variant.stock).format(
            name=name, count=_count(variant.stock), max=_count(digital.CODES_PER_UPLOAD)))
    elif variant.delivery == Delivery.FILE:
        # Translators: {name} is the product (and its option).
        await reply(update, _("📎 Send the new file of {name}: a document (📎 → File), or a photo. Buyers who ask "
                              "for their goods again get the new one.").format(name=name))
    else:
        # Translators: {name} is the product (and its option).
        await reply(update, _("🔗 Send the new link or text of {name}. Buyers see it in their chat with the bot once "
                              "they have paid.").format(name=name))


@sellers_only
async def on_codes_text(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """Codes pasted in a message: add them to the pool."""
    if text.strip() == SKIP:
        await reply(update, _(ASK_CODES))
        return
    await _add_codes(update, context, shop, text)


@sellers_only
async def on_codes_file(update: Update, context: ShopContext, shop: Seller, document: Document) -> None:
    """Codes sent as a text file: fetched first (no store transaction is open meanwhile), then added."""
    catalog.check_codes_file(document.file_name, document.mime_type, document.file_size)
    file = await document.get_file()
    catalog.check_codes_file(document.file_name, document.mime_type, file.file_size)
    text = catalog.codes_text(bytes(await file.download_as_bytearray()))
    await _add_codes(update, context, shop, text)


async def _add_codes(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    async with context.shop.db.transaction() as session:
        product, added = await flow.submit_codes(session, update.effective_user.id, shop.id, text)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await reply(update, "\n\n".join([_codes_added(added),
                                      _product_admin(product, context.shop.options.currency, lang(update))]),
                _keyboard(product))


def _codes_added(added: CodesAdded) -> str:
    """What adding codes did: how many are new, how many the pool had already, how many are left to sell."""
    # Translators: {count} is how many codes were added to a product's pool.
    sentences = [ngettext("🔑 Added {count} code.", "🔑 Added {count} codes.", added.added).format(
        count=_count(added.added))]
    if added.known:
        # Translators: {count} is how many of the codes sent were in the pool already (they are not added twice).
        sentences.append(ngettext("{count} was already in the pool.", "{count} were already in the pool.",
                                  added.known).format(count=_count(added.known)))
    # Translators: {count} is how many codes the pool has left to sell.
    sentences.append(ngettext("{count} code left.", "{count} codes left.", added.available).format(
        count=_count(added.available)))
    return " ".join(sentences)


@sellers_only
async def on_new_file_document(update: Update, context: ShopContext, shop: Seller, document: Document) -> None:
    """A variant's new file, sent as a file."""
    await _replace_file(update, context, shop, document.file_id, document.file_size, digital.DOCUMENT)


@sellers_only
async def on_new_file_photo(update: Update, context: ShopContext, shop: Seller, photo: tuple[PhotoSize, ...]) -> None:
    """A variant's new file, sent as a photo."""
    largest = photo[-1]
    await _replace_file(update, context, shop, largest.file_id, largest.file_size, digital.PHOTO)


@sellers_only
async def on_text_at_new_file(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """Typing where a file is wanted: the step's question again."""
    await reply(update, _(ASK_NEW_FILE))


async def _replace_file(update: Update, context: ShopContext, shop: Seller, file_id: str, size: int | None,
                        content_type: str) -> None:
    async with context.shop.db.transaction() as session:
        product = await flow.submit_new_file(session, update.effective_user.id, shop.id, file_id, size, content_type)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    await reply(update, "\n\n".join([_("📎 New file saved ✓"),
                                      _product_admin(product, context.shop.options.currency, lang(update))]),
                _keyboard(product))


@button_handler
async def on_status(update: Update, context: ShopContext, pressed: cb.SetProductStatus) -> None:
    """Pause, resume or remove a product."""
    shop = await approved_shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        product = await catalog.set_status(session, shop.id, pressed.product_id, pressed.status)
    context.shop.db.after_commit(context.shop.search.mark_stale)
    query = update.callback_query
    await answer(query, STATUS_DONE[pressed.status])
    if pressed.status == ProductStatus.REMOVED:
        await edit(query, _("🗑 <b>{title}</b> was removed from the shop.").format(title=escape(product.title)))
    else:
        await edit(query, _product_admin(product, context.shop.options.currency, lang(update)),
                   _keyboard(product))


# What each step of adding or editing a product takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="catalog",
    steps={
        ProductStep.TITLE: OnStep(text=on_title),
        ProductStep.DESCRIPTION: OnStep(text=on_description),
        ProductStep.CATEGORY: OnStep(text=on_text_at_category, buttons={cb.FileNewProduct: on_category}),
        ProductStep.PHOTO: OnStep(text=on_text_at_photo, photo=on_photo, hint=ASK_PHOTO),
        ProductStep.KIND: OnStep(text=on_text_at_kind, buttons={cb.ChooseProductKind: on_kind}, hint=PICK_KIND),
        ProductStep.DELIVERY: OnStep(text=on_text_at_delivery, buttons={cb.ChooseDelivery: on_delivery},
                                     hint=PICK_DELIVERY),
        ProductStep.FILE: OnStep(text=on_text_at_file, photo=on_file_photo, document=on_file_document, hint=ASK_FILE),
        ProductStep.TEXT: OnStep(text=on_goods_text, hint=ASK_TEXT),
        ProductStep.VARIANTS: OnStep(text=on_variant, buttons={cb.PublishNewProduct: on_done}),
        **{step: OnStep(text=on_edit) for step in flow.EDIT_STEPS},
        ProductStep.EDIT_TEXT: OnStep(text=on_edit, hint=ASK_NEW_TEXT),
        ProductStep.EDIT_FILE: OnStep(text=on_text_at_new_file, photo=on_new_file_photo,
                                      document=on_new_file_document, hint=ASK_NEW_FILE),
        ProductStep.EDIT_CODES: OnStep(text=on_codes_text, document=on_codes_file, hint=ASK_CODES),
    },
)
