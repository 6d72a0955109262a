"""A seller's catalog dialogues in the chat: adding a product step by step, and editing one field.

Adding: title -> description (or skip) -> category (a button) -> photo (or
skip) -> variants, one message each, until "publish". Editing: a button names
the field (a variant's price or stock, the description, the creator
commission), the next message is its new value. Each call checks that the
seller is at the step it answers (locked, see
:func:`store.services.users.at_step`) and what it saves is validated by
:mod:`store.services.seller_catalog`, the same rules as the catalog import.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotFound
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView
from store.services.users import Step, at_step, clear_step, set_step


class ProductStep(StrEnum):
    """The steps of adding a product, then those of editing one."""

    TITLE = "product:title"
    DESCRIPTION = "product:description"
    CATEGORY = "product:category"
    PHOTO = "product:photo"
    VARIANTS = "product:variants"
    EDIT_PRICE = "product:price"
    EDIT_STOCK = "product:stock"
    EDIT_DESCRIPTION = "product:describe"
    EDIT_COMMISSION = "product:commission"


EDIT_STEPS = (ProductStep.EDIT_PRICE, ProductStep.EDIT_STOCK, ProductStep.EDIT_DESCRIPTION,
              ProductStep.EDIT_COMMISSION)


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
    """The photo's Telegram file id (None: skipped): on to the variants."""
    step = await at_step(session, user_id, ProductStep.PHOTO, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    await set_step(session, user_id, ProductStep.VARIANTS, {**step.data, "photo": file_id})


async def add_variant(session: AsyncSession, user_id: int, text: str, currency: str,
                      language_code: str | None = None) -> list[catalog.VariantInput]:
    """One typed variant ("M / Black; 19.99; 10", the price as the seller's language writes it); returns the
    variants so far."""
    step = await at_step(session, user_id, ProductStep.VARIANTS, over=ErrorCode.ADD_PRODUCT_STEP_OVER)
    variant = catalog.parse_variant(text, currency, language_code)
    variants = [*step.data.get("variants", []), [variant.label, variant.price, variant.stock]]
    if len(variants) > catalog.VARIANTS_MAX:
        raise InvalidInput(ErrorCode.VARIANT_COUNT, max=catalog.VARIANTS_MAX)
    await set_step(session, user_id, ProductStep.VARIANTS, {**step.data, "variants": variants})
    return [catalog.VariantInput(label, price, stock) for label, price, stock in variants]


async def publish(session: AsyncSession, user_id: int, seller_id: int) -> ProductView:
    """Publish the new product with the variants typed so far; the dialogue ends."""
    step = await at_step(session, user_id, ProductStep.VARIANTS, over=ErrorCode.VARIANT_NEEDED)
    data = step.data
    if not data.get("variants"):
        raise InvalidInput(ErrorCode.VARIANT_NEEDED)
    product = await catalog.create_product(
        session, seller_id, title=data["title"], description=data["description"],
        category_id=data["category_id"], photo=data.get("photo"),
        variants=[catalog.VariantInput(label, price, stock) for label, price, stock in data["variants"]])
    await clear_step(session, user_id)
    return product


async def ask_edit(session: AsyncSession, user_id: int, seller_id: int, step: ProductStep, product_id: int,
                   variant_id: int | None = None) -> ProductView:
    """An edit button: the seller's product (and variant) must exist; the next message is the new value."""
    product = await catalog.seller_product(session, seller_id, product_id)
    if variant_id is not None and product.variant(variant_id) is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    data = {"product_id": product_id} if variant_id is None else {"product_id": product_id, "variant_id": variant_id}
    await set_step(session, user_id, step, data)
    return product


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
    else:
        product = await catalog.update_description(session, seller_id, product_id, text)
    await clear_step(session, user_id)
    return product
