"""Product search over the catalog, kept in step with the store.

:class:`CatalogSearch` owns one in-memory :class:`store.search.SearchIndex`
per process. Before answering it compares the store's catalog version with
the one it has loaded (at most once per ``refresh_interval`` seconds) and
reloads only the products changed since. A catalog change made by any process
therefore reaches every index within ``refresh_interval`` plus one reload.
It also keeps the process's product cards (:class:`ProductCards`), dropping
those of changed products on the same refresh; prices and stock are read from
the store on every use.

A query may carry filters in plain words (:mod:`store.services.query_filters`):
a price ("under 30"), option words ("red", "size M") that narrow the results
to products with a variant so labelled, and a category word ("shoes") that
keeps the results inside that category when the rest of the query matches
there. To apply them from memory it keeps, per product, its category, title
words and variants (label words, price), loaded with the index on each
catalog change.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Category, Order, OrderLine, Product, Variant, utcnow
from store.search import SearchDoc, SearchHit, SearchIndex, normalize
from store.services.catalog import ProductCards, ProductView, catalog_version, searchable_since, sold_out_products
from store.services.deals import live_prices
from store.services.query_filters import (
    ParsedQuery,
    PriceRange,
    category_of_word,
    category_words,
    in_title,
    label_words,
    option_match,
    parse_query,
)
from store.services.reviews import Rating, SellerScores, ratings
from store.states import OrderStatus

logger = logging.getLogger(__name__)

MAX_RESULTS = 50
# Points (of 100) a sold-out product's relevance loses: in-stock products of similar relevance go first.
SOLD_OUT_PENALTY = 15
STOCK_REFRESH = 10  # the sold-out products are read every this many refresh intervals (10 s by default)
# How many hits of the index a filtered query looks through at first (filters drop many, the rest still fill
# a list), and at most, five times more each round while too few pass.
FILTER_POOL = 200
FILTER_POOL_MAX = 25_000
SALES_WINDOW = timedelta(days=30)  # units sold in this window break ties of relevance
# Orders that count as sold (not those unpaid, expired or called off).
SOLD_STATES = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.ACCEPTED, OrderStatus.SHIPPED,
               OrderStatus.DELIVERED)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The ranked product ids for a query (at most MAX_RESULTS), and close words when none matched.

    With filters: ``price`` the price range applied, ``category`` the category kept to (its name),
    ``options`` the option words that narrowed the results and ``variants`` the variant each product's
    card opens on (product id -> variant id).
    """

    query: str
    product_ids: tuple[int, ...]
    suggestions: tuple[str, ...] = ()
    words: str = ""  # the words searched for, without the price
    price: PriceRange | None = None
    category: str | None = None
    options: tuple[str, ...] = ()
    variants: Mapping[int, int] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        """Whether a filter narrowed the results (searching without it may find more)."""
        return self.price is not None or self.category is not None or bool(self.options)


