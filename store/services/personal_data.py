"""A shopper's personal data: who was given it, their copy of it, and erasing it.

A buyer's name, phone and address live on each of their orders (each seller's
copy of what it ships to) and, as the details of the last order, on their user
row. Every time a seller's chat, an operator, the HTTP API or a webhook is given
an order with the phone and address, :func:`record_access` writes who, when and
how (:class:`DataAccess`); :func:`export` is everything keyed to a person, the
access log included.

Erasing replaces an order's contact with nothing (``None``) and takes the buyer
out of the webhook bodies still kept in the outbox: the order keeps its items,
amounts and dates for the seller and the accounts. It happens
``PERSONAL_DATA_DAYS`` after the order ended (:func:`erase_expired`), or as soon
as it ended for a person who asked to be forgotten (:func:`forget`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.models import (
    CartLine,
    Checkout,
    Click,
    Commission,
    Creator,
    DataAccess,
    MutedAlert,
    Order,
    OrderEvent,
    OutboxMessage,
    Payment,
    Payout,
    Return,
    Review,
    SavedItem,
    Seller,
    StockAlert,
    User,
    UserStep,
    Variant,
)
from store.states import AccessChannel, OrderEventType, OrderStatus, OutboxChannel, ProductKind, ReturnStatus

# An order is over for its buyer's contact once it is in one of these states.
ENDED = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.EXPIRED)
PERSONAL_DATA_DAYS = 90
ERASE_BATCH = 500


# --- who was given it ----------------------------------------------------------------------------

# The same order given again through the same channel to the same party within this time is counted on
# one entry (a seller's system polling the HTTP API would otherwise write a row per poll).
SAME_ACCESS = timedelta(hours=1)


async def record_access(session: AsyncSession, order_ids: Iterable[int], channel: AccessChannel, now: datetime, *,
                        seller_id: int | None = None, viewer_id: int | None = None,
                        erased_too: bool = False) -> int:
    """Record that these orders' buyer contact was given out; returns how many orders were counted.

    Orders whose contact is erased are skipped, unless ``erased_too`` (what was given out was read
    before the erasure: a webhook body or a notice already on its way)."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    # A digital order holds no name, phone or address: giving it gives none.
    query = select(Order.id, Order.buyer_id, Order.seller_id).where(Order.id.in_(ids),
                                                                   Order.kind == ProductKind.PHYSICAL)
    if not erased_too:
        query = query.where(Order.erased_at.is_(None))
    given = (await session.execute(query)).all()
    if not given:
        return 0
    recent = {entry.order_id: entry for entry in await session.scalars(select(DataAccess).where(
        DataAccess.order_id.in_([order_id for order_id, _, _ in given]), DataAccess.channel == channel,
        DataAccess.last_at > now - SAME_ACCESS,
        DataAccess.viewer_id.is_(None) if viewer_id is None else DataAccess.viewer_id == viewer_id))}
    for order_id, buyer_id, order_seller in given:
        if order_id in recent:
            recent[order_id].times += 1
            recent[order_id].last_at = now
        else:
            session.add(DataAccess(buyer_id=buyer_id, order_id=order_id, channel=channel,
                                   seller_id=seller_id if seller_id is not None else order_seller,
                                   viewer_id=viewer_id, times=1, created_at=now, last_at=now))
    return len(given)


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
                               "telegram_app_language": user.language_code, "chosen_language": user.language,
                               "first_seen": _when(user.created_at),
                               "blocked_the_bot_at": _when(user.blocked_at),
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
    payments = await session.scalars(select(Payment).join(Checkout, Checkout.id == Payment.checkout_id)
                                     .where(Checkout.user_id == user_id).order_by(Payment.id))
    document["payments"] = [{"checkout_id": p.checkout_id, "amount": p.amount, "currency": p.currency,
                             "status": p.status, "telegram_charge_id": p.telegram_charge_id,
                             "provider_charge_id": p.provider_charge_id, "at": _when(p.created_at)}
                            for p in payments]
    clicks = await session.execute(select(Click.creator_id, Click.product_id, Click.created_at)
                                   .where(Click.user_id == user_id).order_by(Click.id))
    document["link_clicks"] = [{"creator_id": creator, "product_id": product, "at": _when(at)}
                               for creator, product, at in clicks]
    document.update(await _after_sales(session, user_id))
    document["creator"] = await _creator(session, user_id)
    shop = await session.scalar(select(Seller).where(Seller.owner_user_id == user_id))
    document["shop"] = ({"id": shop.id, "name": shop.name, "status": shop.status, "opened": _when(shop.created_at)}
                        if shop is not None else None)
    document["contact_given_to"] = await _given(session, user_id)
    return document


