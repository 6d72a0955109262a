"""The checkout conversation: which step a shopper is at, and moving to the next one.

Review -> contact -> address -> shipping -> payment -> confirm. Buy now
orders one unit of one variant instead of the cart (which it leaves as it
was): it starts at the contact step, where the saved contact and address are
one choice, and comes to the payment step with the cheapest shipping chosen
(changeable there). Digital goods ship nothing and are paid in Stars: an
order of digital goods alone goes from the review (or Buy now) straight to
the confirmation, asking no contact, address, shipping or way to pay; with
physical goods beside them, the steps are those of the physical goods, and
the confirmation shows the two payments.

Each call checks that the shopper is at the step it answers and advances
it in the same transaction, with the step row locked, so a doubled press, an
old button or a second bot process can never run a step twice. Confirming consumes the
step row, so exactly one "Place order" places the orders.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode, Expired, InvalidInput, NotFound, ShopError
from store.models import Seller, UserStep
from store.rules import STARS_INVOICE_MAX
from store.services import checkout as co
from store.services import coupons
from store.services.cart import CartView, get_cart, one_item
from store.services.contact import clean_address, clean_name, one_line, parse_contact, parse_name, shared_phone
from store.services.users import at_step, get_user, set_step
from store.states import PaymentMethod, ProductKind


class CheckoutStep(StrEnum):
    """The checkout's steps, in order."""

    REVIEW = "checkout:review"
    CODE = "checkout:code"  # a discount code typed at the review
    CONTACT = "checkout:contact"
    ADDRESS = "checkout:address"
    SHIPPING = "checkout:shipping"
    PAYMENT = "checkout:payment"
    CONFIRM = "checkout:confirm"


# In the step's data of a Buy now: the variant ordered and the creator it is attributed to.
ITEM, CREATOR = "item", "creator"
# In every checkout's step data: whether a seller of what is ordered asks buyers for a phone number.
PHONE_NEEDED = "phone_needed"


@dataclass(frozen=True, slots=True)
class Saved:
    """The contact and address the shopper's last order went to (the phone None when none is needed)."""

    name: str
    phone: str | None
    address: str


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Everything the confirm step shows."""

    cart: CartView
    quote: co.Quote
    details: dict


@dataclass(frozen=True, slots=True)
class BuyNow:
    """A Buy now begun: the one item, and the details it can go to in one tap (a digital item: its
    ``confirmation`` at once, nothing to ask)."""

    item: CartView
    saved: Saved | None
    phone_needed: bool
    confirmation: Confirmation | None = None


@dataclass(frozen=True, slots=True)
class ContactStep:
    """What the contact step asks: the phone too, or only a name; the details used last time."""

    phone_needed: bool
    saved: str | None


@dataclass(frozen=True, slots=True)
class PaymentStep:
    """The payment step with the shipping already chosen: what it costs, and the other shipping choices."""

    cart: CartView
    quote: co.Quote
    options: list[co.ShippingOption]
    details: dict

    @property
    def buy_now(self) -> bool:
        """Whether this is a Buy now (the payment step shows the order and offers other shipping)."""
        return is_buy_now(self.details)


@dataclass(frozen=True, slots=True)
class AddressTaken:
    """The address accepted, and what comes next: the shipping choice, or (Buy now) the payment step."""

    address: str
    sellers: int
    options: list[co.ShippingOption]
    payment: PaymentStep | None


def fingerprint(cart: CartView, shipping_code: str | None, payment_method: str,
                discount: coupons.Discount = coupons.NO_DISCOUNT) -> str:
    """What the shopper confirms: every line's variant, quantity, price and discount, shipping and payment."""
    lines = sorted((line.variant_id, line.quantity, line.unit_price, discount.lines.get(line.variant_id, 0))
                   for line in cart.lines)
    raw = json.dumps([lines, shipping_code, payment_method, discount.code])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def is_buy_now(data: dict) -> bool:
    """Whether a checkout step's data is a Buy now's."""
    return ITEM in data


async def basket(session: AsyncSession, user_id: int, data: dict, now: datetime) -> CartView:
    """What the checkout orders: a Buy now's one item, else the cart, at the prices at ``now`` (None: the wall
    clock) and today's stock."""
    if is_buy_now(data):
        return await one_item(session, data[ITEM], data.get(CREATOR), now)
    return await get_cart(session, user_id, now)


def _saved(user, phone_needed: bool) -> Saved | None:  # type: ignore[no-untyped-def]
    if user is None or not (user.contact_name and user.last_address and (user.phone or not phone_needed)):
        return None
    return Saved(user.contact_name, user.phone if phone_needed else None, user.last_address)


