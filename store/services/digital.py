"""Digital goods: what a digital variant delivers, its pool of codes, and handing the goods to their buyer.

A code is sold once: the codes of a pool are taken for an order line when the
order is placed (the variant's stock, which counts the free codes, is taken by
the same checkout, so there is always one to take), become the buyer's when
the payment is in, and go back to the pool when the order ends unpaid, or is
refunded before its goods were shown; a code shown and then refunded is spent,
never sold again. The order is marked delivered before its goods are first
sent (:func:`store.services.fulfilment.goods_shown`): a delivered order's
codes count as shown, whether or not the message arrived. Codes, files and texts are shown to their buyer
alone: no listing, notice, webhook or log carries them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotFound, OutOfStock
from store.models import DigitalCode, Order, OrderLine, Variant
from store.states import CodeStatus, Delivery, OrderStatus, ProductKind

# Codes one upload may add (a message, a file, a CSV cell, an API call); a bigger pool is several uploads.
CODES_PER_UPLOAD = 1000
CODE_MAX = 200  # the column's size
# A link or text delivered as it is: one Telegram message, with room for the words around it.
TEXT_MAX = 3000
FILE_URL_MAX = 512
# What a bot may send by file id (Telegram's limit for bots is 50 MB; a photo 10 MB).
FILE_MAX_BYTES = 50 * 1024 * 1024
PHOTO_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT, PHOTO = "document", "photo"


def clean_kind(text: str) -> ProductKind:
    """A product kind as written ("physical" or "digital")."""
    try:
        return ProductKind(text.strip().lower())
    except ValueError:
        raise InvalidInput(ErrorCode.KIND_UNKNOWN) from None


def clean_delivery(text: str) -> Delivery:
    """A digital variant's delivery as written ("file", "code" or "text")."""
    try:
        return Delivery(text.strip().lower())
    except ValueError:
        raise InvalidInput(ErrorCode.DELIVERY_UNKNOWN) from None


def clean_text(text: str) -> str:
    """A link or text revealed after payment: not empty, at most TEXT_MAX characters as Telegram counts them
    (UTF-16 units: an emoji is two), so it is always sent whole."""
    text = text.strip()
    if not text:
        raise InvalidInput(ErrorCode.CONTENT_NEEDED)
    if len(text.encode("utf-16-le")) // 2 > TEXT_MAX:
        raise InvalidInput(ErrorCode.CONTENT_TOO_LONG, max=TEXT_MAX)
    return text


def clean_file_url(text: str) -> str:
    """A file given by address (the catalog file, the HTTP API): an https URL Telegram fetches."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.netloc or len(text) > FILE_URL_MAX or any(c.isspace() for c in text):
        raise InvalidInput(ErrorCode.FILE_URL_INVALID, max=FILE_URL_MAX)
    return text


def check_file_size(size: int | None, content_type: str) -> None:
    """A file the seller sent the bot: within what a bot may send on."""
    most = PHOTO_MAX_BYTES if content_type == PHOTO else FILE_MAX_BYTES
    if size == 0:
        raise InvalidInput(ErrorCode.FILE_NEEDED)
    if size is not None and size > most:
        raise InvalidInput(ErrorCode.FILE_TOO_BIG, mb=most // (1024 * 1024))


def clean_codes(text: str) -> list[str]:
    """The codes of a pasted or uploaded list: one per line (or separated by commas or semicolons), trimmed,
    each once, in the order given; at most CODES_PER_UPLOAD."""
    codes: dict[str, None] = {}
    for part in re.split(r"[\r\n,;]+", text):
        code = part.strip()  # kept as given inside: a key with two spaces is not another key's
        if not code:
            continue
        if len(code) > CODE_MAX:
            raise InvalidInput(ErrorCode.CODE_TOO_LONG, max=CODE_MAX)
        if any(unicodedata.category(char) in ("Cc", "Cf") for char in code):
            raise InvalidInput(ErrorCode.CODE_UNPRINTABLE)
        codes[code] = None
    if not codes:
        raise InvalidInput(ErrorCode.CODES_NONE)
    if len(codes) > CODES_PER_UPLOAD:
        raise InvalidInput(ErrorCode.CODES_TOO_MANY, max=CODES_PER_UPLOAD, given=len(codes))
    return list(codes)


def delivery_problems(kind: str, delivery: str | None, *, content: bool, codes: bool,
                      stock: int | None) -> list[tuple[str, ErrorCode]]:
    """What is wrong with a variant's delivery for its product's ``kind``, field by field (the chat's catalog
    editor, the catalog file and the HTTP API ask this one rule): a physical variant delivers nothing and has
    a stock; a digital one has a delivery; a pool of codes takes codes, no content and no stock of its own
    (its stock is the codes left); a file or text takes no codes and has a stock. ``content``, ``codes``:
    whether they were given."""
    problems: list[tuple[str, ErrorCode]] = []
    if kind == ProductKind.PHYSICAL:
        problems += [(field, code) for field, given, code in (
            ("delivery", bool(delivery), ErrorCode.DELIVERY_OF_PHYSICAL),
            ("content", content, ErrorCode.DELIVERY_OF_PHYSICAL),
            ("codes", codes, ErrorCode.NOT_A_CODE_POOL)) if given]
    elif not delivery:
        return [("delivery", ErrorCode.DELIVERY_NEEDED)]
    elif delivery == Delivery.CODE:
        if content:
            problems.append(("content", ErrorCode.CONTENT_OF_CODES))
        if stock:
            problems.append(("stock", ErrorCode.CODE_STOCK_GIVEN))
        return problems
    elif codes:
        problems.append(("codes", ErrorCode.NOT_A_CODE_POOL))
    if stock is None:
        problems.append(("stock", ErrorCode.STOCK_MISSING))
    return problems


@dataclass(frozen=True, slots=True)
class CodesAdded:
    """What adding codes to a pool did: how many were new, how many it had already, how many are free now."""

    added: int
    known: int
    available: int


async def add_codes(session: AsyncSession, variant_id: int, codes: list[str]) -> CodesAdded:
    """Add cleaned codes to a variant's pool (a code it has had before, sold or not, is not added again);
    its stock grows by the codes added. The variant must deliver codes."""
    variant = await session.scalar(select(Variant).where(Variant.id == variant_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if variant is None:
        raise NotFound(ErrorCode.OPTION_GONE)
    if variant.delivery != Delivery.CODE:
        raise InvalidInput(ErrorCode.NOT_A_CODE_POOL)
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(codes), 200):
        result = await session.execute(
            insert(DigitalCode).values([{"variant_id": variant_id, "code": code, "status": CodeStatus.FREE}
                                        for code in codes[start:start + 200]])
            .on_conflict_do_nothing(index_elements=["variant_id", "code"]))
        added += result.rowcount
    variant.stock += added
    await session.flush()
    return CodesAdded(added, len(codes) - added, variant.stock)


async def _code_lines(session: AsyncSession, order_ids: list[int]) -> list[tuple[int, int, int]]:
    """(order line id, variant id, quantity) of the lines of these orders that deliver codes."""
    rows = await session.execute(
        select(OrderLine.id, OrderLine.variant_id, OrderLine.quantity)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(OrderLine.order_id.in_(order_ids), Variant.delivery == Delivery.CODE)
        .order_by(OrderLine.variant_id, OrderLine.id))
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def reserve_codes(session: AsyncSession, order_ids: list[int]) -> None:
    """Take a free code per unit for the code lines of orders just placed (their stock already taken)."""
    for line_id, variant_id, quantity in await _code_lines(session, order_ids):
        free = (select(DigitalCode.id).where(DigitalCode.variant_id == variant_id,
                                             DigitalCode.status == CodeStatus.FREE)
                .order_by(DigitalCode.id).limit(quantity))
        if session.bind.dialect.name == "postgresql":
            free = free.with_for_update(skip_locked=True)
        ids = list(await session.scalars(free))
        if len(ids) < quantity:  # the stock said there were: a pool edited by hand, refuse rather than oversell
            raise OutOfStock(ErrorCode.OUT_OF_STOCK, {variant_id: len(ids)}, lines=[])
        await session.execute(update(DigitalCode).where(DigitalCode.id.in_(ids))
                              .values(status=CodeStatus.RESERVED, order_line_id=line_id))


async def sell_codes(session: AsyncSession, order_id: int) -> None:
    """The order is paid: its reserved codes are its buyer's."""
    lines = select(OrderLine.id).where(OrderLine.order_id == order_id)
    await session.execute(update(DigitalCode).where(DigitalCode.order_line_id.in_(lines),
                                                    DigitalCode.status == CodeStatus.RESERVED)
                          .values(status=CodeStatus.SOLD))


