"""Checkouts still awaiting payment: sending the invoice again, expiry, and the buyer calling one off.

Either end puts the reserved stock back and tells the seller's webhook.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, Expired, NotFound
from store.models import Checkout, Order
from store.services import outbox
from store.services.checkout import checkout_for_update
from store.services.events import announce
from store.services.orders import release_stock, transition
from store.states import ActorKind, CheckoutStatus, Notice, OrderEventType, OrderStatus, OutboxChannel


async def unpaid_checkout(session: AsyncSession, user_id: int, checkout_id: int, now: datetime) -> Checkout:
    """One of the buyer's checkouts still awaiting payment (to send its invoice again)."""
    checkout = await session.scalar(select(Checkout).where(Checkout.id == checkout_id)
                                    .options(selectinload(Checkout.orders)))
    if checkout is None or checkout.user_id != user_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    if checkout.status != CheckoutStatus.PENDING_PAYMENT or (checkout.expires_at is not None
                                                             and checkout.expires_at <= now):
        raise Expired(ErrorCode.NOT_AWAITING_PAYMENT)
    return checkout


async def placed_together(session: AsyncSession, user_id: int, message_id: int | None) -> list[Checkout]:
    """The checkouts one Place order made (they share the message that asked for their payments), with their
    orders, in the order placed; none without a message."""
    if message_id is None:
        return []
    return list(await session.scalars(
        select(Checkout).where(Checkout.user_id == user_id, Checkout.pay_message_id == message_id)
        .options(selectinload(Checkout.orders)).order_by(Checkout.id).execution_options(populate_existing=True)))


async def expire_checkouts(session: AsyncSession, now: datetime, limit: int = 100) -> list[Checkout]:
    """Expire unpaid checkouts past their time and put their stock back; return them."""
    checkouts = list(await session.scalars(
        select(Checkout)
        .where(Checkout.status == CheckoutStatus.PENDING_PAYMENT, Checkout.expires_at <= now)
        .options(selectinload(Checkout.orders).selectinload(Order.lines))
        .order_by(Checkout.id)
        .limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ))
    for checkout in checkouts:
        for order in checkout.orders:
            if order.status == OrderStatus.PENDING_PAYMENT:
                await release_stock(session, order, now=now)
                await transition(session, order, OrderStatus.EXPIRED, actor_kind=ActorKind.SYSTEM,
                                 note="not paid in time", now=now)
        checkout.status = CheckoutStatus.EXPIRED
    await session.flush()
    for checkout in checkouts:
        for order in checkout.orders:
            await announce(session, order.id, OrderEventType.EXPIRED, now)
        await outbox.enqueue(session, key=f"checkout-{checkout.id}-expired", channel=OutboxChannel.TELEGRAM,
                             template=Notice.CHECKOUT_EXPIRED,
                             payload={"order_ids": [o.id for o in checkout.orders]},
                             chat_id=checkout.user_id, now=now)
    return checkouts


async def cancel_checkout(session: AsyncSession, user_id: int, checkout_id: int, now: datetime) -> Checkout:
    """Let the buyer call off a checkout that is still awaiting payment; the stock goes back."""
    checkout = await checkout_for_update(session, checkout_id)
    if checkout is None or checkout.user_id != user_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    if checkout.status != CheckoutStatus.PENDING_PAYMENT:
        raise Expired(ErrorCode.CANCEL_ONLY_UNPAID)
    for order in checkout.orders:
        await release_stock(session, order, now=now)
        await transition(session, order, OrderStatus.CANCELLED, actor_kind=ActorKind.BUYER, actor_id=user_id,
                         note="cancelled before payment", now=now)
    checkout.status = CheckoutStatus.CANCELLED
    await session.flush()
    for order in checkout.orders:  # the buyer sees it in the message they pressed: no notice of their own act
        await announce(session, order.id, OrderEventType.CANCELLED, now, tell_buyer=False)
    return checkout
