"""Checkout: review the cart, price it, and place one order per seller with the stock reserved.

One checkout pays for the whole cart and is split into one order per seller;
each seller's order is charged the chosen shipping fee once. Telegram's rules
decide how goods are paid: physical goods by card (a payment provider) or cash
on delivery, digital goods in Telegram Stars only, so a cart holding both is
placed as two checkouts, one per payment, each with its own orders and expiry
(digital orders ship nothing and need no address). Digital goods are one Stars
checkout per seller: Telegram refunds a Stars payment whole or not at all, so
each seller's order must be its own payment for a cancel to refund it. Stock is reserved
when the orders are created; paying is :mod:`store.services.payments`, an
unpaid checkout's end (expiry, the buyer calling it off) is
:mod:`store.services.unpaid`, the typed contact details are
:mod:`store.services.contact`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import Changed, ErrorCode, Expired, OutOfStock, ShopError
from store.models import CartLine, Checkout, Order, OrderEvent, OrderLine, ShippingMethod, User
from store.money import STARS, Money, to_stars
from store.rules import LOW_STOCK_THRESHOLD, STARS_INVOICE_MAX, STARS_PER_UNIT
from store.services import coupons, deals, digital
from store.services.cart import CartView, clear_cart, get_cart
from store.services.creators import record_commissions
from store.services.events import announce, announce_stock
from store.services.orders import reserve_stock
from store.states import ActorKind, CheckoutStatus, OrderEventType, OrderStatus, PaymentMethod, ProductKind

# How physical goods may be paid (Telegram allows Stars for digital goods only).
PHYSICAL_METHODS = (PaymentMethod.CARD, PaymentMethod.COD)


@dataclass(frozen=True, slots=True)
class CheckoutRules:
    """The shop settings that checkout depends on."""

    currency: str
    expiry: timedelta
    stars_per_unit: int = STARS_PER_UNIT
    phone_region: str = "US"
    low_stock_threshold: int = LOW_STOCK_THRESHOLD
    # How physical goods may be paid here (card, cash on delivery), and whether digital goods are sold (the
    # shop takes Telegram Stars).
    payment_methods: tuple[str, ...] = PHYSICAL_METHODS
    digital_sold: bool = True

    @property
    def kinds_sold(self) -> tuple[ProductKind, ...]:
        """The kinds of goods the shop can take payment for."""
        return tuple(kind for kind, sold in ((ProductKind.PHYSICAL, bool(self.payment_methods)),
                                             (ProductKind.DIGITAL, self.digital_sold)) if sold)


@dataclass(frozen=True, slots=True)
class ShippingOption:
    """A shipping method as offered at checkout."""

    code: str
    name: str
    fee: int


class Adjustment(StrEnum):
    """What bringing a cart line up to date did to it."""

    REMOVED = "removed"  # no longer on sale, or sold out
    LOWERED = "lowered"  # fewer in stock than in the cart
    PRICE_UP = "price_up"
    PRICE_DOWN = "price_down"


@dataclass(frozen=True, slots=True)
class CartAdjustment:
    """One change the review made to a cart line (``stock``: what is left, for LOWERED)."""

    kind: Adjustment
    title: str
    label: str
    stock: int = 0


@dataclass(frozen=True, slots=True)
class Review:
    """The cart as it will be ordered, and what changed since the shopper last saw it; the shopper's code's
    discount on it, or why it takes nothing (``refusal``)."""

    cart: CartView
    changes: tuple[CartAdjustment, ...]
    discount: coupons.Discount = coupons.NO_DISCOUNT
    refusal: ShopError | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """What a checkout will cost with a given shipping method (``sellers``: those who ship, each charged the
    fee once); ``digital`` is the part of the items paid in Stars, ``stars_payments`` that part in Stars, one
    payment per seller of digital goods."""

    items_total: Money
    shipping_total: Money
    total: Money
    sellers: int
    digital: Money
    stars_payments: tuple[int, ...] = ()
    # What the shopper's code takes off the items (``total`` is items - discount + shipping), and per seller.
    discount: Money | None = None
    code: coupons.Discount = coupons.NO_DISCOUNT

    @property
    def items_paid(self) -> Money:
        """The items with the discount taken off."""
        return self.items_total - self.discount if self.discount is not None else self.items_total

    @property
    def stars(self) -> int:
        """The digital goods in Stars, all payments together."""
        return sum(self.stars_payments)

    @property
    def over_stars_limit(self) -> bool:
        """Whether one of the Stars payments asks more than one invoice may."""
        return any(stars > STARS_INVOICE_MAX for stars in self.stars_payments)

    @property
    def physical_total(self) -> Money:
        """What the physical goods cost with their shipping: the card or cash payment."""
        return self.total - self.digital

    @property
    def two_payments(self) -> bool:
        """Whether the order is paid twice: physical goods one way, digital goods in Stars."""
        return bool(self.digital.amount) and self.physical_total.amount > 0


@dataclass(frozen=True, slots=True)
class Placed:
    """Placed checkouts (two for a cart of physical and digital goods, physical first) and their orders."""

    checkouts: tuple[Checkout, ...]
    orders: tuple[Order, ...]

    @property
    def checkout(self) -> Checkout:
        """The first checkout (the only one, unless the cart held both kinds of goods)."""
        return self.checkouts[0]

    def orders_of(self, checkout: Checkout) -> list[Order]:
        """The orders one of the checkouts pays for."""
        return [order for order in self.orders if order.checkout_id == checkout.id]


# --- review and quote -------------------------------------------------------------------


async def review_cart(session: AsyncSession, user_id: int, sold: tuple[str, ...] = tuple(ProductKind),
                      now: datetime | None = None) -> Review:
    """Bring the cart up to date with current prices and stock, and say what changed (goods of a kind the
    shop can no longer take payment for, ``sold``, are removed like goods no longer on sale)."""
    cart = await get_cart(session, user_id, now)
    changes: list[CartAdjustment] = []
    lines = {line.id: line for line in await session.scalars(select(CartLine).where(CartLine.user_id == user_id))}
    for view in cart.lines:
        row = lines[view.id]
        if not view.available or view.stock <= 0 or view.kind not in sold:
            await session.delete(row)
            changes.append(CartAdjustment(Adjustment.REMOVED, view.title, view.label))
            continue
        if view.quantity > view.stock:
            row.quantity = view.stock
            changes.append(CartAdjustment(Adjustment.LOWERED, view.title, view.label, view.stock))
        if view.unit_price != view.seen_price:
            kind = Adjustment.PRICE_UP if view.unit_price > view.seen_price else Adjustment.PRICE_DOWN
            changes.append(CartAdjustment(kind, view.title, view.label))
            row.seen_price = view.unit_price
    await session.flush()
    return Review(await get_cart(session, user_id, now) if changes else cart, tuple(changes))


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
        raise Expired(ErrorCode.SHIPPING_NOT_OFFERED)
    return ShippingOption(method.code, method.name, method.fee)


def quote(cart: CartView, shipping: ShippingOption | None, currency: str,
          stars_per_unit: int = STARS_PER_UNIT, discount: coupons.Discount = coupons.NO_DISCOUNT) -> Quote:
    """Price a cart in the shop's currency: items less the ``discount`` of the shopper's code, plus the
    shipping fee once per seller of physical goods (``shipping`` None: nothing to ship); the digital goods'
    part in Stars too."""
    sellers = len({line.seller_id for line in cart.lines if not line.digital})
    items, off = Money(cart.total, currency), Money(discount.on(cart.lines), currency)
    shipping_total = Money(shipping.fee if shipping is not None else 0, currency) * sellers
    digital_goods = cart.of_kind(ProductKind.DIGITAL)
    stars = tuple(to_stars(Money(sum(line.total for line in lines) - discount.on(lines), currency),
                           stars_per_unit).amount
                  for _seller, lines in digital_goods.by_seller())
    digital_paid = Money(digital_goods.total - discount.on(digital_goods.lines), currency)
    return Quote(items, shipping_total, items - off + shipping_total, sellers, digital_paid, stars, off, discount)


def check_sold(cart: CartView, rules: CheckoutRules) -> None:
    """Refuse goods this shop cannot take payment for: digital goods without Stars, physical goods
    with neither a card provider nor cash on delivery."""
    kinds = cart.kinds
    if ProductKind.DIGITAL in kinds and not rules.digital_sold:
        raise ShopError(ErrorCode.DIGITAL_NOT_SOLD)
    if ProductKind.PHYSICAL in kinds and not rules.payment_methods:
        raise ShopError(ErrorCode.PHYSICAL_NOT_SOLD)


# --- placing orders -----------------------------------------------------------------------


async def place_order(
    session: AsyncSession,
    user_id: int,
    *,
    contact_name: str | None,
    phone: str | None,
    address: str | None,
    shipping_code: str | None,
    payment_method: PaymentMethod | str | None,
    expected_total: int,
    rules: CheckoutRules,
    now: datetime,
    buy_now: CartView | None = None,
) -> Placed:
    """Turn the user's cart (or ``buy_now``, a Buy now's one item) into checkouts with one order per
    seller, reserving stock (and a pool's codes); the cart is emptied, unless a Buy now was ordered instead.

    Physical goods are one checkout paid by ``payment_method`` (card or cash on delivery), shipped with
    ``shipping_code`` to the contact and address; digital goods another, paid in Stars, with no contact
    kept. ``expected_total`` is the total the shopper confirmed; if prices changed since, nothing is placed
    and :class:`Expired` asks for a new review.
    """
    cart = buy_now if buy_now is not None else await get_cart(session, user_id, now)
    if not cart.lines:
        raise Expired(ErrorCode.NOTHING_TO_ORDER)
    if any(not line.available for line in cart.lines):
        raise Expired(ErrorCode.PRODUCT_GONE if buy_now is not None else ErrorCode.CART_ITEM_UNAVAILABLE)
    check_sold(cart, rules)
    physical, digital_goods = cart.of_kind(ProductKind.PHYSICAL), cart.of_kind(ProductKind.DIGITAL)
    if physical.lines and (payment_method not in PHYSICAL_METHODS or not (contact_name and address)):
        raise Expired(ErrorCode.PAYMENT_NOT_OFFERED)
    shipping = await get_shipping(session, shipping_code or "") if physical.lines else None
    discount, refusal = await coupons.discount_for(session, user_id, cart, rules.currency, now)
    priced = quote(cart, shipping, rules.currency, rules.stars_per_unit, discount)
    if priced.total.amount != expected_total:
        # The code taking nothing now (used up a moment ago, expired) is said as such.
        gone = refusal is not None and refusal.code in coupons.GONE
        raise Changed(refusal.code, **refusal.data) if gone else Changed(ErrorCode.PRICES_CHANGED)
    if priced.over_stars_limit:
        raise Changed(ErrorCode.STARS_LIMIT, max=STARS_INVOICE_MAX)

    wanted: dict[int, int] = {}
    for line in cart.lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    short = await reserve_stock(session, wanted)
    if short:
        lines = [(line.title, line.label, short[line.variant_id]) for line in cart.lines if line.variant_id in short]
        raise OutOfStock(ErrorCode.OUT_OF_STOCK, short, lines=lines, buy_now=buy_now is not None)
    await deals.claim(session, cart.lines, now)
    uses = await coupons.take_uses(session, user_id, discount, now)
    codes = _Codes(discount, uses)

    checkouts: list[tuple[Checkout, list[Order]]] = []
    if physical.lines:
        checkouts.append(await _place(session, user_id, physical, ProductKind.PHYSICAL, PaymentMethod(payment_method),
                                      shipping, (contact_name, phone, address), rules, now, codes))
        user = await session.get(User, user_id)
        if user is not None:
            user.contact_name, user.last_address = contact_name, address
            if phone is not None:  # an order that needed no phone keeps the one saved before
                user.phone = phone
    for _seller, lines in digital_goods.by_seller():
        placed = await _place(session, user_id, CartView(tuple(lines)), ProductKind.DIGITAL, PaymentMethod.STARS,
                              None, (None, None, None), rules, now, codes)
        await digital.reserve_codes(session, [order.id for order in placed[1]])
        checkouts.append(placed)
    if buy_now is None:
        await clear_cart(session, user_id)
    await session.flush()
    for checkout, orders in checkouts:
        for order in orders:
            if checkout.payment_method == PaymentMethod.COD:
                await record_commissions(session, order.id, now)
            await announce(session, order.id, OrderEventType.CREATED, now)
    await announce_stock(session, list(wanted), rules.low_stock_threshold, f"checkout-{checkouts[0][0].id}", now)
    return Placed(tuple(checkout for checkout, _orders in checkouts),
                  tuple(order for _checkout, orders in checkouts for order in orders))


@dataclass(frozen=True, slots=True)
class _Codes:
    """The shopper's code as the orders are placed: its discount, and the use held of each coupon it applies."""

    discount: coupons.Discount
    uses: dict[int, int]

    def of_seller(self, seller_id: int) -> coupons.SellerDiscount | None:
        """The coupon's discount on one seller's order (a code is one coupon per seller at most)."""
        return next((part for part in self.discount.sellers if part.seller_id == seller_id), None)


async def _place(session: AsyncSession, user_id: int, cart: CartView, kind: ProductKind, method: PaymentMethod,
                 shipping: ShippingOption | None, contact: tuple[str | None, str | None, str | None],
                 rules: CheckoutRules, now: datetime, codes: _Codes) -> tuple[Checkout, list[Order]]:
    """One checkout of goods of one kind, paid one way, with an order per seller (stock already taken), each
    line with its part of the code's discount (a creator's code attributes the lines it applies to)."""
    discount = codes.discount
    priced = quote(cart, shipping, rules.currency, rules.stars_per_unit, discount)
    cod = method == PaymentMethod.COD
    status = OrderStatus.PLACED if cod else OrderStatus.PENDING_PAYMENT
    invoice = Money(priced.stars, STARS) if method == PaymentMethod.STARS else priced.total
    checkout = Checkout(
        user_id=user_id, status=CheckoutStatus.PLACED if cod else CheckoutStatus.PENDING_PAYMENT,
        payment_method=method, currency=rules.currency,
        items_total=priced.items_total.amount, shipping_total=priced.shipping_total.amount,
        total=priced.total.amount, discount=priced.discount.amount if priced.discount else 0,
        invoice_currency=invoice.currency, invoice_amount=invoice.amount,
        shipping_code=shipping.code if shipping else "", shipping_name=shipping.name if shipping else "",
        expires_at=None if cod else now + rules.expiry, created_at=now,
    )
    session.add(checkout)
    await session.flush()
    contact_name, phone, address = contact
    orders: list[Order] = []
    for _seller_name, lines in cart.by_seller():
        items = Money(sum(line.total for line in lines), rules.currency)
        fee = Money(shipping.fee if shipping else 0, rules.currency)
        off, part = discount.on(lines), codes.of_seller(lines[0].seller_id)
        lines = [discount.attributed(line) for line in lines]
        order = Order(
            checkout_id=checkout.id, seller_id=lines[0].seller_id, buyer_id=user_id, status=status, kind=kind,
            currency=rules.currency, items_total=items.amount, shipping_fee=fee.amount,
            total=items.amount - off + fee.amount, contact_name=contact_name, phone=phone, address=address,
            discount=off, platform_discount=off if part is not None and part.platform else 0,
            coupon_code=discount.code if off else None,
            coupon_use_id=codes.uses.get(part.coupon_id) if part is not None and off else None,
            created_at=now, updated_at=now,
        )
        session.add(order)
        await session.flush()
        session.add_all(
            OrderLine(order_id=order.id, variant_id=line.variant_id, product_id=line.product_id,
                      title=line.title, variant_label=line.label, sku=line.sku, unit_price=line.unit_price,
                      quantity=line.quantity, line_total=line.total, creator_id=line.creator_id,
                      commission_bp=line.commission_bp if line.creator_id is not None else 0,
                      discount=discount.lines.get(line.variant_id, 0), deal_id=line.deal_id)
            for line in lines
        )
        orders.append(order)
    session.add_all(OrderEvent(order_id=o.id, from_status=None, to_status=status, actor_kind=ActorKind.BUYER,
                               actor_id=user_id, created_at=now) for o in orders)
    await session.flush()
    return checkout, orders


async def checkout_for_update(session: AsyncSession, checkout_id: int) -> Checkout | None:
    """A checkout with its orders and their lines, locked (paying or ending it)."""
    return await session.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .options(selectinload(Checkout.orders).selectinload(Order.lines),
                 selectinload(Checkout.orders).selectinload(Order.seller))
        .with_for_update(of=Checkout).execution_options(populate_existing=True)
    )
