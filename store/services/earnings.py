"""Earnings: a creator's dashboard, a seller's sales through creators, and creator payouts.

Reading rules of the dashboard:

* Periods are the last 7 days, the last 30 days and all time, counted back from
  ``now``: a click or a commission belongs to a period when its ``created_at`` is
  strictly after ``now - days`` (the attribution window uses the same edge). A
  commission is created when its order is paid (or placed with cash on delivery).
* Orders, items and sales count what was sold through the creator and not taken
  back: commissions that are ``reversed`` are left out of them and shown only as
  the reversed commission. "Approved" commission includes what was already paid.
* Money is summed in one currency (the shop's; by default the currency of the
  creator's latest commission); commissions in another currency are left out of
  the dashboard, and the payouts list them per currency.

Per-code breakdown: a line bought with the creator's own discount code (the
order's code is one of theirs, and it took something off the line) is the
code's, whatever the buyer clicked: the code attributes the lines it applies to.

Per-link breakdown: every other commission belongs to the link whose click attributed its
line, which the ledger does not store; it is inferred from the buyer's clicks on
this creator's links up to the time of the commission:

1. the product's own link, if the buyer had opened it;
2. otherwise the link of the buyer's latest click (the showcase, or another
   product's link from which they browsed on);
3. otherwise (no click found) the showcase.

Payouts: approved commissions not yet paid are paid once. :func:`mark_paid` locks
them (``FOR UPDATE``, in id order) and re-checks their state in the same UPDATE,
so two runs at once cannot pay the same commission twice; SQLite serialises the
writing transactions instead (``BEGIN IMMEDIATE``, see :mod:`store.db`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode, NotFound
from store.models import Click, Commission, Coupon, Creator, Order, OrderLine, Payout, Product, ReturnLine
from store.states import CommissionStatus

PERIOD_DAYS: tuple[int | None, ...] = (7, 30, None)  # None: all time
TOP_PRODUCTS = 5
# Commission that is (or will be) due to the creator.
OWED = (CommissionStatus.PENDING, CommissionStatus.APPROVED, CommissionStatus.PAID)
ID_BATCH = 1000  # ids per UPDATE ... IN (...): both databases cap the number of bound parameters


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """A creator's figures over one period; money in the dashboard's currency, minor units."""

    days: int | None  # None: all time
    clicks: int
    orders: int
    items: int
    sales: int
    pending: int
    approved: int  # approved or already paid
    reversed: int


@dataclass(frozen=True, slots=True)
class ProductEarnings:
    """What one product sold through a creator (reversed lines left out)."""

    product_id: int
    title: str
    items: int
    sales: int
    commission: int


@dataclass(frozen=True, slots=True)
class LinkStats:
    """One of a creator's links: a product's link, or the showcase (``product_id`` None)."""

    product_id: int | None
    title: str | None  # the product's title; None for the showcase
    clicks: int
    orders: int
    sales: int
    commission: int

    @property
    def is_showcase(self) -> bool:
        """The creator's showcase link rather than a product's."""
        return self.product_id is None


@dataclass(frozen=True, slots=True)
class CodeStats:
    """What one of a creator's discount codes sold (reversed lines left out); ``active``: their code now."""

    code: str
    active: bool
    orders: int
    sales: int
    commission: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything /earnings shows a creator."""

    creator_id: int
    code: str
    currency: str | None  # None: no commission yet and no currency asked for
    periods: tuple[PeriodStats, ...]
    top_products: tuple[ProductEarnings, ...]
    links: tuple[LinkStats, ...]  # the showcase first, then product links by sales
    codes: tuple[CodeStats, ...] = ()  # the creator's discount codes, the current one first


@dataclass(frozen=True, slots=True)
class CreatorSales:
    """A seller's product and what creators sold of it (reversed lines left out)."""

    product_id: int
    title: str
    currency: str
    orders: int
    items: int
    sales: int
    commission: int  # owed to creators: pending, approved or paid


@dataclass(frozen=True, slots=True)
class PayableRow:
    """Approved commission of one creator in one currency, to be paid (or paid by ``payout_id``)."""

    creator_id: int
    code: str
    user_id: int
    currency: str
    amount: int
    count: int
    payout_id: int | None = None


