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
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode, Expired, InvalidInput
from store.models import UserStep
from store.rules import STARS_INVOICE_MAX
from store.services import checkout as co
from store.services.cart import CartView, get_cart
from store.services.contact import clean_address, clean_name, one_line, parse_contact, shared_phone
from store.services.users import at_step, get_user, set_step
from store.states import PaymentMethod


class CheckoutStep(StrEnum):
    """The checkout's steps, in order."""

    REVIEW = "checkout:review"
    CONTACT = "checkout:contact"
    ADDRESS = "checkout:address"
    SHIPPING = "checkout:shipping"
    PAYMENT = "checkout:payment"
    CONFIRM = "checkout:confirm"



@dataclass(frozen=True, slots=True)
class Confirmation:
    """Everything the confirm step shows."""

    cart: CartView
    quote: co.Quote
    details: dict


def fingerprint(cart: CartView, shipping_code: str, payment_method: str) -> str:
    """What the shopper confirms: every line's variant, quantity and price, shipping and payment."""
    lines = sorted((line.variant_id, line.quantity, line.unit_price) for line in cart.lines)
    raw = json.dumps([lines, shipping_code, payment_method])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


async def begin(session: AsyncSession, user_id: int) -> co.Review:
    """Start (or restart) checkout with a review of the cart at today's prices and stock."""
    review = await co.review_cart(session, user_id)
    if review.cart.lines:
        await set_step(session, user_id, CheckoutStep.REVIEW)
    return review


async def to_contact(session: AsyncSession, user_id: int) -> str | None:
    """Review accepted: ask for contact details; returns the ones used last time, if any."""
    await at_step(session, user_id, CheckoutStep.REVIEW, over=ErrorCode.STEP_OVER)
    await set_step(session, user_id, CheckoutStep.CONTACT)
    user = await get_user(session, user_id)
    return f"{user.contact_name} {user.phone}" if user and user.contact_name and user.phone else None


async def submit_contact(session: AsyncSession, user_id: int, text: str, region: str,
                         fallback_name: str) -> tuple[str, str, str | None]:
    """Typed contact details: validated, stored in the step; returns name, phone and the last address."""
    step = await at_step(session, user_id, CheckoutStep.CONTACT, over=ErrorCode.STEP_OVER)
    name, phone = parse_contact(text, region, fallback_name)
    await set_step(session, user_id, CheckoutStep.ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_shared_contact(session: AsyncSession, user_id: int, name: str, phone_number: str,
                                owner_id: int | None) -> tuple[str, str, str | None]:
    """A contact shared with Telegram's button: it must be the shopper's own."""
    step = await at_step(session, user_id, CheckoutStep.CONTACT, over=ErrorCode.STEP_OVER)
    if owner_id != user_id:
        raise InvalidInput(ErrorCode.NOT_YOUR_CONTACT)
    phone = shared_phone(phone_number)
    name = clean_name(name)
    await set_step(session, user_id, CheckoutStep.ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_address(session: AsyncSession, user_id: int, text: str) -> tuple[str, int,
                                                                                   list[co.ShippingOption]]:
    """The shipping address: validated; returns it, the number of sellers and the shipping options."""
    step = await at_step(session, user_id, CheckoutStep.ADDRESS, over=ErrorCode.STEP_OVER)
    user = await get_user(session, user_id)
    saved = user.last_address if user is not None else None
    # The saved address's button sends it on one line: keep it as it was saved, line breaks and all.
    address = saved if saved and text.strip() == one_line(saved) else clean_address(text)
    await set_step(session, user_id, CheckoutStep.SHIPPING, {**step.data, "address": address})
    cart = await get_cart(session, user_id)
    return address, len({line.seller_id for line in cart.lines}), await co.shipping_options(session)


async def choose_shipping(session: AsyncSession, user_id: int, code: str) -> co.ShippingOption:
    """A shipping method was chosen: on to payment."""
    step = await at_step(session, user_id, CheckoutStep.SHIPPING, over=ErrorCode.STEP_OVER)
    shipping = await co.get_shipping(session, code)
    await set_step(session, user_id, CheckoutStep.PAYMENT, {**step.data, "shipping": shipping.code,
                                               "shipping_name": shipping.name})
    return shipping


async def choose_payment(session: AsyncSession, user_id: int, method: str, offered: tuple[str, ...],
                         rules: co.CheckoutRules) -> Confirmation:
    """A payment method was chosen: price everything and ask for confirmation."""
    if method not in offered:
        raise Expired(ErrorCode.PAYMENT_NOT_OFFERED)
    step = await at_step(session, user_id, CheckoutStep.PAYMENT, over=ErrorCode.STEP_OVER)
    cart = await get_cart(session, user_id)
    if not cart.lines:
        await session.execute(delete(UserStep).where(UserStep.user_id == user_id))
        raise Expired(ErrorCode.CART_EMPTY)
    quote = co.quote(cart, await co.get_shipping(session, step.data["shipping"]), rules.currency)
    if method == PaymentMethod.STARS and co.stars_amount(quote.total, rules) > STARS_INVOICE_MAX:
        raise InvalidInput(ErrorCode.STARS_LIMIT, max=STARS_INVOICE_MAX)
    details = {**step.data, "payment": method, "total": quote.total.amount,
               "fingerprint": fingerprint(cart, step.data["shipping"], method)}
    await set_step(session, user_id, CheckoutStep.CONFIRM, details)
    return Confirmation(cart, quote, details)


async def confirm(session: AsyncSession, user_id: int, shown_total: int, rules: co.CheckoutRules,
                  now: datetime, message_id: int | None = None) -> co.Placed:
    """Place the orders the shopper confirmed, exactly once (``message_id``: the confirmation, which
    then asks for the payment).

    The confirm step is consumed first (a second press finds it gone); a button
    from an older confirmation, or a cart changed since, places nothing.
    """
    step = await at_step(session, user_id, CheckoutStep.CONFIRM, over=ErrorCode.STEP_OVER)
    data = step.data
    if shown_total != data["total"]:
        raise Expired(ErrorCode.CONFIRMATION_OUTDATED)
    taken = await session.execute(delete(UserStep).where(UserStep.user_id == user_id,
                                                         UserStep.step == CheckoutStep.CONFIRM))
    if taken.rowcount != 1:
        raise Expired(ErrorCode.STEP_OVER)
    cart = await get_cart(session, user_id)
    if fingerprint(cart, data["shipping"], data["payment"]) != data["fingerprint"]:
        raise Changed(ErrorCode.CART_CHANGED)
    placed = await co.place_order(
        session, user_id, contact_name=data["name"], phone=data["phone"], address=data["address"],
        shipping_code=data["shipping"], payment_method=data["payment"], expected_total=data["total"],
        rules=rules, now=now,
    )
    placed.checkout.pay_message_id = message_id
    return placed


async def leave(session: AsyncSession, user_id: int) -> bool:
    """Leave the checkout (the cart stays); False when the shopper was not checking out."""
    result = await session.execute(delete(UserStep).where(UserStep.user_id == user_id,
                                                          UserStep.step.in_(tuple(CheckoutStep))))
    return result.rowcount == 1


