"""The checkout conversation: which step a shopper is at, and moving to the next one.

Review -> contact -> address -> shipping -> payment -> confirm. Each call
checks that the shopper is at the step it answers and advances it in the same
transaction, with the step row locked, so a doubled press, an old button or
a second bot process can never run a step twice. Confirming consumes the
step row, so exactly one "Place order" places the orders.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, Expired, InvalidInput
from store.models import UserStep
from store.services import checkout as co
from store.services.cart import CartView, get_cart
from store.services.users import Step, get_user, set_step

REVIEW = "checkout:review"
CONTACT = "checkout:contact"
ADDRESS = "checkout:address"
SHIPPING = "checkout:shipping"
PAYMENT = "checkout:payment"
CONFIRM = "checkout:confirm"
STEPS = (REVIEW, CONTACT, ADDRESS, SHIPPING, PAYMENT, CONFIRM)

WRONG_STEP = "This step of the checkout is over. Tap /cart to start the checkout again."
CART_CHANGED = "Your cart changed after you confirmed. Please check it with /cart and check out again."


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Everything the confirm step shows."""

    cart: CartView
    quote: co.Quote
    details: dict


async def _at(session: AsyncSession, user_id: int, name: str) -> Step:
    """The shopper's step, locked, if it is ``name``; otherwise the button or answer is stale."""
    row = await session.scalar(select(UserStep).where(UserStep.user_id == user_id)
                               .with_for_update().execution_options(populate_existing=True))
    if row is None or row.step != name:
        raise Expired(WRONG_STEP)
    return Step(row.step, dict(row.data or {}), row.updated_at)


def fingerprint(cart: CartView, shipping_code: str, payment_method: str) -> str:
    """What the shopper confirms: every line's variant, quantity and price, shipping and payment."""
    lines = sorted((line.variant_id, line.quantity, line.unit_price) for line in cart.lines)
    raw = json.dumps([lines, shipping_code, payment_method])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


async def begin(session: AsyncSession, user_id: int) -> co.Review:
    """Start (or restart) checkout with a review of the cart at today's prices and stock."""
    review = await co.review_cart(session, user_id)
    if review.cart.lines:
        await set_step(session, user_id, REVIEW)
    return review


async def to_contact(session: AsyncSession, user_id: int) -> str | None:
    """Review accepted: ask for contact details; returns the ones used last time, if any."""
    await _at(session, user_id, REVIEW)
    await set_step(session, user_id, CONTACT)
    user = await get_user(session, user_id)
    return f"{user.contact_name} {user.phone}" if user and user.contact_name and user.phone else None


async def submit_contact(session: AsyncSession, user_id: int, text: str, region: str,
                         fallback_name: str) -> tuple[str, str, str | None]:
    """Typed contact details: validated, stored in the step; returns name, phone and the last address."""
    step = await _at(session, user_id, CONTACT)
    name, phone = co.parse_contact(text, region, fallback_name)
    await set_step(session, user_id, ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_shared_contact(session: AsyncSession, user_id: int, name: str, phone_number: str,
                                owner_id: int | None, region: str) -> tuple[str, str, str | None]:
    """A contact shared with Telegram's button: it must be the shopper's own."""
    step = await _at(session, user_id, CONTACT)
    if owner_id != user_id:
        raise InvalidInput("Please share your own contact with the button, or type your name and phone number.")
    number = phone_number if phone_number.startswith("+") else f"+{phone_number}"
    phone = co.parse_phone(number, region)
    name = co.clean_name(name)
    await set_step(session, user_id, ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_address(session: AsyncSession, user_id: int, text: str) -> tuple[str, int,
                                                                                   list[co.ShippingOption]]:
    """The shipping address: validated; returns it, the number of sellers and the shipping options."""
    step = await _at(session, user_id, ADDRESS)
    address = co.clean_address(text)
    await set_step(session, user_id, SHIPPING, {**step.data, "address": address})
    cart = await get_cart(session, user_id)
    return address, len({line.seller_id for line in cart.lines}), await co.shipping_options(session)


async def choose_shipping(session: AsyncSession, user_id: int, code: str) -> co.ShippingOption:
    """A shipping method was chosen: on to payment."""
    step = await _at(session, user_id, SHIPPING)
    shipping = await co.get_shipping(session, code)
    await set_step(session, user_id, PAYMENT, {**step.data, "shipping": shipping.code,
                                               "shipping_name": shipping.name})
    return shipping


async def choose_payment(session: AsyncSession, user_id: int, method: str, offered: tuple[str, ...],
                         rules: co.CheckoutRules) -> Confirmation:
    """A payment method was chosen: price everything and ask for confirmation."""
    if method not in offered:
        raise Expired("That payment option is not offered. Please choose another.")
    step = await _at(session, user_id, PAYMENT)
    cart = await get_cart(session, user_id)
    if not cart.lines:
        await session.execute(delete(UserStep).where(UserStep.user_id == user_id))
        raise Expired("Your cart is empty now, so there is nothing to check out.")
    quote = co.quote(cart, await co.get_shipping(session, step.data["shipping"]))
    if method == co.STARS_METHOD and co.stars_amount(quote.total, rules) > co.STARS_INVOICE_MAX:
        raise InvalidInput(f"Telegram Stars can pay up to {co.STARS_INVOICE_MAX:,} ⭐ at once: please choose "
                           "another way to pay.")
    details = {**step.data, "payment": method, "total": quote.total,
               "fingerprint": fingerprint(cart, step.data["shipping"], method)}
    await set_step(session, user_id, CONFIRM, details)
    return Confirmation(cart, quote, details)


async def confirm(session: AsyncSession, user_id: int, shown_total: int, rules: co.CheckoutRules,
                  now: datetime) -> co.Placed:
    """Place the orders the shopper confirmed, exactly once.

    The confirm step is consumed first (a second press finds it gone); a button
    from an older confirmation, or a cart changed since, places nothing.
    """
    step = await _at(session, user_id, CONFIRM)
    data = step.data
    if shown_total != data["total"]:
        raise Expired("That confirmation is out of date: use the newest one below.")
    taken = await session.execute(delete(UserStep).where(UserStep.user_id == user_id, UserStep.step == CONFIRM))
    if taken.rowcount != 1:
        raise Expired(WRONG_STEP)
    cart = await get_cart(session, user_id)
    if fingerprint(cart, data["shipping"], data["payment"]) != data["fingerprint"]:
        raise Changed(CART_CHANGED)
    return await co.place_order(
        session, user_id, contact_name=data["name"], phone=data["phone"], address=data["address"],
        shipping_code=data["shipping"], payment_method=data["payment"], expected_total=data["total"],
        rules=rules, now=now,
    )


async def leave(session: AsyncSession, user_id: int) -> bool:
    """Leave the checkout (the cart stays); False when the shopper was not checking out."""
    result = await session.execute(delete(UserStep).where(UserStep.user_id == user_id, UserStep.step.in_(STEPS)))
    return result.rowcount == 1


def is_stale(step: Step, now: datetime, ttl: timedelta) -> bool:
    """Whether a step was left untouched for longer than ``ttl`` (then it no longer captures typing)."""
    return step.updated_at is not None and now - step.updated_at > ttl

