"""Flash deals: a variant at a lower price for a while, honest against its price history.

A seller schedules a deal on one of their variants (:func:`schedule`): its price must be below the
lowest price the variant had in the 30 days before the deal starts (:func:`lowest_price`, from the
price history every price change records with :func:`record_price`), it lasts at most 72 hours, and a
variant has one deal at a time. While a deal is live (started, not ended, not cancelled, its cap not
used up) the cart and checkout price the variant at the deal's price (:func:`live_for`); checkout
holds the units bought at that price (:func:`claim`), an order that ends gives them back
(:func:`give_back`). Shoppers may ask to be told when an upcoming deal starts (:func:`remind`); a job
writes those messages once the deal has started (:func:`announce_started`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode, Expired, InvalidInput, NotFound, ShopError
from store.models import DealReminder, FlashDeal, Order, PriceChange, Product, Seller, UTCDateTime, Variant
from store.services import outbox
from store.states import Notice, OutboxChannel, ProductStatus

if TYPE_CHECKING:
    from store.services.cart import CartLineView

DEAL_MAX = timedelta(hours=72)
HONEST_WINDOW = timedelta(days=30)  # the deal beats every price of this long before it starts
START_GRACE = timedelta(minutes=1)  # a start typed as "now" a moment ago is still now
START_AHEAD_MAX = timedelta(days=30)  # how far ahead a deal may be scheduled (the history it beats is recent)
CAP_MAX = 100_000
LISTED_MAX = 20  # deals /deals shows (a button each)


@dataclass(frozen=True, slots=True)
class LiveDeal:
    """A deal live now on a variant: its price, when it ends, units left at that price (None: no cap)."""

    id: int
    variant_id: int
    price: int
    ends_at: datetime
    left: int | None

    def covers(self, quantity: int) -> bool:
        """Whether ``quantity`` units can still be had at the deal's price."""
        return self.left is None or quantity <= self.left


@dataclass(frozen=True, slots=True)
class DealView:
    """A deal as its seller and shoppers read it."""

    id: int
    variant_id: int
    product_id: int
    title: str
    label: str
    seller_name: str
    price: int
    regular_price: int  # the variant's own price now
    starts_at: datetime
    ends_at: datetime
    cap: int | None
    sold: int

    def live(self, now: datetime) -> bool:
        """Started, not ended, units left at its price."""
        return self.starts_at <= now < self.ends_at and (self.cap is None or self.sold < self.cap)


_VIEW_COLUMNS = (FlashDeal.id, FlashDeal.variant_id, Variant.product_id, Product.title, Variant.label,
                 Seller.name, FlashDeal.price, Variant.price, FlashDeal.starts_at, FlashDeal.ends_at,
                 FlashDeal.cap, FlashDeal.sold)


def _views_query():  # type: ignore[no-untyped-def]
    return (select(*_VIEW_COLUMNS).join(Variant, Variant.id == FlashDeal.variant_id)
            .join(Product, Product.id == Variant.product_id).join(Seller, Seller.id == Product.seller_id))


def _view(row) -> DealView:  # type: ignore[no-untyped-def]
    return DealView(*row)


# --- the price history --------------------------------------------------------------------------


async def record_price(session: AsyncSession, variant_id: int, price: int, now: datetime) -> bool:
    """Record a variant's price from ``now`` on, if it differs from the last one recorded (a new variant:
    its first price); returns whether a row was written."""
    last = await session.scalar(select(PriceChange.price).where(PriceChange.variant_id == variant_id)
                                .order_by(PriceChange.changed_at.desc(), PriceChange.id.desc()).limit(1))
    if last == price:
        return False
    session.add(PriceChange(variant_id=variant_id, price=price, changed_at=now))
    return True


async def record_prices(session: AsyncSession, prices: dict[int, int], now: datetime) -> None:
    """Record prices known to be new (a new variant's, a price changed from another), by variant id, in one
    statement (a catalog import's thousands of rows)."""
    if prices:
        await session.execute(insert(PriceChange), [
            {"variant_id": variant_id, "price": price, "changed_at": now}
            for variant_id, price in sorted(prices.items())])