# Units sold: a sale entry counts its line's units, a return's claw-back entry takes off the units it returned.
_RETURNED_UNITS = (select(ReturnLine.quantity).where(ReturnLine.return_id == Commission.return_id,
                                                     ReturnLine.order_line_id == Commission.order_line_id)
                   .scalar_subquery())
_ITEMS = func.sum(case((Commission.return_id.is_(None), OrderLine.quantity), else_=-_RETURNED_UNITS))


def _int(value: object) -> int:
    # PostgreSQL sums BIGINT columns as NUMERIC, which asyncpg reads as Decimal.
    return int(value or 0)


def _since(query: Select, column, since: datetime | None) -> Select:  # type: ignore[no-untyped-def]
    return query if since is None else query.where(column > since)


def _by_code(creator_id: int):  # type: ignore[no-untyped-def]
    """The condition on a commission's line and order (joined): bought with one of the creator's codes."""
    return (OrderLine.discount > 0) & Order.coupon_code.in_(select(Coupon.code).where(Coupon.creator_id == creator_id))


# --- the creator's dashboard ------------------------------------------------------------------


async def _period(session: AsyncSession, creator_id: int, currency: str | None, now: datetime,
                  days: int | None) -> PeriodStats:
    """A creator's clicks, sales and commission created in the last ``days`` days (None: ever)."""
    since = None if days is None else now - timedelta(days=days)
    clicks = await session.scalar(_since(select(func.count(Click.id)).where(Click.creator_id == creator_id),
                                         Click.created_at, since))
    mine = (Commission.creator_id == creator_id, Commission.currency == currency)
    sold = (await session.execute(_since(
        select(func.count(distinct(Commission.order_id)), _ITEMS, func.sum(Commission.sales))
        .join(OrderLine, OrderLine.id == Commission.order_line_id)
        .where(*mine, Commission.status != CommissionStatus.REVERSED), Commission.created_at, since))).one()
    amounts = dict((await session.execute(_since(
        select(Commission.status, func.sum(Commission.amount)).where(*mine).group_by(Commission.status),
        Commission.created_at, since))).all())
    return PeriodStats(days=days, clicks=_int(clicks), orders=_int(sold[0]), items=_int(sold[1]),
                       sales=_int(sold[2]), pending=_int(amounts.get(CommissionStatus.PENDING)),
                       approved=_int(amounts.get(CommissionStatus.APPROVED)) + _int(amounts.get(CommissionStatus.PAID)),
                       reversed=_int(amounts.get(CommissionStatus.REVERSED)))


async def _top_products(session: AsyncSession, creator_id: int, currency: str | None) -> tuple[ProductEarnings, ...]:
    sales = func.sum(Commission.sales)
    rows = await session.execute(
        select(Commission.product_id, Product.title, _ITEMS, sales, func.sum(Commission.amount))
        .join(OrderLine, OrderLine.id == Commission.order_line_id).join(Product, Product.id == Commission.product_id)
        .where(Commission.creator_id == creator_id, Commission.currency == currency,
               Commission.status != CommissionStatus.REVERSED)
        .group_by(Commission.product_id, Product.title)
        .order_by(sales.desc(), Commission.product_id).limit(TOP_PRODUCTS))
    return tuple(ProductEarnings(product_id, title, _int(items), _int(total), _int(amount))
                 for product_id, title, items, total, amount in rows)


def attributed_link(product_id: int, at: datetime, clicks: list[tuple[int | None, datetime]]) -> int | None:
    """The link (a product id, None: the showcase) a commission on ``product_id`` made at ``at`` counts for.

    ``clicks`` are the buyer's clicks on this creator's links as (product id,
    time), oldest first; the rule is in the module docstring.
    """
    before = [link for link, clicked_at in clicks if clicked_at <= at]
    if product_id in before:
        return product_id
    return before[-1] if before else None


