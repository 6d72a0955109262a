"""A shopper's personal data: who was given it, their copy of it, and erasing it.

A buyer's name, phone and address live on their checkouts (what sellers ship to)
and, as the details of the last order, on their user row. Every time a seller's
chat, an operator, the HTTP API or a webhook is given an order with the phone and
address, :func:`record_access` writes who, when and how (:class:`DataAccess`);
:func:`export` is everything keyed to a person, the access log included.

Erasing replaces a checkout's contact with nothing (``None``) and takes the buyer
out of the webhook bodies still kept in the outbox: the orders keep their items,
amounts and dates for the seller and the accounts. It happens
``PERSONAL_DATA_DAYS`` after an order ended (:func:`erase_expired`), or as soon as
it ended for a person who asked to be forgotten (:func:`forget`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.models import (
    CartLine,
    Checkout,
    Click,
    Commission,
    Creator,
    DataAccess,
    InboxUpdate,
    Order,
    OutboxMessage,
    Payout,
    Seller,
    User,
    UserStep,
    Variant,
)
from store.states import AccessChannel, OrderStatus, OutboxChannel

# An order is over for its buyer's contact once it is in one of these states.
ENDED = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.EXPIRED)
PERSONAL_DATA_DAYS = 90
ERASE_BATCH = 500


# --- who was given it ----------------------------------------------------------------------------


async def record_access(session: AsyncSession, order_ids: Iterable[int], channel: AccessChannel, now: datetime, *,
                        seller_id: int | None = None, viewer_id: int | None = None) -> int:
    """Record that these orders' buyer contact was given out; orders whose contact is erased are skipped."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    rows = await session.execute(
        select(Order.id, Order.buyer_id, Order.seller_id).join(Checkout, Checkout.id == Order.checkout_id)
        .where(Order.id.in_(ids), Checkout.erased_at.is_(None)))
    entries = [DataAccess(buyer_id=buyer_id, order_id=order_id, channel=channel,
                          seller_id=seller_id if seller_id is not None else order_seller, viewer_id=viewer_id,
                          created_at=now)
               for order_id, buyer_id, order_seller in rows]
    session.add_all(entries)
    return len(entries)


def channel_of(kind: str) -> AccessChannel:
    """The channel an order actor (``ActorKind``) sees a buyer's contact through."""
    return {"operator": AccessChannel.OPERATOR, "api": AccessChannel.HTTP_API}.get(kind, AccessChannel.SELLER_CHAT)


# --- the person's copy ---------------------------------------------------------------------------


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def export(session: AsyncSession, user_id: int, now: datetime) -> dict[str, Any]:
    """Everything the shop keeps keyed to this person, as a JSON-ready document."""
    user = await session.get(User, user_id)
    document: dict[str, Any] = {"exported_at": now.isoformat(), "telegram_user_id": user_id}
    if user is not None:
        document["profile"] = {"first_name": user.first_name, "username": user.username,
                               "language": user.language_code, "first_seen": _when(user.created_at),
                               "forget_requested_at": _when(user.forget_requested_at)}
        document["saved_details"] = {"name": user.contact_name, "phone": user.phone, "address": user.last_address}
    cart = await session.execute(
        select(Variant.sku, CartLine.quantity, CartLine.seen_price, CartLine.creator_id)
        .join(Variant, Variant.id == CartLine.variant_id).where(CartLine.user_id == user_id).order_by(CartLine.id))
    document["cart"] = [{"sku": sku, "quantity": quantity, "price_seen": price, "creator_id": creator}
                        for sku, quantity, price, creator in cart]
    step = await session.get(UserStep, user_id)
    document["conversation_step"] = {"step": step.step, "answers": step.data} if step is not None else None
    document["orders"] = await _orders(session, user_id)
    clicks = await session.execute(select(Click.creator_id, Click.product_id, Click.created_at)
                                   .where(Click.user_id == user_id).order_by(Click.id))
    document["link_clicks"] = [{"creator_id": creator, "product_id": product, "at": _when(at)}
                               for creator, product, at in clicks]
    document["creator"] = await _creator(session, user_id)
    shop = await session.scalar(select(Seller).where(Seller.owner_user_id == user_id))
    document["shop"] = ({"id": shop.id, "name": shop.name, "status": shop.status, "opened": _when(shop.created_at)}
                        if shop is not None else None)
    given = await session.execute(
        select(DataAccess, Seller.name).outerjoin(Seller, Seller.id == DataAccess.seller_id)
        .where(DataAccess.buyer_id == user_id).order_by(DataAccess.id))
    document["contact_given_to"] = [
        {"order_id": entry.order_id, "channel": entry.channel, "seller_id": entry.seller_id, "seller": name,
         "person_id": entry.viewer_id, "at": _when(entry.created_at)} for entry, name in given]
    return document


