"""Bulk catalog import: a seller's products and variants from CSV rows, created or updated by SKU.

A row is one variant. Its SKU is the natural key (``UNIQUE(seller_id, sku)``):
a known SKU updates that variant and its product, a new SKU creates a variant,
attached to the product its ``product`` key (by default the title) names. So
importing the same file twice changes nothing the second time.

Every row is checked with the same validators as the chat's catalog editor; a
bad row is reported with its CSV line number and reason and the others go on.
Unlike request services, the import owns its transactions: it commits every
``BATCH_SIZE`` rows, so a 50,000-row file never holds the store's write lock
for long and memory stays flat. A dry run does the very same work in one
transaction and rolls it back, so its report is exactly what an import would do
(on SQLite that transaction holds the write lock meanwhile: seconds for 50,000 rows).

A product is physical (the default) or digital (``kind``), and its kind never
changes. A digital row names how its variant is delivered (``delivery``): a
file given by an https address or a link or text (``content``), or codes
(``codes``), added to the variant's pool, whose size is its stock. Codes the
pool has had are not added again, so a re-import adds none. No report, refusal
or log line ever holds a code, a file's address or a text.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, InvalidInput, NotAllowed, NotFound
from store.models import Category, Product, Seller, Variant, utcnow
from store.services import deals, digital
from store.services.catalog import touch_products
from store.services.seller_catalog import (
    VARIANTS_MAX,
    clean_description,
    clean_label,
    clean_short_text,
    clean_sku,
    clean_title,
    parse_price,
    parse_stock,
)
from store.states import Approval, Delivery, ProductKind, ProductStatus

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("sku", "title", "price", "stock")
OPTIONAL_COLUMNS = ("option", "category", "description", "brand", "photo", "product", "kind", "delivery",
                    "content", "codes")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Where a row's fields beyond the header's go (read_csv); never a valid column name.
EXTRA_FIELDS = "(extra fields)"
# A new product without a category is filed here (created when missing).
DEFAULT_CATEGORY = "Other"
BATCH_SIZE = 500
# Column sizes of the store (models.py).
BRAND_MAX, PHOTO_MAX, CATEGORY_MAX, PRODUCT_KEY_MAX = 80, 512, 64, 120
# The product fields a row may set; rows of one product must agree on them.
PRODUCT_FIELDS = ("title", "description", "category", "brand", "photo", "kind")
# What Telegram sends from an https address, by the address's extension: a photo, or a document (the Bot
# API fetches a document from a URL only when it is a GIF, PDF or ZIP file).
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")
DOCUMENT_EXTENSIONS = (".pdf", ".zip", ".gif")


class Problem(NamedTuple):
    """One reason a row was refused: the column at fault (None: the whole row) and the refusal."""

    column: str | None
    code: ErrorCode
    data: dict[str, Any]


class Rejected(NamedTuple):
    """A row that was not imported: its CSV line (header = 1), its SKU as written, and why."""

    line: int
    sku: str
    problems: tuple[Problem, ...]


def _rejected(line: int, sku: str, column: str | None, code: ErrorCode, /, **data: Any) -> Rejected:
    return Rejected(line, sku, (Problem(column, code, data),))


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    seller_id: int
    seller_name: str
    dry_run: bool
    rows: int = 0
    created_products: int = 0
    created_variants: int = 0
    updated_variants: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    new_categories: list[str] = field(default_factory=list)
    codes_added: int = 0  # to the pools of code deliveries
    codes_already_in_pool: int = 0  # given again: a pool never takes a code twice


@dataclass(slots=True)
class _Row:
    """A row that passed validation; an empty optional field means "keep what is there"."""

    line: int
    raw_sku: str
    sku: str
    key: str
    keyed_by_title: bool
    title: str
    price: int
    stock: int | None  # None: not given (a code delivery's stock is its codes)
    label: str
    category: str
    description: str
    brand: str
    photo: str
    kind: str  # a ProductKind, or "" (an existing product's own, else physical)
    delivery: str  # a Delivery, or "" (an existing variant's own)
    content: str  # as written: checked once the delivery is known
    codes: tuple[str, ...]


@dataclass(slots=True)
class _Run:
    """State carried from batch to batch of one import."""

    seller_id: int
    currency: str
    report: ImportReport
    categories: dict[str, int]  # lower-cased name -> id
    next_category_position: int
    sku_lines: dict[str, int] = field(default_factory=dict)  # SKU -> first line it appeared on
    products: dict[str, int] = field(default_factory=dict)  # product key -> product id
    # Per product key: the first line that gave each product field, and a hash of its value
    # (hashes, not values: 50,000 descriptions need not stay in memory).
    given: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def check_columns(header: Iterable[str]) -> list[str]:
    """Return the header's column names normalised; raise InvalidInput naming every problem."""
    names = [name.strip().lower() for name in header]
    problems = {
        "unnamed": [i + 1 for i, name in enumerate(names) if not name],
        "twice": sorted({name for name in names if name and names.count(name) > 1}),
        "unknown": [name for name in names if name and name not in COLUMNS],
        "missing": [name for name in REQUIRED_COLUMNS if name not in names],
    }
    if any(problems.values()):
        raise InvalidInput(ErrorCode.CSV_HEADER_INVALID, allowed=list(COLUMNS), **problems)
    return names


