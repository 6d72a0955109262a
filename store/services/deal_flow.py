"""A seller schedules a flash deal in the chat: price -> start (now, or a typed UTC time) -> hours -> cap.

The steps follow :mod:`store.services.catalog_flow`: each call checks the
seller is at the step it answers (locked, :func:`store.services.users.at_step`)
and the deal is scheduled by :func:`store.services.deals.schedule`, whose
rules say what is refused; the price is checked against the variant's
history as soon as it is typed, and again for the start chosen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotFound
from store.services import deals
from store.services import seller_catalog as catalog
from store.services.catalog import ProductView, VariantView
from store.services.users import at_step, clear_step, set_step

HOURS_MAX = int(deals.DEAL_MAX.total_seconds()) // 3600
START_FORMAT = "%Y-%m-%d %H:%M"


class DealStep(StrEnum):
    """The steps of scheduling a flash deal."""

    PRICE = "deal:price"
    START = "deal:start"
    HOURS = "deal:hours"
    CAP = "deal:cap"


async def ask(session: AsyncSession, user_id: int, seller_id: int, product_id: int, variant_id: int,
              now: datetime) -> tuple[ProductView, VariantView, deals.DealView | None, int]:
    """The flash-deal button of one of the seller's variants: its deal live or to come, if it has one (the
    seller may call it off), else the next message is the deal's price; and the price to beat now (the lowest
    of the last 30 days)."""
    product = await catalog.seller_product(session, seller_id, product_id)
    variant = product.variant(variant_id)
    if variant is None:
        raise NotFound(ErrorCode.OPTION_NOT_IN_PRODUCT)
    current = await deals.current_deal(session, variant_id, now)
    if current is None:
        await set_step(session, user_id, DealStep.PRICE, {"product_id": product_id, "variant_id": variant_id})
    lowest = await deals.lowest_price(session, variant_id, now)
    return product, variant, current, variant.price if lowest is None else lowest


async def submit_price(session: AsyncSession, user_id: int, text: str, currency: str, language_code: str | None,
                       now: datetime) -> int:
    """The deal's price (as the seller's language writes it): below the lowest of the last 30 days; on to the
    start. Returns the price."""
    step = await at_step(session, user_id, DealStep.PRICE, over=ErrorCode.DEAL_STEP_OVER)
    price = catalog.parse_price(text, currency, language_code)
    if price <= 0:
        raise InvalidInput(ErrorCode.PRICE_ZERO)
    lowest = await deals.lowest_price(session, step.data["variant_id"], now)
    if lowest is not None and price >= lowest:
        raise InvalidInput(ErrorCode.DEAL_NOT_LOWER, lowest=lowest, currency=currency)
    await set_step(session, user_id, DealStep.START, {**step.data, "price": price})
    return price


def parse_start(text: str) -> datetime:
    """A start typed as YYYY-MM-DD HH:MM, in UTC."""
    try:
        return datetime.strptime(" ".join(text.split()), START_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(ErrorCode.DEAL_TIME_UNREADABLE) from None


async def submit_start(session: AsyncSession, user_id: int, text: str | None, now: datetime) -> datetime:
    """The start (None: now): not in the past; on to the hours. Returns the start."""
    step = await at_step(session, user_id, DealStep.START, over=ErrorCode.DEAL_STEP_OVER)
    starts_at = now if text is None else parse_start(text)
    deals.check_start(starts_at, now)
    await set_step(session, user_id, DealStep.HOURS, {**step.data, "starts_at": starts_at.isoformat()})
    return starts_at


async def submit_hours(session: AsyncSession, user_id: int, text: str) -> int:
    """How many hours the deal lasts (1 to 72); on to the cap. Returns the hours."""
    step = await at_step(session, user_id, DealStep.HOURS, over=ErrorCode.DEAL_STEP_OVER)
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= HOURS_MAX:
        raise InvalidInput(ErrorCode.DEAL_HOURS_INVALID, max=HOURS_MAX)
    await set_step(session, user_id, DealStep.CAP, {**step.data, "hours": int(text)})
    return int(text)


async def submit_cap(session: AsyncSession, user_id: int, seller_id: int, text: str | None, now: datetime,
                     currency: str) -> deals.DealView:
    """How many units are on sale at the deal's price (None: no cap): the deal is scheduled; the dialogue
    ends."""
    step = await at_step(session, user_id, DealStep.CAP, over=ErrorCode.DEAL_STEP_OVER)
    cap = None
    if text is not None:
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= deals.CAP_MAX:
            raise InvalidInput(ErrorCode.DEAL_CAP_INVALID, max=deals.CAP_MAX)
        cap = int(text)
    data = step.data
    starts_at = max(datetime.fromisoformat(data["starts_at"]), now)
    deal = await deals.schedule(session, seller_id, data["variant_id"], price=data["price"], starts_at=starts_at,
                                ends_at=starts_at + timedelta(hours=data["hours"]), cap=cap, now=now,
                                currency=currency)
    await clear_step(session, user_id)
    return deal
