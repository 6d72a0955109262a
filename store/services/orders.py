"""Orders: the state rules, every transition recorded, and what buyers may read.

States move forward only::

    pending_payment -> paid -> accepted -> shipped -> delivered
    placed (cash on delivery) -> accepted -> ...
    exits: cancelled, refunded, expired

A digital order is delivered when its goods are sent, right after payment
(``pending_payment -> paid -> delivered``), and can be cancelled (refunded) after.

Every change goes through :func:`transition`, which refuses a move the table
does not allow and records who made it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, Expired, NotFound
from store.models import Checkout, Order, OrderEvent, OrderLine, Payment, Variant, utcnow
from store.services import coupons, deals, digital
from store.states import ActorKind, OrderStatus, ProductKind, SellerAction

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.PLACED: frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    # A payment that arrives after its checkout expired re-reserves the stock.
    OrderStatus.EXPIRED: frozenset({OrderStatus.PAID}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}
# A digital order ships nothing: it is delivered when its goods are sent in the chat, as soon as it is paid,
# and its seller may still cancel it then, refunding the Stars.
DIGITAL_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    **TRANSITIONS,
    OrderStatus.PAID: frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
}


# What each thing a seller may do makes of an order.
ACTION_RESULTS: dict[SellerAction, OrderStatus] = {
    SellerAction.ACCEPT: OrderStatus.ACCEPTED,
    SellerAction.SHIP: OrderStatus.SHIPPED,
    SellerAction.DELIVER: OrderStatus.DELIVERED,
    SellerAction.CANCEL: OrderStatus.CANCELLED,
}
# A seller cancels only orders they were told about (paid, or cash on delivery) and have not shipped.
SELLER_CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.ACCEPTED})
# A digital order has nothing to fulfil (its goods are sent when paid): its seller may only cancel it, refunding it.
DIGITAL_CANCELLABLE = frozenset({OrderStatus.PAID, OrderStatus.DELIVERED})
# The orders a seller still has work on.
OPEN_STATES = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.ACCEPTED, OrderStatus.SHIPPED)


OPEN_FILTER = "open"


def filter_statuses(name: str) -> tuple[OrderStatus, ...] | None:
    """The statuses an order list's filter names: "open" (every order still to act on) or one status;
    None for a name that is neither. The chat's filter buttons and the HTTP API's ``status`` use it."""
    if name == OPEN_FILTER:
        return OPEN_STATES
    try:
        return (OrderStatus(name),)
    except ValueError:
        return None


def allowed_actions(order: Order) -> tuple[SellerAction, ...]:
    """What the order's seller (or an operator) may do with it now, in the order the buttons show them.

    The one rule the chat's buttons, the chat's steps and the HTTP API all ask.
    """
    if order.kind == ProductKind.DIGITAL:
        return (SellerAction.CANCEL,) if order.status in DIGITAL_CANCELLABLE else ()
    return tuple(action for action, result in ACTION_RESULTS.items()
                 if can_move(order.status, result, order.kind)
                 and (action != SellerAction.CANCEL or order.status in SELLER_CANCELLABLE))


def can_move(from_status: str, to_status: str, kind: str = ProductKind.PHYSICAL) -> bool:
    """Whether the state rules of an order of this kind allow going from one status to another."""
    table = DIGITAL_TRANSITIONS if kind == ProductKind.DIGITAL else TRANSITIONS
    return to_status in table.get(from_status, frozenset())  # type: ignore[call-overload]


async def transition(
    session: AsyncSession,
    order: Order,
    to_status: OrderStatus,
    *,
    actor_kind: ActorKind,
    actor_id: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move ``order`` to ``to_status`` if the rules allow it, and record the event."""
    if not can_move(order.status, to_status, order.kind):
        raise Expired(ErrorCode.TRANSITION_REFUSED, order_id=order.id, status=order.status, to=to_status)
    session.add(OrderEvent(order_id=order.id, from_status=order.status, to_status=to_status,
                           actor_kind=actor_kind, actor_id=actor_id, note=note, created_at=now or utcnow()))
    order.status = to_status
    order.updated_at = now or utcnow()


async def reserve_stock(session: AsyncSession, wanted: dict[int, int]) -> dict[int, int]:
    """Take ``wanted`` units (variant id -> quantity) out of stock.

    Each variant is one conditional UPDATE that can never drive stock below
    zero, on SQLite and PostgreSQL alike; variants are taken in id order so
    that concurrent checkouts lock rows in the same order. Returns the short
    variants (id -> units available); the caller must roll back if any.
    """
    short: dict[int, int] = {}
    for variant_id in sorted(wanted):
        quantity = wanted[variant_id]
        result = await session.execute(
            update(Variant)
            .where(Variant.id == variant_id, Variant.stock >= quantity)
            .values(stock=Variant.stock - quantity)
        )
        if result.rowcount != 1:
            short[variant_id] = await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0
    return short


async def give_back_stock(session: AsyncSession, units: dict[int, int]) -> None:
    """Put ``units`` (variant id -> quantity) back in stock, in variant order as stock is taken (concurrent
    checkouts lock the rows in the same order)."""
    for variant_id in sorted(units):
        await session.execute(update(Variant).where(Variant.id == variant_id)
                              .values(stock=Variant.stock + units[variant_id]))


async def release_stock(session: AsyncSession, order: Order, *, shown: bool = False,
                        now: datetime | None = None) -> None:
    """Give back what an ending order (cancelled, expired) holds; lines must be loaded: its units to stock (codes
    of a digital order to their pool, unless its buyer was ``shown`` them: :func:`digital.release_line_codes`),
    its units bought at a flash deal's price to the deal, its discount code's use once no order of it stands."""
    units: dict[int, int] = {}
    for line in sorted(order.lines, key=lambda line: line.variant_id):
        if order.kind == ProductKind.DIGITAL and await digital.release_line_codes(session, line, shown=shown):
            continue
        units[line.variant_id] = units.get(line.variant_id, 0) + line.quantity
    await give_back_stock(session, units)
    await deals.give_back(session, order)
    await coupons.give_back(session, order, now or utcnow())


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One row of a buyer's order list."""

    id: int
    status: str
    seller_name: str
    currency: str
    total: int
    items: int
    created_at: datetime


async def list_orders(session: AsyncSession, buyer_id: int, offset: int = 0, limit: int = 5) -> tuple[
        list[OrderSummary], int]:
    """Return one page of a buyer's orders, newest first, and how many there are."""
    total = await session.scalar(select(func.count(Order.id)).where(Order.buyer_id == buyer_id)) or 0
    items = (select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.order_id == Order.id)
             .scalar_subquery())
    rows = await session.execute(
        select(Order, items)
        .where(Order.buyer_id == buyer_id)
        .options(selectinload(Order.seller))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [OrderSummary(o.id, o.status, o.seller.name, o.currency, o.total, n, o.created_at)
            for o, n in rows], total


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Everything a buyer may see of one order."""

    order: Order
    checkout: Checkout
    payment: Payment | None


async def get_order_for_buyer(session: AsyncSession, buyer_id: int, order_id: int) -> OrderDetail:
    """Return one of the buyer's orders with lines, history, checkout and payment."""
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.events), selectinload(Order.seller),
                 selectinload(Order.checkout))
    )
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    payment = await session.scalar(
        select(Payment).where(Payment.checkout_id == order.checkout_id).order_by(Payment.id.desc()).limit(1)
    )
    return OrderDetail(order, order.checkout, payment)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many orders are in each state (states with none are left out)."""
    return dict((await session.execute(select(Order.status, func.count()).group_by(Order.status))).all())