async def lowest_price(session: AsyncSession, variant_id: int, starts_at: datetime) -> int | None:
    """The lowest price the variant had in the 30 days before ``starts_at``: the price in effect when
    they began, every change within them, and its price now (None: an unknown variant)."""
    since = starts_at - HONEST_WINDOW
    in_effect = await session.scalar(
        select(PriceChange.price).where(PriceChange.variant_id == variant_id, PriceChange.changed_at <= since)
        .order_by(PriceChange.changed_at.desc(), PriceChange.id.desc()).limit(1))
    changed = await session.scalar(select(func.min(PriceChange.price)).where(
        PriceChange.variant_id == variant_id, PriceChange.changed_at > since, PriceChange.changed_at <= starts_at))
    current = await session.scalar(select(Variant.price).where(Variant.id == variant_id))
    prices = [price for price in (in_effect, changed, current) if price is not None]
    return min(prices) if prices else None


# --- scheduling ----------------------------------------------------------------------------------


def check_start(starts_at: datetime, now: datetime) -> None:
    """A deal starts now or later, and at most 30 days ahead."""
    if starts_at < now - START_GRACE:
        raise InvalidInput(ErrorCode.DEAL_STARTS_IN_PAST)
    if starts_at > now + START_AHEAD_MAX:
        raise InvalidInput(ErrorCode.DEAL_STARTS_TOO_LATE, days=START_AHEAD_MAX.days)


async def schedule(session: AsyncSession, seller_id: int, variant_id: int, *, price: int, starts_at: datetime,
                   ends_at: datetime, cap: int | None, now: datetime, currency: str) -> DealView:
    """Schedule a flash deal on one of the seller's variants, by the rules above (refused with a reason;
    ``currency``: the shop's, to say a price in)."""
    variant = await session.scalar(select(Variant).where(Variant.id == variant_id).with_for_update())
    if variant is None or variant.seller_id != seller_id:
        raise NotFound(ErrorCode.PRODUCT_NOT_YOURS)
    if price <= 0:
        raise InvalidInput(ErrorCode.PRICE_ZERO)
    check_start(starts_at, now)
    if ends_at <= starts_at:
        raise InvalidInput(ErrorCode.DEAL_ENDS_BEFORE_START)
    if ends_at - starts_at > DEAL_MAX:
        raise InvalidInput(ErrorCode.DEAL_TOO_LONG, hours=int(DEAL_MAX.total_seconds()) // 3600)
    if cap is not None and not 1 <= cap <= CAP_MAX:
        raise InvalidInput(ErrorCode.DEAL_CAP_INVALID, max=CAP_MAX)
    lowest = await lowest_price(session, variant_id, starts_at)
    if lowest is not None and price >= lowest:
        raise InvalidInput(ErrorCode.DEAL_NOT_LOWER, lowest=lowest, currency=currency)
    overlapping = await session.scalar(select(FlashDeal.id).where(
        FlashDeal.variant_id == variant_id, FlashDeal.cancelled_at.is_(None),
        FlashDeal.starts_at < ends_at, FlashDeal.ends_at > starts_at).limit(1))
    if overlapping is not None:
        raise InvalidInput(ErrorCode.DEAL_OVERLAPS)
    deal = FlashDeal(variant_id=variant_id, seller_id=seller_id, price=price, starts_at=max(starts_at, now),
                     ends_at=ends_at, cap=cap, sold=0, created_at=now)
    session.add(deal)
    await session.flush()
    return await deal_view(session, deal.id)


async def deal_view(session: AsyncSession, deal_id: int) -> DealView:
    """One deal (NotFound: no such deal)."""
    row = (await session.execute(_views_query().where(FlashDeal.id == deal_id))).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.DEAL_UNKNOWN)
    return _view(row)


async def cancel(session: AsyncSession, seller_id: int, deal_id: int, now: datetime) -> DealView:
    """The seller calls off one of their deals that has not ended (orders placed at its price keep it)."""
    cancelled = await session.execute(
        update(FlashDeal).where(FlashDeal.id == deal_id, FlashDeal.seller_id == seller_id,
                                FlashDeal.cancelled_at.is_(None), FlashDeal.ends_at > now)
        .values(cancelled_at=now))
    if cancelled.rowcount != 1:
        raise NotFound(ErrorCode.DEAL_UNKNOWN)
    return await deal_view(session, deal_id)