async def _links(session: AsyncSession, creator_id: int, currency: str | None) -> tuple[LinkStats, ...]:
    clicks_per_link = dict((await session.execute(
        select(Click.product_id, func.count(Click.id)).where(Click.creator_id == creator_id)
        .group_by(Click.product_id))).all())
    sold = (await session.execute(
        select(Commission.order_id, Commission.product_id, Commission.sales, Commission.amount,
               Commission.created_at, Order.buyer_id)
        .join(Order, Order.id == Commission.order_id).join(OrderLine, OrderLine.id == Commission.order_line_id)
        .where(Commission.creator_id == creator_id, Commission.currency == currency,
               Commission.status != CommissionStatus.REVERSED, ~_by_code(creator_id))
        .order_by(Commission.id))).all()
    # Only the clicks of people who bought through the creator matter for attribution.
    buyers = (select(Order.buyer_id).join(Commission, Commission.order_id == Order.id)
              .where(Commission.creator_id == creator_id))
    clicks_of: dict[int, list[tuple[int | None, datetime]]] = defaultdict(list)
    for user_id, product_id, clicked_at in await session.execute(
            select(Click.user_id, Click.product_id, Click.created_at)
            .where(Click.creator_id == creator_id, Click.user_id.in_(buyers))
            .order_by(Click.created_at, Click.id)):
        clicks_of[user_id].append((product_id, clicked_at))
    orders: dict[int | None, set[int]] = defaultdict(set)
    sales: dict[int | None, int] = defaultdict(int)
    commission: dict[int | None, int] = defaultdict(int)
    for row in sold:
        link = attributed_link(row.product_id, row.created_at, clicks_of[row.buyer_id])
        orders[link].add(row.order_id)
        sales[link] += row.sales
        commission[link] += row.amount
    product_ids = {link for link in (*clicks_per_link, *orders) if link is not None}
    titles = dict((await session.execute(select(Product.id, Product.title).where(
        Product.id.in_(select(Click.product_id).where(Click.creator_id == creator_id))
        | Product.id.in_(select(Commission.product_id).where(Commission.creator_id == creator_id))))).all())
    stats = [LinkStats(link, titles.get(link) if link is not None else None, _int(clicks_per_link.get(link)),
                       len(orders[link]), sales[link], commission[link])
             for link in (None, *product_ids)]
    return (stats[0], *sorted(stats[1:], key=lambda s: (-s.sales, -s.clicks, s.product_id)))


async def _codes(session: AsyncSession, creator_id: int, currency: str | None) -> tuple[CodeStats, ...]:
    """What each of the creator's discount codes sold: the current code first, then by sales."""
    codes = dict((await session.execute(select(Coupon.code, Coupon.active)
                                        .where(Coupon.creator_id == creator_id))).all())
    sold = {code: (orders, sales, amount) for code, orders, sales, amount in await session.execute(
        select(Order.coupon_code, func.count(distinct(Commission.order_id)), func.sum(Commission.sales),
               func.sum(Commission.amount))
        .join(Order, Order.id == Commission.order_id).join(OrderLine, OrderLine.id == Commission.order_line_id)
        .where(Commission.creator_id == creator_id, Commission.currency == currency,
               Commission.status != CommissionStatus.REVERSED, _by_code(creator_id))
        .group_by(Order.coupon_code))}
    stats = [CodeStats(code, active, *(_int(figure) for figure in sold.get(code, (0, 0, 0))))
             for code, active in codes.items()]
    return tuple(sorted(stats, key=lambda s: (not s.active, -s.sales, s.code)))


async def creator_dashboard(session: AsyncSession, creator_id: int, now: datetime, *,
                            currency: str | None = None) -> Dashboard:
    """A creator's clicks, orders, items, sales and commission per period, top products and links."""
    creator = await session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(ErrorCode.CREATOR_UNKNOWN)
    if currency is None:
        currency = await session.scalar(select(Commission.currency).where(Commission.creator_id == creator_id)
                                        .order_by(Commission.created_at.desc(), Commission.id.desc()).limit(1))
    periods = tuple([await _period(session, creator_id, currency, now, days) for days in PERIOD_DAYS])
    return Dashboard(creator_id=creator.id, code=creator.code, currency=currency, periods=periods,
                     top_products=await _top_products(session, creator_id, currency),
                     links=await _links(session, creator_id, currency),
                     codes=await _codes(session, creator_id, currency))


# --- the seller's view ------------------------------------------------------------------------


