"""A seller's own catalog: adding products with variants, editing prices, stock and text, pausing, removing;
for digital goods, what each variant delivers (a file, a pool of codes, a link or text).

Every change checks that the product belongs to the seller and advances the
catalog version, so every process's search index picks it up. What a digital
variant delivers is never returned: views say how it is delivered, and for a
pool of codes how many are left (its stock).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, InvalidInput, NotFound
from store.models import Category, Product, Variant, utcnow
from store.money import parse_money
from store.services import deals, digital
from store.services.catalog import ProductView, to_view, touch_products
from store.states import Delivery, ProductKind, ProductStatus

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MAX = 1000
LABEL_MAX = 64
STOCK_MAX = 1_000_000
PRICE_MAX = 10**11  # minor units: a billion in a two-decimal currency
VARIANTS_MAX = 20
SKU_MAX = 64
# A list of codes uploaded as a text file: about CODES_PER_UPLOAD codes of a few dozen characters each.
CODES_FILE_MAX_BYTES = 64 * 1024
FILE_ID_MAX = 512


@dataclass(frozen=True, slots=True)
class VariantInput:
    """A variant as a seller typed it, already validated."""

    label: str
    price: int
    stock: int  # for a pool of codes 0: its stock is the codes added to it
    sku: str | None = None
    delivery: str | None = None  # a digital variant's Delivery; None for a physical one
    content: str | None = None  # a file's Telegram file id or https URL, or the link or text
    content_type: str | None = None  # a file's kind: digital.DOCUMENT or digital.PHOTO


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


def parse_code_variant(text: str, currency: str, language_code: str | None = None) -> VariantInput:
    """Parse a typed variant sold as codes, "label; price" (the label may be left out for a single variant): no
    stock is typed, it is the codes added to its pool."""
    parts = [part.strip() for part in text.split(";")]
    if len(parts) == 1:
        parts.insert(0, "")
    if len(parts) != 2:
        raise InvalidInput(ErrorCode.CODE_VARIANT_FORMAT)
    return VariantInput(clean_label(parts[0]), parse_price(parts[1], currency, language_code), 0,
                        delivery=Delivery.CODE)


def clean_file(content: str | None, content_type: str | None) -> tuple[str, str]:
    """A file a digital variant delivers: a Telegram file id (as the bot received it) or an https URL, and
    whether it is a document or a photo."""
    content = (content or "").strip()
    if not content or content_type not in (digital.DOCUMENT, digital.PHOTO):
        raise InvalidInput(ErrorCode.FILE_NEEDED)
    if "://" in content:
        return digital.clean_file_url(content), content_type
    if len(content) > FILE_ID_MAX or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in content):
        raise InvalidInput(ErrorCode.FILE_URL_INVALID, max=digital.FILE_URL_MAX)
    return content, content_type


def check_codes_file(name: str | None, mime_type: str | None, size: int | None) -> None:
    """A list of codes sent as a file, before it is fetched: a text file (.txt, .csv), small enough."""
    if size is not None and size > CODES_FILE_MAX_BYTES:
        raise InvalidInput(ErrorCode.CODES_FILE_TOO_BIG, kb=CODES_FILE_MAX_BYTES // 1024)
    if not ((mime_type or "").startswith("text/") or (name or "").lower().endswith((".txt", ".csv"))):
        raise InvalidInput(ErrorCode.CODES_FILE_NOT_TEXT)


def codes_text(data: bytes) -> str:
    """The text of a list of codes sent as a file: UTF-8 (a byte-order mark is dropped), at most
    CODES_FILE_MAX_BYTES."""
    if len(data) > CODES_FILE_MAX_BYTES:
        raise InvalidInput(ErrorCode.CODES_FILE_TOO_BIG, kb=CODES_FILE_MAX_BYTES // 1024)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ErrorCode.CODES_FILE_NOT_TEXT) from None
    if "\x00" in text:
        raise InvalidInput(ErrorCode.CODES_FILE_NOT_TEXT)
    return text


def _goods(kind: ProductKind, variant: VariantInput) -> tuple[str | None, str | None, str | None]:
    """What a new variant delivers (delivery, content, content type), checked against its product's kind."""
    delivery = digital.clean_delivery(variant.delivery) if variant.delivery is not None else None
    problems = digital.delivery_problems(kind, delivery, content=delivery != Delivery.CODE and bool(variant.content),
                                         codes=False, stock=variant.stock)
    if problems:
        raise InvalidInput(problems[0][1])
    if delivery is None or delivery == Delivery.CODE:
        return delivery, None, None
    if delivery == Delivery.FILE:
        return delivery, *clean_file(variant.content, variant.content_type)
    return delivery, digital.clean_text(variant.content or ""), None


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


