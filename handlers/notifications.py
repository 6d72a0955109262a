"""Chat messages the outbox delivers: new orders to sellers, order news to buyers, notices to operators.

Rendered when sent, from the store as it is then, so buttons only offer what
still applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from handlers import keyboards, render
from store.models import Order
from store.services import creators
from store.services.checkout import EXPIRED_TEMPLATE
from store.services.events import BUYER_ORDER_TEMPLATE, SELLER_ORDER_TEMPLATE, STOCK_TEMPLATE, load_order
from store.services.orders import STATUS_LABELS
from store.services.sellers import APPLICATION_TEMPLATE, APPROVED, DECISION_TEMPLATE, get_seller
from store.services.users import get_user


@dataclass(frozen=True, slots=True)
class Notice:
    """A rendered chat message; ``seller_commands`` asks to show the seller commands in that chat."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    seller_commands: bool = False


def seller_order_text(order: Order, lang: str | None = None) -> str:
    """An order as its seller sees it: lines, totals, buyer contact and address, payment state."""
    checkout, cur = order.checkout, order.currency
    if checkout.payment_method == "cod":
        payment = f"cash on delivery: collect {render.money(order.total, cur, lang)}"
    elif checkout.paid_at is not None:
        payment = f"paid by {render.PAYMENT_LABELS[checkout.payment_method].split(' ', 1)[1].lower()}"
    else:
        payment = "not paid"
    if order.refund_status:
        payment += f" — refund {order.refund_status}"
    parts = [f"🛎 <b>Order #{order.id}</b> — {STATUS_LABELS.get(order.status, order.status)}", ""]
    parts += [f"• {render.item_name(line.title, line.variant_label)} [{escape(line.sku)}] — {line.quantity} × "
              f"{render.money(line.unit_price, cur, lang)}" for line in order.lines]
    parts.append(f"\nItems: {render.money(order.items_total, cur, lang)} · Shipping "
                 f"({escape(checkout.shipping_name)}): {render.money(order.shipping_fee, cur, lang)}")
    parts.append(f"<b>Total: {render.money(order.total, cur, lang)}</b> · Payment: {payment}")
    parts.append(f"\n<b>Buyer:</b> {escape(checkout.contact_name)}, {escape(checkout.phone)}")
    parts.append(f"<b>Ship to:</b> {escape(checkout.address)}")
    if order.tracking_number:
        parts.append(f"<b>Tracking:</b> {escape(order.carrier or '')} {escape(order.tracking_number)}")
    if order.cancel_reason:
        parts.append(f"<b>Cancelled:</b> {escape(order.cancel_reason)}")
    return "\n".join(parts)


def buyer_order_text(order: Order, data: dict[str, Any], lang: str | None = None) -> str:
    """What the buyer is told when their order moves."""
    event, seller = data["event"], escape(order.seller.name)
    if event == "accepted":
        text = f"👍 {seller} accepted your order #{order.id} and is preparing it."
    elif event == "shipped":
        text = (f"🚚 Your order #{order.id} from {seller} is on its way: "
                f"{escape(data.get('carrier') or '')} {escape(data.get('tracking_number') or '')}.")
    elif event == "delivered":
        text = f"📬 Your order #{order.id} from {seller} was delivered. Enjoy!"
    elif event == "cancelled":
        text = f"✖ {seller} cancelled your order #{order.id}: {escape(data.get('reason') or 'no reason given')}."
        if data.get("refund_status") == "due":
            text += f"\nYour payment of {render.money(order.total, order.currency, lang)} will be refunded."
    else:
        text = f"💸 The payment for order #{order.id} was refunded."
    return text + "\nSee /orders for details."


async def render_notice(session: AsyncSession, template: str, data: dict[str, Any]) -> Notice | None:
    """Render an outbox chat message, or None when what it was about no longer exists."""
    if template == SELLER_ORDER_TEMPLATE:
        order = await load_order(session, data["order_id"])
        if order is None:
            return None
        return Notice(seller_order_text(order), keyboards.seller_order_actions(order.id, order.status))
    if template == BUYER_ORDER_TEMPLATE:
        order = await load_order(session, data["order_id"])
        if order is None:
            return None
        buyer = await get_user(session, order.buyer_id)
        return Notice(buyer_order_text(order, data, buyer.language_code if buyer else None))
    if template == STOCK_TEMPLATE:
        name = render.item_name(data["title"], data["label"])
        if data["stock"] <= 0:
            return Notice(f"❌ <b>Out of stock:</b> {name} [{escape(data['sku'])}]. Restock it in /my_products.")
        return Notice(f"⚠️ <b>Low stock:</b> {name} [{escape(data['sku'])}] — {data['stock']} left.")
    if template == APPLICATION_TEMPLATE:
        seller = await get_seller(session, data["seller_id"])
        if seller is None or seller.status != "pending":
            return None
        owner = await get_user(session, seller.owner_user_id) if seller.owner_user_id else None
        who = escape(owner.first_name) if owner else "someone"
        if owner and owner.username:
            who += f" (@{escape(owner.username)})"
        return Notice(f"📝 <b>Seller application</b>\nShop: <b>{escape(seller.name)}</b>\nFrom: {who}, "
                      f"user {seller.owner_user_id}", keyboards.seller_application(seller.id))
    if template == DECISION_TEMPLATE:
        seller = await get_seller(session, data["seller_id"])
        if seller is None:
            return None
        if data["status"] == APPROVED:
            return Notice(render.SELLER_WELCOME.format(name=escape(seller.name)), seller_commands=True)
        return Notice(f"Sorry, your application for <b>{escape(seller.name)}</b> was not approved.")
    if template == EXPIRED_TEMPLATE:
        numbers = ", ".join(f"#{order_id}" for order_id in data["order_ids"])
        return Notice(f"⌛ Order {numbers} wasn't paid in time, so the items were released. You can order again "
                      "any time.")
    if template == creators.APPLICATION_TEMPLATE:
        creator = await creators.get_creator(session, data["creator_id"])
        if creator is None or creator.status != creators.PENDING:
            return None
        owner = await get_user(session, creator.user_id)
        who = escape(owner.first_name) if owner else "someone"
        if owner and owner.username:
            who += f" (@{escape(owner.username)})"
        return Notice(f"✨ <b>Creator application</b>\nFrom: {who}, user {creator.user_id}",
                      keyboards.creator_application(creator.id))
    if template == creators.DECISION_TEMPLATE:
        if data["status"] == creators.APPROVED:
            return Notice("✨ You're approved as a chatshop creator! Send /creator for your links.")
        return Notice("Sorry, your creator application was not approved.")
    raise ValueError(f"unknown notice template {template!r}")