async def _orders(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    orders = await session.scalars(
        select(Order).where(Order.buyer_id == user_id).order_by(Order.id)
        .options(selectinload(Order.lines), selectinload(Order.checkout), selectinload(Order.seller),
                 selectinload(Order.events)))
    return [{
        "id": order.id, "status": order.status, "seller": order.seller.name, "placed": _when(order.created_at),
        "delivered": _when(order.delivered_at), "currency": order.currency, "items_total": order.items_total,
        "shipping_fee": order.shipping_fee, "total": order.total,
        "lines": [{"sku": line.sku, "title": line.title, "option": line.variant_label, "unit_price": line.unit_price,
                   "quantity": line.quantity} for line in order.lines],
        "contact": {"name": order.checkout.contact_name, "phone": order.checkout.phone,
                    "address": order.checkout.address, "erased_at": _when(order.checkout.erased_at)},
        "shipping": order.checkout.shipping_name, "payment_method": order.checkout.payment_method,
        "carrier": order.carrier, "tracking_number": order.tracking_number, "cancel_reason": order.cancel_reason,
        "history": [{"status": event.to_status, "at": _when(event.created_at)} for event in order.events],
    } for order in orders]


async def _creator(session: AsyncSession, user_id: int) -> dict[str, Any] | None:
    creator = await session.scalar(select(Creator).where(Creator.user_id == user_id))
    if creator is None:
        return None
    commissions = await session.scalars(select(Commission).where(Commission.creator_id == creator.id)
                                        .order_by(Commission.id))
    payouts = await session.scalars(select(Payout).where(Payout.creator_id == creator.id).order_by(Payout.id))
    return {
        "code": creator.code, "status": creator.status, "since": _when(creator.created_at),
        "commissions": [{"order_id": c.order_id, "product_id": c.product_id, "sales": c.sales, "amount": c.amount,
                         "currency": c.currency, "status": c.status, "at": _when(c.created_at)}
                        for c in commissions],
        "payouts": [{"amount": p.amount, "currency": p.currency, "at": _when(p.created_at)} for p in payouts],
    }


# --- erasing -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting did: orders whose contact was erased, and those still open (erased when they end)."""

    erased_orders: tuple[int, ...]
    open_orders: tuple[int, ...]


async def forget(session: AsyncSession, user_id: int, now: datetime) -> Forgotten:
    """Erase what is kept about a person: profile, saved details, cart, step, link clicks, the updates
    they sent, and the contact on their orders that have ended (the open ones' once they end).

    Orders keep their items, amounts and dates; a creator's commission is kept for payout.
    """
    user = await session.get(User, user_id, with_for_update=True)
    if user is not None:
        user.first_name, user.username = "", None
        user.contact_name = user.phone = user.last_address = None
        user.forget_requested_at = now
    await session.execute(delete(CartLine).where(CartLine.user_id == user_id))
    await session.execute(delete(UserStep).where(UserStep.user_id == user_id))
    await session.execute(delete(Click).where(Click.user_id == user_id))
    # What they sent is kept only until it is handled; finished rows keep no payload.
    await session.execute(update(InboxUpdate).where(InboxUpdate.lane == user_id, InboxUpdate.finished_at.is_not(None))
                          .values(payload=None))
    erased = await _erase_ended(session, [Checkout.user_id == user_id], now, with_name=True)
    still_open = await session.scalars(select(Order.id).where(Order.buyer_id == user_id, Order.status.not_in(ENDED))
                                       .order_by(Order.id))
    return Forgotten(erased, tuple(still_open))


async def erase_expired(session: AsyncSession, now: datetime, days: int = PERSONAL_DATA_DAYS,
                        limit: int = ERASE_BATCH) -> int:
    """Erase the buyer's phone and address of checkouts whose orders all ended more than ``days`` ago
    (name, phone and address for buyers who asked to be forgotten, as soon as they ended); returns how
    many orders' contact was erased (``limit`` checkouts of each kind at most)."""
    cutoff = now - timedelta(days=days)
    forgotten = select(User.id).where(User.forget_requested_at.is_not(None))
    old = await _erase_ended(session, [], now, ended_before=cutoff, limit=limit)
    asked = await _erase_ended(session, [Checkout.user_id.in_(forgotten)], now, with_name=True, limit=limit)
    return len(old) + len(asked)


async def _erase_ended(session: AsyncSession, where: list, now: datetime, *, with_name: bool = False,
                       ended_before: datetime | None = None, limit: int | None = None) -> tuple[int, ...]:
    """Erase the contact of checkouts (matching ``where``) not erased yet whose every order has ended
    (before ``ended_before``, when given); returns the erased checkouts' order ids."""
    ended_at = func.coalesce(Order.delivered_at, Order.updated_at)  # when a delivered or cancelled order ended
    open_orders = select(Order.id).where(Order.checkout_id == Checkout.id,
                                         or_(Order.status.not_in(ENDED),
                                             *([ended_at >= ended_before] if ended_before else [])))
    kept = (or_(Checkout.erased_at.is_(None), Checkout.contact_name.is_not(None)) if with_name
            else Checkout.erased_at.is_(None))
    query = select(Checkout.id).where(*where, kept, ~open_orders.exists()).order_by(Checkout.id)
    if limit is not None:
        query = query.limit(limit)
    checkout_ids = list(await session.scalars(query))
    if not checkout_ids:
        return ()
    values: dict[str, Any] = {"phone": None, "address": None, "erased_at": now}
    if with_name:
        values["contact_name"] = None
    await session.execute(update(Checkout).where(Checkout.id.in_(checkout_ids)).values(**values))
    order_ids = tuple(await session.scalars(select(Order.id).where(Order.checkout_id.in_(checkout_ids))
                                            .order_by(Order.id)))
    await _erase_from_webhook_bodies(session, order_ids, with_name)
    return order_ids


async def _erase_from_webhook_bodies(session: AsyncSession, order_ids: tuple[int, ...], with_name: bool) -> None:
    """Take the buyer out of the webhook bodies the outbox keeps for these orders."""
    for order_id in order_ids:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.WEBHOOK,
                                                                 OutboxMessage.key.like(f"order-{order_id}-%")))
        for row in rows:
            data = dict(row.payload.get("data") or {})
            buyer = dict(data.get("buyer") or {})
            buyer.update(phone=None, address=None, **({"name": None} if with_name else {}))
            row.payload = {**row.payload, "data": {**data, "buyer": buyer}}