async def phone_needed(session: AsyncSession, cart: CartView) -> bool:
    """Whether any seller of what is ordered asks buyers for a phone number (its courier calls)."""
    seller_ids = {line.seller_id for line in cart.lines}
    if not seller_ids:
        return True
    return any(await session.scalars(select(Seller.buyer_phone).where(Seller.id.in_(seller_ids))))


def _phone(data: dict) -> bool:
    return data.get(PHONE_NEEDED, True)


async def priced(session: AsyncSession, user_id: int, cart: CartView, shipping: co.ShippingOption | None,
                 rules: co.CheckoutRules, now: datetime) -> co.Quote:
    """What the checkout costs now, the shopper's code taken off."""
    discount, _refusal = await coupons.discount_for(session, user_id, cart, rules.currency, now)
    return co.quote(cart, shipping, rules.currency, rules.stars_per_unit, discount)


async def _confirm_digital(session: AsyncSession, user_id: int, data: dict, cart: CartView,
                           rules: co.CheckoutRules, now: datetime) -> Confirmation:
    """Digital goods alone: nothing to ask, on to the confirmation of a payment in Stars."""
    quote = await priced(session, user_id, cart, None, rules, now)
    if quote.over_stars_limit:
        raise InvalidInput(ErrorCode.STARS_LIMIT, max=STARS_INVOICE_MAX)
    details = {**data, "name": None, "phone": None, "address": None, "shipping": None, "shipping_name": "",
               "payment": PaymentMethod.STARS, "total": quote.total.amount, "stars": quote.stars,
               "fingerprint": fingerprint(cart, None, PaymentMethod.STARS, quote.code)}
    await set_step(session, user_id, CheckoutStep.CONFIRM, details)
    return Confirmation(cart, quote, details)


async def begin_buy_now(session: AsyncSession, user_id: int, variant_id: int, creator_id: int | None,
                        rules: co.CheckoutRules, now: datetime) -> BuyNow:
    """Start a checkout of one unit of a variant, at the contact step (a digital item: at its confirmation);
    the cart is left as it is."""
    item = await one_item(session, variant_id, creator_id, now)
    if not item.lines or not item.lines[0].available:
        raise NotFound(ErrorCode.PRODUCT_GONE)
    if item.lines[0].stock <= 0:
        raise ShopError(ErrorCode.OPTION_SOLD_OUT)
    co.check_sold(item, rules)
    if item.lines[0].digital:
        return BuyNow(item, None, False, await _confirm_digital(session, user_id, {ITEM: variant_id,
                                                                                   CREATOR: creator_id},
                                                                item, rules, now))
    needed = await phone_needed(session, item)
    await set_step(session, user_id, CheckoutStep.CONTACT,
                   {ITEM: variant_id, CREATOR: creator_id, PHONE_NEEDED: needed})
    return BuyNow(item, _saved(await get_user(session, user_id), needed), needed)


async def use_saved(session: AsyncSession, user_id: int, rules: co.CheckoutRules, now: datetime) -> PaymentStep:
    """At the contact step: deliver to the saved contact and address, on to payment."""
    step = await at_step(session, user_id, CheckoutStep.CONTACT, over=ErrorCode.STEP_OVER)
    if not is_buy_now(step.data):
        raise Expired(ErrorCode.STEP_OVER)  # the button of an earlier Buy now, pressed in a cart's checkout
    saved = _saved(await get_user(session, user_id), _phone(step.data))
    if saved is None:
        raise Expired(ErrorCode.SAVED_DETAILS_GONE)
    return await _to_payment(session, user_id, {**step.data, "name": saved.name, "phone": saved.phone,
                                                "address": saved.address}, rules, now)


async def _to_payment(session: AsyncSession, user_id: int, data: dict, rules: co.CheckoutRules, now: datetime,
                      shipping: co.ShippingOption | None = None) -> PaymentStep:
    """Move to the payment step with ``shipping`` (else the cheapest) chosen."""
    options = await co.shipping_options(session)
    if shipping is None:
        if not options:
            raise Expired(ErrorCode.SHIPPING_NOT_OFFERED)
        shipping = min(options, key=lambda option: option.fee)
    data = {**data, "shipping": shipping.code, "shipping_name": shipping.name}
    await set_step(session, user_id, CheckoutStep.PAYMENT, data)
    cart = await basket(session, user_id, data, now)
    return PaymentStep(cart, await priced(session, user_id, cart, shipping, rules, now), options, data)


async def begin(session: AsyncSession, user_id: int, rules: co.CheckoutRules, now: datetime) -> co.Review:
    """Start (or restart) checkout with a review of the cart at today's prices and stock, without goods the
    shop can't take payment for, and the shopper's code's discount (or why it takes nothing)."""
    review = await co.review_cart(session, user_id, rules.kinds_sold, now)
    if not review.cart.lines:
        return review
    await set_step(session, user_id, CheckoutStep.REVIEW)
    discount, refusal = await coupons.discount_for(session, user_id, review.cart, rules.currency, now)
    user = await get_user(session, user_id)  # a code that can never apply again is forgotten by now
    return replace(review, discount=discount, refusal=refusal, code=user.promo_code if user is not None else None)


