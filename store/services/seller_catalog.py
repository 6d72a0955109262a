"""A seller's own catalog: adding products with variants, editing prices, stock and text, pausing, removing.

Every change checks that the product belongs to the seller and advances the
catalog version, so every process's search index picks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, InvalidInput, NotFound
from store.models import Category, Product, Variant
from store.money import parse_money
from store.services.catalog import ProductView, to_view, touch_products
from store.states import ProductStatus

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MAX = 1000
LABEL_MAX = 64
STOCK_MAX = 1_000_000
PRICE_MAX = 10**11  # minor units: a billion in a two-decimal currency
VARIANTS_MAX = 20
SKU_MAX = 64


@dataclass(frozen=True, slots=True)
class VariantInput:
    """A variant as a seller typed it, already validated."""

    label: str
    price: int
    stock: int
    sku: str | None = None


def clean_title(text: str) -> str:
    """Validate a product title."""
    title = " ".join(text.split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput(ErrorCode.TITLE_LENGTH, min=TITLE_MIN, max=TITLE_MAX)
    return title


def clean_description(text: str) -> str:
    """Validate a product description (may be empty)."""
    description = text.strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(ErrorCode.DESCRIPTION_TOO_LONG, max=DESCRIPTION_MAX)
    return description


def clean_short_text(text: str, limit: int, field: str) -> str:
    """One line of text with spaces tidied, at most ``limit`` characters (``field`` names it in the refusal)."""
    tidy = " ".join(text.split())
    if len(tidy) > limit:
        raise InvalidInput(ErrorCode.TEXT_TOO_LONG, field=field, max=limit)
    return tidy


def clean_label(text: str) -> str:
    """Validate a variant's option label such as "M / Black" (may be empty for a single variant)."""
    return clean_short_text(text, LABEL_MAX, "label")


def parse_stock(text: str) -> int:
    """Validate a stock count: a whole number from 0."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > STOCK_MAX:
        raise InvalidInput(ErrorCode.STOCK_INVALID, max=STOCK_MAX)
    return int(text)


def parse_price(text: str, currency: str, language_code: str | None = None) -> int:
    """Validate a price typed in major units ("19.99", or the seller's language's way) and return minor units."""
    price = parse_money(text, currency, language_code)
    if price > PRICE_MAX:
        raise InvalidInput(ErrorCode.PRICE_TOO_HIGH)
    return price


def clean_sku(text: str) -> str:
    """Validate a SKU: letters, digits, dashes, dots and underscores."""
    sku = text.strip().upper()
    if not sku or len(sku) > SKU_MAX or not all(ch.isalnum() or ch in "-_." for ch in sku):
        raise InvalidInput(ErrorCode.SKU_INVALID, max=SKU_MAX)
    return sku


def parse_commission(text: str) -> int:
    """A commission typed as a percentage ("12.5", "12.5%") in basis points (1/100 of a percent)."""
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    try:
        percent = Decimal(cleaned)
    except ArithmeticError:
        raise InvalidInput(ErrorCode.COMMISSION_UNREADABLE) from None
    basis_points = percent * 100
    if not percent.is_finite() or not 0 <= percent <= 50 or basis_points != basis_points.to_integral_value():
        raise InvalidInput(ErrorCode.COMMISSION_OUT_OF_RANGE)
    return int(basis_points)


def parse_variant(text: str, currency: str, language_code: str | None = None) -> VariantInput:
    """Parse a typed variant "label; price; stock" (the label may be left out for a single variant); the price
    as :func:`parse_price` reads it."""
    parts = [part.strip() for part in text.split(";")]
    if len(parts) == 2:
        parts.insert(0, "")
    if len(parts) != 3:
        raise InvalidInput(ErrorCode.VARIANT_FORMAT)
    return VariantInput(clean_label(parts[0]), parse_price(parts[1], currency, language_code), parse_stock(parts[2]))


async def _changed(session: AsyncSession, seller_id: int | None, product_id: int) -> ProductView:
    """After a change to a product: search indexes reload it; the product as it is now."""
    await session.flush()
    await touch_products(session, [product_id])
    return to_view(await _own_product(session, seller_id, product_id))


async def _own_product(session: AsyncSession, seller_id: int | None, product_id: int) -> Product:
    product = await session.scalar(
        select(Product).where(Product.id == product_id)
        .options(selectinload(Product.variants), selectinload(Product.seller), selectinload(Product.category)))
    if (product is None or product.status == ProductStatus.REMOVED
            or (seller_id is not None and product.seller_id != seller_id)):
        raise NotFound(ErrorCode.PRODUCT_NOT_YOURS)
    return product


async def create_product(
    session: AsyncSession,
    seller_id: int,
    *,
    title: str,
    description: str,
    category_id: int,
    photo: str | None,
    variants: list[VariantInput],
) -> ProductView:
    """Add a product with its variants to a seller's shop, on sale at once."""
    if not 1 <= len(variants) <= VARIANTS_MAX:
        raise InvalidInput(ErrorCode.VARIANT_COUNT, max=VARIANTS_MAX)
    labels = [v.label for v in variants]
    if len(variants) > 1 and (not all(labels) or len(set(labels)) != len(labels)):
        raise InvalidInput(ErrorCode.VARIANT_LABELS_NEEDED)
    if await session.get(Category, category_id) is None:
        raise NotFound(ErrorCode.CATEGORY_GONE)
    product = Product(seller_id=seller_id, category_id=category_id, title=clean_title(title),
                      description=clean_description(description), photo=photo, status=ProductStatus.ACTIVE)
    session.add(product)
    await session.flush()
    for position, variant in enumerate(variants):
        sku = variant.sku or f"S{seller_id}-P{product.id}-{position + 1}"
        session.add(Variant(product_id=product.id, seller_id=seller_id, sku=sku, label=variant.label,
                            price=variant.price, stock=variant.stock, position=position))
    return await _changed(session, seller_id, product.id)


