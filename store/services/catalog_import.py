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
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, InvalidInput, NotAllowed, NotFound
from store.models import Category, Product, Seller, Variant
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
from store.states import Approval, ProductStatus

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("sku", "title", "price", "stock")
OPTIONAL_COLUMNS = ("option", "category", "description", "brand", "photo", "product")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Where a row's fields beyond the header's go (read_csv); never a valid column name.
EXTRA_FIELDS = "(extra fields)"
# A new product without a category is filed here (created when missing).
DEFAULT_CATEGORY = "Other"
BATCH_SIZE = 500
# Column sizes of the store (models.py).
BRAND_MAX, PHOTO_MAX, CATEGORY_MAX, PRODUCT_KEY_MAX = 80, 512, 64, 120
# The product fields a row may set; rows of one product must agree on them.
PRODUCT_FIELDS = ("title", "description", "category", "brand", "photo")


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
    stock: int
    label: str
    category: str
    description: str
    brand: str
    photo: str


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


def _clean_stock(text: str) -> int:
    if not text.strip():
        raise InvalidInput(ErrorCode.STOCK_MISSING)
    return parse_stock(text)


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
                photo=clean["photo"])


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
    existing = {v.sku: v for v in await session.scalars(
        select(Variant).where(Variant.seller_id == run.seller_id, Variant.sku.in_([r.sku for r in rows]))
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
    changed: set[Product] = set()

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
        problem = problem or _conflict(run, row)
        if problem is not None:
            report.rejected.append(Rejected(row.line, row.raw_sku, (problem,)))
            continue

        if product is None:
            product = Product(seller_id=run.seller_id, title=row.title, description=row.description,
                              brand=row.brand or None, photo=row.photo or None, status=ProductStatus.ACTIVE,
                              category_id=await _category_id(session, run, row.category or DEFAULT_CATEGORY))
            session.add(product)
            new_products[row.key] = product
            report.created_products += 1
        product_changed = await _apply_product_fields(session, run, product, row)
        if variant is None:
            position = max((v.position for v in siblings), default=-1) + 1
            added.setdefault(product, []).append(Variant(seller_id=run.seller_id, sku=row.sku, label=row.label,
                                                         price=row.price, stock=row.stock, position=position))
            report.created_variants += 1
            changed.add(product)
            continue
        variant_changed = (variant.price, variant.stock) != (row.price, row.stock) or (
            row.label and row.label != variant.label)
        if variant_changed:
            variant.price, variant.stock = row.price, row.stock
            variant.label = row.label or variant.label
        if variant_changed or product_changed:
            report.updated_variants += 1
            changed.add(product)
        else:
            report.unchanged += 1

    await session.flush()
    if added:
        await session.execute(insert(Variant), [
            {"product_id": product.id, "seller_id": v.seller_id, "sku": v.sku, "label": v.label, "price": v.price,
             "stock": v.stock, "position": v.position}
            for product, variants in added.items() for v in variants])
    for key, product in new_products.items():
        run.products[key] = product.id
    if changed:
        await touch_products(session, sorted(p.id for p in changed))


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
    finally:
        # A dry run ends here, as does an import that failed half-way (its
        # earlier batches stay committed: re-running the file is safe).
        await session.rollback()
    report = run.report
    logger.info("catalog import for seller %d%s: %d rows, %d products and %d variants created, %d variants "
                "updated, %d unchanged, %d rejected", seller_id, " (dry run)" if dry_run else "", report.rows,
                report.created_products, report.created_variants, report.updated_variants, report.unchanged,
                len(report.rejected))
    return report
