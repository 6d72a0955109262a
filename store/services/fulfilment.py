"""Fulfilment: what a seller (in the chat or over HTTP) or an operator does with an order.

Every action checks who is asking against the order's seller, goes through
the order state rules in :mod:`store.services.orders`, is recorded with its
actor, and announces itself to the buyer and the seller's webhook.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, Expired, InvalidInput, NotAllowed, NotFound
from store.models import Checkout, Order, Payment, Return, Seller
from store.services import digital, outbox
from store.services.creators import reverse_commissions
from store.services.events import announce
from store.services.orders import ACTION_RESULTS, allowed_actions, release_stock, transition
from store.states import (
    ActorKind,
    Approval,
    Notice,
    OrderEventType,
    OrderStatus,
    OutboxChannel,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
    ReturnStatus,
    SellerAction,
)

logger = logging.getLogger(__name__)

REASON_MIN, REASON_MAX = 3, 300


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on an order: a seller's owner or an operator in the chat, or a seller's API key."""

    kind: ActorKind  # seller, operator or api
    user_id: int | None = None
    seller_id: int | None = None

    @classmethod
    def in_chat(cls, user_id: int, operators: frozenset[int]) -> Actor:
        """The actor for a Telegram user: an operator if listed, else a (would-be) seller."""
        return cls(ActorKind.OPERATOR if user_id in operators else ActorKind.SELLER, user_id=user_id)


async def order_for_action(session: AsyncSession, order_id: int, actor: Actor, action: SellerAction) -> Order:
    """Load and lock an order the actor may do ``action`` on; others get NotFound (API) or NotAllowed (chat)."""
    order = await session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.seller), selectinload(Order.checkout))
        .with_for_update(of=Order).execution_options(populate_existing=True)
    )
    if order is None or (actor.kind == ActorKind.API and order.seller_id != actor.seller_id):
        raise NotFound(ErrorCode.ORDER_UNKNOWN, order_id=order_id)
    if actor.kind == ActorKind.SELLER and order.seller.owner_user_id != actor.user_id:
        logger.warning("user %s tried to act on order %s of seller %s", actor.user_id, order_id, order.seller_id)
        raise NotAllowed(ErrorCode.ONLY_THE_SELLER)
    check_action(order, action)
    return order


def check_action(order: Order, action: SellerAction) -> None:
    """Refuse ``action`` unless the order's state allows it now (:func:`allowed_actions`)."""
    if action not in allowed_actions(order):
        raise Expired(ErrorCode.TRANSITION_REFUSED, order_id=order.id, status=order.status,
                      to=ACTION_RESULTS[action])


def _actor_fields(actor: Actor) -> dict:
    return {"actor_kind": actor.kind, "actor_id": actor.user_id if actor.user_id is not None else actor.seller_id}


async def accept(session: AsyncSession, order_id: int, actor: Actor, now: datetime) -> Order:
    """The seller takes a paid (or cash-on-delivery) order."""
    order = await order_for_action(session, order_id, actor, SellerAction.ACCEPT)
    await transition(session, order, OrderStatus.ACCEPTED, now=now, **_actor_fields(actor))
    await session.flush()
    await announce(session, order.id, OrderEventType.ACCEPTED, now)
    return order


def clean_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    """Validate a carrier name and tracking number."""
    carrier = " ".join(carrier.split())
    tracking_number = tracking_number.strip()
    if not 2 <= len(carrier) <= 64:
        raise InvalidInput(ErrorCode.CARRIER_INVALID)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]{2,63}", tracking_number):
        raise InvalidInput(ErrorCode.TRACKING_INVALID)
    return carrier, tracking_number


def parse_tracking(text: str) -> tuple[str, str]:
    """Split "UPS 1Z999AA10123456784" into carrier and tracking number."""
    parts = text.split(maxsplit=1)
    if len(parts) != 2:
        raise InvalidInput(ErrorCode.TRACKING_MISSING)
    return clean_tracking(parts[0], parts[1])


async def ship(session: AsyncSession, order_id: int, actor: Actor, carrier: str, tracking_number: str,
               now: datetime) -> Order:
    """The seller hands an accepted order to a carrier, with its tracking number."""
    carrier, tracking_number = clean_tracking(carrier, tracking_number)
    order = await order_for_action(session, order_id, actor, SellerAction.SHIP)
    await transition(session, order, OrderStatus.SHIPPED, note=f"{carrier} {tracking_number}", now=now,
                     **_actor_fields(actor))
    order.carrier, order.tracking_number = carrier, tracking_number
    await session.flush()
    await announce(session, order.id, OrderEventType.SHIPPED, now)
    return order


async def deliver(session: AsyncSession, order_id: int, actor: Actor, now: datetime) -> Order:
    """The seller confirms a shipped order arrived."""
    order = await order_for_action(session, order_id, actor, SellerAction.DELIVER)
    await transition(session, order, OrderStatus.DELIVERED, now=now, **_actor_fields(actor))
    order.delivered_at = now
    await session.flush()
    await announce(session, order.id, OrderEventType.DELIVERED, now)
    return order