async def current_deal(session: AsyncSession, variant_id: int, now: datetime) -> DealView | None:
    """The variant's deal that is live or yet to come (not cancelled), if any."""
    row = (await session.execute(_views_query().where(
        FlashDeal.variant_id == variant_id, FlashDeal.cancelled_at.is_(None), FlashDeal.ends_at > now)
        .order_by(FlashDeal.starts_at).limit(1))).one_or_none()
    return _view(row) if row is not None else None


# --- what shoppers pay and see ----------------------------------------------------------------------


def _live(now: datetime):  # type: ignore[no-untyped-def]
    """A deal is live: started, not ended or cancelled, units left, and (the variant joined) still below the
    variant's own price: a price lowered since the deal was scheduled is never charged more than."""
    return (FlashDeal.cancelled_at.is_(None), FlashDeal.starts_at <= now, FlashDeal.ends_at > now,
            or_(FlashDeal.cap.is_(None), FlashDeal.sold < FlashDeal.cap), FlashDeal.price < Variant.price)


# A variant's live deal as columns of a query that reads variants: outer-joined on :func:`live_on`, so the
# prices shoppers see and pay come with the variants' own row, not from a query of their own (a search
# results page, a card, a cart are read on most updates). At most one deal of a variant is live (no overlaps).
DEAL_COLUMNS = (FlashDeal.id.label("deal_id"), FlashDeal.price.label("deal_price"),
                FlashDeal.ends_at.label("deal_ends"), FlashDeal.cap.label("deal_cap"),
                FlashDeal.sold.label("deal_sold"))


def live_on(now: datetime):  # type: ignore[no-untyped-def]
    """The condition joining a variant (``Variant`` in the query) to its deal live at ``now``."""
    return and_(FlashDeal.variant_id == Variant.id, *_live(now))


# The same, for a statement built once: the moment is the ``now`` parameter of its execution (a statement
# built per call costs more to build than its join costs to run).
LIVE_AT_NOW = live_on(bindparam("now", type_=UTCDateTime))


def live_of(row, variant_id: int) -> LiveDeal | None:  # type: ignore[no-untyped-def]
    """The live deal in a row read with :data:`DEAL_COLUMNS`, if the variant has one."""
    if row.deal_id is None:
        return None
    left = None if row.deal_cap is None else row.deal_cap - row.deal_sold
    return LiveDeal(row.deal_id, variant_id, row.deal_price, row.deal_ends, left)


