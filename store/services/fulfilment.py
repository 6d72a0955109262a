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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import Expired, InvalidInput, NotAllowed, NotFound
from store.models import Order, Payment, Seller
from store.services import outbox
from store.services.creators import reverse_commissions
from store.services.events import announce
from store.services.orders import (
    ACCEPTED,
    CANCELLED,
    DELIVERED,
    PAID,
    PLACED,
    SHIPPED,
    STATUS_LABELS,
    can_move,
    release_stock,
    transition,
)

logger = logging.getLogger(__name__)

OPEN_STATES = (PLACED, PAID, ACCEPTED, SHIPPED)
# A seller cancels only orders they were told about and have not shipped.
SELLER_CANCELLABLE = (PLACED, PAID, ACCEPTED)
REASON_MIN, REASON_MAX = 3, 300
REFUND_DUE, REFUNDED = "due", "refunded"
STARS_REFUND_TEMPLATE = "refund_stars"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on an order: a seller's owner or an operator in the chat, or a seller's API key."""

    kind: str  # seller | operator | api
    user_id: int | None = None
    seller_id: int | None = None

    @classmethod
    def in_chat(cls, user_id: int, operators: frozenset[int]) -> Actor:
        """The actor for a Telegram user: an operator if listed, else a (would-be) seller."""
        return cls("operator" if user_id in operators else "seller", user_id=user_id)


async def _order_for(session: AsyncSession, order_id: int, actor: Actor) -> Order:
    """Load and lock an order the actor may act on; others get NotFound (API) or NotAllowed (chat)."""
    order = await session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.seller), selectinload(Order.checkout))
        .with_for_update(of=Order).execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound(f"Order #{order_id} does not exist.")
    if actor.kind == "api" and order.seller_id != actor.seller_id:
        raise NotFound(f"Order #{order_id} does not exist.")
    if actor.kind == "seller" and order.seller.owner_user_id != actor.user_id:
        logger.warning("user %s tried to act on order %s of seller %s", actor.user_id, order_id, order.seller_id)
        raise NotAllowed("Only this order's seller can do that.")
    return order


def can_act(order: Order, to_status: str) -> bool:
    """Whether a seller may move ``order`` to ``to_status`` now."""
    if to_status == CANCELLED:
        return order.status in SELLER_CANCELLABLE
    return can_move(order.status, to_status)


def _actor_fields(actor: Actor) -> dict:
    return {"actor_kind": actor.kind, "actor_id": actor.user_id if actor.user_id is not None else actor.seller_id}


async def accept(session: AsyncSession, order_id: int, actor: Actor, now: datetime) -> Order:
    """The seller takes a paid (or cash-on-delivery) order."""
    order = await _order_for(session, order_id, actor)
    await transition(session, order, ACCEPTED, now=now, **_actor_fields(actor))
    await session.flush()
    await announce(session, order.id, ACCEPTED, now)
    return order


def clean_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    """Validate a carrier name and tracking number."""
    carrier = " ".join(carrier.split())
    tracking_number = tracking_number.strip()
    if not 2 <= len(carrier) <= 64:
        raise InvalidInput("Please name the carrier (2 to 64 characters), e.g. UPS.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]{2,63}", tracking_number):
        raise InvalidInput("A tracking number has 3 to 64 letters, digits, spaces or dashes.")
    return carrier, tracking_number


def parse_tracking(text: str) -> tuple[str, str]:
    """Split "UPS 1Z999AA10123456784" into carrier and tracking number."""
    parts = text.split(maxsplit=1)
    if len(parts) != 2:
        raise InvalidInput("Send the carrier and the tracking number, e.g. UPS 1Z999AA10123456784.")
    return clean_tracking(parts[0], parts[1])


async def ship(session: AsyncSession, order_id: int, actor: Actor, carrier: str, tracking_number: str,
               now: datetime) -> Order:
    """The seller hands an accepted order to a carrier, with its tracking number."""
    carrier, tracking_number = clean_tracking(carrier, tracking_number)
    order = await _order_for(session, order_id, actor)
    await transition(session, order, SHIPPED, note=f"{carrier} {tracking_number}", now=now, **_actor_fields(actor))
    order.carrier, order.tracking_number = carrier, tracking_number
    await session.flush()
    await announce(session, order.id, SHIPPED, now)
    return order


async def deliver(session: AsyncSession, order_id: int, actor: Actor, now: datetime) -> Order:
    """The seller confirms a shipped order arrived."""
    order = await _order_for(session, order_id, actor)
    await transition(session, order, DELIVERED, now=now, **_actor_fields(actor))
    order.delivered_at = now
    await session.flush()
    await announce(session, order.id, DELIVERED, now)
    return order


def clean_reason(reason: str) -> str:
    """Validate a cancel reason: 3 to 300 characters."""
    reason = " ".join(reason.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInput(f"Please give a reason of {REASON_MIN} to {REASON_MAX} characters.")
    return reason


async def cancel(session: AsyncSession, order_id: int, actor: Actor, reason: str, now: datetime) -> Order:
    """The seller (or an operator) cancels an order: stock goes back and a paid order is refunded.

    A Stars payment is refunded through Telegram once every order it paid for
    is cancelled (Stars refunds are whole-charge only); until then, and for
    card payments (refunded by the provider, outside Telegram), the order is
    marked refund-due.
    """
    reason = clean_reason(reason)
    order = await _order_for(session, order_id, actor)
    if order.status not in SELLER_CANCELLABLE:
        raise Expired(f"Order #{order.id} is {STATUS_LABELS[order.status]}: it can't be cancelled now.")
    was_paid = order.checkout.paid_at is not None
    await release_stock(session, order)
    await transition(session, order, CANCELLED, note=reason, now=now, **_actor_fields(actor))
    order.cancel_reason = reason
    await reverse_commissions(session, order.id, now)
    if was_paid:
        order.refund_status = REFUND_DUE
        await session.flush()
        await _refund_stars_when_all_cancelled(session, order, now)
    await session.flush()
    await announce(session, order.id, CANCELLED, now)
    return order


async def _refund_stars_when_all_cancelled(session: AsyncSession, order: Order, now: datetime) -> None:
    payment = await session.scalar(
        select(Payment).where(Payment.checkout_id == order.checkout_id, Payment.method == "stars",
                              Payment.status == "captured"))
    if payment is None:
        return
    still_open = await session.scalar(
        select(func.count(Order.id)).where(Order.checkout_id == order.checkout_id, Order.status != CANCELLED))
    if still_open:
        return
    await outbox.enqueue(session, key=f"refund-{payment.telegram_charge_id}", channel=outbox.STARS_REFUND,
                         template=STARS_REFUND_TEMPLATE,
                         payload={"user_id": order.buyer_id, "charge_id": payment.telegram_charge_id,
                                  "checkout_id": order.checkout_id},
                         chat_id=order.buyer_id, now=now)


async def complete_stars_refund(session: AsyncSession, checkout_id: int, charge_id: str, now: datetime) -> None:
    """Record that Telegram refunded a Stars charge: its orders are refunded and the buyer is told."""
    payment = await session.scalar(select(Payment).where(Payment.telegram_charge_id == charge_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if payment is None or payment.status == REFUNDED:
        return
    payment.status = REFUNDED
    orders = list(await session.scalars(select(Order).where(Order.checkout_id == checkout_id,
                                                            Order.refund_status == REFUND_DUE)))
    for order in orders:
        order.refund_status = REFUNDED
        await reverse_commissions(session, order.id, now)
    await session.flush()
    for order in orders:
        await announce(session, order.id, "refunded", now)


@dataclass(frozen=True, slots=True)
class SellerOrder:
    """One row of a seller's order list."""

    id: int
    status: str
    currency: str
    total: int
    items: int
    buyer_name: str
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
                        o.checkout.contact_name, o.created_at) for o in orders], total


async def order_for_seller_view(session: AsyncSession, order_id: int, actor: Actor) -> Order:
    """An order with lines, checkout and seller, if the actor may see it."""
    order = await session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.seller), selectinload(Order.checkout),
                 selectinload(Order.events)))
    if order is None or (actor.kind == "api" and order.seller_id != actor.seller_id):
        raise NotFound(f"Order #{order_id} does not exist.")
    if actor.kind == "seller" and order.seller.owner_user_id != actor.user_id:
        raise NotAllowed("Only this order's seller can see it.")
    return order


async def sellers_for_actor(session: AsyncSession, actor: Actor) -> list[int] | None:
    """The seller ids whose orders the actor manages (None: all, for operators)."""
    if actor.kind == "operator":
        return None
    if actor.kind == "api":
        return [actor.seller_id]
    return list(await session.scalars(select(Seller.id).where(Seller.owner_user_id == actor.user_id,
                                                              Seller.status == "approved")))
