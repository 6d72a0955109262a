"""Returns in the chat: the buyer's steps (units -> reason -> words or a photo -> send) and the seller's
(return instructions before a first approval, a rejection's reason).

Each call checks the person is at the step it answers (locked,
:func:`store.services.users.at_step`); the return itself is made and decided
by :mod:`store.services.returns`, whose rules say what is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, Expired, InvalidInput
from store.models import Return, Seller
from store.services import returns
from store.services.fulfilment import Actor, clean_reason
from store.services.users import at_step, clear_step, set_step
from store.states import ProductKind, ReturnAction, ReturnReason


class ReturnStep(StrEnum):
    """The steps of asking for a return, and of a seller deciding one."""

    UNITS = "return:units"
    REASON = "return:reason"
    DETAILS = "return:details"
    INSTRUCTIONS = "return:instructions"  # the seller's, asked before their first approval (or from /returns)
    REJECT_REASON = "return:reject"


BUYER_STEPS = (ReturnStep.UNITS, ReturnStep.REASON, ReturnStep.DETAILS)
PHOTO_ID_MAX = 255  # a Telegram file id (the column's size)


async def begin(session: AsyncSession, buyer_id: int, order_id: int, now: datetime,
                window: timedelta) -> tuple[returns.Returnable, dict[int, int]]:
    """The order's Return button: what may go back, none chosen yet (one unit chosen when only one may)."""
    view = await returns.returnable(session, buyer_id, order_id, now, window)
    chosen = {line.id: 0 for line in view.lines if line.left > 0}
    if sum(line.left for line in view.lines) == 1:
        chosen = {line.id: 1 for line in view.lines if line.left == 1}
    await set_step(session, buyer_id, ReturnStep.UNITS, {"order_id": order_id, "units": _wire(chosen)})
    return view, chosen


def _wire(chosen: dict[int, int]) -> dict[str, int]:
    return {str(line_id): units for line_id, units in chosen.items()}


def _chosen(data: dict) -> dict[int, int]:
    return {int(line_id): units for line_id, units in data["units"].items()}


async def pick(session: AsyncSession, buyer_id: int, line_id: int, now: datetime,
               window: timedelta) -> tuple[returns.Returnable, dict[int, int]]:
    """A line's button: one more unit of it, back to none after the last one that may go back."""
    step = await at_step(session, buyer_id, ReturnStep.UNITS, over=ErrorCode.RETURN_STEP_OVER)
    view = await returns.returnable(session, buyer_id, step.data["order_id"], now, window)
    chosen = _chosen(step.data)
    line = next((line for line in view.lines if line.id == line_id), None)
    if line is None or line.left == 0:
        raise Expired(ErrorCode.BUTTON_EXPIRED)
    chosen[line_id] = (chosen.get(line_id, 0) + 1) % (line.left + 1)
    await set_step(session, buyer_id, ReturnStep.UNITS, {**step.data, "units": _wire(chosen)})
    return view, chosen


async def units_chosen(session: AsyncSession, buyer_id: int) -> None:
    """Next: at least one unit chosen; on to the reason."""
    step = await at_step(session, buyer_id, ReturnStep.UNITS, over=ErrorCode.RETURN_STEP_OVER)
    if not any(_chosen(step.data).values()):
        raise InvalidInput(ErrorCode.RETURN_NOTHING_CHOSEN)
    await set_step(session, buyer_id, ReturnStep.REASON, step.data)


async def choose_reason(session: AsyncSession, buyer_id: int, reason: ReturnReason) -> None:
    """The reason from the list: on to the optional words and photo."""
    step = await at_step(session, buyer_id, ReturnStep.REASON, over=ErrorCode.RETURN_STEP_OVER)
    await set_step(session, buyer_id, ReturnStep.DETAILS, {**step.data, "reason": reason})


async def add_note(session: AsyncSession, buyer_id: int, text: str) -> None:
    """Words for the seller (they replace any typed before)."""
    step = await at_step(session, buyer_id, ReturnStep.DETAILS, over=ErrorCode.RETURN_STEP_OVER)
    await set_step(session, buyer_id, ReturnStep.DETAILS, {**step.data, "note": returns.clean_note(text)})


async def add_photo(session: AsyncSession, buyer_id: int, file_id: str, caption: str | None) -> None:
    """A photo for the seller (one: a new one replaces it); its caption, if any, is the words."""
    step = await at_step(session, buyer_id, ReturnStep.DETAILS, over=ErrorCode.RETURN_STEP_OVER)
    if not 1 <= len(file_id) <= PHOTO_ID_MAX:
        raise InvalidInput(ErrorCode.REVIEW_PHOTO_INVALID)
    data = {**step.data, "photo": file_id}
    if caption:
        data["note"] = returns.clean_note(caption)
    await set_step(session, buyer_id, ReturnStep.DETAILS, data)


