"""Product search over the catalog, kept in step with the store.

:class:`CatalogSearch` owns one in-memory :class:`store.search.SearchIndex`
per process. Before answering it compares the store's catalog version with
the one it has loaded (at most once per ``refresh_interval`` seconds) and
reloads only the products changed since. A catalog change made by any process
therefore reaches every index within ``refresh_interval`` plus one reload.
It also keeps the process's product cards (:class:`ProductCards`), dropping
those of changed products on the same refresh; prices and stock are read from
the store on every use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.search import SearchDoc, SearchHit, SearchIndex, normalize
from store.services.catalog import ProductCards, ProductView, catalog_version, searchable_since, sold_out_products
from store.services.reviews import Rating, SellerScores, ratings

logger = logging.getLogger(__name__)

MAX_RESULTS = 50
# Points (of 100) a sold-out product's relevance loses: in-stock products of similar relevance go first.
SOLD_OUT_PENALTY = 15
STOCK_REFRESH = 10  # the sold-out products are read every this many refresh intervals (10 s by default)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The ranked product ids for a query (at most MAX_RESULTS), and close words when none matched."""

    query: str
    product_ids: tuple[int, ...]
    suggestions: tuple[str, ...] = ()


class CatalogSearch:
    """The search index of one process, refreshed from the store's catalog version."""

    def __init__(self, refresh_interval: float = 1.0) -> None:
        self.index = SearchIndex()
        self.cards = ProductCards()
        self.refresh_interval = refresh_interval
        self.version = -1
        # The sold-out products, read again every STOCK_REFRESH refresh intervals: ranking them lower
        # needs no query per search, and no lock is taken where stock changes.
        self.sold_out: set[int] = set()
        # The products with reviews and their ratings, read with the sold-out ones: the tie-break between
        # equally relevant products, and the stars a card or a result list shows, from memory.
        self.ratings: dict[int, Rating] = {}
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
                for product in changed:
                    if product.active:
                        self.index.upsert(SearchDoc(product.id, product.title, product.fields))
                    else:
                        self.index.remove(product.id)
                logger.info("search index at catalog version %d (%d products reloaded)", version, len(changed))
                self.version = version
            if force or changed_catalog or now - self._stock_checked_at >= self.refresh_interval * STOCK_REFRESH:
                self.sold_out = await sold_out_products(session)
                self.ratings = await ratings(session)
                self._stock_checked_at = now
            self._checked_at = time.monotonic()

    def _in_stock_first(self, hits: list[SearchHit]) -> tuple[int, ...]:
        """The hits in order of relevance, a sold-out product below in-stock ones of similar relevance; between
        products exactly as relevant, the better rated first (never above a more relevant one)."""
        sold_out, rated = self.sold_out, self.ratings
        no_rating = Rating(0, 0)
        ranked = sorted(hits, key=lambda hit: (
            -(hit.score - (SOLD_OUT_PENALTY if hit.product_id in sold_out else 0)),
            -rated.get(hit.product_id, no_rating).average))
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

    async def search(self, session: AsyncSession, query: str) -> SearchResult:
        """Return the products matching ``query``, best first."""
        await self.refresh(session)
        hits = self.index.search(query, limit=MAX_RESULTS)
        ids = self._in_stock_first(hits)
        suggestions = () if ids else tuple(self.index.suggest(query))
        return SearchResult(normalize(query), ids, suggestions)