async def ask_code(session: AsyncSession, user_id: int) -> None:
    """At the review: the shopper will type a discount code."""
    await at_step(session, user_id, CheckoutStep.REVIEW, CheckoutStep.CODE, over=ErrorCode.STEP_OVER)
    await set_step(session, user_id, CheckoutStep.CODE)


async def submit_code(session: AsyncSession, user_id: int, text: str, rules: co.CheckoutRules,
                      now: datetime) -> co.Review:
    """A typed code: kept if it takes something off the cart now (else :class:`ShopError` says exactly why, and
    the shopper may type another); back to the review, with its discount."""
    await at_step(session, user_id, CheckoutStep.CODE, over=ErrorCode.STEP_OVER)
    cart = await get_cart(session, user_id, now)
    await coupons.price_code(session, user_id, cart, text, rules.currency, now)
    await coupons.enter_code(session, user_id, text)
    return await begin(session, user_id, rules, now)


async def drop_code(session: AsyncSession, user_id: int, rules: co.CheckoutRules, now: datetime) -> co.Review:
    """At the review: forget the shopper's code; the review again, without it."""
    await at_step(session, user_id, CheckoutStep.REVIEW, CheckoutStep.CODE, over=ErrorCode.STEP_OVER)
    await coupons.remove_code(session, user_id)
    return await begin(session, user_id, rules, now)


async def to_contact(session: AsyncSession, user_id: int, rules: co.CheckoutRules,
                     now: datetime) -> ContactStep | Confirmation:
    """Review accepted: ask for contact details (the phone only if a seller needs it), offering the last ones;
    for digital goods alone, their confirmation."""
    # (Continue while a code was being typed: the review as it was shown.)
    await at_step(session, user_id, CheckoutStep.REVIEW, CheckoutStep.CODE, over=ErrorCode.STEP_OVER)
    cart = await get_cart(session, user_id, now)
    co.check_sold(cart, rules)
    if cart.kinds == (ProductKind.DIGITAL,):
        return await _confirm_digital(session, user_id, {}, cart, rules, now)
    needed = await phone_needed(session, cart.of_kind(ProductKind.PHYSICAL))
    await set_step(session, user_id, CheckoutStep.CONTACT, {PHONE_NEEDED: needed})
    user = await get_user(session, user_id)
    if user is None or not user.contact_name:
        return ContactStep(needed, None)
    if not needed:
        return ContactStep(needed, user.contact_name)
    return ContactStep(needed, f"{user.contact_name} {user.phone}" if user.phone else None)


