"""Announcing order changes: the seller's chat, the buyer's chat and the seller's webhook.

:func:`announce` is called in the transaction that changes an order; it only
writes outbox rows. Chat messages are rendered when they are sent (they show
the order as it is then, with the buttons that still apply); webhook bodies
are built now, so a retailer receives the order exactly as the event left it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.models import Checkout, Order, Payment, Product, Seller, Variant
from store.services import outbox
from store.services.orders import allowed_actions
from store.states import (
    Delivery,
    Notice,
    OrderEventType,
    OrderStatus,
    OutboxChannel,
    PaymentMethod,
    PaymentState,
    ProductKind,
)

# Events the buyer hears about in their chat (they see payment and placing as they happen).
BUYER_EVENTS = frozenset({OrderEventType.ACCEPTED, OrderEventType.SHIPPED, OrderEventType.DELIVERED,
                          OrderEventType.CANCELLED, OrderEventType.REFUNDED})


async def load_order(session: AsyncSession, order_id: int) -> Order:
    """Load an order with its lines, checkout and seller."""
    return await session.scalar(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.checkout), selectinload(Order.seller))
    )


def order_payload(order: Order, payment: Payment | None) -> dict[str, Any]:
    """The order as a webhook sends it: amounts in minor units, buyer contact, lines, tracking."""
    checkout = order.checkout
    return {
        "id": order.id,
        "checkout_id": order.checkout_id,
        "seller_id": order.seller_id,
        "status": order.status,
        # "physical" (shipped) or "digital" (its goods sent in the buyer's chat when paid; no buyer contact).
        "kind": order.kind,
        # What the seller may do with the order now (POST /api/v1/orders/{id}/{action}).
        "actions": list(allowed_actions(order)),
        "currency": order.currency,
        "items_total": order.items_total,
        # What a discount code took off the items (total = items_total - discount + shipping_fee), the part of it
        # the platform pays (the seller is paid that part as if it were not taken off), and the code.
        "discount": order.discount,
        "platform_discount": order.platform_discount,
        "coupon_code": order.coupon_code,
        "shipping_fee": order.shipping_fee,
        "total": order.total,
        "lines": [
            {"sku": line.sku, "title": line.title, "option": line.variant_label, "unit_price": line.unit_price,
             "quantity": line.quantity, "line_total": line.line_total, "discount": line.discount}
            for line in order.lines
        ],
        "buyer": {"name": order.contact_name, "phone": order.phone, "address": order.address},
        "shipping": {"method": checkout.shipping_code, "name": checkout.shipping_name,
                     "carrier": order.carrier, "tracking_number": order.tracking_number},
        "payment": {"method": checkout.payment_method,
                    "status": _payment_state(checkout),
                    "charge_id": payment.telegram_charge_id if payment else None},
        "cancel_reason": order.cancel_reason,
        "refund_status": order.refund_status,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


def _payment_state(checkout: Checkout) -> PaymentState:
    if checkout.paid_at:
        return PaymentState.PAID
    return PaymentState.CASH_ON_DELIVERY if checkout.payment_method == PaymentMethod.COD else PaymentState.UNPAID


async def order_document(session: AsyncSession, order: Order) -> dict[str, Any]:
    """The order as webhooks and the HTTP API show it, with its latest payment."""
    payment = await session.scalar(select(Payment).where(Payment.checkout_id == order.checkout_id)
                                   .order_by(Payment.id.desc()).limit(1))
    return order_payload(order, payment)


async def announce(session: AsyncSession, order_id: int, event: OrderEventType, now: datetime, *,
                   tell_buyer: bool = True) -> None:
    """Queue everything an order event must reach: seller chat, buyer chat (not when the buyer made it:
    ``tell_buyer`` False), seller webhook."""
    order = await load_order(session, order_id)
    seller: Seller = order.seller
    new_order = event == OrderEventType.PAID or (event == OrderEventType.CREATED
                                                 and order.status == OrderStatus.PLACED)
    if new_order and seller.notify_chat_id is not None:
        await outbox.enqueue(session, key=f"order-{order.id}-{event}-seller", channel=OutboxChannel.TELEGRAM,
                             template=Notice.SELLER_ORDER, payload={"order_id": order.id},
                             chat_id=seller.notify_chat_id, seller_id=seller.id, now=now)
    # A digital order is delivered by sending its goods: that message is the buyer's news.
    if tell_buyer and event in BUYER_EVENTS and not (event == OrderEventType.DELIVERED
                                                     and order.kind == ProductKind.DIGITAL):
        await outbox.enqueue(session, key=f"order-{order.id}-{event}-buyer", channel=OutboxChannel.TELEGRAM,
                             template=Notice.BUYER_ORDER,
                             payload={"order_id": order.id, "event": event, "carrier": order.carrier,
                                      "tracking_number": order.tracking_number, "reason": order.cancel_reason,
                                      "refund_status": order.refund_status},
                             chat_id=order.buyer_id, now=now)
    if seller.webhook_url:
        body = {"type": f"order.{event}", "timestamp": now.isoformat(), "data": await order_document(session, order)}
        await outbox.enqueue(session, key=f"order-{order.id}-{event}", channel=OutboxChannel.WEBHOOK,
                             template=f"order.{event}", payload=body, seller_id=seller.id, now=now)


async def announce_stock(session: AsyncSession, variant_ids: list[int], threshold: int, reason: str,
                         now: datetime) -> None:
    """Tell sellers about variants that just fell to ``threshold`` or below (low or out of stock)."""
    rows = await session.execute(
        select(Variant, Product.title, Seller.notify_chat_id, Seller.id)
        .join(Product, Product.id == Variant.product_id).join(Seller, Seller.id == Variant.seller_id)
        .where(Variant.id.in_(variant_ids), Variant.stock <= threshold, Seller.notify_chat_id.is_not(None))
    )
    for variant, title, chat_id, seller_id in rows:
        await outbox.enqueue(session, key=f"stock-{variant.id}-{variant.stock}-{reason}",
                             channel=OutboxChannel.TELEGRAM,
                             template=Notice.SELLER_STOCK,
                             payload={"variant_id": variant.id, "title": title, "label": variant.label,
                                      "sku": variant.sku, "stock": variant.stock,
                                      "codes": variant.delivery == Delivery.CODE},
                             chat_id=chat_id, seller_id=seller_id, now=now)
