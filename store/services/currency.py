"""The shop's currency: kept with the catalog, so a changed CURRENCY cannot re-denominate its prices.

Every price, fee and total in the store is an integer of the shop currency's minor units, with as
many digits as Telegram counts (:func:`store.money.digits`). The currency and those digits are
recorded in ``catalog_state`` the first time the shop starts; later starts must name the same
currency while the store has prices. A store from before they were recorded wrote its amounts with
CLDR's digits, which differ from Telegram's for a few currencies (HUF, IDR, COP, ...): its
amounts are rescaled once, in the same transaction, so each still means what it meant.
"""

from __future__ import annotations

from babel.numbers import get_currency_precision
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    CartLine,
    CatalogState,
    Checkout,
    Commission,
    Order,
    OrderLine,
    Payout,
    ShippingMethod,
    Variant,
)
from store.money import digits


async def adopt_currency(session: AsyncSession, currency: str) -> str | None:
    """Keep ``currency`` as the shop's; return the store's own currency instead when it differs and
    the store has prices in it (the caller refuses to start)."""
    state = await session.get(CatalogState, 1, with_for_update=True)
    if state is None:
        session.add(CatalogState(id=1, version=0, currency=currency, minor_digits=digits(currency)))
        await session.flush()
        return None
    priced = await _has_prices(session)
    if state.minor_digits is None:
        # Recorded by nothing yet: the latest checkout names the currency the amounts were written in.
        kept = await session.scalar(select(Checkout.currency).order_by(Checkout.id.desc()).limit(1)) or currency
        if kept != currency and priced:
            return kept
        if priced:
            await _rescale(session, currency, digits(currency) - get_currency_precision(currency))
    elif state.currency != currency and priced:
        return state.currency
    state.currency, state.minor_digits = currency, digits(currency)
    return None


async def _has_prices(session: AsyncSession) -> bool:
    for table in (Variant, Checkout):
        if await session.scalar(select(func.count()).select_from(table)):
            return True
    return False


async def _rescale(session: AsyncSession, currency: str, places: int) -> None:
    """Multiply every amount written in ``currency`` by 10**places (payments and invoice amounts stay:
    Telegram read those in its own units already)."""
    if places <= 0:
        return
    factor = 10**places
    for table, columns in ((Variant, ("price",)), (CartLine, ("seen_price",)), (ShippingMethod, ("fee",))):
        await session.execute(update(table).values({c: getattr(table, c) * factor for c in columns}))
    for table, columns in ((Checkout, ("items_total", "shipping_total", "total")),
                           (Order, ("items_total", "shipping_fee", "total")),
                           (Commission, ("sales", "amount")), (Payout, ("amount",))):
        await session.execute(update(table).where(table.currency == currency)
                              .values({c: getattr(table, c) * factor for c in columns}))
    await session.execute(update(OrderLine).where(OrderLine.order_id.in_(
        select(Order.id).where(Order.currency == currency))).values(
        unit_price=OrderLine.unit_price * factor, line_total=OrderLine.line_total * factor))
