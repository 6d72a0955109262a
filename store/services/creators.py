"""Creators: applying, their code and showcase, link clicks, attribution and the commission ledger.

Attribution: the last creator link a shopper opened within the attribution
window wins, and is stamped on each cart line as it is added; the order line
snapshots that creator and the product's commission rate. A creator's own
clicks and purchases earn nothing.

Commission per attributed order line, rounded half up to the minor unit::

    amount = (line_total * rate_bp + 5000) // 10000

It is ``pending`` once the order is paid (or placed with cash on delivery),
``approved`` when the order was delivered and the return window has passed,
``reversed`` if the order is cancelled or refunded before that, and ``paid``
once a payout includes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, NotAllowed, NotFound, ShopError
from store.models import (
    CartLine,
    Click,
    Commission,
    Creator,
    Order,
    OrderLine,
    SavedItem,
    ShowcaseItem,
    StockAlert,
    Variant,
)
from store.services import approvals, outbox
from store.services.catalog import ProductView, get_product, get_products
from store.services.links import CODE_ALPHABET, CODE_LENGTH, Link
from store.states import Approval, CommissionStatus, Notice, OrderStatus, OutboxChannel

SHOWCASE_MAX = 50


def commission_amount(line_total: int, rate_bp: int) -> int:
    """Commission on a line, in minor units, rounded half up."""
    return (line_total * rate_bp + 5000) // 10000


async def creator_of_user(session: AsyncSession, user_id: int, *, approved_only: bool = True) -> Creator | None:
    """The user's creator profile (approved, unless asked otherwise)."""
    creator = await session.scalar(select(Creator).where(Creator.user_id == user_id))
    if creator is None or (approved_only and creator.status != Approval.APPROVED):
        return None
    return creator


async def creator_by_code(session: AsyncSession, code: str) -> Creator | None:
    """The approved creator with this code."""
    creator = await session.scalar(select(Creator).where(Creator.code == code))
    return creator if creator is not None and creator.status == Approval.APPROVED else None


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if await session.scalar(select(Creator.id).where(Creator.code == code)) is None:
            return code


