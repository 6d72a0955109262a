"""Discount codes: sellers' coupons, the platform's coupons and creators' codes, and what one takes off a cart.

A code is A-Z and 0-9, 4 to 20 characters, typed in any case. A seller's coupon
takes off its own goods and the seller pays for it; the platform's coupons
(operators create them) and creators' personal codes take off any seller's goods
and the platform pays (sellers are paid the full price). A creator's code also
attributes the lines it applies to that creator, whatever link was clicked before.
Several shops may have the same code (each applies to its own goods); no shop's
code is a platform code.

The discount of a coupon on the goods it applies to is, in minor units::

    percent:  (total * percent + 50) // 100    (rounded half up)
    amount:   the amount

never more than those goods cost less one minor unit (something is always paid).
It is spread over the lines in proportion to what they cost, each rounded down,
and what is left over goes to the largest line (then the next, if the largest
is used up), so the lines add up to the discount exactly; commission is on what
each line was paid after it.

A use is held when the orders are placed (one per Place order and coupon; the
last use is taken by exactly one of two shoppers racing for it) and given back
once every order of that use is cancelled or expires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode, InvalidInput, NotAllowed, NotFound, ShopError
from store.models import Coupon, CouponProduct, CouponUse, Creator, Order, Product, User
from store.services.cart import CartLineView, CartView
from store.states import Approval, OrderStatus

PLATFORM = 0  # the scope of the platform's coupons and creators' codes
CODE_MIN, CODE_MAX = 4, 20
_CODE = re.compile(rf"[A-Z0-9]{{{CODE_MIN},{CODE_MAX}}}")
PERCENT_MAX = 100
COUPON_PRODUCTS_MAX = 50
# An order in one of these no longer holds its coupon's use.
_ENDED = (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED)


def clean_code(text: str) -> str:
    """A typed code, upper-cased: A-Z and 0-9, 4 to 20 characters."""
    code = (text or "").strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidInput(ErrorCode.COUPON_CODE_FORMAT, min=CODE_MIN, max=CODE_MAX)
    return code


def is_code(text: str) -> bool:
    """Whether the text has the shape of a code (a link's, say)."""
    return bool(_CODE.fullmatch((text or "").strip().upper()))


# --- creating --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What a coupon gives and when: exactly one of ``percent_off`` (1..100) and ``amount_off`` (minor units)."""

    percent_off: int | None = None
    amount_off: int | None = None
    min_spend: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    per_shopper: int | None = 1
    product_ids: tuple[int, ...] = ()


def check_terms(terms: CouponTerms) -> None:
    """Refuse terms that can't be a coupon, naming the first problem."""
    if (terms.percent_off is None) == (terms.amount_off is None):
        raise InvalidInput(ErrorCode.COUPON_DISCOUNT_NEEDED)
    if terms.percent_off is not None and not 1 <= terms.percent_off <= PERCENT_MAX:
        raise InvalidInput(ErrorCode.COUPON_PERCENT_RANGE, max=PERCENT_MAX)
    if terms.amount_off is not None and terms.amount_off <= 0:
        raise InvalidInput(ErrorCode.PRICE_NOT_POSITIVE)
    if terms.min_spend < 0:
        raise InvalidInput(ErrorCode.PRICE_NOT_POSITIVE)
    if terms.starts_at and terms.ends_at and terms.ends_at <= terms.starts_at:
        raise InvalidInput(ErrorCode.COUPON_ENDS_BEFORE_START)
    for limit in (terms.max_uses, terms.per_shopper):
        if limit is not None and limit < 1:
            raise InvalidInput(ErrorCode.COUPON_USES_RANGE)
    if len(terms.product_ids) > COUPON_PRODUCTS_MAX:
        raise InvalidInput(ErrorCode.COUPON_PRODUCTS_TOO_MANY, max=COUPON_PRODUCTS_MAX)


async def check_free(session: AsyncSession, scope: int, code: str) -> None:
    """A code is free in its scope, and a platform code is no shop's (nor a shop's code a platform one)."""
    clash = Coupon.scope == scope if scope != PLATFORM else True  # a platform code clashes with every shop's
    taken = await session.scalar(select(Coupon.id).where(Coupon.code == code, or_(clash, Coupon.scope == PLATFORM))
                                 .limit(1))
    if taken is not None:
        raise InvalidInput(ErrorCode.COUPON_CODE_TAKEN, code=code)


async def create_coupon(session: AsyncSession, *, seller_id: int | None, code: str, terms: CouponTerms,
                        created_by: int, now: datetime, creator_id: int | None = None) -> Coupon:
    """A seller's coupon (``seller_id``), or the platform's (None; with ``creator_id``, a creator's code)."""
    code = clean_code(code)
    check_terms(terms)
    scope = seller_id if seller_id is not None else PLATFORM
    await check_free(session, scope, code)
    if terms.product_ids:
        query = select(Product.id).where(Product.id.in_(terms.product_ids))
        if seller_id is not None:
            query = query.where(Product.seller_id == seller_id)
        if set(await session.scalars(query)) != set(terms.product_ids):
            raise NotFound(ErrorCode.PRODUCT_NOT_YOURS)
    coupon = Coupon(scope=scope, seller_id=seller_id, creator_id=creator_id, code=code,
                    percent_off=terms.percent_off, amount_off=terms.amount_off, min_spend=terms.min_spend,
                    starts_at=terms.starts_at, ends_at=terms.ends_at, max_uses=terms.max_uses,
                    per_shopper=terms.per_shopper, uses=0, active=True, created_by=created_by, created_at=now)
    session.add(coupon)
    await session.flush()
    session.add_all(CouponProduct(coupon_id=coupon.id, product_id=product_id)
                    for product_id in sorted(set(terms.product_ids)))
    await session.flush()
    return coupon


async def set_creator_code(session: AsyncSession, user_id: int, code: str, percent_off: int,
                           now: datetime) -> Coupon:
    """An approved creator chooses their personal code (it replaces the one they had; the discount is the
    operator's setting, paid by the platform)."""
    creator = await session.scalar(select(Creator).where(Creator.user_id == user_id))
    if creator is None or creator.status != Approval.APPROVED:
        raise NotAllowed(ErrorCode.CREATOR_CODE_FOR_CREATORS)
    code = clean_code(code)
    mine = await session.scalar(select(Coupon).where(Coupon.creator_id == creator.id, Coupon.active.is_(True))
                                .with_for_update())
    if mine is not None and mine.code == code:
        return mine
    before = await session.scalar(select(Coupon).where(Coupon.creator_id == creator.id, Coupon.code == code)
                                  .with_for_update())
    if before is None:
        await check_free(session, PLATFORM, code)
    if mine is not None:  # retired: its sales stay the creator's in /earnings, under the old code
        mine.active = False
        await session.flush()
    if before is not None:  # a code of theirs from before, in use again
        before.active, before.percent_off = True, percent_off
        await session.flush()
        return before
    return await create_coupon(session, seller_id=None, code=code, created_by=user_id, now=now,
                               terms=CouponTerms(percent_off=percent_off, per_shopper=None), creator_id=creator.id)


async def creator_code(session: AsyncSession, creator_id: int) -> Coupon | None:
    """A creator's personal code, if they chose one."""
    return await session.scalar(select(Coupon).where(Coupon.creator_id == creator_id, Coupon.active.is_(True)))


async def list_coupons(session: AsyncSession, seller_id: int | None) -> list[Coupon]:
    """A shop's coupons (None: the platform's, creators' codes aside), newest first."""
    scope = seller_id if seller_id is not None else PLATFORM
    return list(await session.scalars(select(Coupon).where(Coupon.scope == scope, Coupon.creator_id.is_(None))
                                      .order_by(Coupon.id.desc())))


async def coupon_products(session: AsyncSession, coupon_id: int) -> list[int]:
    """The products a coupon is limited to (none: all of its scope's)."""
    return list(await session.scalars(select(CouponProduct.product_id).where(CouponProduct.coupon_id == coupon_id)
                                      .order_by(CouponProduct.product_id)))


async def set_active(session: AsyncSession, coupon_id: int, seller_id: int | None, active: bool) -> Coupon:
    """Pause or resume a coupon of the shop (None: a platform coupon, by an operator)."""
    coupon = await session.get(Coupon, coupon_id, with_for_update=True, populate_existing=True)
    scope = seller_id if seller_id is not None else PLATFORM
    if coupon is None or coupon.scope != scope or coupon.creator_id is not None:
        raise NotFound(ErrorCode.COUPON_GONE)  # (a creator's code is changed by the creator)
    coupon.active = active
    await session.flush()
    return coupon


# --- what a code takes off ------------------------------------------------------------------------


def allocate(discount: int, totals: list[int]) -> list[int]:
    """Spread ``discount`` over lines costing ``totals``: in proportion, rounded down, the rest on the largest
    line (then the next largest, where a line can take no more); never more off a line than it costs."""
    whole = sum(totals)
    if whole <= 0 or discount <= 0:
        return [0] * len(totals)
    discount = min(discount, whole)
    parts = [discount * total // whole for total in totals]
    left = discount - sum(parts)
    for index in sorted(range(len(totals)), key=lambda i: (-totals[i], i)):
        if left <= 0:
            break
        extra = min(left, totals[index] - parts[index])
        parts[index] += extra
        left -= extra
    return parts


def coupon_discount(coupon: Coupon, total: int) -> int:
    """What a coupon takes off goods costing ``total``: never all of it."""
    off = ((total * coupon.percent_off + 50) // 100 if coupon.percent_off is not None
           else coupon.amount_off or 0)
    return max(0, min(off, total - 1))


@dataclass(frozen=True, slots=True)
class SellerDiscount:
    """A coupon's discount on one seller's goods; ``platform``: the platform pays it."""

    seller_id: int
    seller_name: str
    coupon_id: int
    amount: int
    platform: bool


@dataclass(frozen=True, slots=True)
class Discount:
    """What a code takes off a cart: per line (variant id -> minor units) and per seller, and the creator
    the lines it applies to are attributed to (a creator's code)."""

    code: str
    lines: dict[int, int]
    sellers: tuple[SellerDiscount, ...]
    creator_id: int | None = None

    @property
    def total(self) -> int:
        """All of it."""
        return sum(self.lines.values())

    def on(self, lines: tuple[CartLineView, ...] | list[CartLineView]) -> int:
        """What it takes off some of the lines."""
        return sum(self.lines.get(line.variant_id, 0) for line in lines)

    def attributed(self, line: CartLineView) -> CartLineView:
        """The line as ordered: a creator's code attributes the lines it applies to that creator (over an
        earlier click)."""
        if self.creator_id is not None and self.lines.get(line.variant_id, 0) > 0:
            return replace(line, creator_id=self.creator_id)
        return line


NO_DISCOUNT = Discount("", {}, ())


async def _uses_by(session: AsyncSession, coupon_id: int, user_id: int) -> int:
    return await session.scalar(select(func.count(CouponUse.id)).where(
        CouponUse.coupon_id == coupon_id, CouponUse.user_id == user_id, CouponUse.returned_at.is_(None))) or 0


async def _refusal(session: AsyncSession, coupon: Coupon, user_id: int, lines: list[CartLineView],
                   products: set[int], currency: str, now: datetime) -> ShopError | None:
    """Why a coupon does not apply to these lines of the cart (None: it does)."""
    if not coupon.active:
        return ShopError(ErrorCode.COUPON_UNKNOWN, code=coupon.code)
    if coupon.starts_at is not None and now < coupon.starts_at:
        return ShopError(ErrorCode.COUPON_NOT_STARTED, code=coupon.code, starts_at=coupon.starts_at)
    if coupon.ends_at is not None and now >= coupon.ends_at:
        return ShopError(ErrorCode.COUPON_EXPIRED, code=coupon.code, ended_at=coupon.ends_at)
    if coupon.creator_id is not None:
        owner = (await session.execute(select(Creator.user_id, Creator.status)
                                       .where(Creator.id == coupon.creator_id))).one()
        if owner.status != Approval.APPROVED:
            return ShopError(ErrorCode.COUPON_UNKNOWN, code=coupon.code)
        if owner.user_id == user_id:
            return ShopError(ErrorCode.COUPON_OWN_CODE, code=coupon.code)
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return ShopError(ErrorCode.COUPON_USED_UP, code=coupon.code)
    if coupon.per_shopper is not None and await _uses_by(session, coupon.id, user_id) >= coupon.per_shopper:
        return ShopError(ErrorCode.COUPON_ALREADY_USED, code=coupon.code, times=coupon.per_shopper)
    eligible = [line for line in lines if not products or line.product_id in products]
    if not eligible:
        return ShopError(ErrorCode.COUPON_NOT_FOR_THESE, code=coupon.code)
    spent = sum(line.total for line in eligible)
    if spent < coupon.min_spend:
        return ShopError(ErrorCode.COUPON_MIN_SPEND, code=coupon.code, min_spend=coupon.min_spend,
                         missing=coupon.min_spend - spent, currency=currency)
    return None


# Why a code can never take anything off for this shopper again (it is forgotten), whatever the cart holds.
GONE = (ErrorCode.COUPON_UNKNOWN, ErrorCode.COUPON_EXPIRED, ErrorCode.COUPON_USED_UP, ErrorCode.COUPON_ALREADY_USED,
        ErrorCode.COUPON_OWN_CODE)
# Which refusal to give when no coupon of the code applies: the most telling first, and one that may change
# with the cart or the date before any that never will (the code is forgotten only when all of them never will).
_REFUSALS = (ErrorCode.COUPON_MIN_SPEND, ErrorCode.COUPON_NOT_FOR_THESE, ErrorCode.COUPON_NOT_STARTED,
             ErrorCode.COUPON_ALREADY_USED, ErrorCode.COUPON_USED_UP, ErrorCode.COUPON_OWN_CODE,
             ErrorCode.COUPON_EXPIRED, ErrorCode.COUPON_UNKNOWN)


async def price_code(session: AsyncSession, user_id: int, cart: CartView, code: str, currency: str,
                     now: datetime) -> Discount:
    """What ``code`` takes off the cart now, line by line; :class:`ShopError` says exactly why it takes nothing
    (unknown, not started, expired, used up, already used by this shopper, minimum spend, other goods)."""
    code = clean_code(code)
    coupons = list(await session.scalars(select(Coupon).where(Coupon.code == code).order_by(Coupon.id)))
    if not coupons:
        raise ShopError(ErrorCode.COUPON_UNKNOWN, code=code)
    lines: dict[int, int] = {}
    sellers: list[SellerDiscount] = []
    refusals: list[ShopError] = []
    creator_id = None
    for coupon in coupons:
        platform = coupon.scope == PLATFORM
        mine = [line for line in cart.lines if platform or line.seller_id == coupon.seller_id]
        if not mine and not platform:
            refusals.append(ShopError(ErrorCode.COUPON_NOT_FOR_THESE, code=code))
            continue
        products = set(await coupon_products(session, coupon.id))
        refusal = await _refusal(session, coupon, user_id, mine, products, currency, now)
        if refusal is not None:
            refusals.append(refusal)
            continue
        eligible = [line for line in mine if not products or line.product_id in products]
        off = coupon_discount(coupon, sum(line.total for line in eligible))
        if not off:  # goods of one minor unit: nothing to take off
            refusals.append(ShopError(ErrorCode.COUPON_NOT_FOR_THESE, code=code))
            continue
        parts = allocate(off, [line.total for line in eligible])
        for line, part in zip(eligible, parts, strict=True):
            lines[line.variant_id] = part
        per_seller: dict[int, tuple[str, int]] = {}
        for line, part in zip(eligible, parts, strict=True):
            name, amount = per_seller.get(line.seller_id, (line.seller_name, 0))
            per_seller[line.seller_id] = (name, amount + part)
        sellers.extend(SellerDiscount(seller_id, name, coupon.id, amount, platform)
                       for seller_id, (name, amount) in per_seller.items())
        creator_id = creator_id or coupon.creator_id
    if not sellers:
        raise min(refusals, key=lambda refusal: _REFUSALS.index(refusal.code))
    lines = _something_paid(cart, lines)
    sellers = [kept for part in sellers
               if (kept := replace(part, amount=sum(lines.get(line.variant_id, 0) for line in cart.lines
                                                    if line.seller_id == part.seller_id))).amount]
    if not sellers:  # goods of a minor unit each: nothing to take off any order
        raise ShopError(ErrorCode.COUPON_NOT_FOR_THESE, code=code)
    return Discount(code, lines, tuple(sellers), creator_id)


def _something_paid(cart: CartView, lines: dict[int, int]) -> dict[int, int]:
    """The discount of each order to be placed (a seller's goods of one kind: each is its own order and, for
    digital goods, its own payment) kept below what its goods cost, one minor unit at least paid; a part
    taken back is spread over the order's lines again by the rounding rule."""
    kept = dict(lines)
    orders: dict[tuple[int, str], list[CartLineView]] = {}
    for line in cart.lines:
        orders.setdefault((line.seller_id, line.kind), []).append(line)
    for order_lines in orders.values():
        off = sum(kept.get(line.variant_id, 0) for line in order_lines)
        most = sum(line.total for line in order_lines) - 1
        if off > most:
            discounted = [line for line in order_lines if kept.get(line.variant_id, 0)]
            parts = allocate(most, [line.total for line in discounted])
            kept.update((line.variant_id, part) for line, part in zip(discounted, parts, strict=True))
    return kept


async def discount_for(session: AsyncSession, user_id: int, cart: CartView, currency: str, now: datetime) -> tuple[
        Discount, ShopError | None]:
    """The shopper's entered code priced on the cart: its discount, or none and why (a code that can never
    apply again, unknown, expired or used up, is forgotten)."""
    user = await session.get(User, user_id)
    code = user.promo_code if user is not None else None
    if not code or not cart.lines:
        return NO_DISCOUNT, None
    try:
        return await price_code(session, user_id, cart, code, currency, now), None
    except ShopError as refusal:
        if refusal.code in GONE:
            user.promo_code = None
        return NO_DISCOUNT, refusal


async def enter_code(session: AsyncSession, user_id: int, text: str) -> str:
    """Keep the code the shopper entered (typed or from a link) for their checkouts."""
    code = clean_code(text)
    user = await session.get(User, user_id)
    if user is not None:
        user.promo_code = code
    return code


async def keep_link_code(session: AsyncSession, user_id: int, text: str) -> str:
    """A code a link brought: kept for the shopper's checkouts if some active coupon has it (else
    :class:`ShopError`: unknown), whatever the cart holds now."""
    code = clean_code(text)
    owners = list(await session.execute(
        select(Coupon.id, Creator.user_id).outerjoin(Creator, Creator.id == Coupon.creator_id)
        .where(Coupon.code == code, Coupon.active.is_(True))))
    if not owners:
        raise ShopError(ErrorCode.COUPON_UNKNOWN, code=code)
    if all(owner == user_id for _coupon, owner in owners):
        raise ShopError(ErrorCode.COUPON_OWN_CODE, code=code)
    return await enter_code(session, user_id, code)


async def remove_code(session: AsyncSession, user_id: int) -> None:
    """Forget the shopper's code."""
    user = await session.get(User, user_id)
    if user is not None:
        user.promo_code = None


# --- uses --------------------------------------------------------------------------------------


async def take_uses(session: AsyncSession, user_id: int, discount: Discount, now: datetime) -> dict[int, int]:
    """Hold one use of each coupon the discount applies (placing the orders): coupon id -> use id. A coupon
    whose last use went to someone else a moment ago, or this shopper's own limit, refuses: nothing placed."""
    held: dict[int, int] = {}
    for coupon_id in sorted({seller.coupon_id for seller in discount.sellers}):
        # One conditional UPDATE: of two shoppers racing for the last use, exactly one gets it.
        taken = await session.execute(
            update(Coupon).where(Coupon.id == coupon_id, Coupon.active.is_(True),
                                 or_(Coupon.max_uses.is_(None), Coupon.uses < Coupon.max_uses))
            .values(uses=Coupon.uses + 1))
        if taken.rowcount != 1:
            raise Changed(ErrorCode.COUPON_USED_UP, code=discount.code)
        per_shopper = await session.scalar(select(Coupon.per_shopper).where(Coupon.id == coupon_id))
        if per_shopper is not None and await _uses_by(session, coupon_id, user_id) >= per_shopper:
            raise Changed(ErrorCode.COUPON_ALREADY_USED, code=discount.code, times=per_shopper)
        use = CouponUse(coupon_id=coupon_id, user_id=user_id, created_at=now)
        session.add(use)
        await session.flush()
        held[coupon_id] = use.id
    return held


async def give_back(session: AsyncSession, order: Order, now: datetime) -> None:
    """An order ends (cancelled, expired): its coupon's use is given back once no order of that use stands."""
    if order.coupon_use_id is None:
        return
    standing = await session.scalar(select(func.count(Order.id)).where(
        Order.coupon_use_id == order.coupon_use_id, Order.id != order.id, Order.status.not_in(_ENDED)))
    if standing:
        return
    use = await session.get(CouponUse, order.coupon_use_id, with_for_update=True, populate_existing=True)
    if use is None or use.returned_at is not None:
        return
    use.returned_at = now
    await session.execute(update(Coupon).where(Coupon.id == use.coupon_id, Coupon.uses > 0)
                          .values(uses=Coupon.uses - 1))


async def take_back(session: AsyncSession, orders: list[Order]) -> bool:
    """A late payment for expired orders takes their coupon's use again, if one is left (else False)."""
    for use_id in sorted({order.coupon_use_id for order in orders if order.coupon_use_id is not None}):
        use = await session.get(CouponUse, use_id, with_for_update=True, populate_existing=True)
        if use is None or use.returned_at is None:
            continue
        per_shopper = await session.scalar(select(Coupon.per_shopper).where(Coupon.id == use.coupon_id))
        if per_shopper is not None and await _uses_by(session, use.coupon_id, use.user_id) >= per_shopper:
            return False  # the shopper has used it since, as often as they may
        taken = await session.execute(
            update(Coupon).where(Coupon.id == use.coupon_id,
                                 or_(Coupon.max_uses.is_(None), Coupon.uses < Coupon.max_uses))
            .values(uses=Coupon.uses + 1))
        if taken.rowcount != 1:
            return False
        use.returned_at = None
    return True
