"""Checkout: review the cart, validate contact and address, place the orders, take payment.

One checkout pays for the whole cart and is split into one order per seller;
each seller's order is charged the chosen shipping fee once. Stock is reserved
when the orders are created and released when an unpaid checkout expires or is
cancelled. A payment is recorded once per Telegram charge id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import Changed, Expired, InvalidInput, NotFound, OutOfStock
from store.models import CartLine, Checkout, Order, OrderEvent, OrderLine, Payment, ShippingMethod, User
from store.money import STARS, to_stars
from store.services import outbox
from store.services.cart import CartView, clear_cart, get_cart
from store.services.creators import record_commissions
from store.services.events import CREATED, announce, announce_stock
from store.services.orders import (
    CANCELLED,
    EXPIRED,
    PAID,
    PENDING_PAYMENT,
    PLACED,
    release_stock,
    reserve_stock,
    transition,
)

CARD, STARS_METHOD, COD = "card", "stars", "cod"
EXPIRED_TEMPLATE = "checkout_expired"
PAYMENT_METHODS = (CARD, STARS_METHOD, COD)

NAME_MAX = 64
ADDRESS_MIN, ADDRESS_MAX = 10, 300
# After a successful pre-checkout answer, the buyer has this long to finish
# paying even if the checkout would otherwise expire meanwhile.
PAYMENT_GRACE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class CheckoutRules:
    """The shop settings that checkout depends on."""

    currency: str
    expiry: timedelta
    stars_per_unit: int = 50
    phone_region: str = "US"
    low_stock_threshold: int = 3


@dataclass(frozen=True, slots=True)
class ShippingOption:
    """A shipping method as offered at checkout."""

    code: str
    name: str
    fee: int


@dataclass(frozen=True, slots=True)
class Review:
    """The cart as it will be ordered, and what changed since the shopper last saw it."""

    cart: CartView
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Quote:
    """What a checkout will cost with a given shipping method."""

    items_total: int
    shipping_total: int
    total: int
    sellers: int


@dataclass(frozen=True, slots=True)
class Placed:
    """A placed checkout and its orders."""

    checkout: Checkout
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What recording a successful payment did: ``paid``, ``duplicate`` or ``refund_due``."""

    status: str
    checkout: Checkout


# --- contact and address -------------------------------------------------------------


def parse_phone(text: str, region: str) -> str:
    """Validate a phone number and return it in E.164 form (+12025550143)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("That doesn't look like a phone number. Please send it with the country code, "
                           "e.g. +1 202 555 0143.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("That phone number isn't valid. Please check it and send it again, "
                           "with the country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_contact(text: str, region: str, fallback_name: str) -> tuple[str, str]:
    """Split typed contact details ("Ann Lee, +1 202 555 0143") into a name and an E.164 phone."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("Please send your name and phone number.")
    match = next(iter(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)),
                 None)
    if match is None:
        # No recognisable number: let parse_phone explain what is wrong.
        return clean_name(fallback_name), parse_phone(text, region)
    phone = parse_phone(match.raw_string, region)
    name = (text[: match.start] + " " + text[match.end:]).strip(" ,;:-")
    return clean_name(name or fallback_name), phone


def clean_name(name: str) -> str:
    """Validate a contact name: 1 to NAME_MAX characters, some of them letters."""
    name = " ".join(name.split())
    if not name or not any(ch.isalpha() for ch in name):
        raise InvalidInput("Please add your name before the phone number, e.g. Ann Lee +1 202 555 0143.")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"That name is too long: {NAME_MAX} characters at most.")
    return name