async def _after_sales(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Their reviews, returns, saved products, back-in-stock requests and the alerts they turned off."""
    reviews = await session.scalars(select(Review).where(Review.buyer_id == user_id).order_by(Review.id))
    returns = await session.scalars(select(Return).where(Return.buyer_id == user_id).order_by(Return.id))
    saved = await session.execute(select(SavedItem.product_id, SavedItem.created_at)
                                  .where(SavedItem.user_id == user_id).order_by(SavedItem.created_at))
    waiting = await session.execute(select(Variant.sku, StockAlert.created_at).join(Variant, Variant.id ==
                                                                                     StockAlert.variant_id)
                                    .where(StockAlert.user_id == user_id).order_by(StockAlert.created_at))
    muted = await session.scalars(select(MutedAlert.kind).where(MutedAlert.user_id == user_id)
                                  .order_by(MutedAlert.kind))
    return {
        "reviews": [{"id": r.id, "order_id": r.order_id, "product_id": r.product_id, "rating": r.rating,
                     "text": r.text, "has_photo": r.photo is not None, "written": _when(r.created_at),
                     "seller_reply": r.reply, "hidden": _when(r.hidden_at)} for r in reviews],
        "returns": [{"id": r.id, "order_id": r.order_id, "status": r.status, "reason": r.reason, "note": r.note,
                     "has_photo": r.photo is not None, "amount": r.amount, "currency": r.currency,
                     "refund_status": r.refund_status, "asked": _when(r.created_at)} for r in returns],
        "saved_products": [{"product_id": product, "saved": _when(at)} for product, at in saved],
        "back_in_stock_requests": [{"sku": sku, "asked": _when(at)} for sku, at in waiting],
        "alerts_turned_off": list(muted),
    }


async def _given(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Each order's contact given out, per channel and receiver: how many times, first and last."""
    viewer = case((DataAccess.channel == AccessChannel.OPERATOR, "an operator"),
                  (DataAccess.viewer_id.is_not(None), "the seller, in its chat"), else_="the seller")
    rows = await session.execute(
        select(DataAccess.order_id, DataAccess.channel, Seller.name, viewer.label("by"), func.sum(DataAccess.times),
               func.min(DataAccess.created_at), func.max(DataAccess.last_at))
        .outerjoin(Seller, Seller.id == DataAccess.seller_id).where(DataAccess.buyer_id == user_id)
        .group_by(DataAccess.order_id, DataAccess.channel, Seller.name, viewer)
        .order_by(DataAccess.order_id, func.min(DataAccess.created_at)))
    return [{"order_id": order_id, "channel": channel, "seller": seller, "by": by, "times": times,
             "first": _when(first), "last": _when(last)}
            for order_id, channel, seller, by, times, first, last in rows]


async def _orders(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    orders = await session.scalars(
        select(Order).where(Order.buyer_id == user_id).order_by(Order.id)
        .options(selectinload(Order.lines), selectinload(Order.checkout), selectinload(Order.seller),
                 selectinload(Order.events)))
    return [{
        "id": order.id, "checkout_id": order.checkout_id, "status": order.status, "seller": order.seller.name,
        "placed": _when(order.created_at), "delivered": _when(order.delivered_at), "currency": order.currency,
        "items_total": order.items_total, "shipping_fee": order.shipping_fee, "total": order.total,
        "lines": [{"sku": line.sku, "title": line.title, "option": line.variant_label, "unit_price": line.unit_price,
                   "quantity": line.quantity} for line in order.lines],
        "contact": {"name": order.contact_name, "phone": order.phone, "address": order.address,
                    "erased_at": _when(order.erased_at)},
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


def _ended_at():  # type: ignore[no-untyped-def]
    """When an order ended: its last move into an ended state (else its delivery, else its last change)."""
    moved = (select(func.max(OrderEvent.created_at))
             .where(OrderEvent.order_id == Order.id, OrderEvent.to_status.in_(ENDED)).scalar_subquery())
    return func.coalesce(moved, Order.delivered_at, Order.updated_at)


async def forget(session: AsyncSession, user_id: int, now: datetime) -> Forgotten:
    """Erase what is kept about a person: profile, saved details, cart, step, link clicks, saved products and
    back-in-stock requests, a decided return's words and photo, the updates they sent, and the contact on
    their orders that have ended (the open ones' once they end).

    Orders keep their items, amounts and dates; a creator's commission is kept for payout; a review stays
    public with no name (the alerts they turned off stay off).
    """
    user = await session.get(User, user_id, with_for_update=True)
    if user is not None:
        user.first_name, user.username = "", None
        user.contact_name = user.phone = user.last_address = None
        user.forget_requested_at = now
    await session.execute(delete(CartLine).where(CartLine.user_id == user_id))
    await session.execute(delete(UserStep).where(UserStep.user_id == user_id))
    await session.execute(delete(Click).where(Click.user_id == user_id))
    await session.execute(delete(SavedItem).where(SavedItem.user_id == user_id))
    await session.execute(delete(StockAlert).where(StockAlert.user_id == user_id))
    # A decided return's words and photo go; an open one's stay until its seller has decided.
    await session.execute(update(Return).where(Return.buyer_id == user_id,
                                               Return.status.in_((ReturnStatus.REJECTED, ReturnStatus.REFUNDED)))
                          .values(note=None, photo=None))
    # What they sent (the inbox) is kept only until it is handled: a finished update keeps no payload.
    erased = await _erase(session, [Order.buyer_id == user_id, Order.contact_name.is_not(None)], now,
                          with_name=True)
    erased_ids = tuple(order_id for order_id, _ in erased)
    still_open = await session.scalars(select(Order.id).where(Order.buyer_id == user_id, Order.status.not_in(ENDED))
                                       .order_by(Order.id))
    return Forgotten(erased_ids, tuple(still_open))


async def erase_expired(session: AsyncSession, now: datetime, days: int = PERSONAL_DATA_DAYS,
                        limit: int = ERASE_BATCH) -> int:
    """Erase the buyer's phone and address of orders that ended more than ``days`` ago (the name too, as
    soon as they ended, for orders placed before their buyer asked to be forgotten), and the saved
    details of buyers none of whose orders keeps them any more; returns how many orders were erased.
    """
    old = await _erase(session, [Order.erased_at.is_(None), _ended_at() < now - timedelta(days=days)], now,
                       limit=limit)
    asked = await _erase(session, [Order.contact_name.is_not(None), User.forget_requested_at.is_not(None),
                                   Order.created_at < User.forget_requested_at], now, with_name=True, limit=limit)
    buyers = {buyer for buyer, _ in old}
    if buyers:
        kept = select(Order.id).where(Order.buyer_id == User.id, Order.erased_at.is_(None)).exists()
        await session.execute(update(User).where(User.id.in_(buyers), ~kept)
                              .values(contact_name=None, phone=None, last_address=None))
    return len(old) + len(asked)


async def _erase(session: AsyncSession, where: list, now: datetime, *, with_name: bool = False,
                 limit: int | None = None) -> tuple[int, ...]:
    """Erase the contact of the ended orders matching ``where`` (the buyer's row joined); their ids."""
    query = (select(Order.id, Order.buyer_id).join(User, User.id == Order.buyer_id)
             .where(Order.status.in_(ENDED), *where).order_by(Order.id))
    if limit is not None:
        query = query.limit(limit)
    found = (await session.execute(query)).all()
    if not found:
        return ()
    order_ids = [order_id for order_id, _ in found]
    values: dict[str, Any] = {"phone": None, "address": None, "erased_at": now}
    if with_name:
        values["contact_name"] = None
    await session.execute(update(Order).where(Order.id.in_(order_ids)).values(**values)
                          .execution_options(synchronize_session=False))
    await _erase_from_webhook_bodies(session, order_ids, with_name)
    return tuple(found)


async def _erase_from_webhook_bodies(session: AsyncSession, order_ids: list[int], with_name: bool) -> None:
    """Take the buyer out of the webhook bodies the outbox keeps for these orders."""
    keys = [f"order-{order_id}-{event}" for order_id in order_ids for event in OrderEventType]
    rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.key.in_(keys),
                                                             OutboxMessage.channel == OutboxChannel.WEBHOOK))
    for row in rows:
        data = dict(row.payload.get("data") or {})
        buyer = dict(data.get("buyer") or {})
        buyer.update(phone=None, address=None, **({"name": None} if with_name else {}))
        row.payload = {**row.payload, "data": {**data, "buyer": buyer}}