async def release_line_codes(session: AsyncSession, line: OrderLine, *, shown: bool) -> bool:
    """An order line ended (unpaid, cancelled, refunded): its codes go back to the pool, and its variant's
    stock with them, unless the buyer was ``shown`` them (then they are spent). False for a line that held
    no codes (its stock is the caller's to put back)."""
    codes = list(await session.scalars(select(DigitalCode).where(DigitalCode.order_line_id == line.id)))
    if not codes:
        return False
    for code in codes:
        if shown:
            code.status = CodeStatus.SPENT
        else:
            code.status, code.order_line_id = CodeStatus.FREE, None
    if not shown:
        await session.execute(update(Variant).where(Variant.id == line.variant_id)
                              .values(stock=Variant.stock + len(codes)))
    await session.flush()
    return True


def goods_key(order_id: int) -> str:
    """The outbox key of a digital order's delivery: one per order, whatever repeats its payment."""
    return f"goods-{order_id}"


@dataclass(frozen=True, slots=True)
class Goods:
    """What one line of a paid digital order gives its buyer."""

    title: str
    label: str
    delivery: str
    content: str | None  # the file id or URL, or the text
    content_type: str | None
    codes: tuple[str, ...]


# The states of a digital order whose buyer has its goods (paid; delivered once they were sent).
HOLDS_GOODS = (OrderStatus.PAID, OrderStatus.DELIVERED)


async def goods_of(session: AsyncSession, order_id: int) -> list[Goods]:
    """The files, codes and texts a paid digital order delivers, line by line (read when delivered, so a seller
    who replaced a file since gives the new one); none once it is cancelled."""
    if await session.scalar(select(Order.status).where(Order.id == order_id)) not in HOLDS_GOODS:
        return []
    rows = (await session.execute(
        select(OrderLine.id, OrderLine.title, OrderLine.variant_label, Variant.delivery, Variant.content,
               Variant.content_type)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(OrderLine.order_id == order_id).order_by(OrderLine.id))).all()
    codes: dict[int, list[str]] = {}
    for line_id, code in await session.execute(
            select(DigitalCode.order_line_id, DigitalCode.code)
            .where(DigitalCode.order_line_id.in_([row.id for row in rows]),
                   DigitalCode.status == CodeStatus.SOLD)
            .order_by(DigitalCode.id)):
        codes.setdefault(line_id, []).append(code)
    return [Goods(row.title, row.variant_label, row.delivery, None if row.delivery == Delivery.CODE else row.content,
                  row.content_type, tuple(codes.get(row.id, ()))) for row in rows if row.delivery]


def holds_goods(order: Order) -> bool:
    """Whether an order is a paid digital order, whose goods its buyer may have again."""
    return order.kind == ProductKind.DIGITAL and order.status in HOLDS_GOODS