async def send(session: AsyncSession, buyer_id: int, now: datetime, window: timedelta,
               auto_approve: timedelta) -> Return:
    """Send the request to the seller (who has ``auto_approve`` to answer); the dialogue is over."""
    step = await at_step(session, buyer_id, ReturnStep.DETAILS, over=ErrorCode.RETURN_STEP_OVER)
    data = step.data
    ret = await returns.request(session, buyer_id, data["order_id"], _chosen(data), ReturnReason(data["reason"]),
                                data.get("note"), data.get("photo"), now, window, auto_approve)
    await clear_step(session, buyer_id)
    return ret


async def leave(session: AsyncSession, buyer_id: int) -> None:
    """Cancel: the request is not sent (only a return's own steps end here)."""
    await at_step(session, buyer_id, *BUYER_STEPS, over=ErrorCode.RETURN_STEP_OVER)
    await clear_step(session, buyer_id)


# --- the seller --------------------------------------------------------------------------------------------


async def approve(session: AsyncSession, user_id: int, return_id: int, actor: Actor,
                  now: datetime) -> tuple[Return | None, Seller]:
    """The seller's Approve: approved at once when the shop has return instructions (or nothing travels back);
    else (None) the seller is asked for them first and the approval follows them."""
    ret, order = await returns.for_seller(session, return_id, actor)
    returns.check_allowed(ret, order, ReturnAction.APPROVE if order.kind == ProductKind.PHYSICAL
                          else ReturnAction.REFUND)
    seller = await session.get(Seller, ret.seller_id)
    if order.kind == ProductKind.PHYSICAL and not seller.return_instructions:
        await set_step(session, user_id, ReturnStep.INSTRUCTIONS, {"return_id": return_id,
                                                                   "seller_id": seller.id})
        return None, seller
    return await returns.approve(session, return_id, actor, now), seller


async def ask_instructions(session: AsyncSession, user_id: int, seller_id: int) -> None:
    """/returns' instructions button: the next message is the shop's return instructions."""
    await set_step(session, user_id, ReturnStep.INSTRUCTIONS, {"seller_id": seller_id})


async def submit_instructions(session: AsyncSession, user_id: int, text: str, actor: Actor,
                              now: datetime) -> tuple[str, Return | None]:
    """The instructions typed: kept for the shop, and the return waiting for them approved if it still may be
    (decided meanwhile, by the shop's clock or another process: the instructions are kept all the same)."""
    step = await at_step(session, user_id, ReturnStep.INSTRUCTIONS, over=ErrorCode.RETURN_STEP_OVER)
    instructions = await returns.set_instructions(session, step.data["seller_id"], text, now)
    await clear_step(session, user_id)
    return_id = step.data.get("return_id")
    if return_id is None:
        return instructions, None
    ret, order = await returns.for_seller(session, return_id, actor)
    if ReturnAction.APPROVE not in returns.actions(ret, order.kind):
        return instructions, ret
    return instructions, await returns.approve(session, return_id, actor, now)


async def ask_reject_reason(session: AsyncSession, user_id: int, return_id: int, actor: Actor) -> Return:
    """Reject: the next message is the reason the buyer will read (the return must still be open to it)."""
    ret, order = await returns.for_seller(session, return_id, actor)
    if ReturnAction.REJECT not in returns.actions(ret, order.kind):
        raise Expired(ErrorCode.RETURN_ACTION_REFUSED, return_id=ret.id, status=ret.status,
                      action=ReturnAction.REJECT)
    await set_step(session, user_id, ReturnStep.REJECT_REASON, {"return_id": return_id})
    return ret


async def submit_reject_reason(session: AsyncSession, user_id: int, text: str, actor: Actor,
                               now: datetime) -> Return:
    """The reason typed: the return is rejected, if it still may be (decided meanwhile: the step ends and the
    return is returned as it is, its status saying what became of it)."""
    step = await at_step(session, user_id, ReturnStep.REJECT_REASON, over=ErrorCode.RETURN_STEP_OVER)
    clean_reason(text)  # said before the step ends, so a short reason can be typed again
    await clear_step(session, user_id)
    ret, order = await returns.for_seller(session, step.data["return_id"], actor)
    if ReturnAction.REJECT not in returns.actions(ret, order.kind):
        return ret
    return await returns.reject(session, ret.id, actor, text, now)