async def apply(session: AsyncSession, user_id: int, *, auto_approve: bool, operators: frozenset[int],
                now: datetime) -> Creator:
    """A user asks to become a creator: approved at once by configuration, or sent to the operators."""
    creator = await session.scalar(select(Creator).where(Creator.user_id == user_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if creator is not None and creator.status in (Approval.PENDING, Approval.APPROVED):
        return creator
    if creator is None:
        creator = Creator(user_id=user_id, code=await _new_code(session), created_at=now)
        session.add(creator)
    creator.status = Approval.APPROVED if auto_approve else Approval.PENDING
    await session.flush()
    if not auto_approve:
        for operator_id in sorted(operators):
            await outbox.enqueue(session, key=f"creator-{creator.id}-application-{operator_id}-{now.timestamp()}",
                                 channel=OutboxChannel.TELEGRAM, template=Notice.CREATOR_APPLICATION,
                                 payload={"creator_id": creator.id}, chat_id=operator_id, now=now)
    return creator


async def decide(session: AsyncSession, creator_id: int, approve: bool, operator_id: int,
                 operators: frozenset[int], now: datetime) -> Creator:
    """An operator approves or rejects a creator; the creator is told."""
    creator = (await session.get(Creator, creator_id, with_for_update=True, populate_existing=True)
               if operator_id in operators else None)
    approvals.decide(creator, approve, operator_id, operators, "creator")
    await outbox.enqueue(session, key=f"creator-{creator.id}-{creator.status}", channel=OutboxChannel.TELEGRAM,
                         template=Notice.CREATOR_DECISION, payload={"creator_id": creator.id, "status": creator.status},
                         chat_id=creator.user_id, now=now)
    await session.flush()
    return creator


async def get_creator(session: AsyncSession, creator_id: int) -> Creator | None:
    """A creator by id."""
    return await session.get(Creator, creator_id)


# --- showcase ---------------------------------------------------------------------------------


async def set_in_showcase(session: AsyncSession, user_id: int, product_id: int, wanted: bool, now: datetime) -> bool:
    """Add a product to (or take it out of) the user's showcase; returns whether it is in it now."""
    creator = await creator_of_user(session, user_id)
    if creator is None:
        raise NotAllowed(ErrorCode.SHOWCASE_FOR_CREATORS)
    if wanted:
        if await get_product(session, product_id) is None:
            raise NotFound(ErrorCode.PRODUCT_GONE)
        count = await session.scalar(select(func.count(ShowcaseItem.id)).where(ShowcaseItem.creator_id == creator.id))
        exists = await session.scalar(select(ShowcaseItem.id).where(ShowcaseItem.creator_id == creator.id,
                                                                    ShowcaseItem.product_id == product_id))
        if exists is None:
            if count >= SHOWCASE_MAX:
                raise ShopError(ErrorCode.SHOWCASE_FULL, max=SHOWCASE_MAX)
            session.add(ShowcaseItem(creator_id=creator.id, product_id=product_id, added_at=now))
    else:
        await session.execute(delete(ShowcaseItem).where(ShowcaseItem.creator_id == creator.id,
                                                         ShowcaseItem.product_id == product_id))
    await session.flush()
    return wanted


@dataclass(frozen=True, slots=True)
class CardViewer:
    """What a product card shows for the person looking: their cart count and, for an approved creator,
    whether the product is in their showcase (None for everyone else)."""

    cart_count: int
    showcased: bool | None
    # Whether the product is on their wishlist, and which of its sold-out options they wait for.
    saved: bool = False
    waiting: frozenset[int] = frozenset()


async def card_viewer(session: AsyncSession, user_id: int, product_id: int) -> CardViewer:
    """The viewer-dependent parts of a product card, in one query."""
    units = (select(func.coalesce(func.sum(CartLine.quantity), 0)).where(CartLine.user_id == user_id)
             .scalar_subquery())
    creator = (select(Creator.id).where(Creator.user_id == user_id, Creator.status == Approval.APPROVED)
               .scalar_subquery())
    picked = exists().where(ShowcaseItem.creator_id == creator, ShowcaseItem.product_id == product_id)
    saved = exists().where(SavedItem.user_id == user_id, SavedItem.product_id == product_id)
    # The options waited for come as rows (none: one row of NULL), beside the one-row answers above.
    waits = (select(StockAlert.variant_id).join(Variant, Variant.id == StockAlert.variant_id)
             .where(StockAlert.user_id == user_id, Variant.product_id == product_id).subquery())
    one = select(literal(1).label("one")).subquery()
    rows = (await session.execute(select(units, creator, picked, saved, waits.c.variant_id)
                                  .select_from(one).outerjoin(waits, true()))).all()
    count, creator_id, showcased, on_list, _waiting = rows[0]
    return CardViewer(int(count), bool(showcased) if creator_id is not None else None, bool(on_list),
                      frozenset(row[4] for row in rows if row[4] is not None))


async def in_showcase(session: AsyncSession, creator_id: int, product_id: int) -> bool:
    """Whether the product is in the creator's showcase."""
    return await session.scalar(select(ShowcaseItem.id).where(ShowcaseItem.creator_id == creator_id,
                                                              ShowcaseItem.product_id == product_id)) is not None


async def showcase(session: AsyncSession, creator_id: int) -> list[ProductView]:
    """The creator's showcase: products on sale, newest pick first."""
    ids = list(await session.scalars(select(ShowcaseItem.product_id).where(ShowcaseItem.creator_id == creator_id)
                                     .order_by(ShowcaseItem.added_at.desc(), ShowcaseItem.id.desc())))
    found = await get_products(session, ids)
    return [found[i] for i in ids if i in found]


# --- clicks and attribution -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Landing:
    """Where an opened link lands: a product, or a creator's showcase."""

    product: ProductView | None
    creator: Creator | None


async def open_link(session: AsyncSession, link: Link, user_id: int, now: datetime) -> Landing | None:
    """Resolve a deep link and record the click; None when it names nothing valid (no attribution then)."""
    creator = None
    if link.creator_code is not None:
        creator = await creator_by_code(session, link.creator_code)
        if creator is None:
            return None
    product = None
    if link.product_id is not None:
        product = await get_product(session, link.product_id)
        if product is None:
            return None
    if creator is not None and creator.user_id != user_id:
        session.add(Click(creator_id=creator.id, product_id=link.product_id, user_id=user_id, created_at=now))
        await session.flush()
    return Landing(product, creator)


async def attributed_creator(session: AsyncSession, user_id: int, now: datetime, window: timedelta) -> int | None:
    """The creator of the shopper's last click within the window (last click wins), if any."""
    return await session.scalar(
        select(Click.creator_id).where(Click.user_id == user_id, Click.created_at > now - window)
        .order_by(Click.created_at.desc(), Click.id.desc()).limit(1))


# --- the commission ledger --------------------------------------------------------------------


async def record_commissions(session: AsyncSession, order_id: int, now: datetime) -> int:
    """Create a pending commission for each attributed line of a paid or placed order (once)."""
    lines = (await session.execute(
        select(OrderLine, Order.currency, Order.buyer_id, Creator.user_id)
        .join(Order, Order.id == OrderLine.order_id).join(Creator, Creator.id == OrderLine.creator_id)
        .where(OrderLine.order_id == order_id, OrderLine.commission_bp > 0))).all()
    created = 0
    for line, currency, buyer_id, creator_user in lines:
        if creator_user == buyer_id:
            continue  # a creator buying through their own link earns nothing
        exists = await session.scalar(select(Commission.id).where(Commission.order_line_id == line.id,
                                                                  Commission.return_id.is_(None)))
        if exists is not None:
            continue
        paid = line.line_total - line.discount  # commission is on what the buyer paid, after any code
        session.add(Commission(order_line_id=line.id, order_id=order_id, creator_id=line.creator_id,
                               product_id=line.product_id, currency=currency, sales=paid,
                               rate_bp=line.commission_bp, amount=commission_amount(paid, line.commission_bp),
                               status=CommissionStatus.PENDING, created_at=now))
        created += 1
    await session.flush()
    return created


async def reverse_commissions(session: AsyncSession, order_id: int, now: datetime) -> int:
    """Reverse an order's commissions that are not approved yet (it was cancelled or refunded)."""
    result = await session.execute(
        update(Commission).where(Commission.order_id == order_id, Commission.status == CommissionStatus.PENDING)
        .values(status=CommissionStatus.REVERSED, reversed_at=now))
    return result.rowcount


async def approve_due(session: AsyncSession, now: datetime, return_window: timedelta) -> int:
    """Approve pending commissions whose order was delivered more than the return window ago."""
    due = select(Order.id).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at <= now - return_window)
    result = await session.execute(
        update(Commission).where(Commission.status == CommissionStatus.PENDING, Commission.order_id.in_(due))
        .values(status=CommissionStatus.APPROVED, approved_at=now))
    return result.rowcount