async def goods_shown(session: AsyncSession, order_id: int, now: datetime) -> list[digital.Goods]:
    """A digital order's goods are about to be sent to its buyer: what they are (none once the order was
    cancelled); a paid order becomes delivered first, in this transaction, so from now on its codes count
    as shown (a cancel spends them rather than sell them again), whatever becomes of the message."""
    order = await session.scalar(select(Order).where(Order.id == order_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if order is None or not digital.holds_goods(order):
        return []
    if order.status == OrderStatus.PAID:
        await transition(session, order, OrderStatus.DELIVERED, actor_kind=ActorKind.SYSTEM,
                         note="sent in the chat", now=now)
        order.delivered_at = now
        await session.flush()
        await announce(session, order.id, OrderEventType.DELIVERED, now)
    return await digital.goods_of(session, order_id)


async def goods_again(session: AsyncSession, buyer_id: int, order_id: int, now: datetime) -> list[digital.Goods]:
    """Get it again: a buyer's paid digital order's goods, to send them once more (to the buyer alone)."""
    order = await session.get(Order, order_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    if not digital.holds_goods(order):
        raise Expired(ErrorCode.NOTHING_TO_SEND_AGAIN)
    return await goods_shown(session, order_id, now)


def clean_reason(reason: str) -> str:
    """Validate a cancel reason: 3 to 300 characters."""
    reason = " ".join(reason.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInput(ErrorCode.REASON_LENGTH, min=REASON_MIN, max=REASON_MAX)
    return reason


async def cancel(session: AsyncSession, order_id: int, actor: Actor, reason: str, now: datetime) -> Order:
    """The seller (or an operator) cancels an order: stock goes back and a paid order is refunded.

    A Stars payment is refunded through Telegram once every order it paid for
    is cancelled (Stars refunds are whole-charge only); until then, and for
    card payments (refunded by the provider, outside Telegram), the order is
    marked refund-due.
    """
    reason = clean_reason(reason)
    order = await order_for_action(session, order_id, actor, SellerAction.CANCEL)
    if await session.scalar(select(Return.id).where(Return.order_id == order.id, Return.status.in_(
            (ReturnStatus.REQUESTED, ReturnStatus.APPROVED))).limit(1)) is not None:
        # A return asks for part of it back: deciding that return settles it (a cancel would refund it twice).
        raise Expired(ErrorCode.ORDER_HAS_OPEN_RETURN, order_id=order.id)
    was_paid = order.checkout.paid_at is not None
    # A digital order is delivered as its goods are first sent: its codes were shown, they are spent.
    await release_stock(session, order, shown=order.status == OrderStatus.DELIVERED, now=now)
    await transition(session, order, OrderStatus.CANCELLED, note=reason, now=now, **_actor_fields(actor))
    order.cancel_reason = reason
    await reverse_commissions(session, order.id, now)
    if was_paid:
        order.refund_status = RefundStatus.DUE
        await session.flush()
        await refund_stars_when_whole(session, order, now)
    await session.flush()
    await announce(session, order.id, OrderEventType.CANCELLED, now)
    return order


async def refund_stars_when_whole(session: AsyncSession, order: Order, now: datetime,
                                  return_id: int | None = None) -> bool:
    """Refund the Stars charge that paid ``order`` through Telegram once all of it is owed back: every order it
    paid for is cancelled or refunded, and no return of them (but ``return_id``, refunded now) was refunded
    before, as its money is owed by hand and a whole-charge refund would pay it twice. Returns whether the
    refund was queued (a card payment, or cash, is never refunded here: it stays refund-due)."""
    payment = await session.scalar(
        select(Payment).where(Payment.checkout_id == order.checkout_id, Payment.method == PaymentMethod.STARS,
                              Payment.status == PaymentStatus.CAPTURED))
    if payment is None:
        return False
    of_checkout = select(Order.id).where(Order.checkout_id == order.checkout_id)
    still_open = await session.scalar(
        select(func.count(Order.id)).where(Order.checkout_id == order.checkout_id,
                                           Order.status.not_in((OrderStatus.CANCELLED, OrderStatus.REFUNDED))))
    refunded_before = await session.scalar(
        select(func.count(Return.id)).where(Return.order_id.in_(of_checkout), Return.status == ReturnStatus.REFUNDED,
                                            Return.id != (return_id or 0)))
    if still_open or refunded_before:
        return False
    await outbox.enqueue(session, key=f"refund-{payment.telegram_charge_id}", channel=OutboxChannel.STARS_REFUND,
                         template=Notice.STARS_REFUND,
                         payload={"user_id": order.buyer_id, "charge_id": payment.telegram_charge_id,
                                  "checkout_id": order.checkout_id},
                         chat_id=order.buyer_id, now=now)
    return True


async def complete_stars_refund(session: AsyncSession, checkout_id: int, charge_id: str, now: datetime) -> None:
    """Record that Telegram refunded a Stars charge: its orders are refunded and the buyer is told."""
    payment = await session.scalar(select(Payment).where(Payment.telegram_charge_id == charge_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if payment is None or payment.status == PaymentStatus.REFUNDED:
        return
    payment.status = PaymentStatus.REFUNDED
    orders = list(await session.scalars(select(Order).where(Order.checkout_id == checkout_id,
                                                            Order.refund_status == RefundStatus.DUE)))
    for order in orders:
        order.refund_status = RefundStatus.DONE
        await reverse_commissions(session, order.id, now)
    # The returns whose refund waited for this charge (store/services/returns.py) are refunded with it.
    await session.execute(update(Return).where(Return.order_id.in_(select(Order.id).where(
        Order.checkout_id == checkout_id)), Return.refund_status == RefundStatus.DUE)
        .values(refund_status=RefundStatus.DONE, updated_at=now))
    await session.flush()
    for order in orders:
        await announce(session, order.id, OrderEventType.REFUNDED, now)
    if not orders:  # money that never paid an order (it came too late): the buyer hears of it here
        buyer = await session.scalar(select(Checkout.user_id).where(Checkout.id == checkout_id))
        await outbox.enqueue(session, key=f"refunded-{payment.id}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.PAYMENT_REFUNDED, payload={"payment_id": payment.id}, chat_id=buyer,
                             now=now)


@dataclass(frozen=True, slots=True)
class RefundDue:
    """Money received that could not pay for its orders and is still to go back to the buyer."""

    payment_id: int
    order_ids: tuple[int, ...]
    method: str
    amount: int
    currency: str
    checkout_status: str
    charge_id: str


async def refund_due(session: AsyncSession, payment_id: int) -> RefundDue | None:
    """A payment due for refund, with its orders (None once refunded or if unknown)."""
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.status != PaymentStatus.REFUND_DUE:
        return None
    checkout = await session.get(Checkout, payment.checkout_id)
    order_ids = tuple(await session.scalars(select(Order.id).where(Order.checkout_id == payment.checkout_id)
                                            .order_by(Order.id)))
    return RefundDue(payment.id, order_ids, payment.method, payment.amount, payment.currency, checkout.status,
                     payment.provider_charge_id or payment.telegram_charge_id)


async def refunds_due(session: AsyncSession, seller_ids: list[int] | None) -> list[RefundDue]:
    """Payments still to refund that came for orders of these sellers (all sellers when None)."""
    query = (select(Payment.id).join(Order, Order.checkout_id == Payment.checkout_id)
             .where(Payment.status == PaymentStatus.REFUND_DUE).distinct().order_by(Payment.id))
    if seller_ids is not None:
        query = query.where(Order.seller_id.in_(seller_ids))
    return [found for payment_id in await session.scalars(query)
            if (found := await refund_due(session, payment_id)) is not None]


@dataclass(frozen=True, slots=True)
class SellerOrder:
    """One row of a seller's order list."""

    id: int
    status: str
    currency: str
    total: int
    items: int
    buyer_name: str  # "" once erased
    created_at: datetime


async def list_seller_orders(session: AsyncSession, seller_ids: list[int] | None, statuses: tuple[str, ...],
                             offset: int = 0, limit: int = 5) -> tuple[list[SellerOrder], int]:
    """One page of orders of these sellers (all sellers when None) in these states, newest first."""
    where = [Order.status.in_(statuses)]
    if seller_ids is not None:
        where.append(Order.seller_id.in_(seller_ids))
    total = await session.scalar(select(func.count(Order.id)).where(*where)) or 0
    orders = await session.scalars(
        select(Order).where(*where).options(selectinload(Order.lines), selectinload(Order.checkout))
        .order_by(Order.created_at.desc(), Order.id.desc()).offset(offset).limit(limit))
    return [SellerOrder(o.id, o.status, o.currency, o.total, sum(line.quantity for line in o.lines),
                        o.contact_name or "", o.created_at) for o in orders], total


async def order_for_seller_view(session: AsyncSession, order_id: int, actor: Actor) -> Order:
    """An order with lines, checkout and seller, if the actor may see it."""
    order = await session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.seller), selectinload(Order.checkout),
                 selectinload(Order.events)))
    if order is None or (actor.kind == ActorKind.API and order.seller_id != actor.seller_id):
        raise NotFound(ErrorCode.ORDER_UNKNOWN, order_id=order_id)
    if actor.kind == ActorKind.SELLER and order.seller.owner_user_id != actor.user_id:
        raise NotAllowed(ErrorCode.ONLY_THE_SELLER_SEES)
    return order


async def sellers_for_actor(session: AsyncSession, actor: Actor) -> list[int] | None:
    """The seller ids whose orders the actor manages (None: all, for operators)."""
    if actor.kind == ActorKind.OPERATOR:
        return None
    if actor.kind == ActorKind.API:
        return [actor.seller_id]
    return list(await session.scalars(select(Seller.id).where(Seller.owner_user_id == actor.user_id,
                                                              Seller.status == Approval.APPROVED)))