async def _own_variant(session: AsyncSession, seller_id: int | None, product_id: int,
                       variant_id: int) -> tuple[Product, Variant]:
    product = await _own_product(session, seller_id, product_id)
    variant = next((v for v in product.variants if v.id == variant_id), None)
    if variant is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    return product, variant


async def create_product(
    session: AsyncSession,
    seller_id: int,
    *,
    title: str,
    description: str,
    category_id: int,
    photo: str | None,
    variants: list[VariantInput],
    kind: ProductKind | str = ProductKind.PHYSICAL,
) -> ProductView:
    """Add a product with its variants to a seller's shop, on sale at once; a digital product's variants each
    say what they deliver (a pool of codes starts empty)."""
    if not 1 <= len(variants) <= VARIANTS_MAX:
        raise InvalidInput(ErrorCode.VARIANT_COUNT, max=VARIANTS_MAX)
    labels = [v.label for v in variants]
    if len(variants) > 1 and (not all(labels) or len(set(labels)) != len(labels)):
        raise InvalidInput(ErrorCode.VARIANT_LABELS_NEEDED)
    kind = digital.clean_kind(kind)
    goods = [_goods(kind, variant) for variant in variants]
    if await session.get(Category, category_id) is None:
        raise NotFound(ErrorCode.CATEGORY_GONE)
    product = Product(seller_id=seller_id, category_id=category_id, title=clean_title(title),
                      description=clean_description(description), photo=photo, kind=kind,
                      status=ProductStatus.ACTIVE)
    session.add(product)
    await session.flush()
    for position, (variant, (delivery, content, content_type)) in enumerate(zip(variants, goods, strict=True)):
        sku = variant.sku or f"S{seller_id}-P{product.id}-{position + 1}"
        session.add(Variant(product_id=product.id, seller_id=seller_id, sku=sku, label=variant.label,
                            price=variant.price, stock=variant.stock, position=position, delivery=delivery,
                            content=content, content_type=content_type))
    await session.flush()
    # The price history a flash deal is measured against starts with the first prices.
    await deals.record_prices(session, dict((await session.execute(
        select(Variant.id, Variant.price).where(Variant.product_id == product.id))).all()), utcnow())
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
    """Change a variant's price and/or stock (not the stock of a pool of codes: it is the codes left)."""
    product, variant = await _own_variant(session, seller_id, product_id, variant_id)
    if stock is not None and variant.delivery == Delivery.CODE:
        raise InvalidInput(ErrorCode.STOCK_IS_CODES)
    if price is not None:
        if price <= 0:
            raise InvalidInput(ErrorCode.PRICE_ZERO)
        if price != variant.price:
            await deals.record_price(session, variant.id, price, utcnow())
        variant.price = price
    if stock is not None:
        if not 0 <= stock <= STOCK_MAX:
            raise InvalidInput(ErrorCode.STOCK_INVALID, max=STOCK_MAX)
        variant.stock = stock
    return await _changed(session, seller_id, product.id)


async def replace_file(session: AsyncSession, seller_id: int | None, product_id: int, variant_id: int,
                       content: str, content_type: str) -> ProductView:
    """Replace the file a digital variant delivers (buyers who ask for their goods again get the new one)."""
    product, variant = await _own_variant(session, seller_id, product_id, variant_id)
    if variant.delivery != Delivery.FILE:
        raise InvalidInput(ErrorCode.DELIVERY_MISMATCH)
    variant.content, variant.content_type = clean_file(content, content_type)
    return await _changed(session, seller_id, product.id)


async def replace_text(session: AsyncSession, seller_id: int | None, product_id: int, variant_id: int,
                       text: str) -> ProductView:
    """Replace the link or text a digital variant delivers."""
    product, variant = await _own_variant(session, seller_id, product_id, variant_id)
    if variant.delivery != Delivery.TEXT:
        raise InvalidInput(ErrorCode.DELIVERY_MISMATCH)
    variant.content = digital.clean_text(text)
    return await _changed(session, seller_id, product.id)


async def add_variant_codes(session: AsyncSession, seller_id: int | None, product_id: int, variant_id: int,
                            text: str) -> tuple[ProductView, digital.CodesAdded]:
    """Add pasted or uploaded codes (:func:`store.services.digital.clean_codes` reads them) to the pool of a
    variant; its stock grows by the codes new to it."""
    product, variant = await _own_variant(session, seller_id, product_id, variant_id)
    if variant.delivery != Delivery.CODE:
        raise InvalidInput(ErrorCode.NOT_A_CODE_POOL)
    added = await digital.add_codes(session, variant.id, digital.clean_codes(text))
    return await _changed(session, seller_id, product.id), added


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