def clean_address(text: str) -> str:
    """Validate a typed shipping address and return it on one tidy line per line typed."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    address = "\n".join(line for line in lines if line)
    if len(address) < ADDRESS_MIN or not re.search(r"\w", address):
        raise InvalidInput("That address looks too short. Please send street, number, city and postcode.")
    if len(address) > ADDRESS_MAX:
        raise InvalidInput(f"That address is too long: {ADDRESS_MAX} characters at most.")
    return address


# --- review and quote -------------------------------------------------------------------


async def review_cart(session: AsyncSession, user_id: int) -> Review:
    """Bring the cart up to date with current prices and stock, and say what changed."""
    cart = await get_cart(session, user_id)
    changes: list[str] = []
    lines = {line.id: line for line in await session.scalars(select(CartLine).where(CartLine.user_id == user_id))}
    for view in cart.lines:
        name = f"{view.title} ({view.label})" if view.label else view.title
        row = lines[view.id]
        if not view.available or view.stock <= 0:
            await session.delete(row)
            changes.append(f"{name} is no longer available and was removed.")
            continue
        if view.quantity > view.stock:
            row.quantity = view.stock
            changes.append(f"Only {view.stock} of {name} left: quantity lowered to {view.stock}.")
        if view.unit_price != view.seen_price:
            changes.append(("The price of {} went " + ("up" if view.unit_price > view.seen_price else "down")
                            + ".").format(name))
            row.seen_price = view.unit_price
    await session.flush()
    return Review(await get_cart(session, user_id) if changes else cart, tuple(changes))


async def shipping_options(session: AsyncSession) -> list[ShippingOption]:
    """Return the active shipping methods in display order."""
    rows = await session.scalars(
        select(ShippingMethod).where(ShippingMethod.active.is_(True)).order_by(ShippingMethod.position)
    )
    return [ShippingOption(m.code, m.name, m.fee) for m in rows]


async def get_shipping(session: AsyncSession, code: str) -> ShippingOption:
    """Return an active shipping method by code."""
    method = await session.scalar(
        select(ShippingMethod).where(ShippingMethod.code == code, ShippingMethod.active.is_(True))
    )
    if method is None:
        raise Expired("That shipping option is no longer offered. Please choose again.")
    return ShippingOption(method.code, method.name, method.fee)


def quote(cart: CartView, shipping: ShippingOption) -> Quote:
    """Price a cart: items, plus the shipping fee once per seller."""
    sellers = len({line.seller_id for line in cart.lines})
    shipping_total = shipping.fee * sellers
    return Quote(cart.total, shipping_total, cart.total + shipping_total, sellers)


# --- placing orders -----------------------------------------------------------------------


async def place_order(
    session: AsyncSession,
    user_id: int,
    *,
    contact_name: str,
    phone: str,
    address: str,
    shipping_code: str,
    payment_method: str,
    expected_total: int,
    rules: CheckoutRules,
    now: datetime,
) -> Placed:
    """Turn the user's cart into one checkout with one order per seller, reserving stock.

    ``expected_total`` is the total the shopper confirmed; if prices changed
    since, nothing is placed and :class:`Expired` asks for a new review.
    """
    if payment_method not in PAYMENT_METHODS:
        raise Expired("That payment option is no longer offered. Please choose again.")
    cart = await get_cart(session, user_id)
    if not cart.lines:
        raise Expired("Your cart is empty, so there is nothing to order.")
    if any(not line.available for line in cart.lines):
        raise Expired("Something in your cart is no longer available. Please review your cart.")
    shipping = await get_shipping(session, shipping_code)
    priced = quote(cart, shipping)
    if priced.total != expected_total:
        raise Changed("Prices changed while you were checking out. Please review your order again.")

    wanted: dict[int, int] = {}
    for line in cart.lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    short = await reserve_stock(session, wanted)
    if short:
        names = [f"{line.title}{f' ({line.label})' if line.label else ''}: {short[line.variant_id]} left"
                 for line in cart.lines if line.variant_id in short]
        raise OutOfStock("Sorry, not enough stock for " + "; ".join(names) + ".", short)

    cod = payment_method == COD
    status = PLACED if cod else PENDING_PAYMENT
    if payment_method == STARS_METHOD:
        invoice_currency, invoice_amount = STARS, stars_amount(priced.total, rules)
        if invoice_amount > STARS_INVOICE_MAX:
            raise Changed(f"Telegram Stars can pay up to {STARS_INVOICE_MAX:,} ⭐ at once: please choose another "
                          "way to pay.")
    else:
        invoice_currency, invoice_amount = rules.currency, priced.total
    checkout = Checkout(
        user_id=user_id, status=status, payment_method=payment_method, currency=rules.currency,
        items_total=priced.items_total, shipping_total=priced.shipping_total, total=priced.total,
        invoice_currency=invoice_currency, invoice_amount=invoice_amount,
        contact_name=contact_name, phone=phone, address=address,
        shipping_code=shipping.code, shipping_name=shipping.name,
        expires_at=None if cod else now + rules.expiry, created_at=now,
    )
    session.add(checkout)
    await session.flush()

    orders: list[Order] = []
    for _seller_name, lines in cart.by_seller():
        items_total = sum(line.total for line in lines)
        order = Order(
            checkout_id=checkout.id, seller_id=lines[0].seller_id, buyer_id=user_id, status=status,
            currency=rules.currency, items_total=items_total, shipping_fee=shipping.fee,
            total=items_total + shipping.fee, created_at=now, updated_at=now,
        )
        session.add(order)
        await session.flush()
        session.add_all(
            OrderLine(order_id=order.id, variant_id=line.variant_id, product_id=line.product_id,
                      title=line.title, variant_label=line.label, sku=line.sku, unit_price=line.unit_price,
                      quantity=line.quantity, line_total=line.total, creator_id=line.creator_id,
                      commission_bp=line.commission_bp if line.creator_id is not None else 0)
            for line in lines
        )
        orders.append(order)
    session.add_all(OrderEvent(order_id=o.id, from_status=None, to_status=status, actor_kind="buyer",
                               actor_id=user_id, created_at=now) for o in orders)
    user = await session.get(User, user_id)
    if user is not None:
        user.contact_name, user.phone, user.last_address = contact_name, phone, address
    await clear_cart(session, user_id)
    await session.flush()
    for order in orders:
        if cod:
            await record_commissions(session, order.id, now)
        await announce(session, order.id, CREATED, now)
    await announce_stock(session, list(wanted), rules.low_stock_threshold, f"checkout-{checkout.id}", now)
    return Placed(checkout, tuple(orders))


# --- payment --------------------------------------------------------------------------------

# The most Telegram Stars one invoice may ask for.
STARS_INVOICE_MAX = 10_000


def stars_amount(total: int, rules: CheckoutRules) -> int:
    """A total in the shop currency converted to Stars."""
    return to_stars(total, rules.currency, rules.stars_per_unit)


async def unpaid_checkout(session: AsyncSession, user_id: int, checkout_id: int, now: datetime) -> Checkout:
    """One of the buyer's checkouts still awaiting payment (to send its invoice again)."""
    checkout = await session.scalar(select(Checkout).where(Checkout.id == checkout_id)
                                    .options(selectinload(Checkout.orders)))
    if checkout is None or checkout.user_id != user_id:
        raise NotFound("That order isn't one of yours.")
    if checkout.status != PENDING_PAYMENT or (checkout.expires_at is not None and checkout.expires_at <= now):
        raise Expired("This order is no longer awaiting payment.")
    return checkout

