"""Taking payment: re-checking a checkout before Telegram charges, and applying a payment exactly once.

A payment is recorded once per Telegram charge id. Money that cannot be
applied (the checkout was cancelled, or expired and its stock is gone) is
recorded as due for a refund, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, Expired, NotFound, OutOfStock
from store.models import Checkout, Order, Payment
from store.money import STARS
from store.rules import PAYMENT_GRACE
from store.services import coupons, deals, digital, outbox
from store.services.checkout import checkout_for_update
from store.services.creators import record_commissions
from store.services.events import announce
from store.services.invoices import parse_payload
from store.services.orders import reserve_stock, transition
from store.states import (
    ActorKind,
    CheckoutStatus,
    Notice,
    OrderEventType,
    OrderStatus,
    OutboxChannel,
    PaymentMethod,
    PaymentStatus,
    ProductKind,
)


class Applied(StrEnum):
    """What recording a successful payment did."""

    PAID = "paid"  # the checkout's orders are paid
    DUPLICATE = "duplicate"  # this charge was recorded before: nothing changed
    REFUND_DUE = "refund_due"  # the money could not be applied: it is due back to the buyer


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What recording a payment did, and the checkout it was for."""

    status: Applied
    checkout: Checkout


async def check_pre_checkout(
    session: AsyncSession, user_id: int, payload: str, currency: str, amount: int, now: datetime
) -> Checkout:
    """Re-validate a checkout before Telegram charges the buyer; raise ShopError with the reason.

    On success the checkout is kept open for at least PAYMENT_GRACE, so that it
    cannot expire between this answer and the payment.
    """
    checkout_id = parse_payload(payload)
    checkout = await checkout_for_update(session, checkout_id) if checkout_id else None
    if checkout is None or checkout.user_id != user_id:
        raise NotFound(ErrorCode.INVOICE_INVALID)
    if checkout.status != CheckoutStatus.PENDING_PAYMENT:
        raise Expired(ErrorCode.NOT_AWAITING_PAYMENT)
    if checkout.expires_at is not None and checkout.expires_at <= now:
        raise Expired(ErrorCode.INVOICE_EXPIRED)
    if currency != checkout.invoice_currency or amount != checkout.invoice_amount:
        raise Expired(ErrorCode.INVOICE_AMOUNT_CHANGED)
    if any(order.status != OrderStatus.PENDING_PAYMENT for order in checkout.orders):
        raise Expired(ErrorCode.NOT_AWAITING_PAYMENT)
    grace = now + PAYMENT_GRACE
    if checkout.expires_at is None or checkout.expires_at < grace:
        checkout.expires_at = grace
    return checkout


async def record_payment(
    session: AsyncSession,
    user_id: int,
    payload: str,
    *,
    currency: str,
    amount: int,
    charge_id: str,
    provider_charge_id: str | None,
    now: datetime,
    operators: frozenset[int] = frozenset(),
) -> PaymentOutcome:
    """Record a successful payment once (keyed by its charge id) and mark the checkout's orders paid.

    A repeat of the same charge id changes nothing and reports ``duplicate``.
    Money that cannot be applied (the checkout was cancelled, expired and its
    stock is gone, or was already paid) is recorded as ``refund_due``: Stars are refunded through the
    outbox, and for a card payment the orders' sellers and the ``operators`` are told.
    """
    checkout_id = parse_payload(payload)
    checkout = await checkout_for_update(session, checkout_id) if checkout_id else None
    if checkout is None or checkout.user_id != user_id:
        raise NotFound(ErrorCode.PAYMENT_UNMATCHED)
    # The checkout row is locked: a concurrent copy of this payment waits here
    # and then finds the first one's record.
    if await session.scalar(select(Payment.id).where(Payment.telegram_charge_id == charge_id)):
        return PaymentOutcome(Applied.DUPLICATE, checkout)

    method = PaymentMethod.STARS if currency == STARS else PaymentMethod.CARD
    payment = Payment(checkout_id=checkout.id, method=method, currency=currency, amount=amount,
                      telegram_charge_id=charge_id, provider_charge_id=provider_charge_id,
                      status=PaymentStatus.CAPTURED, created_at=now)
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        return PaymentOutcome(Applied.DUPLICATE, checkout)

    if not await _can_apply(session, checkout, currency, amount):
        payment.status = PaymentStatus.REFUND_DUE
        await session.flush()
        await _refund_due(session, checkout, payment, operators, now)
        return PaymentOutcome(Applied.REFUND_DUE, checkout)
    checkout.status, checkout.paid_at = CheckoutStatus.PAID, now
    for order in checkout.orders:
        await transition(session, order, OrderStatus.PAID, actor_kind=ActorKind.SYSTEM, note=f"payment {payment.id}",
                         now=now)
    await session.flush()
    for order in checkout.orders:
        await record_commissions(session, order.id, now)
        await announce(session, order.id, OrderEventType.PAID, now)
        if order.kind == ProductKind.DIGITAL:
            await _hand_over(session, order, now)
    return PaymentOutcome(Applied.PAID, checkout)