async def seller_products(session: AsyncSession, seller_id: int | None, offset: int, limit: int) -> tuple[
        list[ProductView], int]:
    """One page of a seller's products (on sale and paused), by title."""
    where = [Product.status != ProductStatus.REMOVED]
    if seller_id is not None:
        where.append(Product.seller_id == seller_id)
    total = await session.scalar(select(func.count(Product.id)).where(*where)) or 0
    rows = await session.scalars(
        select(Product).where(*where)
        .options(selectinload(Product.variants), selectinload(Product.seller), selectinload(Product.category))
        .order_by(Product.title, Product.id).offset(offset).limit(limit))
    return [to_view(p) for p in rows], total


async def seller_product(session: AsyncSession, seller_id: int | None, product_id: int) -> ProductView:
    """One of the seller's products (None seller: an operator, any product)."""
    return to_view(await _own_product(session, seller_id, product_id))


async def update_variant(session: AsyncSession, seller_id: int | None, product_id: int, variant_id: int, *,
                         price: int | None = None, stock: int | None = None) -> ProductView:
    """Change a variant's price and/or stock."""
    product = await _own_product(session, seller_id, product_id)
    variant = next((v for v in product.variants if v.id == variant_id), None)
    if variant is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    if price is not None:
        if price <= 0:
            raise InvalidInput(ErrorCode.PRICE_ZERO)
        variant.price = price
    if stock is not None:
        if not 0 <= stock <= STOCK_MAX:
            raise InvalidInput(ErrorCode.STOCK_INVALID, max=STOCK_MAX)
        variant.stock = stock
    return await _changed(session, seller_id, product.id)


async def update_description(session: AsyncSession, seller_id: int | None, product_id: int,
                             description: str) -> ProductView:
    """Replace a product's description."""
    product = await _own_product(session, seller_id, product_id)
    product.description = clean_description(description)
    return await _changed(session, seller_id, product.id)


async def set_commission(session: AsyncSession, seller_id: int | None, product_id: int,
                         commission_bp: int) -> ProductView:
    """Set the creator commission of a product (basis points); new orders snapshot it."""
    product = await _own_product(session, seller_id, product_id)
    product.commission_bp = commission_bp
    await session.flush()
    return to_view(product)


async def set_status(session: AsyncSession, seller_id: int | None, product_id: int,
                     status: ProductStatus | str) -> ProductView:
    """Pause, resume (active) or remove a product; paused and removed products leave search."""
    if status not in tuple(ProductStatus):
        raise InvalidInput(ErrorCode.PRODUCT_STATE_UNKNOWN)
    product = await _own_product(session, seller_id, product_id)
    product.status = status
    await session.flush()
    await touch_products(session, [product.id])
    return to_view(product)


async def list_category_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """Every category, for a seller to file a product under."""
    rows = await session.execute(select(Category.id, Category.name).order_by(Category.position, Category.name))
    return [(cid, name) for cid, name in rows]
