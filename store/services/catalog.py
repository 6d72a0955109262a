"""The catalog as shoppers see it: products, variants, categories, and the catalog version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.models import CatalogState, Category, FlashDeal, Product, Seller, Variant, utcnow
from store.services import deals
from store.states import Approval, ProductKind, ProductStatus


@dataclass(frozen=True, slots=True)
class VariantView:
    """One buyable option of a product."""

    id: int
    sku: str
    label: str
    price: int
    stock: int
    delivery: str | None = None  # a digital variant's Delivery (its stock, for codes, is the codes left)
    # While a flash deal is live, ``price`` is the deal's: the variant's own price, and when the deal ends.
    regular_price: int | None = None
    deal_ends: datetime | None = None

    @property
    def on_deal(self) -> bool:
        """Whether a flash deal prices the variant now."""
        return self.regular_price is not None


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product with its seller, category and variants, as a card shows it."""

    id: int
    title: str
    brand: str | None
    description: str
    photo: str | None
    status: str
    seller_id: int
    seller_name: str
    category_id: int
    category_name: str
    variants: tuple[VariantView, ...]
    commission_bp: int = 0  # creator commission: the product's own rate, else its seller's default
    kind: str = ProductKind.PHYSICAL

    @property
    def min_price(self) -> int:
        """The lowest variant price."""
        return min(v.price for v in self.variants) if self.variants else 0

    @property
    def max_price(self) -> int:
        """The highest variant price."""
        return max(v.price for v in self.variants) if self.variants else 0

    @property
    def stock(self) -> int:
        """Units in stock over all variants."""
        return sum(v.stock for v in self.variants)

    @property
    def has_options(self) -> bool:
        """True when the shopper must choose a variant (size, colour)."""
        return len(self.variants) > 1 or any(v.label for v in self.variants)

    def variant(self, variant_id: int) -> VariantView | None:
        """Return the variant with this id, if it belongs to the product."""
        return next((v for v in self.variants if v.id == variant_id), None)

    def default_variant(self) -> VariantView | None:
        """The variant a card shows first: the first one in stock, else the first."""
        return next((v for v in self.variants if v.stock > 0), self.variants[0] if self.variants else None)


@dataclass(frozen=True, slots=True)
class CategoryView:
    """A category with the number of active products in it."""

    id: int
    name: str
    product_count: int


def _product_query():
    return select(Product).options(
        selectinload(Product.variants), selectinload(Product.seller), selectinload(Product.category)
    )


def to_view(product: Product) -> ProductView:
    """Turn a loaded product row (variants, seller, category loaded) into a view."""
    return ProductView(
        id=product.id,
        title=product.title,
        brand=product.brand,
        description=product.description,
        photo=product.photo,
        status=product.status,
        seller_id=product.seller_id,
        seller_name=product.seller.name,
        category_id=product.category_id,
        category_name=product.category.name,
        variants=tuple(VariantView(v.id, v.sku, v.label, v.price, v.stock, v.delivery) for v in product.variants),
        commission_bp=product.commission_bp if product.commission_bp is not None else product.seller.commission_bp,
        kind=product.kind,
    )


async def get_product(session: AsyncSession, product_id: int, *, active_only: bool = True) -> ProductView | None:
    """Return a product's card data, or None when it does not exist (or is not on sale)."""
    product = await session.scalar(_product_query().where(Product.id == product_id))
    if product is None or (active_only and product.status != ProductStatus.ACTIVE):
        return None
    return to_view(product)


async def get_products(session: AsyncSession, ids: list[int], *, active_only: bool = True) -> dict[int, ProductView]:
    """Return the products with these ids (those that exist and, by default, are on sale)."""
    if not ids:
        return {}
    query = _product_query().where(Product.id.in_(ids))
    if active_only:
        query = query.where(Product.status == ProductStatus.ACTIVE)
    return {p.id: to_view(p) for p in await session.scalars(query)}