PAYLOAD_PREFIX = "checkout:"


def invoice_payload(checkout_id: int) -> str:
    """The invoice payload naming a checkout."""
    return f"{PAYLOAD_PREFIX}{checkout_id}"


def parse_payload(payload: str) -> int | None:
    """Return the checkout id named by an invoice payload, or None if it is not one of ours."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    rest = payload[len(PAYLOAD_PREFIX):]
    return int(rest) if rest.isdigit() and len(rest) < 19 else None


async def _checkout_for_update(session: AsyncSession, checkout_id: int) -> Checkout | None:
    return await session.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .options(selectinload(Checkout.orders).selectinload(Order.lines))
        .with_for_update().execution_options(populate_existing=True)
    )


async def check_pre_checkout(
    session: AsyncSession, user_id: int, payload: str, currency: str, amount: int, now: datetime
) -> Checkout:
    """Re-validate a checkout before Telegram charges the buyer; raise ShopError with the reason.

    On success the checkout is kept open for at least PAYMENT_GRACE, so that it
    cannot expire between this answer and the payment.
    """
    checkout_id = parse_payload(payload)
    checkout = await _checkout_for_update(session, checkout_id) if checkout_id else None
    if checkout is None or checkout.user_id != user_id:
        raise NotFound("This invoice is not valid any more.")
    if checkout.status != PENDING_PAYMENT:
        raise Expired("This order is no longer awaiting payment.")
    if checkout.expires_at is not None and checkout.expires_at <= now:
        raise Expired("This invoice has expired and the items were released. Please check out again.")
    if currency != checkout.invoice_currency or amount != checkout.invoice_amount:
        raise Expired("The amount of this invoice no longer matches your order. Please check out again.")
    if any(order.status != PENDING_PAYMENT for order in checkout.orders):
        raise Expired("This order is no longer awaiting payment.")
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
) -> PaymentOutcome:
    """Record a successful payment once (keyed by its charge id) and mark the checkout's orders paid.

    A repeat of the same charge id changes nothing and reports ``duplicate``.
    Money that cannot be applied (the checkout was cancelled, expired and its
    stock is gone, or was already paid) is recorded as ``refund_due``.
    """
    checkout_id = parse_payload(payload)
    checkout = await _checkout_for_update(session, checkout_id) if checkout_id else None
    if checkout is None or checkout.user_id != user_id:
        raise NotFound("We couldn't match this payment to an order. Please contact support.")
    # The checkout row is locked: a concurrent copy of this payment waits here
    # and then finds the first one's record.
    if await session.scalar(select(Payment.id).where(Payment.telegram_charge_id == charge_id)):
        return PaymentOutcome("duplicate", checkout)

    method = STARS_METHOD if currency == STARS else CARD
    payment = Payment(checkout_id=checkout.id, method=method, currency=currency, amount=amount,
                      telegram_charge_id=charge_id, provider_charge_id=provider_charge_id,
                      status="captured", created_at=now)
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        return PaymentOutcome("duplicate", checkout)

    matches = currency == checkout.invoice_currency and amount == checkout.invoice_amount
    applied = False
    if matches and checkout.status == PENDING_PAYMENT:
        applied = True
    elif matches and checkout.status == EXPIRED:
        wanted: dict[int, int] = {}
        for order in checkout.orders:
            for line in order.lines:
                wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
        try:
            async with session.begin_nested():
                short = await reserve_stock(session, wanted)
                if short:
                    raise OutOfStock("stock gone", short)
            applied = True
        except OutOfStock:
            pass
    if not applied:
        payment.status = "refund_due"
        await session.flush()
        return PaymentOutcome("refund_due", checkout)
    checkout.status, checkout.paid_at = PAID, now
    for order in checkout.orders:
        await transition(session, order, PAID, actor_kind="system", note=f"payment {payment.id}", now=now)
    await session.flush()
    for order in checkout.orders:
        await record_commissions(session, order.id, now)
        await announce(session, order.id, PAID, now)
    return PaymentOutcome("paid", checkout)


async def expire_checkouts(session: AsyncSession, now: datetime, limit: int = 100) -> list[Checkout]:
    """Expire unpaid checkouts past their time and put their stock back; return them."""
    checkouts = list(await session.scalars(
        select(Checkout)
        .where(Checkout.status == PENDING_PAYMENT, Checkout.expires_at <= now)
        .options(selectinload(Checkout.orders).selectinload(Order.lines))
        .order_by(Checkout.id)
        .limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ))
    for checkout in checkouts:
        for order in checkout.orders:
            if order.status == PENDING_PAYMENT:
                await release_stock(session, order)
                await transition(session, order, EXPIRED, actor_kind="system", note="not paid in time", now=now)
        checkout.status = EXPIRED
    await session.flush()
    for checkout in checkouts:
        for order in checkout.orders:
            await announce(session, order.id, EXPIRED, now)
        await outbox.enqueue(session, key=f"checkout-{checkout.id}-expired", channel=outbox.TELEGRAM,
                             template=EXPIRED_TEMPLATE, payload={"order_ids": [o.id for o in checkout.orders]},
                             chat_id=checkout.user_id, now=now)
    return checkouts


async def cancel_checkout(session: AsyncSession, user_id: int, checkout_id: int, now: datetime) -> Checkout:
    """Let the buyer call off a checkout that is still awaiting payment; the stock goes back."""
    checkout = await _checkout_for_update(session, checkout_id)
    if checkout is None or checkout.user_id != user_id:
        raise NotFound("That order isn't one of yours.")
    if checkout.status != PENDING_PAYMENT:
        raise Expired("This order is no longer awaiting payment, so it can't be cancelled here.")
    for order in checkout.orders:
        await release_stock(session, order)
        await transition(session, order, CANCELLED, actor_kind="buyer", actor_id=user_id,
                         note="cancelled before payment", now=now)
    checkout.status = CANCELLED
    await session.flush()
    for order in checkout.orders:
        await announce(session, order.id, CANCELLED, now)
    return checkout
