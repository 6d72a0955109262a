"""Creating a coupon in the chat, one answer a message, and what a list of coupons shows.

Code -> discount -> minimum spend -> start -> end -> total uses -> uses per
shopper -> products -> Create. The step row holds the answers so far and the
scope (a shop's id, or None for the platform's coupons); every answer is
checked when typed, so a bad one changes nothing, and Create makes the coupon
and ends the dialogue in one transaction (a doubled press finds the step gone).
The rules of a coupon itself are :mod:`store.services.coupons`'.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotAllowed, NotFound
from store.models import Coupon, CouponProduct, Product
from store.services import coupons
from store.services.seller_catalog import parse_price
from store.services.users import Step, at_step, clear_step, set_step
from store.states import ProductStatus

# The last second of the typed end day: "until 2030-06-30" is through that day (UTC).
DAY_END = time(23, 59, 59)
USES_MAX = 1_000_000_000  # what an Integer column holds, with room
PRODUCT_CHOICES = 40  # products listed at the products step (the rest are typed by number too)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_IDS = re.compile(r"[\s,;]+")
OVER = ErrorCode.COUPON_STEP_OVER  # what a step's answer gets once the step is over


class CouponStep(StrEnum):
    """The steps of creating a coupon."""

    CODE = "coupon:code"
    DISCOUNT = "coupon:discount"
    MIN_SPEND = "coupon:min_spend"
    STARTS = "coupon:starts"
    ENDS = "coupon:ends"
    MAX_USES = "coupon:max_uses"
    PER_SHOPPER = "coupon:per_shopper"
    PRODUCTS = "coupon:products"
    CONFIRM = "coupon:confirm"


async def begin(session: AsyncSession, user_id: int, seller_id: int | None) -> None:
    """New coupon for a shop (None: the platform's): start with the code."""
    await set_step(session, user_id, CouponStep.CODE, {"seller_id": seller_id})


async def submit_code(session: AsyncSession, user_id: int, text: str) -> str:
    """The code (upper-cased), free in its scope: on to the discount."""
    step = await at_step(session, user_id, CouponStep.CODE, over=OVER)
    code = coupons.clean_code(text)
    scope = step.data["seller_id"] if step.data["seller_id"] is not None else coupons.PLATFORM
    await coupons.check_free(session, scope, code)  # checked again when it is created
    await set_step(session, user_id, CouponStep.DISCOUNT, {**step.data, "code": code})
    return code


def parse_discount(text: str, currency: str, language_code: str | None = None) -> dict[str, int]:
    """"10%" (a whole percentage, 1 to 100) or an amount ("5", "5.00", the language's way) in minor units."""
    typed = (text or "").strip()
    if typed.endswith("%"):
        number = typed[:-1].strip()
        if not number.isdecimal() or not 1 <= int(number) <= coupons.PERCENT_MAX:
            raise InvalidInput(ErrorCode.COUPON_PERCENT_RANGE, max=coupons.PERCENT_MAX)
        return {"percent_off": int(number)}
    try:
        return {"amount_off": parse_price(typed, currency, language_code)}
    except InvalidInput as exc:
        if exc.code == ErrorCode.PRICE_NOT_A_NUMBER:
            raise InvalidInput(ErrorCode.COUPON_DISCOUNT_NEEDED) from None
        raise


async def submit_discount(session: AsyncSession, user_id: int, text: str, currency: str,
                          language_code: str | None = None) -> None:
    """The discount: on to the minimum spend."""
    step = await at_step(session, user_id, CouponStep.DISCOUNT, over=OVER)
    discount = parse_discount(text, currency, language_code)
    await set_step(session, user_id, CouponStep.MIN_SPEND,
                   {**step.data, "percent_off": None, "amount_off": None, **discount})


async def submit_min_spend(session: AsyncSession, user_id: int, text: str | None, currency: str,
                           language_code: str | None = None) -> None:
    """The minimum spend (None: no minimum): on to the start."""
    step = await at_step(session, user_id, CouponStep.MIN_SPEND, over=OVER)
    # A typed 0 is no minimum too (a price must be above 0; a minimum spend need not).
    min_spend = 0 if text is None or text.strip() in ("0", "0.00", "0,00") else parse_price(text, currency,
                                                                                           language_code)
    await set_step(session, user_id, CouponStep.STARTS, {**step.data, "min_spend": min_spend})


def parse_day(text: str) -> date:
    """A day typed as YYYY-MM-DD."""
    found = _DATE.fullmatch((text or "").strip())
    try:
        if found is None:
            raise ValueError(text)
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        raise InvalidInput(ErrorCode.COUPON_DATE_FORMAT) from None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def submit_starts(session: AsyncSession, user_id: int, text: str | None) -> None:
    """The first day it can be used, from 00:00 UTC (None: from now): on to the end."""
    step = await at_step(session, user_id, CouponStep.STARTS, over=OVER)
    starts_at = None if text is None else datetime.combine(parse_day(text), time(), UTC)
    await set_step(session, user_id, CouponStep.ENDS,
                   {**step.data, "starts_at": starts_at.isoformat() if starts_at else None})


async def submit_ends(session: AsyncSession, user_id: int, text: str | None, now: datetime) -> None:
    """The last day it can be used, through 23:59:59 UTC (None: no end), after the start and after now:
    on to the total uses."""
    step = await at_step(session, user_id, CouponStep.ENDS, over=OVER)
    ends_at = None if text is None else datetime.combine(parse_day(text), DAY_END, UTC)
    if ends_at is not None and ends_at <= max(_moment(step.data.get("starts_at")) or now, now):
        raise InvalidInput(ErrorCode.COUPON_ENDS_BEFORE_START)
    await set_step(session, user_id, CouponStep.MAX_USES,
                   {**step.data, "ends_at": ends_at.isoformat() if ends_at else None})


def parse_uses(text: str) -> int:
    """A number of uses: a whole number of 1 or more."""
    typed = (text or "").strip()
    if not typed.isdecimal() or not 1 <= int(typed) <= USES_MAX:
        raise InvalidInput(ErrorCode.COUPON_USES_RANGE)
    return int(typed)


async def submit_max_uses(session: AsyncSession, user_id: int, text: str | None) -> None:
    """How many times it can be used in all (None: no limit): on to the uses per shopper."""
    step = await at_step(session, user_id, CouponStep.MAX_USES, over=OVER)
    await set_step(session, user_id, CouponStep.PER_SHOPPER,
                   {**step.data, "max_uses": None if text is None else parse_uses(text)})


async def submit_per_shopper(session: AsyncSession, user_id: int, text: str | None) -> tuple[
        list[tuple[int, str]], int]:
    """How many times one shopper can use it (None: no limit): on to the products; returns the products to
    choose from (id, title; the first few) and how many there are."""
    step = await at_step(session, user_id, CouponStep.PER_SHOPPER, over=OVER)
    await set_step(session, user_id, CouponStep.PRODUCTS,
                   {**step.data, "per_shopper": None if text is None else parse_uses(text)})
    return await product_choices(session, step.data["seller_id"])


async def product_choices(session: AsyncSession, seller_id: int | None) -> tuple[list[tuple[int, str]], int]:
    """A shop's products (None: every shop's) not removed, as (id, title), the first few; and how many."""
    query = select(Product.id, Product.title).where(Product.status != ProductStatus.REMOVED)
    if seller_id is not None:
        query = query.where(Product.seller_id == seller_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(query.order_by(Product.id).limit(PRODUCT_CHOICES))
    return [(row.id, row.title) for row in rows], total


async def _products(session: AsyncSession, seller_id: int | None, text: str) -> list[int]:
    """Typed product numbers ("12 15", "12, 15"), every one the shop's (any shop's for the platform)."""
    parts = [part.lstrip("#") for part in _IDS.split(text.strip()) if part]
    if not parts or not all(part.isdecimal() and len(part) <= 18 for part in parts):
        raise InvalidInput(ErrorCode.COUPON_PRODUCT_NUMBERS)
    ids = sorted({int(part) for part in parts})
    if len(ids) > coupons.COUPON_PRODUCTS_MAX:
        raise InvalidInput(ErrorCode.COUPON_PRODUCTS_TOO_MANY, max=coupons.COUPON_PRODUCTS_MAX)
    query = select(Product.id).where(Product.id.in_(ids), Product.status != ProductStatus.REMOVED)
    if seller_id is not None:
        query = query.where(Product.seller_id == seller_id)
    if set(await session.scalars(query)) != set(ids):
        raise NotFound(ErrorCode.PRODUCT_NOT_YOURS if seller_id is not None else ErrorCode.PRODUCT_GONE)
    return ids


async def submit_products(session: AsyncSession, user_id: int, text: str | None) -> Step:
    """The products it is limited to (None: all of its scope's): on to the summary, which is returned."""
    step = await at_step(session, user_id, CouponStep.PRODUCTS, over=OVER)
    ids = [] if text is None else await _products(session, step.data["seller_id"], text)
    return await set_step(session, user_id, CouponStep.CONFIRM, {**step.data, "product_ids": ids})


def terms_of(data: dict[str, Any]) -> coupons.CouponTerms:
    """The terms the answers so far make."""
    return coupons.CouponTerms(
        percent_off=data.get("percent_off"), amount_off=data.get("amount_off"), min_spend=data.get("min_spend", 0),
        starts_at=_moment(data.get("starts_at")), ends_at=_moment(data.get("ends_at")),
        max_uses=data.get("max_uses"), per_shopper=data.get("per_shopper"),
        product_ids=tuple(data.get("product_ids", ())))


async def product_titles(session: AsyncSession, product_ids: list[int] | tuple[int, ...]) -> list[str]:
    """The titles of products, by id."""
    if not product_ids:
        return []
    return list(await session.scalars(select(Product.title).where(Product.id.in_(list(product_ids)))
                                      .order_by(Product.id)))


async def create(session: AsyncSession, user_id: int, scopes: set[int | None], now: datetime) -> Coupon:
    """Create: the coupon is made and the dialogue ends, if the person still manages its scope (``scopes``: the
    shop ids they own, None for an operator)."""
    step = await at_step(session, user_id, CouponStep.CONFIRM, over=OVER)
    seller_id = step.data["seller_id"]
    if seller_id not in scopes:
        raise NotAllowed(ErrorCode.NOT_A_SELLER if seller_id is not None else ErrorCode.ONLY_OPERATORS)
    coupon = await coupons.create_coupon(session, seller_id=seller_id, code=step.data["code"],
                                         terms=terms_of(step.data), created_by=user_id, now=now)
    await clear_step(session, user_id)
    return coupon


async def cancel(session: AsyncSession, user_id: int) -> None:
    """Cancel at the summary: the dialogue ends, nothing made."""
    await at_step(session, user_id, CouponStep.CONFIRM, over=OVER)
    await clear_step(session, user_id)


async def product_counts(session: AsyncSession, coupon_ids: list[int]) -> dict[int, int]:
    """How many products each coupon is limited to (absent: none, so all)."""
    if not coupon_ids:
        return {}
    rows = await session.execute(select(CouponProduct.coupon_id, func.count()).where(
        CouponProduct.coupon_id.in_(coupon_ids)).group_by(CouponProduct.coupon_id))
    return {coupon_id: count for coupon_id, count in rows}