async def live_prices(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Every variant's price at a deal live at ``now``, by variant (one query: few deals are live at once)."""
    rows = await session.execute(select(Variant.id, FlashDeal.price).join(FlashDeal, live_on(now)))
    return {variant_id: price for variant_id, price in rows}


async def live_for(session: AsyncSession, variant_ids: list[int], now: datetime) -> dict[int, LiveDeal]:
    """The live deals of these variants, by variant (one query)."""
    if not variant_ids:
        return {}
    rows = await session.execute(select(Variant.id, *DEAL_COLUMNS).join(FlashDeal, live_on(now))
                                 .where(Variant.id.in_(sorted(set(variant_ids)))))
    return {row.id: deal for row in rows if (deal := live_of(row, row.id)) is not None}


async def listing(session: AsyncSession, now: datetime, limit: int = LISTED_MAX) -> list[DealView]:
    """Deals of products on sale that are live now (ending soonest first), then those to come (starting
    soonest first)."""
    on_sale = (Product.status == ProductStatus.ACTIVE, FlashDeal.cancelled_at.is_(None))
    live = await session.execute(_views_query().where(*on_sale, *_live(now)).order_by(FlashDeal.ends_at,
                                                                                       FlashDeal.id).limit(limit))
    found = [_view(row) for row in live]
    if len(found) < limit:
        upcoming = await session.execute(_views_query().where(*on_sale, FlashDeal.starts_at > now)
                                         .order_by(FlashDeal.starts_at, FlashDeal.id).limit(limit - len(found)))
        found += [_view(row) for row in upcoming]
    return found


# --- reminders ---------------------------------------------------------------------------------------


async def remind(session: AsyncSession, deal_id: int, user_id: int, now: datetime) -> DealView:
    """Ask to be told when an upcoming deal starts (once: a second ask is refused as already set)."""
    deal = await session.get(FlashDeal, deal_id)
    on_sale = deal is not None and await session.scalar(
        select(Product.status).join(Variant, Variant.product_id == Product.id)
        .where(Variant.id == deal.variant_id)) == ProductStatus.ACTIVE
    if deal is None or deal.cancelled_at is not None or not on_sale:
        raise NotFound(ErrorCode.DEAL_UNKNOWN)
    if deal.starts_at <= now:
        raise Expired(ErrorCode.DEAL_NOT_UPCOMING)
    if await session.get(DealReminder, (deal_id, user_id)) is not None:
        raise ShopError(ErrorCode.DEAL_REMINDER_SET)
    session.add(DealReminder(deal_id=deal_id, user_id=user_id, created_at=now))
    await session.flush()
    return await deal_view(session, deal_id)


async def announce_started(session: AsyncSession, now: datetime, currency: str, batch: int = 50) -> int:
    """Write the reminders of deals that have started (each deal once, each reminder once by its outbox
    key; ``currency``: the shop's, to say the prices in); a deal that ended or was cancelled before this ran
    is marked without messages. Returns how many deals were marked (``batch``: perhaps more are due)."""
    due = list(await session.scalars(select(FlashDeal.id).where(
        FlashDeal.announced_at.is_(None), FlashDeal.starts_at <= now).order_by(FlashDeal.id).limit(batch)))
    for deal_id in due:
        taken = await session.execute(update(FlashDeal).where(FlashDeal.id == deal_id,
                                                              FlashDeal.announced_at.is_(None))
                                      .values(announced_at=now).returning(FlashDeal.ends_at, FlashDeal.cancelled_at))
        row = taken.one_or_none()
        if row is None or row.cancelled_at is not None or row.ends_at <= now:
            continue
        for user_id in await session.scalars(select(DealReminder.user_id).where(DealReminder.deal_id == deal_id)
                                             .order_by(DealReminder.user_id)):
            await outbox.enqueue(session, key=f"deal-{deal_id}-starts-{user_id}", channel=OutboxChannel.TELEGRAM,
                                 template=Notice.DEAL_STARTED, payload={"deal_id": deal_id, "currency": currency},
                                 chat_id=user_id, now=now)
    return len(due)


# --- checkout's hooks ------------------------------------------------------------------------------


async def claim(session: AsyncSession, lines: tuple[CartLineView, ...], now: datetime) -> None:
    """Hold the units bought at a deal's price (placing the orders): a deal that ended, or whose cap was taken
    by someone else a moment ago, refuses (nothing is placed, the review shows the price as it is now)."""
    for line in sorted((line for line in lines if line.deal_id is not None), key=lambda line: line.deal_id or 0):
        taken = await session.execute(
            update(FlashDeal).where(FlashDeal.id == line.deal_id, FlashDeal.cancelled_at.is_(None),
                                    FlashDeal.starts_at <= now, FlashDeal.ends_at > now,
                                    or_(FlashDeal.cap.is_(None), FlashDeal.sold + line.quantity <= FlashDeal.cap))
            .values(sold=FlashDeal.sold + line.quantity))
        if taken.rowcount != 1:
            raise Changed(ErrorCode.PRICES_CHANGED)


async def give_back(session: AsyncSession, order: Order) -> None:
    """An order ends (cancelled, expired): the units it bought at a deal's price are the deal's again (lines
    loaded)."""
    for line in sorted(order.lines, key=lambda line: line.deal_id or 0):
        if line.deal_id is not None:
            await session.execute(update(FlashDeal).where(FlashDeal.id == line.deal_id, FlashDeal.sold >= line.quantity)
                                  .values(sold=FlashDeal.sold - line.quantity))


async def take_back(session: AsyncSession, orders: list[Order]) -> bool:
    """A late payment for expired orders holds their deal units again, within the cap (else False; lines
    loaded). The deal may have ended since: the buyer paid its price while it lasted."""
    for order in orders:
        for line in order.lines:
            if line.deal_id is None:
                continue
            taken = await session.execute(
                update(FlashDeal).where(FlashDeal.id == line.deal_id,
                                        or_(FlashDeal.cap.is_(None), FlashDeal.sold + line.quantity <= FlashDeal.cap))
                .values(sold=FlashDeal.sold + line.quantity))
            if taken.rowcount != 1:
                return False
    return True