class _Known:
    """The words some variant label of a product on sale has (a Counter's keys counted above zero)."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def __contains__(self, word: object) -> bool:
        return self.counts.get(word, 0) > 0  # type: ignore[arg-type]


class _VariantFacts(NamedTuple):
    id: int
    words: frozenset[str]  # of its label
    price: int
    in_stock: bool  # as of the last catalog change: only which matching option a card opens on


class _ProductFacts(NamedTuple):
    category_id: int
    title_words: frozenset[str]
    variants: tuple[_VariantFacts, ...]


async def _facts_of(session: AsyncSession, product_ids: list[int]) -> dict[int, _ProductFacts]:
    """What the filters need of these products (two plain queries, no ORM objects)."""
    if not product_ids:
        return {}
    variants: dict[int, list[_VariantFacts]] = {}
    products = []
    for start in range(0, len(product_ids), 5000):  # under every database's limit on bound parameters
        chunk = product_ids[start:start + 5000]
        products += (await session.execute(
            select(Product.id, Product.category_id, Product.title).where(Product.id.in_(chunk)))).all()
        rows = await session.execute(
            select(Variant.product_id, Variant.id, Variant.label, Variant.price, Variant.stock)
            .where(Variant.product_id.in_(chunk)).order_by(Variant.product_id, Variant.position, Variant.id))
        for product_id, variant_id, label, price, stock in rows:
            variants.setdefault(product_id, []).append(_VariantFacts(variant_id, label_words(label), price, stock > 0))
    # Title words are interned (the catalog repeats them), label words shared by label (label_words caches).
    return {pid: _ProductFacts(category_id, frozenset(sys.intern(word) for word in normalize(title).split()),
                               tuple(variants.get(pid, ())))
            for pid, category_id, title in products}


async def units_sold(session: AsyncSession, since: datetime) -> dict[int, int]:
    """Units of each product sold since ``since`` (one aggregate query: search breaks ties by it)."""
    sold = func.sum(OrderLine.quantity - OrderLine.returned)
    rows = await session.execute(
        select(OrderLine.product_id, sold).join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at >= since, Order.status.in_(SOLD_STATES))
        .group_by(OrderLine.product_id))
    return {product_id: int(units) for product_id, units in rows if units and units > 0}


class CatalogSearch:
    """The search index of one process, refreshed from the store's catalog version."""

    def __init__(self, refresh_interval: float = 1.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.index = SearchIndex()
        self.clock = clock
        self.cards = ProductCards()
        self.refresh_interval = refresh_interval
        self.version = -1
        # The sold-out products, read again every STOCK_REFRESH refresh intervals: ranking them lower
        # needs no query per search, and no lock is taken where stock changes.
        self.sold_out: set[int] = set()
        # The products with reviews and their ratings, read with the sold-out ones: the tie-break between
        # equally relevant products, and the stars a card or a result list shows, from memory.
        self.ratings: dict[int, Rating] = {}
        # Units each product sold in the last SALES_WINDOW, read with the ratings: the next tie-break.
        self.sold: dict[int, int] = {}
        # The variants at a live flash deal and the deal's price, read with them (a price filter reads it).
        self.deal_prices: dict[int, int] = {}
        # What the filters read, by product on sale (see _facts_of), the words of every variant label with
        # how many products have them, and the words naming a category.
        self.facts: dict[int, _ProductFacts] = {}
        self.label_vocabulary: Counter[str] = Counter()
        self.labels: Container[str] = _Known(self.label_vocabulary)
        self.category_names: dict[int, str] = {}
        self.category_by_word: dict[str, int] = {}
        # The sellers' scores, each read at most every few minutes (store/services/reviews.py).
        self.scores = SellerScores()
        self._stock_checked_at = float("-inf")
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    def mark_stale(self) -> None:
        """Check the catalog version on the next search (after a change made in this process)."""
        self._checked_at = float("-inf")

    def mark_ratings_stale(self) -> None:
        """Read the ratings again on the next use (after a review changed in this process)."""
        self._checked_at = self._stock_checked_at = float("-inf")

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> None:
        """Load the products changed since the version this index has seen."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_interval:
            return
        async with self._lock:
            if not force and now - self._checked_at < self.refresh_interval:
                return
            version = await catalog_version(session)
            changed_catalog = version != self.version
            if changed_catalog:
                changed = await searchable_since(session, self.version if self.version >= 0 else -1)
                self.cards.forget([product.id for product in changed] if self.version >= 0 else None)
                facts = await _facts_of(session, [product.id for product in changed if product.active])
                for product in changed:
                    if product.active:
                        self.index.upsert(SearchDoc(product.id, product.title, product.fields))
                    else:
                        self.index.remove(product.id)
                    self._set_facts(product.id, facts.get(product.id))
                self.category_names = {cid: name for cid, name in await session.execute(
                    select(Category.id, Category.name))}
                self.category_by_word = category_words(self.category_names)
                logger.info("search index at catalog version %d (%d products reloaded)", version, len(changed))
                self.version = version
            if force or changed_catalog or now - self._stock_checked_at >= self.refresh_interval * STOCK_REFRESH:
                self.sold_out = await sold_out_products(session)
                self.ratings = await ratings(session)
                self.sold = await units_sold(session, self.clock() - SALES_WINDOW)
                self.deal_prices = await live_prices(session, self.clock())
                self._stock_checked_at = now
            self._checked_at = time.monotonic()

    def _set_facts(self, product_id: int, facts: _ProductFacts | None) -> None:
        """Replace what the filters know of a product (None: it is not on sale)."""
        old = self.facts.pop(product_id, None)
        if old is not None:
            self.label_vocabulary.subtract(frozenset().union(*(v.words for v in old.variants)))
        if facts is not None:
            self.facts[product_id] = facts
            self.label_vocabulary.update(frozenset().union(*(v.words for v in facts.variants)))

    def rank(self, hits: Iterable[SearchHit]) -> tuple[int, ...]:
        """The hits in order of relevance, a sold-out product below in-stock ones of similar relevance; between
        products exactly as relevant, the one that sold more units in the last 30 days first, then the better
        rated (never above a more relevant one)."""
        sold_out, rated, sold = self.sold_out, self.ratings, self.sold
        no_rating = Rating(0, 0)
        # The product id last: products alike in every way keep one order from page to page and process to
        # process.
        ranked = sorted(hits, key=lambda hit: (
            -(hit.score - (SOLD_OUT_PENALTY if hit.product_id in sold_out else 0)),
            -sold.get(hit.product_id, 0),
            -rated.get(hit.product_id, no_rating).average,
            hit.product_id))
        return tuple(hit.product_id for hit in ranked)

    async def products(self, session: AsyncSession, ids: list[int], *, active_only: bool = True,
                       now: datetime | None = None) -> dict[int, ProductView]:
        """The cards of these products (those that exist and, by default, are on sale), priced at ``now``
        (a live flash deal's price; None: the wall clock)."""
        await self.refresh(session)
        return await self.cards.get_many(session, ids, active_only=active_only, now=now)

    async def product(self, session: AsyncSession, product_id: int, *, active_only: bool = True,
                      now: datetime | None = None) -> ProductView | None:
        """One product's card, or None when it does not exist (or is not on sale)."""
        return (await self.products(session, [product_id], active_only=active_only, now=now)).get(product_id)

    async def search(self, session: AsyncSession, query: str, *, currency: str | None = None,
                     language: str | None = None, filters: bool = True) -> SearchResult:
        """Return the products matching ``query``, best first, narrowed by the filters it states in plain words
        (a price in ``currency``, written ``language``'s way; options; a category) unless ``filters`` is False
        or no currency is given."""
        await self.refresh(session)
        if not filters or currency is None:
            return self._plain(query)
        parsed = self.read(query, currency, language)
        words = parsed.words.split()
        options = tuple(w for w in dict.fromkeys(words) if self.label_vocabulary.get(w, 0) > 0)
        named = category_of_word(parsed.words, self.category_by_word)
        if parsed.price is None and not options and named is None:
            return self._plain(query)
        return self._filtered(query, parsed, options, named)

    def read(self, query: str, currency: str, language: str | None) -> ParsedQuery:
        """A query's words and price (store.services.query_filters.parse_query), with the catalog's say on a
        bare range: "jeans 32-34" names sizes when what the words find comes in those numbers."""
        parsed = parse_query(query, currency, language, self.labels)
        if parsed.bare and parsed.words:
            for hit in self.index.search(parsed.words, limit=FILTER_POOL):
                facts = self.facts.get(hit.product_id)
                if facts is not None and any(number in variant.words for variant in facts.variants
                                             for number in parsed.bare):
                    return parsed.without_price()
        return parsed

    def _plain(self, query: str) -> SearchResult:
        """The products matching ``query`` as words only."""
        hits = self.index.search(query, limit=MAX_RESULTS)
        ids = self.rank(hits)
        suggestions = () if ids else tuple(self.index.suggest(query))
        words = normalize(query)
        return SearchResult(words, ids, suggestions, words=words)

    def _filtered(self, query: str, parsed: ParsedQuery, options: tuple[str, ...],
                  named: tuple[int, str] | None) -> SearchResult:
        """The products matching ``parsed``'s words that pass its filters.

        The index's hits are looked through FILTER_POOL at a time, then five times as many, until MAX_RESULTS
        pass or every match was seen: a filter that keeps few of many matches ("hoodie under 20" among a
        thousand hoodies) still finds them."""
        pool = FILTER_POOL
        while True:
            if parsed.words:
                hits = found = self.index.search(parsed.words, limit=pool)
                # Past the first pool, the index's weaker guesses (close titles, typos) would crowd in: only
                # titles that have every word count there.
                hits = hits[:FILTER_POOL] + [hit for hit in hits[FILTER_POOL:]
                                             if self._titled(hit.product_id, parsed.words)]
            else:  # only a price ("under 20"): every product on sale, by the tie-breakers
                hits = found = [SearchHit(pid, 0.0) for pid in self.facts]
            category = None
            if named is not None:
                category_id, rest = named
                in_category = self.index.search(rest, limit=pool) if rest else hits
                inside = [hit for hit in in_category if self._category(hit.product_id) == category_id]
                if inside:
                    # The rest of the query matches inside the category: keep to it. The whole query's own hits
                    # there count too when their titles have the rest's words ("cook book": the cookbooks).
                    seen = {hit.product_id for hit in inside}
                    inside += [hit for hit in hits if hit.product_id not in seen
                               and self._category(hit.product_id) == category_id and self._titled(hit.product_id, rest)]
                    hits, category = inside, self.category_names.get(category_id)
            kept, picked = self._pass(hits, parsed.price, options)
            if options and not any(self._needed_variant(pid, options) for pid in picked):
                # No option word picked a variant (they are all in the titles, or in no label): words only.
                options = ()
                kept, picked = self._pass(hits, parsed.price, ())
            if len(kept) >= MAX_RESULTS or len(found) < pool or not parsed.words or pool >= FILTER_POOL_MAX:
                break
            pool *= 5
        ids = self.rank(kept)[:MAX_RESULTS]
        suggestions = () if ids or not parsed.words else tuple(self.index.suggest(parsed.words))
        return SearchResult(normalize(query), ids, suggestions, words=parsed.words, price=parsed.price,
                            category=category, options=options,
                            variants={pid: picked[pid] for pid in ids if pid in picked})

    def _needed_variant(self, product_id: int, options: tuple[str, ...]) -> bool:
        """Whether some option word is not in the product's title (so its variant was picked by them)."""
        facts = self.facts.get(product_id)
        return facts is not None and any(not in_title(w, facts.title_words) for w in options)

    def _titled(self, product_id: int, words: str) -> bool:
        """Whether every one of ``words`` starts a word of the product's title."""
        facts = self.facts.get(product_id)
        return facts is not None and all(any(title_word.startswith(word) for title_word in facts.title_words)
                                         for word in words.split())

    def _category(self, product_id: int) -> int | None:
        facts = self.facts.get(product_id)
        return facts.category_id if facts is not None else None

    def _pass(self, hits: list[SearchHit], price: PriceRange | None,
              options: tuple[str, ...]) -> tuple[list[SearchHit], dict[int, int]]:
        """The hits with a variant within ``price`` that has the ``options`` (see option_match), and the
        variant picked for each that needed one."""
        kept: list[SearchHit] = []
        picked: dict[int, int] = {}
        for hit in hits:
            facts = self.facts.get(hit.product_id)
            if facts is None:
                continue
            # At a live flash deal's price, as the shopper would pay it.
            variants = [v for v in facts.variants
                        if price is None or price.admits(self.deal_prices.get(v.id, v.price))]
            if not variants:
                continue
            passes, variant_id = option_match(options, facts.title_words,
                                              ((v.id, v.words, v.in_stock) for v in variants))
            if passes:
                kept.append(hit)
                if variant_id is None and len(variants) < len(facts.variants):
                    variant_id = variants[0].id  # the card opens on an option within the price
                if variant_id is not None:
                    picked[hit.product_id] = variant_id
        return kept, picked