async def submit_contact(session: AsyncSession, user_id: int, text: str, region: str,
                         fallback_name: str) -> tuple[str, str | None, str | None]:
    """Typed contact details: validated, stored in the step; returns name, phone and the last address."""
    step = await at_step(session, user_id, CheckoutStep.CONTACT, over=ErrorCode.STEP_OVER)
    if _phone(step.data):
        name, phone = parse_contact(text, region, fallback_name)
    else:
        name, phone = parse_name(text, region, fallback_name), None
    await set_step(session, user_id, CheckoutStep.ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_shared_contact(session: AsyncSession, user_id: int, name: str, phone_number: str,
                                owner_id: int | None) -> tuple[str, str | None, str | None]:
    """A contact shared with Telegram's button: it must be the shopper's own (its phone kept only if needed)."""
    step = await at_step(session, user_id, CheckoutStep.CONTACT, over=ErrorCode.STEP_OVER)
    if owner_id != user_id:
        raise InvalidInput(ErrorCode.NOT_YOUR_CONTACT)
    phone = shared_phone(phone_number) if _phone(step.data) else None
    name = clean_name(name)
    await set_step(session, user_id, CheckoutStep.ADDRESS, {**step.data, "name": name, "phone": phone})
    user = await get_user(session, user_id)
    return name, phone, user.last_address if user else None


async def submit_address(session: AsyncSession, user_id: int, text: str, rules: co.CheckoutRules,
                         now: datetime) -> AddressTaken:
    """The shipping address: validated; then the shipping choice, or a Buy now's payment step."""
    step = await at_step(session, user_id, CheckoutStep.ADDRESS, over=ErrorCode.STEP_OVER)
    user = await get_user(session, user_id)
    saved = user.last_address if user is not None else None
    # The saved address's button sends it on one line: keep it as it was saved, line breaks and all.
    address = saved if saved and text.strip() == one_line(saved) else clean_address(text)
    data = {**step.data, "address": address}
    if is_buy_now(data):
        payment = await _to_payment(session, user_id, data, rules, now)
        return AddressTaken(address, payment.quote.sellers, payment.options, payment)
    await set_step(session, user_id, CheckoutStep.SHIPPING, data)
    cart = await get_cart(session, user_id, now)
    return AddressTaken(address, len({line.seller_id for line in cart.lines if not line.digital}),
                        await co.shipping_options(session), None)


async def choose_shipping(session: AsyncSession, user_id: int, code: str, rules: co.CheckoutRules,
                          now: datetime) -> PaymentStep:
    """A shipping method was chosen (or, at the payment step, another one): on to payment."""
    step = await at_step(session, user_id, CheckoutStep.SHIPPING, CheckoutStep.PAYMENT, over=ErrorCode.STEP_OVER)
    if step.name == CheckoutStep.PAYMENT and not is_buy_now(step.data):
        raise Expired(ErrorCode.STEP_OVER)  # only a Buy now's payment step offers the shipping again
    return await _to_payment(session, user_id, step.data, rules, now, await co.get_shipping(session, code))


async def choose_payment(session: AsyncSession, user_id: int, method: str, offered: tuple[str, ...],
                         rules: co.CheckoutRules, now: datetime) -> Confirmation:
    """A payment method was chosen: price everything and ask for confirmation."""
    if method not in offered:
        raise Expired(ErrorCode.PAYMENT_NOT_OFFERED)
    step = await at_step(session, user_id, CheckoutStep.PAYMENT, over=ErrorCode.STEP_OVER)
    cart = await basket(session, user_id, step.data, now)
    if is_buy_now(step.data) and not all(line.available for line in cart.lines):
        cart = CartView(())  # the item was paused or removed since
    if not cart.lines:
        await session.execute(delete(UserStep).where(UserStep.user_id == user_id))
        raise Expired(ErrorCode.PRODUCT_GONE if is_buy_now(step.data) else ErrorCode.CART_EMPTY)
    quote = await priced(session, user_id, cart, await co.get_shipping(session, step.data["shipping"]), rules, now)
    if quote.over_stars_limit:
        raise InvalidInput(ErrorCode.STARS_LIMIT, max=STARS_INVOICE_MAX)
    details = {**step.data, "payment": method, "total": quote.total.amount, "stars": quote.stars,
               "fingerprint": fingerprint(cart, step.data["shipping"], method, quote.code)}
    await set_step(session, user_id, CheckoutStep.CONFIRM, details)
    return Confirmation(cart, quote, details)


async def confirm(session: AsyncSession, user_id: int, shown_total: int, rules: co.CheckoutRules,
                  now: datetime, message_id: int | None = None, shown: str | None = None) -> co.Placed:
    """Place the orders the shopper confirmed, exactly once (``message_id``: the confirmation, which
    then asks for the payment; ``shown``: the start of its fingerprint, so an older confirmation of the
    same total, of another checkout, places nothing).

    The confirm step is consumed first (a second press finds it gone); a button
    from an older confirmation, or a cart changed since, places nothing.
    """
    step = await at_step(session, user_id, CheckoutStep.CONFIRM, over=ErrorCode.STEP_OVER)
    data = step.data
    if shown_total != data["total"] or (shown is not None and not data["fingerprint"].startswith(shown)):
        raise Expired(ErrorCode.CONFIRMATION_OUTDATED)
    taken = await session.execute(delete(UserStep).where(UserStep.user_id == user_id,
                                                         UserStep.step == CheckoutStep.CONFIRM))
    if taken.rowcount != 1:
        raise Expired(ErrorCode.STEP_OVER)
    buy_now = is_buy_now(data)
    cart = await basket(session, user_id, data, now)
    discount, refusal = await coupons.discount_for(session, user_id, cart, rules.currency, now)
    if fingerprint(cart, data["shipping"], data["payment"], discount) != data["fingerprint"]:
        if refusal is not None and refusal.code in coupons.GONE:  # the code used up a moment ago, expired
            raise Changed(refusal.code, **refusal.data)
        raise Changed(ErrorCode.ITEM_CHANGED if buy_now else ErrorCode.CART_CHANGED)
    placed = await co.place_order(
        session, user_id, contact_name=data["name"], phone=data["phone"], address=data["address"],
        shipping_code=data["shipping"], payment_method=data["payment"], expected_total=data["total"],
        rules=rules, now=now, buy_now=cart if buy_now else None,
    )
    for checkout in placed.checkouts:  # one message shows every payment of this Place order
        checkout.pay_message_id = message_id
    return placed


async def leave(session: AsyncSession, user_id: int) -> bool:
    """Leave the checkout (the cart stays); False when the shopper was not checking out."""
    result = await session.execute(delete(UserStep).where(UserStep.user_id == user_id,
                                                          UserStep.step.in_(tuple(CheckoutStep))))
    return result.rowcount == 1


