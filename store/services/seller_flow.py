"""The seller's dialogues in the chat: naming a new shop, and the details an order action needs.

Opening a shop asks for its name; shipping an order asks for the carrier and
tracking number; cancelling one asks for the reason the buyer will read.
Each call checks that the person is at the step it answers (locked, see
:func:`store.services.users.at_step`) and ends the dialogue in the same
transaction as the change it makes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode
from store.models import Order, Seller
from store.services import fulfilment, sellers
from store.services.fulfilment import Actor
from store.services.users import at_step, clear_step, set_step
from store.states import Approval, SellerAction


class SellerStep(StrEnum):
    """The seller's steps."""

    SHOP_NAME = "seller:name"  # opening a shop: its name
    SHIP_DETAILS = "seller:ship"  # shipping an order: carrier and tracking number
    CANCEL_REASON = "seller:cancel"  # cancelling an order: the reason


# The order actions that ask for details first, and the step that takes them.
DETAILS_STEPS = {SellerAction.SHIP: SellerStep.SHIP_DETAILS, SellerAction.CANCEL: SellerStep.CANCEL_REASON}


async def begin_shop(session: AsyncSession, user_id: int) -> Seller | None:
    """/sell: ask for a shop name unless the user has a shop (pending or approved), which is returned."""
    shop = await sellers.seller_of_user(session, user_id, approved_only=False)
    if shop is not None and shop.status != Approval.REJECTED:
        return shop
    await set_step(session, user_id, SellerStep.SHOP_NAME)
    return None


async def submit_shop_name(session: AsyncSession, user_id: int, name: str, chat_id: int,
                           operators: frozenset[int], now: datetime, commission_bp: int) -> Seller:
    """The shop's name: the application goes to the operators, and the dialogue ends."""
    await at_step(session, user_id, SellerStep.SHOP_NAME, over=ErrorCode.SELL_STEP_OVER)
    shop = await sellers.apply(session, user_id, name, chat_id, operators, now, commission_bp)
    await clear_step(session, user_id)
    return shop


async def ask_details(session: AsyncSession, user_id: int, order_id: int, action: SellerAction,
                      actor: Actor, message_id: int | None = None) -> Order:
    """Ship or Cancel was pressed (on ``message_id``): check now that the person may (so a stranger is not
    even asked), then ask."""
    order = await fulfilment.order_for_action(session, order_id, actor, action)
    await set_step(session, user_id, DETAILS_STEPS[action], {"order_id": order_id, "message_id": message_id})
    return order


async def submit_details(session: AsyncSession, user_id: int, text: str, actor: Actor, now: datetime) -> Order:
    """The carrier and tracking number, or the cancel reason: the order moves on and the dialogue ends."""
    step = await at_step(session, user_id, SellerStep.SHIP_DETAILS, SellerStep.CANCEL_REASON,
                         over=ErrorCode.ORDER_STEP_OVER)
    order_id = step.data["order_id"]
    if step.name == SellerStep.SHIP_DETAILS:
        carrier, number = fulfilment.parse_tracking(text)
        order = await fulfilment.ship(session, order_id, actor, carrier, number, now)
    else:
        order = await fulfilment.cancel(session, order_id, actor, text, now)
    await clear_step(session, user_id)
    return order
