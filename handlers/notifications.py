"""Chat messages the outbox delivers: new orders to sellers, order news to buyers, notices to operators.

Rendered when sent, from the store as it is then, so buttons only offer what
still applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from handlers import keyboards, render
from handlers.fit import fit_lines
from handlers.messages import PAYMENT_METHOD, PAYMENT_PAID_BY, REFUND_STATUS, order_status
from store.models import Order, Payment
from store.services import creators, outbox
from store.services.events import load_order
from store.services.fulfilment import RefundDue, refund_due
from store.services.sellers import get_seller
from store.services.users import get_user
from store.states import Approval, OrderEventType, PaymentMethod, RefundStatus
from store.states import Notice as NoticeKind


@dataclass(frozen=True, slots=True)
class Notice:
    """A rendered chat message; ``seller_commands`` asks to show the seller commands in that chat."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    seller_commands: bool = False


def seller_order_text(order: Order, lang: str | None = None) -> str:
    """An order as its seller sees it: lines, totals, buyer contact and address, payment state."""
    checkout, cur = order.checkout, order.currency
    if checkout.payment_method == PaymentMethod.COD:
        payment = f"cash on delivery: collect {render.money(order.total, cur, lang)}"
    elif checkout.paid_at is not None:
        payment = f"paid by {PAYMENT_PAID_BY[checkout.payment_method]}"
    else:
        payment = "not paid"
    if order.refund_status:
        payment += f" — {REFUND_STATUS[order.refund_status]}"
    lines = [f"• {render.item_name(line.title, line.variant_label)} [{escape(line.sku)}] — {line.quantity} × "
             f"{render.money(line.unit_price, cur, lang)}" for line in order.lines]
    parts = []
    parts.append(f"\nItems: {render.money(order.items_total, cur, lang)} · Shipping "
                 f"({escape(checkout.shipping_name)}): {render.money(order.shipping_fee, cur, lang)}")
    parts.append(f"<b>Total: {render.money(order.total, cur, lang)}</b> · Payment: {payment}")
    parts.append(f"\n<b>Buyer:</b> {render.contact_of(order)}")
    parts.append(f"<b>Ship to:</b> {render.kept(order.address)}")
    if order.tracking_number:
        parts.append(f"<b>Tracking:</b> {escape(order.carrier or '')} {escape(order.tracking_number)}")
    if order.cancel_reason:
        parts.append(f"<b>Cancelled:</b> {escape(order.cancel_reason)}")
    return fit_lines([f"🛎 <b>Order #{order.id}</b> — {order_status(order.status)}", ""], lines, parts)


def buyer_order_text(order: Order, data: dict[str, Any], lang: str | None = None) -> str:
    """What the buyer is told when their order moves."""
    event, seller = data["event"], escape(order.seller.name)
    if event == OrderEventType.ACCEPTED:
        text = f"👍 {seller} accepted your order #{order.id} and is preparing it."
    elif event == OrderEventType.SHIPPED:
        text = (f"🚚 Your order #{order.id} from {seller} is on its way: "
                f"{escape(data.get('carrier') or '')} {escape(data.get('tracking_number') or '')}.")
    elif event == OrderEventType.DELIVERED:
        text = f"📬 Your order #{order.id} from {seller} was delivered. Enjoy!"
    elif event == OrderEventType.CANCELLED:
        text = f"✖ {seller} cancelled your order #{order.id}: {escape(data.get('reason') or 'no reason given')}."
        if data.get("refund_status") == RefundStatus.DUE:
            text += f"\nYour payment of {render.money(order.total, order.currency, lang)} will be refunded."
    else:
        text = f"💸 The payment for order #{order.id} was refunded."
    return text + "\nSee /orders for details."