async def _hand_over(session: AsyncSession, order: Order, now: datetime) -> None:
    """A digital order is paid: its codes are its buyer's, and its goods go to their chat through the outbox
    (once per order, whatever a redelivered payment does; the order is delivered once they are sent)."""
    await digital.sell_codes(session, order.id)
    await outbox.enqueue(session, key=digital.goods_key(order.id), channel=OutboxChannel.TELEGRAM,
                         template=Notice.DIGITAL_GOODS, payload={"order_id": order.id}, chat_id=order.buyer_id,
                         now=now)


async def _refund_due(session: AsyncSession, checkout: Checkout, payment: Payment, operators: frozenset[int],
                      now: datetime) -> None:
    """Money that could not be applied goes back: Stars by Telegram (through the outbox, once), card
    payments by hand, so the sellers of the orders and the operators are told, with the amount."""
    if payment.method == PaymentMethod.STARS:
        await outbox.enqueue(session, key=f"refund-{payment.telegram_charge_id}", channel=OutboxChannel.STARS_REFUND,
                             template=Notice.STARS_REFUND,
                             payload={"user_id": checkout.user_id, "charge_id": payment.telegram_charge_id,
                                      "checkout_id": checkout.id, "payment_id": payment.id},
                             chat_id=checkout.user_id, now=now)
    chats = {order.seller.notify_chat_id for order in checkout.orders if order.seller.notify_chat_id} | operators
    for chat_id in sorted(chats):
        await outbox.enqueue(session, key=f"refund-due-{payment.id}-{chat_id}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.REFUND_DUE, payload={"payment_id": payment.id}, chat_id=chat_id,
                             now=now)


async def _can_apply(session: AsyncSession, checkout: Checkout, currency: str, amount: int) -> bool:
    """Whether the payment pays for the checkout: the amount invoiced, while it awaits payment or, once
    expired, when its stock can be taken again and its contact was not erased."""
    if currency != checkout.invoice_currency or amount != checkout.invoice_amount:
        return False
    if checkout.status == CheckoutStatus.PENDING_PAYMENT:
        return True
    if checkout.status != CheckoutStatus.EXPIRED:
        return False
    if any(order.erased_at is not None for order in checkout.orders):
        return False  # its buyer asked to be forgotten since: nowhere to deliver, the money goes back
    wanted: dict[int, int] = {}
    for order in checkout.orders:
        for line in order.lines:
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    try:
        async with session.begin_nested():
            if short := await reserve_stock(session, wanted):
                raise OutOfStock(ErrorCode.OUT_OF_STOCK, short, lines=[])
            await digital.reserve_codes(session, [order.id for order in checkout.orders])
            # The units at a deal's price and the code's use are held again too, or the payment goes back.
            if not await deals.take_back(session, checkout.orders) or not await coupons.take_back(session,
                                                                                                 checkout.orders):
                raise OutOfStock(ErrorCode.OUT_OF_STOCK, {}, lines=[])
    except OutOfStock:
        return False
    return True