async def seller_creator_sales(session: AsyncSession, seller_id: int) -> list[CreatorSales]:
    """Per product of the seller, what creators sold and the commission owed on it, best seller first."""
    sales = func.sum(Commission.sales)
    rows = await session.execute(
        select(Commission.product_id, Product.title, Commission.currency, func.count(distinct(Commission.order_id)),
               _ITEMS, sales, func.sum(Commission.amount))
        .join(Product, Product.id == Commission.product_id).join(OrderLine, OrderLine.id == Commission.order_line_id)
        .where(Product.seller_id == seller_id, Commission.status.in_(OWED))
        .group_by(Commission.product_id, Product.title, Commission.currency)
        .order_by(sales.desc(), Commission.product_id, Commission.currency))
    return [CreatorSales(product_id, title, currency, _int(orders), _int(items), _int(total), _int(amount))
            for product_id, title, currency, orders, items, total, amount in rows]


# --- payouts ----------------------------------------------------------------------------------


def _payable(until: datetime) -> tuple:
    return (Commission.status == CommissionStatus.APPROVED, Commission.payout_id.is_(None),
            Commission.approved_at <= until)


async def payable(session: AsyncSession, until: datetime) -> list[PayableRow]:
    """Approved, unpaid commission approved up to ``until``, per creator and currency, where it adds up to more
    than nothing (a return's claw-back that outweighs what is due waits for later sales)."""
    rows = await session.execute(
        select(Commission.creator_id, Creator.code, Creator.user_id, Commission.currency,
               func.sum(Commission.amount), func.count(Commission.id))
        .join(Creator, Creator.id == Commission.creator_id).where(*_payable(until))
        .group_by(Commission.creator_id, Creator.code, Creator.user_id, Commission.currency)
        .having(func.sum(Commission.amount) > 0)
        .order_by(Commission.creator_id, Commission.currency))
    return [PayableRow(creator_id, code, user_id, currency, _int(amount), _int(count))
            for creator_id, code, user_id, currency, amount, count in rows]


async def mark_paid(session: AsyncSession, until: datetime, now: datetime) -> list[Payout]:
    """Pay what :func:`payable` lists: one payout per creator and currency, each commission at most once."""
    # Lock in id order so that concurrent runs queue behind each other instead of deadlocking;
    # on PostgreSQL a waiting run then re-reads the rows and finds them paid.
    due = (await session.execute(
        select(Commission.id, Commission.creator_id, Commission.currency, Commission.amount)
        .where(*_payable(until)).order_by(Commission.id)
        .with_for_update().execution_options(populate_existing=True))).all()
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for row in due:
        groups[(row.creator_id, row.currency)].append(row)
    payouts = []
    for (creator_id, currency), rows in sorted(groups.items()):
        if sum(row.amount for row in rows) <= 0:
            continue  # claw-backs outweigh what is due: they wait, and later commission nets them
        payout = Payout(creator_id=creator_id, currency=currency, amount=sum(row.amount for row in rows),
                        until=until, created_at=now)
        session.add(payout)
        await session.flush()
        ids = [row.id for row in rows]
        updated = 0
        for start in range(0, len(ids), ID_BATCH):
            result = await session.execute(
                update(Commission).where(Commission.id.in_(ids[start:start + ID_BATCH]), *_payable(until))
                .values(status=CommissionStatus.PAID, payout_id=payout.id))
            updated += result.rowcount
        if updated != len(ids):
            # Only when the caller's transaction does not hold the locks it took (it should).
            raise Changed(ErrorCode.PAYOUT_CHANGED)
        payouts.append(payout)
    return payouts


async def payout_rows(session: AsyncSession, payout_ids: list[int]) -> list[PayableRow]:
    """What the given payouts paid, per creator and currency, in the shape of :func:`payable`."""
    if not payout_ids:
        return []
    rows = await session.execute(
        select(Commission.creator_id, Creator.code, Creator.user_id, Commission.currency,
               func.sum(Commission.amount), func.count(Commission.id), Commission.payout_id)
        .join(Creator, Creator.id == Commission.creator_id).where(Commission.payout_id.in_(payout_ids))
        .group_by(Commission.creator_id, Creator.code, Creator.user_id, Commission.currency, Commission.payout_id)
        .order_by(Commission.creator_id, Commission.currency))
    return [PayableRow(creator_id, code, user_id, currency, _int(amount), _int(count), payout_id)
            for creator_id, code, user_id, currency, amount, count, payout_id in rows]