async def _seller_order(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    order = await load_order(session, data["order_id"])
    if order is None:
        return None
    return Notice(seller_order_text(order), keyboards.seller_order_actions(order))


async def _buyer_order(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    order = await load_order(session, data["order_id"])
    if order is None:
        return None
    buyer = await get_user(session, order.buyer_id)
    return Notice(buyer_order_text(order, data, buyer.language_code if buyer else None))


async def _stock(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    name = render.item_name(data["title"], data["label"])
    if data["stock"] <= 0:
        return Notice(f"❌ <b>Out of stock:</b> {name} [{escape(data['sku'])}]. Restock it in /my_products.")
    return Notice(f"⚠️ <b>Low stock:</b> {name} [{escape(data['sku'])}] — {data['stock']} left.")


async def applicant(session: AsyncSession, user_id: int | None) -> str:
    """An applicant as operators see them: first name, @username."""
    owner = await get_user(session, user_id) if user_id else None
    who = escape(owner.first_name) if owner else "someone"
    if owner and owner.username:
        who += f" (@{escape(owner.username)})"
    return who


async def _seller_application(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    seller = await get_seller(session, data["seller_id"])
    if seller is None or seller.status != Approval.PENDING:
        return None
    return Notice(f"📝 <b>Seller application</b>\nShop: <b>{escape(seller.name)}</b>\n"
                  f"From: {await applicant(session, seller.owner_user_id)}, user {seller.owner_user_id}",
                  keyboards.seller_application(seller.id))


async def _seller_decision(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    seller = await get_seller(session, data["seller_id"])
    if seller is None:
        return None
    if data["status"] == Approval.APPROVED:
        return Notice(render.SELLER_WELCOME.format(name=escape(seller.name)), seller_commands=True)
    return Notice(f"Sorry, your application for <b>{escape(seller.name)}</b> was not approved.")


async def _checkout_expired(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    numbers = ", ".join(f"#{order_id}" for order_id in data["order_ids"])
    return Notice(f"⌛ Order {numbers} wasn't paid in time, so the items were released. You can order again "
                  "any time.")


async def _creator_application(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    creator = await creators.get_creator(session, data["creator_id"])
    if creator is None or creator.status != Approval.PENDING:
        return None
    return Notice(f"✨ <b>Creator application</b>\nFrom: {await applicant(session, creator.user_id)}, user "
                  f"{creator.user_id}", keyboards.creator_application(creator.id))


async def _creator_decision(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    if data["status"] == Approval.APPROVED:
        return Notice("✨ You're approved as a chatshop creator! Send /creator for your links.")
    return Notice("Sorry, your creator application was not approved.")


def refund_due_line(due: RefundDue) -> str:
    """One payment to refund, as sellers and operators read it."""
    orders = ", ".join(f"#{order_id}" for order_id in due.order_ids)
    how = ("Telegram Stars go back automatically" if due.method == PaymentMethod.STARS
           else f"refund it through the payment provider, charge <code>{escape(due.charge_id)}</code>")
    return (f"💸 {render.money(due.amount, due.currency, None)} ({PAYMENT_METHOD[due.method]}) for order {orders}, "
            f"which came after the checkout was {escape(due.checkout_status.replace('_', ' '))}: {how}.")


async def _refund_due(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    due = await refund_due(session, data["payment_id"])
    if due is None:
        return None  # refunded already
    return Notice("<b>Refund due</b>\n" + refund_due_line(due))


async def _payment_refunded(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    payment = await session.get(Payment, data["payment_id"])
    if payment is None:
        return None
    return Notice(f"↩️ Your payment of {render.money(payment.amount, payment.currency, None)} has been refunded.")


async def _webhook_failing(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    row = await outbox.stuck(session, data["delivery_id"])
    seller = await get_seller(session, data["seller_id"])
    if row is None or seller is None:
        return None  # delivered meanwhile
    error = escape((row.last_error or "no answer")[:200])
    return Notice(f"⚠️ <b>Order webhook failing</b>: events for <b>{escape(seller.name)}</b> (shop {seller.id}) have "
                  f"not been accepted for over an hour ({error}). They are kept and retried, in order; one given "
                  f"up holds back the later ones until an operator sends <code>/replay_webhooks {seller.id}</code>.")


# The renderer of each chat notice the outbox delivers (Stars refunds are not messages).
RENDERERS: dict[NoticeKind, Callable[[AsyncSession, dict[str, Any]], Awaitable[Notice | None]]] = {
    NoticeKind.SELLER_ORDER: _seller_order,
    NoticeKind.BUYER_ORDER: _buyer_order,
    NoticeKind.SELLER_STOCK: _stock,
    NoticeKind.SELLER_APPLICATION: _seller_application,
    NoticeKind.SELLER_DECISION: _seller_decision,
    NoticeKind.CHECKOUT_EXPIRED: _checkout_expired,
    NoticeKind.CREATOR_APPLICATION: _creator_application,
    NoticeKind.CREATOR_DECISION: _creator_decision,
    NoticeKind.REFUND_DUE: _refund_due,
    NoticeKind.PAYMENT_REFUNDED: _payment_refunded,
    NoticeKind.WEBHOOK_FAILING: _webhook_failing,
}


async def render_notice(session: AsyncSession, template: str, data: dict[str, Any]) -> Notice | None:
    """Render an outbox chat message, or None when what it was about no longer exists."""
    renderer = RENDERERS.get(template)  # type: ignore[call-overload]
    if renderer is None:
        raise ValueError(f"unknown notice template {template!r}")
    return await renderer(session, data)