class ProductCards:
    """Product cards of one process, by id, with price and stock read fresh on every use.

    What changes only with the catalog version (titles, sellers, categories, variants, status) is
    kept in memory until :meth:`forget` is told the product changed; the owner follows the catalog
    version (:class:`store.services.search.CatalogSearch`). Price and stock, which orders change
    without a new catalog version, come from one plain SELECT per call.
    """

    def __init__(self) -> None:
        self._cards: dict[int, ProductView] = {}
        self._forgotten = 0  # how many times cards were dropped: a read that overlapped one is not kept

    def forget(self, product_ids: list[int] | None = None) -> None:
        """Drop these products' cards (all when None): they are read again on next use."""
        self._forgotten += 1
        if product_ids is None:
            self._cards.clear()
        else:
            for product_id in product_ids:
                self._cards.pop(product_id, None)

    async def get_many(self, session: AsyncSession, ids: list[int], *, active_only: bool = True,
                       now: datetime | None = None) -> dict[int, ProductView]:
        """Like :func:`get_products`, from memory plus one query for price and stock and one for the flash
        deals live at ``now`` (None: the wall clock), whose prices the variants show."""
        known = {i: self._cards[i] for i in ids if i in self._cards}
        missing = [i for i in ids if i not in known]
        if missing:
            before = self._forgotten
            loaded = {p.id: to_view(p) for p in await session.scalars(_product_query().where(Product.id.in_(missing)))}
            known.update(loaded)
            if self._forgotten == before:  # else a change was seen while reading: these may predate it
                self._cards.update(loaded)
        cards = [known[i] for i in ids if i in known and (not active_only or known[i].status == ProductStatus.ACTIVE)]
        if not cards:
            return {}
        fresh = {row.id: row for row in await session.execute(
            _PRICES, {"product_ids": [card.id for card in cards], "now": now or utcnow()})}
        return {card.id: replace(card, variants=tuple(_priced(v, fresh[v.id]) for v in card.variants if v.id in fresh))
                for card in cards}

    async def get(self, session: AsyncSession, product_id: int, *, active_only: bool = True,
                  now: datetime | None = None) -> ProductView | None:
        """Like :func:`get_product`, from memory plus one query for price and stock and one for flash deals."""
        return (await self.get_many(session, [product_id], active_only=active_only, now=now)).get(product_id)


# The variants' price and stock now, with their live flash deal (run with ``product_ids`` and ``now``; built
# once: every search results page and card reads it).
_PRICES = (select(Variant.id, Variant.price, Variant.stock, *deals.DEAL_COLUMNS)
           .outerjoin(FlashDeal, deals.LIVE_AT_NOW)
           .where(Variant.product_id.in_(bindparam("product_ids", expanding=True))))


def _priced(variant: VariantView, row) -> VariantView:  # type: ignore[no-untyped-def]
    """A variant with its price and stock now (a row of the variant with the deal's columns): a live flash
    deal's price, its own kept beside it."""
    deal = deals.live_of(row, row.id)
    if deal is None:
        return replace(variant, price=row.price, stock=row.stock)
    return replace(variant, price=deal.price, stock=row.stock, regular_price=row.price, deal_ends=deal.ends_at)


async def list_categories(session: AsyncSession) -> list[CategoryView]:
    """Return the categories that have products on sale, in display order."""
    count = func.count(Product.id)
    rows = await session.execute(
        select(Category.id, Category.name, count)
        .join(Product, (Product.category_id == Category.id) & (Product.status == ProductStatus.ACTIVE))
        .group_by(Category.id, Category.name, Category.position)
        .order_by(Category.position, Category.name)
    )
    return [CategoryView(cid, name, n) for cid, name, n in rows]


