"""A seller's catalog dialogues in the chat: adding a product step by step, and editing one field.

Adding: title -> description (or skip) -> category (a button) -> photo (or
skip) -> physical or digital (a button) -> variants, one message each, until
"publish". A digital product first says how it is delivered (a button): a
file (the next message, a document or a photo), a link or text (the next
message), or codes (added to each variant's pool once published, so its
variants are typed without a stock). Editing: a button names the field (a
variant's price or stock, its file, link or text, its codes, the
description, the creator commission), the next message is its new value, or
the codes to add. Each call checks that the
seller is at the step it answers (locked, see
:func:`store.services.users.at_step`) and what it saves is validated by
:mod:`store.services.seller_catalog`, the same rules as the catalog import.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotFound
from store.services import digital
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView, VariantView
from store.services.users import Step, at_step, clear_step, set_step
from store.states import Delivery, ProductKind


class ProductStep(StrEnum):
    """The steps of adding a product, then those of editing one."""

    TITLE = "product:title"
    DESCRIPTION = "product:description"
    CATEGORY = "product:category"
    PHOTO = "product:photo"
    KIND = "product:kind"
    DELIVERY = "product:delivery"
    FILE = "product:file"
    TEXT = "product:text"
    VARIANTS = "product:variants"
    EDIT_PRICE = "product:price"
    EDIT_STOCK = "product:stock"
    EDIT_DESCRIPTION = "product:describe"
    EDIT_COMMISSION = "product:commission"
    EDIT_TEXT = "product:retext"
    EDIT_FILE = "product:refile"
    EDIT_CODES = "product:codes"


# The edits answered by a typed value.
EDIT_STEPS = (ProductStep.EDIT_PRICE, ProductStep.EDIT_STOCK, ProductStep.EDIT_DESCRIPTION,
              ProductStep.EDIT_COMMISSION, ProductStep.EDIT_TEXT)
# What a digital variant's goods button asks for, by how it is delivered.
GOODS_STEPS = {Delivery.CODE: ProductStep.EDIT_CODES, Delivery.FILE: ProductStep.EDIT_FILE,
               Delivery.TEXT: ProductStep.EDIT_TEXT}


async def begin(session: AsyncSession, user_id: int) -> None:
    """/add_product: start with the title."""
    await set_step(session, user_id, ProductStep.TITLE)


async def submit_title(session: AsyncSession, user_id: int, text: str) -> None:
    """The title: on to the description."""
    await at_step(session, user_id, ProductStep.TITLE, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    await set_step(session, user_id, ProductStep.DESCRIPTION, {"title": catalog.clean_title(text)})


async def submit_description(session: AsyncSession, user_id: int, text: str | None) -> list[tuple[int, str]]:
    """The description (None: skipped): on to the category; returns the categories to choose from."""
    step = await at_step(session, user_id, ProductStep.DESCRIPTION, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    description = "" if text is None else catalog.clean_description(text)
    await set_step(session, user_id, ProductStep.CATEGORY, {**step.data, "description": description})
    return await catalog.list_category_choices(session)


async def choose_category(session: AsyncSession, user_id: int, category_id: int) -> str:
    """The category (a button): on to the photo; returns the category's name."""
    step = await at_step(session, user_id, ProductStep.CATEGORY, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    names = dict(await catalog.list_category_choices(session))
    if category_id not in names:
        raise NotFound(ErrorCode.CATEGORY_GONE)
    await set_step(session, user_id, ProductStep.PHOTO, {**step.data, "category_id": category_id})
    return names[category_id]


async def submit_photo(session: AsyncSession, user_id: int, file_id: str | None) -> None:
    """The photo's Telegram file id (None: skipped): on to physical or digital."""
    step = await at_step(session, user_id, ProductStep.PHOTO, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    await set_step(session, user_id, ProductStep.KIND, {**step.data, "photo": file_id})


async def choose_kind(session: AsyncSession, user_id: int, kind: str) -> ProductKind:
    """Physical (a button): on to the variants; digital: on to how it is delivered."""
    step = await at_step(session, user_id, ProductStep.KIND, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    kind = digital.clean_kind(kind)
    following = ProductStep.VARIANTS if kind == ProductKind.PHYSICAL else ProductStep.DELIVERY
    await set_step(session, user_id, following, {**step.data, "kind": kind})
    return kind


async def choose_delivery(session: AsyncSession, user_id: int, delivery: str) -> Delivery:
    """How the digital product is delivered (a button): a file or a link or text is asked for next; a pool of
    codes is filled once published, so on to the variants."""
    step = await at_step(session, user_id, ProductStep.DELIVERY, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    delivery = digital.clean_delivery(delivery)
    following = {Delivery.FILE: ProductStep.FILE, Delivery.TEXT: ProductStep.TEXT,
                 Delivery.CODE: ProductStep.VARIANTS}[delivery]
    await set_step(session, user_id, following, {**step.data, "delivery": delivery})
    return delivery


async def submit_file(session: AsyncSession, user_id: int, file_id: str, size: int | None,
                      content_type: str) -> None:
    """The file buyers get (its Telegram file id and size, a document or a photo): on to the variants."""
    step = await at_step(session, user_id, ProductStep.FILE, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    digital.check_file_size(size, content_type)
    content, content_type = catalog.clean_file(file_id, content_type)
    await set_step(session, user_id, ProductStep.VARIANTS,
                   {**step.data, "content": content, "content_type": content_type})


async def submit_text(session: AsyncSession, user_id: int, text: str) -> None:
    """The link or text buyers get: on to the variants."""
    step = await at_step(session, user_id, ProductStep.TEXT, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    await set_step(session, user_id, ProductStep.VARIANTS, {**step.data, "content": digital.clean_text(text)})


def _variants(data: dict) -> list[catalog.VariantInput]:
    """The variants typed so far, each delivering what the product does."""
    return [catalog.VariantInput(label, price, stock, delivery=data.get("delivery"), content=data.get("content"),
                                 content_type=data.get("content_type"))
            for label, price, stock in data.get("variants", [])]


async def add_variant(session: AsyncSession, user_id: int, text: str, currency: str,
                      language_code: str | None = None) -> list[catalog.VariantInput]:
    """One typed variant ("M / Black; 19.99; 10", the price as the seller's language writes it; sold as codes,
    "Standard; 9.99"); returns the variants so far."""
    step = await at_step(session, user_id, ProductStep.VARIANTS, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    if step.data.get("delivery") == Delivery.CODE:
        variant = catalog.parse_code_variant(text, currency, language_code)
    else:
        variant = catalog.parse_variant(text, currency, language_code)
    variants = [*step.data.get("variants", []), [variant.label, variant.price, variant.stock]]
    if len(variants) > catalog.VARIANTS_MAX:
        raise InvalidInput(ErrorCode.VARIANT_COUNT, max=catalog.VARIANTS_MAX)
    data = {**step.data, "variants": variants}
    await set_step(session, user_id, ProductStep.VARIANTS, data)
    return _variants(data)


async def publish(session: AsyncSession, user_id: int, seller_id: int) -> ProductView:
    """Publish the new product with the variants typed so far; the dialogue ends."""
    step = await at_step(session, user_id, ProductStep.VARIANTS, over=ErrorCode.VARIANT_NEEDED)
    data = step.data
    if not data.get("variants"):
        raise InvalidInput(ErrorCode.VARIANT_NEEDED)
    product = await catalog.create_product(
        session, seller_id, title=data["title"], description=data["description"],
        category_id=data["category_id"], photo=data.get("photo"), variants=_variants(data),
        kind=data.get("kind", ProductKind.PHYSICAL))
    await clear_step(session, user_id)
    return product


async def ask_edit(session: AsyncSession, user_id: int, seller_id: int, step: ProductStep, product_id: int,
                   variant_id: int | None = None) -> ProductView:
    """An edit button: the seller's product (and variant) must exist; the next message is the new value."""
    product = await catalog.seller_product(session, seller_id, product_id)
    variant = product.variant(variant_id) if variant_id is not None else None
    if variant_id is not None and variant is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    if step == ProductStep.EDIT_STOCK and variant is not None and variant.delivery == Delivery.CODE:
        raise InvalidInput(ErrorCode.STOCK_IS_CODES)
    data = {"product_id": product_id} if variant_id is None else {"product_id": product_id, "variant_id": variant_id}
    await set_step(session, user_id, step, data)
    return product


async def ask_goods(session: AsyncSession, user_id: int, seller_id: int, product_id: int,
                    variant_id: int) -> tuple[ProductView, VariantView]:
    """A digital variant's goods button: the next message is, by how it is delivered, codes to add to its pool,
    its new file, or its new link or text."""
    product = await catalog.seller_product(session, seller_id, product_id)
    variant = product.variant(variant_id)
    if variant is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    if variant.delivery not in GOODS_STEPS:
        raise InvalidInput(ErrorCode.DELIVERY_MISMATCH)
    await set_step(session, user_id, GOODS_STEPS[variant.delivery], {"product_id": product_id,
                                                                     "variant_id": variant_id})
    return product, variant


async def submit_edit(session: AsyncSession, user_id: int, seller_id: int, text: str, currency: str,
                      language_code: str | None = None) -> ProductView:
    """The new value for the field being edited (a price as the seller's language writes it): saved, and the
    dialogue ends."""
    step: Step = await at_step(session, user_id, *EDIT_STEPS, over=ErrorCode.EDIT_STEP_OVER)
    product_id = step.data["product_id"]
    if step.name == ProductStep.EDIT_PRICE:
        product = await catalog.update_variant(session, seller_id, product_id, step.data["variant_id"],
                                               price=catalog.parse_price(text, currency, language_code))
    elif step.name == ProductStep.EDIT_STOCK:
        product = await catalog.update_variant(session, seller_id, product_id, step.data["variant_id"],
                                               stock=catalog.parse_stock(text))
    elif step.name == ProductStep.EDIT_COMMISSION:
        product = await catalog.set_commission(session, seller_id, product_id, catalog.parse_commission(text))
    elif step.name == ProductStep.EDIT_TEXT:
        product = await catalog.replace_text(session, seller_id, product_id, step.data["variant_id"], text)
    else:
        product = await catalog.update_description(session, seller_id, product_id, text)
    await clear_step(session, user_id)
    return product


async def submit_codes(session: AsyncSession, user_id: int, seller_id: int,
                       text: str) -> tuple[ProductView, digital.CodesAdded]:
    """Codes to add to the pool being filled (pasted, or the text of an uploaded file); the dialogue ends."""
    step = await at_step(session, user_id, ProductStep.EDIT_CODES, over=ErrorCode.EDIT_STEP_OVER)
    product, added = await catalog.add_variant_codes(session, seller_id, step.data["product_id"],
                                                     step.data["variant_id"], text)
    await clear_step(session, user_id)
    return product, added


async def submit_new_file(session: AsyncSession, user_id: int, seller_id: int, file_id: str, size: int | None,
                          content_type: str) -> ProductView:
    """The new file of the variant being edited (a document or a photo); the dialogue ends."""
    step = await at_step(session, user_id, ProductStep.EDIT_FILE, over=ErrorCode.EDIT_STEP_OVER)
    digital.check_file_size(size, content_type)
    product = await catalog.replace_file(session, seller_id, step.data["product_id"], step.data["variant_id"],
                                         file_id, content_type)
    await clear_step(session, user_id)
    return product
