"""Flash deals: a variant at a lower price for a while, honest against its price history.

(The hooks checkout and order endings call; the rest of the module is being written.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import Changed, ErrorCode
from store.models import FlashDeal, Order
from store.services.cart import CartLineView


async def claim(session: AsyncSession, lines: tuple[CartLineView, ...], now: datetime) -> None:
    """Hold the units bought at a deal's price (placing the orders): a deal that ended, or whose cap was taken
    by someone else a moment ago, refuses (nothing is placed, the review shows the price as it is now)."""
    for line in sorted((line for line in lines if line.deal_id is not None), key=lambda line: line.deal_id or 0):
        taken = await session.execute(
            update(FlashDeal).where(FlashDeal.id == line.deal_id, FlashDeal.cancelled_at.is_(None),
                                    FlashDeal.starts_at <= now, FlashDeal.ends_at > now,
                                    or_(FlashDeal.cap.is_(None), FlashDeal.sold + line.quantity <= FlashDeal.cap))
            .values(sold=FlashDeal.sold + line.quantity))
        if taken.rowcount != 1:
            raise Changed(ErrorCode.PRICES_CHANGED)


async def give_back(session: AsyncSession, order: Order) -> None:
    """An order ends (cancelled, expired): the units it bought at a deal's price are the deal's again (lines
    loaded)."""
    for line in sorted(order.lines, key=lambda line: line.deal_id or 0):
        if line.deal_id is not None:
            await session.execute(update(FlashDeal).where(FlashDeal.id == line.deal_id, FlashDeal.sold >= line.quantity)
                                  .values(sold=FlashDeal.sold - line.quantity))


async def take_back(session: AsyncSession, orders: list[Order]) -> bool:
    """A late payment for expired orders holds their deal units again, within the cap (else False; lines
    loaded). The deal may have ended since: the buyer paid its price while it lasted."""
    for order in orders:
        for line in order.lines:
            if line.deal_id is None:
                continue
            taken = await session.execute(
                update(FlashDeal).where(FlashDeal.id == line.deal_id,
                                        or_(FlashDeal.cap.is_(None), FlashDeal.sold + line.quantity <= FlashDeal.cap))
                .values(sold=FlashDeal.sold + line.quantity))
            if taken.rowcount != 1:
                return False
    return True