async def category_page(
    session: AsyncSession, category_id: int, offset: int, limit: int
) -> tuple[CategoryView, list[ProductView]] | None:
    """Return a category and one page of its products on sale (by title), or None if it is unknown."""
    category = await session.get(Category, category_id)
    if category is None:
        return None
    total = await session.scalar(
        select(func.count(Product.id)).where(Product.category_id == category_id, Product.status == ProductStatus.ACTIVE)
    )
    products = await session.scalars(
        _product_query()
        .where(Product.category_id == category_id, Product.status == ProductStatus.ACTIVE)
        .order_by(Product.title, Product.id)
        .offset(offset)
        .limit(limit)
    )
    return CategoryView(category.id, category.name, total or 0), [to_view(p) for p in products]


async def seller_page(session: AsyncSession, seller_id: int, offset: int,
                      limit: int) -> tuple[str, int, list[ProductView]] | None:
    """An approved seller's name, how many products it has on sale, and one page of them (by title); None for a
    seller shoppers can't see."""
    name = await session.scalar(select(Seller.name).where(Seller.id == seller_id, Seller.status == Approval.APPROVED))
    if name is None:
        return None
    on_sale = (Product.seller_id == seller_id, Product.status == ProductStatus.ACTIVE)
    total = await session.scalar(select(func.count(Product.id)).where(*on_sale)) or 0
    products = await session.scalars(_product_query().where(*on_sale).order_by(Product.title, Product.id)
                                     .offset(offset).limit(limit))
    return name, total, [to_view(p) for p in products]


async def sold_out_products(session: AsyncSession) -> set[int]:
    """The products none of whose options has a unit in stock (one pass over the variants)."""
    rows = await session.scalars(select(Variant.product_id).group_by(Variant.product_id)
                                 .having(func.max(Variant.stock) <= 0))
    return set(rows)


async def catalog_version(session: AsyncSession) -> int:
    """Return the current catalog version."""
    return await session.scalar(select(CatalogState.version).where(CatalogState.id == 1)) or 0


async def bump_catalog_version(session: AsyncSession) -> int:
    """Advance the catalog version (every process's search index then reloads what changed)."""
    version = await session.scalar(
        update(CatalogState).where(CatalogState.id == 1).values(version=CatalogState.version + 1)
        .returning(CatalogState.version)
    )
    if version is None:
        session.add(CatalogState(id=1, version=1))
        await session.flush()
        version = 1
    return version


async def touch_products(session: AsyncSession, product_ids: list[int]) -> int:
    """Record that these products changed: they get the new catalog version."""
    version = await bump_catalog_version(session)
    await session.execute(update(Product).where(Product.id.in_(product_ids)).values(catalog_version=version))
    return version


@dataclass(frozen=True, slots=True)
class SearchableProduct:
    """The searchable text of a product changed since some catalog version."""

    id: int
    title: str
    active: bool
    fields: tuple[str, ...]


async def searchable_since(session: AsyncSession, version: int) -> list[SearchableProduct]:
    """Every product (on sale or not) changed after catalog ``version``, with its searchable text.

    Plain column reads, no ORM objects: a first load of 50,000 products runs at start-up.
    """
    rows = (await session.execute(
        select(Product.id, Product.title, Product.brand, Product.status, Category.name, Seller.name)
        .join(Category, Category.id == Product.category_id).join(Seller, Seller.id == Product.seller_id)
        .where(Product.catalog_version > version).order_by(Product.id))).all()
    labels: dict[int, set[str]] = {}
    label_rows = await session.execute(
        select(Variant.product_id, Variant.label)
        .join(Product, Product.id == Variant.product_id)
        .where(Product.catalog_version > version, Variant.label != ""))
    for product_id, label in label_rows:
        labels.setdefault(product_id, set()).add(label)
    return [SearchableProduct(pid, title, status == ProductStatus.ACTIVE,
                              tuple(f for f in (brand or "", category, seller, *sorted(labels.get(pid, ()))) if f))
            for pid, title, brand, status, category, seller in rows]