def read_csv(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Check the header at once, then yield (line number, row) for every non-blank row.

    The line number is where the row starts in the file (the header is line 1),
    also when a quoted field spans lines. Fields beyond the header's are kept
    under EXTRA_FIELDS so that the row is rejected rather than silently cut.
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise InvalidInput(ErrorCode.CSV_EMPTY, required=list(REQUIRED_COLUMNS))
    if header:
        header[0] = header[0].removeprefix("\ufeff")  # a BOM when the caller did not open with utf-8-sig
    columns = check_columns(header)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        end = reader.line_num
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not any(value.strip() for value in fields):
                continue
            row = dict(zip(columns, fields))
            if len(fields) > len(columns):
                row[EXTRA_FIELDS] = ",".join(fields[len(columns):])
            yield start, row

    return rows()


def _clean_category(text: str) -> str:
    return clean_short_text(text, CATEGORY_MAX, "category")


def _clean_brand(text: str) -> str:
    return clean_short_text(text, BRAND_MAX, "brand")


def _clean_photo(text: str) -> str:
    url = text.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if (len(url) > PHOTO_MAX or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(ch.isspace() for ch in url)):
        raise InvalidInput(ErrorCode.PHOTO_URL_INVALID, max=PHOTO_MAX)
    return url


def _clean_product_key(text: str) -> str:
    return clean_short_text(text, PRODUCT_KEY_MAX, "product_key")


def _clean_price(text: str, currency: str) -> int:
    if not text.strip():
        raise InvalidInput(ErrorCode.PRICE_MISSING)
    return parse_price(text, currency)  # a huge price ("1e30") is refused there, not overflowed


def _clean_stock(text: str) -> int | None:
    # Whether an empty stock is allowed depends on the delivery, known once the variant is (_goods).
    return parse_stock(text) if text.strip() else None


def _clean_codes(text: str) -> tuple[str, ...]:
    # In a cell, codes are separated by "|" or line breaks (or, as everywhere, commas and semicolons).
    return tuple(digital.clean_codes(text.replace("|", "\n"))) if text.strip() else ()


def _clean_file(text: str) -> tuple[str, str]:
    """A file's https address and what Telegram sends it as (document or photo), from its extension."""
    url = digital.clean_file_url(text)
    extension = PurePosixPath(urlsplit(url).path).suffix.lower()
    if extension in PHOTO_EXTENSIONS:
        return url, digital.PHOTO
    if extension in DOCUMENT_EXTENSIONS:
        return url, digital.DOCUMENT
    raise InvalidInput(ErrorCode.FILE_URL_TYPE)


# Each column's validator, given the text and the shop currency: the chat editor's where it has one.
_CLEANERS: dict[str, Callable[[str, str], object]] = {
    "sku": lambda text, _: clean_sku(text),
    "title": lambda text, _: clean_title(text),
    "price": _clean_price,
    "stock": lambda text, _: _clean_stock(text),
    "option": lambda text, _: clean_label(text),
    "category": lambda text, _: _clean_category(text),
    "description": lambda text, _: clean_description(text),
    "brand": lambda text, _: _clean_brand(text),
    "photo": lambda text, _: _clean_photo(text),
    "product": lambda text, _: _clean_product_key(text),
    "kind": lambda text, _: digital.clean_kind(text) if text.strip() else "",
    "delivery": lambda text, _: digital.clean_delivery(text) if text.strip() else "",
    "content": lambda text, _: text.strip(),
    "codes": lambda text, _: _clean_codes(text),
}


def _validate(line: int, raw: dict[str, str], currency: str) -> _Row | Rejected:
    """Check every field of a raw row; a rejection names each bad field."""
    values = {name: (raw.get(name) or "") for name in COLUMNS}
    raw_sku = values["sku"].strip()
    if EXTRA_FIELDS in raw:
        return _rejected(line, raw_sku, None, ErrorCode.ROW_EXTRA_FIELDS)
    if unknown := sorted(set(raw) - set(COLUMNS)):
        return _rejected(line, raw_sku, None, ErrorCode.ROW_UNKNOWN_COLUMNS, columns=unknown)
    clean: dict[str, object] = {}
    problems = []
    for name, cleaner in _CLEANERS.items():
        try:
            clean[name] = cleaner(values[name], currency)
        except InvalidInput as exc:
            problems.append(Problem(name, exc.code, exc.data))
        except ValueError:  # e.g. parse_stock on "²", which str.isdigit() accepts but int() refuses
            problems.append(Problem(name, ErrorCode.FIELD_UNREADABLE, {"value": values[name].strip()}))
    if problems:
        return Rejected(line, raw_sku, tuple(problems))
    key = clean["product"] or clean["title"]
    return _Row(line=line, raw_sku=raw_sku, sku=clean["sku"], key=key, keyed_by_title=not clean["product"],
                title=clean["title"], price=clean["price"], stock=clean["stock"], label=clean["option"],
                category=clean["category"], description=clean["description"], brand=clean["brand"],
                photo=clean["photo"], kind=clean["kind"], delivery=clean["delivery"], content=clean["content"],
                codes=clean["codes"])


async def _start(session: AsyncSession, seller_id: int, currency: str, dry_run: bool) -> _Run:
    """Check the seller and load the categories."""
    seller = await session.get(Seller, seller_id)
    if seller is None:
        raise NotFound(ErrorCode.SELLER_ID_UNKNOWN, seller_id=seller_id)
    if seller.status != Approval.APPROVED:
        raise NotAllowed(ErrorCode.SELLER_NOT_APPROVED, seller_id=seller_id, name=seller.name, status=seller.status)
    rows = (await session.execute(select(Category.id, Category.name, Category.position))).all()
    return _Run(seller_id=seller_id, currency=currency,
                report=ImportReport(seller_id=seller_id, seller_name=seller.name, dry_run=dry_run),
                categories={name.lower(): cid for cid, name, _ in rows},
                next_category_position=max((position for _, _, position in rows), default=-1) + 1)


async def _category_id(session: AsyncSession, run: _Run, name: str) -> int:
    """The id of the category named (case-insensitively), created when new."""
    cid = run.categories.get(name.lower())
    if cid is None:
        category = Category(name=name, position=run.next_category_position)
        session.add(category)
        await session.flush()
        cid = run.categories[name.lower()] = category.id
        run.next_category_position += 1
        run.report.new_categories.append(name)
    return cid


def _conflict(run: _Run, row: _Row) -> Problem | None:
    """Why the row's product fields disagree with an earlier row of the same product, if they do."""
    given = run.given.setdefault(row.key, {})
    for name in PRODUCT_FIELDS:
        value = getattr(row, name)
        if not value:
            continue
        seen = given.get(name)
        if seen is None:
            given[name] = (row.line, hash(value))
        elif seen[1] != hash(value):
            return Problem(None, ErrorCode.FIELD_DIFFERS, {"column": name, "first": seen[0], "product": row.key})
    return None


async def _apply_product_fields(session: AsyncSession, run: _Run, product: Product, row: _Row) -> bool:
    """Set the product fields the row gives; return True when one changed."""
    changed = False
    for name in ("title", "description", "brand", "photo"):
        value = getattr(row, name)
        if value and getattr(product, name) != value:
            setattr(product, name, value)
            changed = True
    if row.category:
        category_id = await _category_id(session, run, row.category)
        if product.category_id != category_id:
            product.category_id = category_id
            changed = True
    return changed


def _label_problem(title: str, siblings: list[Variant], label: str, sku: str, *, adding: bool) -> Problem | None:
    """Why ``label`` cannot name variant ``sku`` beside its product's other variants, if it cannot.

    As in the chat's editor, a product with several variants needs a distinct
    label on each, or the shopper could not tell them apart.
    """
    others = [v for v in siblings if v.sku != sku]
    if not others:
        return None
    if adding and not label:
        return Problem("option", ErrorCode.LABEL_NEEDED, {"title": title})
    if adding and (unlabelled := next((v for v in others if not v.label), None)):
        return Problem("option", ErrorCode.SIBLING_UNLABELLED, {"title": title, "sku": unlabelled.sku})
    if same := next((v for v in others if v.label == label), None):
        return Problem("option", ErrorCode.LABEL_TAKEN, {"label": label, "sku": same.sku, "title": title})
    return None


@dataclass(slots=True)
class _Goods:
    """What a row's variant is and delivers, once its product and variant are known."""

    kind: str
    delivery: str | None  # None for a physical variant
    content: tuple[str, str | None] | None  # a new content and its type; None: none given (keep the variant's)


def _goods(row: _Row, product: Product | None, variant: Variant | None, batch_kind: str) -> _Goods | list[Problem]:
    """The row's kind and delivery checked against its product and variant, or every reason they are refused.

    A product's kind never changes, nor does a variant's delivery: carts, orders and
    a pool of codes (whose size is the variant's stock) depend on them.
    """
    if product is not None:
        kind = product.kind
        if row.kind and row.kind != kind:
            return [Problem("kind", ErrorCode.KIND_CHANGE, {"title": product.title, "kind": kind})]
    else:
        kind = row.kind or batch_kind or ProductKind.PHYSICAL
    current = variant.delivery if variant is not None else None
    if kind == ProductKind.DIGITAL and current and row.delivery and row.delivery != current:
        return [Problem("delivery", ErrorCode.DELIVERY_CHANGE, {"sku": row.sku})]
    delivery = (row.delivery or current) if kind == ProductKind.DIGITAL else row.delivery
    problems = [Problem(field, code, {}) for field, code in digital.delivery_problems(
        kind, delivery, content=bool(row.content), codes=bool(row.codes), stock=row.stock)]
    if kind == ProductKind.PHYSICAL or not delivery:
        return problems or _Goods(kind, None, None)
    content = None
    if delivery != Delivery.CODE:
        if row.content:
            try:
                content = _clean_file(row.content) if delivery == Delivery.FILE else (
                    digital.clean_text(row.content), None)
            except InvalidInput as exc:
                problems.append(Problem("content", exc.code, exc.data))
        elif variant is None or not variant.content:
            problems.append(Problem("content", ErrorCode.CONTENT_MISSING, {"delivery": delivery}))
    return problems or _Goods(kind, delivery, content)


async def _import_batch(session: AsyncSession, run: _Run, batch: list[tuple[int, dict[str, str]]]) -> None:
    """Validate, resolve and write one batch of rows (flushed, not committed)."""
    report = run.report
    rows: list[_Row] = []
    for line, raw in batch:
        row = _validate(line, raw, run.currency)
        if isinstance(row, _Row) and (first := run.sku_lines.setdefault(row.sku, line)) != line:
            row = _rejected(line, row.raw_sku, "sku", ErrorCode.SKU_REPEATED, sku=row.sku, first=first)
        if isinstance(row, Rejected):
            report.rejected.append(row)
        else:
            rows.append(row)
    if not rows:
        return

    if session.bind.dialect.name == "postgresql":
        # asyncpg prepares each statement once per connection, and PostgreSQL soon
        # settles on a generic plan made while the seller's tables were small (a
        # sequential scan): a first big import then slows down batch after batch.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # One import of a seller's catalog at a time (the HTTP API may be sent two files at once): without
    # it, both could create the same new product, or the same SKU. NO KEY UPDATE lets orders referring
    # to the seller be placed meanwhile. (SQLite has one writer at a time anyway.)
    await session.execute(select(Seller.id).where(Seller.id == run.seller_id).with_for_update(key_share=True))
    # The variants the batch updates are locked up front, in id order, as checkouts lock them, so
    # that neither waits for the other in a cycle.
    existing = {v.sku: v for v in await session.scalars(
        select(Variant).where(Variant.seller_id == run.seller_id, Variant.sku.in_([r.sku for r in rows]))
        .order_by(Variant.id).with_for_update(key_share=True)
        .options(selectinload(Variant.product).selectinload(Product.variants)))}
    # A product key names the product its known SKUs already belong to, wherever
    # in the batch they are; else, when it is the title, the seller's product so titled.
    for row in rows:
        if (variant := existing.get(row.sku)) is not None and variant.product.status != ProductStatus.REMOVED:
            run.products.setdefault(row.key, variant.product_id)
    if titles := {r.key for r in rows if r.keyed_by_title and r.key not in run.products}:
        claimed = set(run.products.values())
        found = await session.execute(
            select(Product.title, Product.id)
            .where(Product.seller_id == run.seller_id, Product.title.in_(titles),
                   Product.status != ProductStatus.REMOVED)
            .order_by(Product.id))
        for title, product_id in found:
            if product_id not in claimed:
                run.products.setdefault(title, product_id)
    wanted = {run.products[r.key] for r in rows if r.key in run.products}
    products = {p.id: p for p in await session.scalars(
        select(Product).where(Product.id.in_(wanted)).options(selectinload(Product.variants)))}
    new_products: dict[str, Product] = {}
    # New variants are not attached to their product in the session but inserted
    # in one statement after the products: the ORM would insert them one by one
    # to read back ids that nothing here needs.
    added: dict[Product, list[Variant]] = {}
    repriced: dict[int, int] = {}  # variant id -> its new price (the price history)
    changed: set[Product] = set()
    # Codes to add once every variant has an id: (variant's SKU, codes, product, whether the row
    # is still to be counted: updated if codes were added, else unchanged).
    codes: list[tuple[str, tuple[str, ...], Product, bool]] = []
    # A new product's kind is the one any of its rows gives, whichever comes first.
    batch_kinds: dict[str, str] = {}
    for row in rows:
        if row.kind:
            batch_kinds.setdefault(row.key, row.kind)

    for row in rows:
        variant = existing.get(row.sku)
        if variant is not None:
            product = variant.product
            problem = Problem("sku", ErrorCode.SKU_OF_REMOVED_PRODUCT, {"sku": row.sku, "title": product.title}) if (
                product.status == ProductStatus.REMOVED) else None
            if problem is None and row.label and row.label != variant.label:
                siblings = [*product.variants, *added.get(product, ())]
                problem = _label_problem(product.title, siblings, row.label, row.sku, adding=False)
        else:
            product = new_products.get(row.key) or products.get(run.products.get(row.key, -1))
            if product is not None and product.status == ProductStatus.REMOVED:  # removed meanwhile: start afresh
                product = None
            siblings = [] if product is None else [*product.variants, *added.get(product, ())]
            problem = None if product is None else _label_problem(product.title, siblings, row.label, row.sku,
                                                                  adding=True)
            if problem is None and len(siblings) >= VARIANTS_MAX:
                problem = Problem("sku", ErrorCode.PRODUCT_VARIANTS_FULL, {"title": product.title, "max": VARIANTS_MAX})
        goods = _goods(row, product, variant, batch_kinds.get(row.key, "")) if problem is None else [problem]
        if isinstance(goods, _Goods) and (conflict := _conflict(run, row)) is not None:
            goods = [conflict]
        if not isinstance(goods, _Goods):
            report.rejected.append(Rejected(row.line, row.raw_sku, tuple(goods)))
            continue

        if product is None:
            product = Product(seller_id=run.seller_id, title=row.title, description=row.description,
                              brand=row.brand or None, photo=row.photo or None, status=ProductStatus.ACTIVE,
                              kind=goods.kind,
                              category_id=await _category_id(session, run, row.category or DEFAULT_CATEGORY))
            session.add(product)
            new_products[row.key] = product
            report.created_products += 1
        product_changed = await _apply_product_fields(session, run, product, row)
        content, content_type = goods.content or (None, None)
        if variant is None:
            position = max((v.position for v in siblings), default=-1) + 1
            # A pool of codes starts empty: its stock grows with the codes added to it.
            stock = 0 if goods.delivery == Delivery.CODE else row.stock
            added.setdefault(product, []).append(Variant(
                seller_id=run.seller_id, sku=row.sku, label=row.label, price=row.price, stock=stock,
                position=position, delivery=goods.delivery, content=content, content_type=content_type))
            report.created_variants += 1
            changed.add(product)
            if row.codes:
                codes.append((row.sku, row.codes, product, False))
            continue
        stock = variant.stock if goods.delivery == Delivery.CODE else row.stock
        variant_changed = (variant.price, variant.stock) != (row.price, stock) or (
            row.label and row.label != variant.label) or (
            goods.content is not None and (variant.content, variant.content_type) != goods.content)
        if variant_changed:
            if variant.price != row.price:
                repriced[variant.id] = row.price
            variant.price, variant.stock = row.price, stock
            variant.label = row.label or variant.label
            if goods.content is not None:
                variant.content, variant.content_type = goods.content
        if row.codes:
            codes.append((row.sku, row.codes, product, not (variant_changed or product_changed)))
        if variant_changed or product_changed:
            report.updated_variants += 1
            changed.add(product)
        elif not row.codes:
            report.unchanged += 1

    await session.flush()
    if added:
        await session.execute(insert(Variant), [
            {"product_id": product.id, "seller_id": v.seller_id, "sku": v.sku, "label": v.label, "price": v.price,
             "stock": v.stock, "position": v.position, "delivery": v.delivery, "content": v.content,
             "content_type": v.content_type}
            for product, variants in added.items() for v in variants])
        new_skus = [v.sku for variants in added.values() for v in variants]
        for batch in range(0, len(new_skus), 500):  # within the database's limit on bound parameters
            repriced.update((await session.execute(select(Variant.id, Variant.price).where(
                Variant.seller_id == run.seller_id, Variant.sku.in_(new_skus[batch:batch + 500])))).all())
    # The price history a flash deal is measured against: new variants' first prices and changed ones.
    await deals.record_prices(session, repriced, utcnow())
    for key, product in new_products.items():
        run.products[key] = product.id
    if codes:
        await _add_codes(session, run, codes, changed)
    if changed:
        await touch_products(session, sorted(p.id for p in changed))


async def _add_codes(session: AsyncSession, run: _Run, codes: list[tuple[str, tuple[str, ...], Product, bool]],
                     changed: set[Product]) -> None:
    """Add the batch's codes to their pools, in variant id order (the order checkouts lock variants in)."""
    report = run.report
    ids = {sku: variant_id for sku, variant_id in await session.execute(select(Variant.sku, Variant.id).where(
        Variant.seller_id == run.seller_id, Variant.sku.in_([sku for sku, *_ in codes])))}
    for sku, given, product, to_count in sorted(codes, key=lambda entry: ids[entry[0]]):
        result = await digital.add_codes(session, ids[sku], list(given))
        report.codes_added += result.added
        report.codes_already_in_pool += result.known
        if to_count and result.added:
            report.updated_variants += 1
            changed.add(product)
        elif to_count:
            report.unchanged += 1


async def import_rows(
    session: AsyncSession,
    seller_id: int,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    currency: str,
    dry_run: bool,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Import (line, row) pairs into a seller's catalog, committing per batch (a dry run rolls all back).

    ``session`` must not be inside a transaction: the import commits its own.
    ``progress`` is called with the number of rows done after each batch.
    Raises NotFound / NotAllowed when the seller is missing or not approved.
    """
    if session.in_transaction():
        raise RuntimeError("import_rows commits its own batches: pass a session outside a transaction")
    iterator = iter(rows)
    try:
        run = await _start(session, seller_id, currency, dry_run)
        while batch := list(islice(iterator, BATCH_SIZE)):
            await _import_batch(session, run, batch)
            run.report.rows += len(batch)
            if not dry_run:
                await session.commit()
            # Flushed rows are in the store (or, on a dry run, in the open transaction):
            # dropping the objects keeps memory flat however long the file is.
            session.expunge_all()
            if progress is not None:
                progress(len(batch))
            # On SQLite a batch runs without giving the event loop away (store.sqlite): let the
            # process's other tasks (the bot, the HTTP API) run between batches.
            await asyncio.sleep(0)
    finally:
        # A dry run ends here, as does an import that failed half-way (its
        # earlier batches stay committed: re-running the file is safe).
        await session.rollback()
    report = run.report
    logger.info("catalog import for seller %d%s: %d rows, %d products and %d variants created, %d variants "
                "updated, %d unchanged, %d rejected, %d codes added", seller_id, " (dry run)" if dry_run else "",
                report.rows, report.created_products, report.created_variants, report.updated_variants,
                report.unchanged, len(report.rejected), report.codes_added)
    return report


async def add_codes_to_sku(session: AsyncSession, seller_id: int, sku: str, codes: list[str]
                           ) -> tuple[str, digital.CodesAdded]:
    """Add cleaned codes to the pool of the seller's variant named by ``sku``; return the SKU as stored and
    what was added. Raises NotFound for a SKU the seller does not have."""
    try:
        sku = clean_sku(sku)
    except InvalidInput:
        raise NotFound(ErrorCode.SKU_UNKNOWN, sku=sku[:64]) from None
    found = (await session.execute(
        select(Variant.id, Product.status, Product.title).join(Product, Product.id == Variant.product_id)
        .where(Variant.seller_id == seller_id, Variant.sku == sku))).first()
    if found is None:
        raise NotFound(ErrorCode.SKU_UNKNOWN, sku=sku)
    variant_id, status, title = found
    if status == ProductStatus.REMOVED:
        raise InvalidInput(ErrorCode.SKU_OF_REMOVED_PRODUCT, sku=sku, title=title)
    return sku, await digital.add_codes(session, variant_id, codes)
