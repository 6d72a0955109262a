"""Returns: a delivered order's goods asked back by its buyer, decided by its seller, refunded once.

States move forward only, every change recorded with who made it and when::

    requested -> approved -> refunded      (the goods came back: Received)
    requested -> refunded                  (refund without return; a digital order's approval)
    requested -> rejected

A buyer asks within the return window after delivery, for units no other
standing return holds (``order_lines.returned``, raised by one conditional
UPDATE, so two requests never claim the same unit). A request the seller
leaves unanswered for the auto-approval time is approved by the shop.

The refund is the returned units' share of what the buyer paid (after any
discount code; shipping is not refunded). A Stars payment is refunded through
Telegram once every unit it paid for is refunded (Stars refunds are whole
charges only); otherwise, and for card payments and cash on delivery, the
return is marked refund-due with its amount. Physical units received go back
to stock. The creator's commission on the returned units is reversed while
it is pending, and taken back by a negative ledger entry once approved.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.errors import ErrorCode, Expired, InvalidInput, NotAllowed, NotFound, ShopError
from store.models import Commission, Order, OrderLine, Return, ReturnEvent, ReturnLine, Seller
from store.services import outbox
from store.services.creators import commission_amount
from store.services.events import announce as announce_order
from store.services.fulfilment import Actor, clean_reason, refund_stars_when_whole
from store.services.orders import give_back_stock, transition
from store.states import (
    ActorKind,
    CommissionStatus,
    Notice,
    OrderEventType,
    OrderStatus,
    OutboxChannel,
    ProductKind,
    RefundStatus,
    ReturnAction,
    ReturnEventType,
    ReturnReason,
    ReturnStatus,
)

logger = logging.getLogger(__name__)

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    ReturnStatus.REQUESTED: frozenset({ReturnStatus.APPROVED, ReturnStatus.REJECTED, ReturnStatus.REFUNDED}),
    ReturnStatus.APPROVED: frozenset({ReturnStatus.REFUNDED}),
    ReturnStatus.REJECTED: frozenset(),
    ReturnStatus.REFUNDED: frozenset(),
}
# The returns a seller still has work on.
OPEN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
AUTO_APPROVE = timedelta(hours=48)  # a request left unanswered this long is approved (RETURN_AUTO_APPROVE_HOURS)
NOTE_MAX = 500
INSTRUCTIONS_MIN, INSTRUCTIONS_MAX = 5, 500


def actions(ret: Return, kind: str) -> tuple[str, ...]:
    """What the seller may do with the return now, in the order the buttons show them (the one rule the chat's
    buttons and the HTTP API ask). A digital order has no goods to send back: approving it refunds it."""
    if ret.status == ReturnStatus.REQUESTED:
        if kind == ProductKind.DIGITAL:
            return ReturnAction.REFUND, ReturnAction.REJECT
        return ReturnAction.APPROVE, ReturnAction.REJECT, ReturnAction.REFUND
    if ret.status == ReturnStatus.APPROVED:
        return ReturnAction.RECEIVED, ReturnAction.REFUND
    return ()


# --- what a buyer may return -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnableLine:
    """A line of an order with the units that may still be asked back."""

    id: int
    title: str
    variant_label: str
    quantity: int
    left: int


@dataclass(frozen=True, slots=True)
class Returnable:
    """An order its buyer may ask to return, until ``until``."""

    order_id: int
    kind: str
    currency: str
    until: datetime
    lines: tuple[ReturnableLine, ...]


def _deadline(order: Order, window: timedelta) -> datetime | None:
    return order.delivered_at + window if order.delivered_at is not None else None


def can_return(order: Order, now: datetime, window: timedelta) -> bool:
    """Whether the order's buyer may ask a return now (lines loaded): delivered, in the window, units left."""
    deadline = _deadline(order, window)
    return (order.status == OrderStatus.DELIVERED and deadline is not None and now <= deadline
            and any(line.returned < line.quantity for line in order.lines))


async def returnable(session: AsyncSession, buyer_id: int, order_id: int, now: datetime,
                     window: timedelta) -> Returnable:
    """The buyer's order with what may still be returned; refused (saying why) when nothing may be."""
    order = await session.scalar(select(Order).where(Order.id == order_id).options(selectinload(Order.lines)))
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    _check_returnable(order, now, window)
    return Returnable(order.id, order.kind, order.currency, _deadline(order, window),
                      tuple(ReturnableLine(line.id, line.title, line.variant_label, line.quantity,
                                           line.quantity - line.returned) for line in order.lines))


def _check_returnable(order: Order, now: datetime, window: timedelta) -> None:
    if order.status != OrderStatus.DELIVERED:
        raise Expired(ErrorCode.RETURN_NOT_DELIVERED)
    deadline = _deadline(order, window)
    if deadline is None or now > deadline:
        raise Expired(ErrorCode.RETURN_WINDOW_OVER, until=deadline)
    if all(line.returned >= line.quantity for line in order.lines):
        raise Expired(ErrorCode.RETURN_NOTHING_LEFT)


def clean_note(note: str | None) -> str | None:
    """A buyer's words on a return: spaces tidied, at most NOTE_MAX characters (None when empty)."""
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise InvalidInput(ErrorCode.RETURN_NOTE_TOO_LONG, max=NOTE_MAX)
    return note or None


def refund_share(paid: int, quantity: int, before: int, units: int) -> int:
    """The part of a line's ``paid`` amount for ``units`` more units when ``before`` were already returned.

    Shares are cut cumulatively (``paid * n // quantity`` at each count), so the parts of every return of a
    line add up to exactly what was paid for it, whatever the order of returns.
    """
    return paid * (before + units) // quantity - paid * before // quantity


async def request(session: AsyncSession, buyer_id: int, order_id: int, quantities: dict[int, int],
                  reason: ReturnReason, note: str | None, photo: str | None, now: datetime,
                  window: timedelta, auto_approve: timedelta = AUTO_APPROVE) -> Return:
    """The buyer asks to return ``quantities`` (order line id -> units) of a delivered order, for a reason.

    Each line's units are claimed by one conditional UPDATE (never more than were bought, whatever
    runs at the same time); the seller is told (and how long it has to answer: ``auto_approve``), and its
    webhook gets ``return.requested``.
    """
    note = clean_note(note)
    order = await session.scalar(select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
                                 .with_for_update(of=Order).execution_options(populate_existing=True))
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    _check_returnable(order, now, window)
    wanted = {line_id: units for line_id, units in quantities.items() if units > 0}
    if not wanted:
        raise InvalidInput(ErrorCode.RETURN_NOTHING_CHOSEN)
    lines = {line.id: line for line in order.lines}
    if any(line_id not in lines for line_id in wanted):
        raise Expired(ErrorCode.BUTTON_EXPIRED)
    ret = Return(order_id=order.id, seller_id=order.seller_id, buyer_id=buyer_id, status=ReturnStatus.REQUESTED,
                 reason=reason, note=note, photo=photo, currency=order.currency, amount=0, without_goods=False,
                 created_at=now, updated_at=now)
    session.add(ret)
    await session.flush()
    amount = 0
    for line_id in sorted(wanted):
        line, units = lines[line_id], wanted[line_id]
        claimed = await session.execute(
            update(OrderLine).where(OrderLine.id == line_id, OrderLine.returned + units <= OrderLine.quantity)
            .values(returned=OrderLine.returned + units).returning(OrderLine.returned))
        after = claimed.scalar()
        if after is None:
            raise Expired(ErrorCode.RETURN_UNITS_TAKEN, title=line.title, left=line.quantity - line.returned)
        share = refund_share(line.line_total - line.discount, line.quantity, after - units, units)
        session.add(ReturnLine(return_id=ret.id, order_line_id=line_id, quantity=units, amount=share))
        amount += share
    ret.amount = amount
    session.add(ReturnEvent(return_id=ret.id, from_status=None, to_status=ReturnStatus.REQUESTED,
                            actor_kind=ActorKind.BUYER, actor_id=buyer_id, note=note, created_at=now))
    await session.flush()
    await announce(session, ret, ReturnEventType.REQUESTED, now, auto_approve)
    return ret


# --- what the seller does ----------------------------------------------------------------------------------


async def _load(session: AsyncSession, return_id: int, *, lock: bool = False) -> tuple[Return, Order]:
    """A return with its order; ``lock``: the order, then the return, locked (as a request locks the order:
    two decisions on one order, or a decision and a cancel, queue instead of each missing the other)."""
    order_id = await session.scalar(select(Return.order_id).where(Return.id == return_id))
    if order_id is None:
        raise NotFound(ErrorCode.RETURN_UNKNOWN, return_id=return_id)
    orders = select(Order).where(Order.id == order_id).options(
        selectinload(Order.lines), selectinload(Order.seller), selectinload(Order.checkout))
    query = select(Return).where(Return.id == return_id).options(selectinload(Return.lines))
    if lock:
        orders = orders.with_for_update(of=Order).execution_options(populate_existing=True)
        query = query.with_for_update(of=Return).execution_options(populate_existing=True)
    order = await session.scalar(orders)
    return await session.scalar(query), order


def _check_actor(ret: Return, order: Order, actor: Actor) -> None:
    if actor.kind == ActorKind.API and ret.seller_id != actor.seller_id:
        raise NotFound(ErrorCode.RETURN_UNKNOWN, return_id=ret.id)
    if actor.kind == ActorKind.SELLER and order.seller.owner_user_id != actor.user_id:
        logger.warning("user %s tried to act on return %s of seller %s", actor.user_id, ret.id, ret.seller_id)
        raise NotAllowed(ErrorCode.ONLY_THE_SELLER)


async def for_seller(session: AsyncSession, return_id: int, actor: Actor) -> tuple[Return, Order]:
    """A return with its order, if the actor may see it (its seller's owner, an operator, its seller's key)."""
    ret, order = await _load(session, return_id)
    _check_actor(ret, order, actor)
    return ret, order


async def for_buyer(session: AsyncSession, buyer_id: int, return_id: int) -> tuple[Return, Order]:
    """One of the buyer's returns with its order."""
    ret, order = await _load(session, return_id)
    if ret.buyer_id != buyer_id:
        raise NotFound(ErrorCode.RETURN_UNKNOWN, return_id=return_id)
    return ret, order


async def _for_action(session: AsyncSession, return_id: int, actor: Actor, action: str) -> tuple[Return, Order]:
    ret, order = await _load(session, return_id, lock=True)
    _check_actor(ret, order, actor)
    _check_allowed(ret, order, action)
    return ret, order


def check_allowed(ret: Return, order: Order, action: str) -> None:
    """Refuse an action the return's state (or its order's) does not allow now."""
    _check_allowed(ret, order, action)


def _check_allowed(ret: Return, order: Order, action: str) -> None:
    # A return is decided while its order stands delivered (a cancelled order was refunded whole).
    if action not in actions(ret, order.kind) or order.status != OrderStatus.DELIVERED:
        raise Expired(ErrorCode.RETURN_ACTION_REFUSED, return_id=ret.id, status=ret.status, action=action)


def _move(session: AsyncSession, ret: Return, to: ReturnStatus, actor: Actor, now: datetime,
          note: str | None = None) -> None:
    if to not in TRANSITIONS[ReturnStatus(ret.status)]:
        raise Expired(ErrorCode.RETURN_ACTION_REFUSED, return_id=ret.id, status=ret.status, action=to)
    session.add(ReturnEvent(return_id=ret.id, from_status=ret.status, to_status=to, actor_kind=actor.kind,
                            actor_id=_actor_id(actor), note=note, created_at=now))
    ret.status = to
    ret.updated_at = now


def _actor_id(actor: Actor) -> int | None:
    """Who acted, as the history records it: the person, else the seller whose API key it was."""
    return actor.user_id if actor.user_id is not None else actor.seller_id


def clean_instructions(text: str) -> str:
    """Return instructions (an address or a note): 5 to 500 characters, lines kept (one blank line at most)."""
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(" ".join(line.split()) for line in text.strip().splitlines()))
    if not INSTRUCTIONS_MIN <= len(text) <= INSTRUCTIONS_MAX:
        raise InvalidInput(ErrorCode.RETURN_INSTRUCTIONS_LENGTH, min=INSTRUCTIONS_MIN, max=INSTRUCTIONS_MAX)
    return text


async def set_instructions(session: AsyncSession, seller_id: int, text: str, now: datetime) -> str:
    """Keep where and how the seller's buyers send goods back (shown to each once their return is approved);
    buyers of returns approved already (by the shop's clock, or before a change) get them now."""
    text = clean_instructions(text)
    await session.execute(update(Seller).where(Seller.id == seller_id).values(return_instructions=text))
    waiting = await session.scalars(select(Return).where(Return.seller_id == seller_id,
                                                         Return.status == ReturnStatus.APPROVED))
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    for ret in waiting:
        await outbox.enqueue(session, key=f"return-{ret.id}-instructions-{version}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.BUYER_RETURN, payload={"return_id": ret.id,
                                                                    "event": ReturnEventType.APPROVED},
                             chat_id=ret.buyer_id, now=now)
    return text


async def approve(session: AsyncSession, return_id: int, actor: Actor, now: datetime,
                  auto_approve: timedelta = AUTO_APPROVE) -> Return:
    """The seller (or the shop, past ``auto_approve``) approves: the buyer gets the seller's return
    instructions (a digital order, having nothing to send back, is refunded at once)."""
    ret, order = await _load(session, return_id, lock=True)
    _check_actor(ret, order, actor)
    if order.kind == ProductKind.DIGITAL:
        _check_allowed(ret, order, ReturnAction.REFUND)
        return await _refund(session, ret, order, actor, now, without_goods=True, auto_approve=auto_approve)
    _check_allowed(ret, order, ReturnAction.APPROVE)
    _move(session, ret, ReturnStatus.APPROVED, actor, now)
    await session.flush()
    await announce(session, ret, ReturnEventType.APPROVED, now, auto_approve)
    return ret


async def reject(session: AsyncSession, return_id: int, actor: Actor, reason: str, now: datetime) -> Return:
    """The seller rejects, saying why: the units are free to ask back again (within the window)."""
    reason = clean_reason(reason)
    ret, order = await _for_action(session, return_id, actor, ReturnAction.REJECT)
    await _give_back_units(session, ret)
    _move(session, ret, ReturnStatus.REJECTED, actor, now, note=reason)
    ret.reject_reason = reason
    await session.flush()
    await announce(session, ret, ReturnEventType.REJECTED, now)
    return ret


async def received(session: AsyncSession, return_id: int, actor: Actor, now: datetime) -> Return:
    """The seller has the goods back: they go back to stock and the buyer is refunded."""
    ret, order = await _for_action(session, return_id, actor, ReturnAction.RECEIVED)
    return await _refund(session, ret, order, actor, now, without_goods=False)


async def refund_without_goods(session: AsyncSession, return_id: int, actor: Actor, now: datetime) -> Return:
    """The seller refunds and lets the buyer keep the goods (cheap items): nothing goes back to stock."""
    ret, order = await _for_action(session, return_id, actor, ReturnAction.REFUND)
    return await _refund(session, ret, order, actor, now, without_goods=True)


async def _give_back_units(session: AsyncSession, ret: Return) -> None:
    for line in ret.lines:
        await session.execute(update(OrderLine).where(OrderLine.id == line.order_line_id)
                              .values(returned=OrderLine.returned - line.quantity))


async def _refund(session: AsyncSession, ret: Return, order: Order, actor: Actor, now: datetime, *,
                  without_goods: bool, auto_approve: timedelta = AUTO_APPROVE) -> Return:
    """Refund a return (stock back unless the goods stay with the buyer), take back the commission on it and
    settle the money: a Stars refund once the whole charge is returned, else refund due with the amount."""
    ret.without_goods = without_goods
    if not without_goods and order.kind == ProductKind.PHYSICAL:
        variants = {line.id: line.variant_id for line in order.lines}
        units: dict[int, int] = {}
        for part in ret.lines:
            units[variants[part.order_line_id]] = units.get(variants[part.order_line_id], 0) + part.quantity
        await give_back_stock(session, units)
    _move(session, ret, ReturnStatus.REFUNDED, actor, now)
    await _take_back_commission(session, ret, order, now)
    ret.refund_status = RefundStatus.DUE
    await session.flush()
    whole = all(line.returned >= line.quantity for line in order.lines) and await _all_refunded(session, order.id)
    if whole:
        # Every unit came back: the order itself is refunded (its money is the returns').
        await transition(session, order, OrderStatus.REFUNDED, actor_kind=actor.kind, actor_id=_actor_id(actor),
                         note=f"return {ret.id}", now=now)
        await session.flush()
        if await refund_stars_when_whole(session, order, now, return_id=ret.id):
            order.refund_status = RefundStatus.DUE  # done once Telegram refunds the charge
    await session.flush()
    await announce(session, ret, ReturnEventType.REFUNDED, now, auto_approve)
    if whole:
        await announce_order(session, order.id, OrderEventType.REFUNDED, now, tell_buyer=False)
    return ret


async def _all_refunded(session: AsyncSession, order_id: int) -> bool:
    """Whether every return of the order that holds units is refunded (none still asked or approved)."""
    standing = await session.scalar(select(func.count(Return.id)).where(Return.order_id == order_id,
                                                                        Return.status.in_(OPEN)))
    return not standing


async def _take_back_commission(session: AsyncSession, ret: Return, order: Order, now: datetime) -> None:
    """Reverse the creator's pending commission on the returned units, or claw back an approved one."""
    lines = {line.id: line for line in order.lines}
    sales = {c.order_line_id: c for c in await session.scalars(
        select(Commission).where(Commission.order_id == order.id, Commission.return_id.is_(None))
        .with_for_update().execution_options(populate_existing=True))}
    for part in ret.lines:
        sale = sales.get(part.order_line_id)
        if sale is None or sale.status == CommissionStatus.REVERSED:
            continue
        line = lines[part.order_line_id]
        taken = -(await session.scalar(select(func.coalesce(func.sum(Commission.amount), 0))
                                       .where(Commission.order_line_id == line.id,
                                              Commission.return_id.is_not(None))) or 0)
        # What the units returned so far (this return included) earned, cut as the refunds are.
        owed_back = commission_amount(part.amount, sale.rate_bp)
        whole_line = await _units_refunded(session, line.id) >= line.quantity
        if sale.status == CommissionStatus.PENDING and whole_line and taken == 0:
            sale.status, sale.reversed_at = CommissionStatus.REVERSED, now
            continue
        if whole_line:
            owed_back = sale.amount - taken  # the last return takes back exactly what is left
        owed_back = min(owed_back, sale.amount - taken)
        if owed_back <= 0:
            continue
        status = CommissionStatus.PENDING if sale.status == CommissionStatus.PENDING else CommissionStatus.APPROVED
        session.add(Commission(order_line_id=line.id, order_id=order.id, creator_id=sale.creator_id,
                               product_id=sale.product_id, currency=sale.currency, sales=-part.amount,
                               rate_bp=sale.rate_bp, amount=-owed_back, status=status, return_id=ret.id,
                               created_at=now, approved_at=now if status == CommissionStatus.APPROVED else None))
    await session.flush()


async def _units_refunded(session: AsyncSession, order_line_id: int) -> int:
    return await session.scalar(
        select(func.coalesce(func.sum(ReturnLine.quantity), 0)).join(Return, Return.id == ReturnLine.return_id)
        .where(ReturnLine.order_line_id == order_line_id, Return.status == ReturnStatus.REFUNDED)) or 0


async def approve_overdue(session: AsyncSession, now: datetime, after: timedelta, limit: int) -> int:
    """Approve (as the shop) up to ``limit`` requests their sellers left unanswered for ``after``."""
    due = list(await session.scalars(
        select(Return.id).where(Return.status == ReturnStatus.REQUESTED, Return.created_at <= now - after)
        .order_by(Return.created_at, Return.id).limit(limit)))
    for return_id in due:
        try:
            # Each in its own savepoint: one that can't be approved (decided meanwhile by its seller, in
            # another process) is left as it is, and the others are still approved.
            async with session.begin_nested():
                await approve(session, return_id, Actor(ActorKind.SYSTEM), now, after)
        except ShopError as error:
            logger.info("return %s not approved automatically: %s", return_id, error.code)
    return len(due)


# --- lists and announcements -------------------------------------------------------------------------------


async def seller_returns(session: AsyncSession, seller_ids: list[int] | None, statuses: tuple[str, ...],
                         offset: int = 0, limit: int = 5) -> tuple[list[Return], int]:
    """One page of returns of these sellers (all sellers when None) in these states, newest first."""
    where = [Return.status.in_(statuses)]
    if seller_ids is not None:
        where.append(Return.seller_id.in_(seller_ids))
    total = await session.scalar(select(func.count(Return.id)).where(*where)) or 0
    rows = await session.scalars(select(Return).where(*where).options(selectinload(Return.lines))
                                 .order_by(Return.created_at.desc(), Return.id.desc()).offset(offset).limit(limit))
    return list(rows), total


async def order_returns(session: AsyncSession, order_id: int) -> list[Return]:
    """The returns of an order, oldest first."""
    return list(await session.scalars(select(Return).where(Return.order_id == order_id)
                                       .options(selectinload(Return.lines)).order_by(Return.id)))


async def documents(session: AsyncSession, listed: list[Return]) -> list[dict[str, Any]]:
    """The documents of a page of returns (lines loaded), their orders read in one query."""
    orders = {order.id: order for order in await session.scalars(
        select(Order).where(Order.id.in_({ret.order_id for ret in listed}))
        .options(selectinload(Order.lines), selectinload(Order.checkout)))}
    return [document(ret, orders[ret.order_id]) for ret in listed]


def document(ret: Return, order: Order) -> dict[str, Any]:
    """A return as webhooks and the HTTP API show it (amounts in minor units; no buyer contact)."""
    lines = {line.id: line for line in order.lines}
    return {
        "id": ret.id,
        "order_id": ret.order_id,
        "seller_id": ret.seller_id,
        "status": ret.status,
        "actions": list(actions(ret, order.kind)),
        "reason": ret.reason,
        "note": ret.note,
        "has_photo": ret.photo is not None,
        "currency": ret.currency,
        "amount": ret.amount,
        "without_goods": ret.without_goods,
        "reject_reason": ret.reject_reason,
        "refund_status": ret.refund_status,
        "payment_method": order.checkout.payment_method,
        "lines": [{"sku": lines[part.order_line_id].sku, "title": lines[part.order_line_id].title,
                   "option": lines[part.order_line_id].variant_label, "quantity": part.quantity,
                   "amount": part.amount} for part in ret.lines],
        "created_at": ret.created_at.isoformat(),
        "updated_at": ret.updated_at.isoformat(),
    }


async def get(session: AsyncSession, return_id: int) -> tuple[Return, Order] | None:
    """A return with its order (lines, seller, checkout), or None if there is no such return."""
    try:
        return await _load(session, return_id)
    except NotFound:
        return None


async def announce(session: AsyncSession, ret: Return, event: ReturnEventType, now: datetime,
                   auto_approve: timedelta = AUTO_APPROVE) -> None:
    """Queue what a return's change must reach: the seller's chat (a request, or the shop approving one, with
    ``auto_approve`` said in hours), the buyer's chat (every decision), the seller's webhook (``return.<event>``)."""
    ret, order = await _load(session, ret.id)
    seller: Seller = order.seller
    last_actor = await session.scalar(select(ReturnEvent.actor_kind).where(ReturnEvent.return_id == ret.id)
                                      .order_by(ReturnEvent.id.desc()).limit(1))
    system = last_actor == ActorKind.SYSTEM
    if seller.notify_chat_id is not None and (event == ReturnEventType.REQUESTED or system):
        await outbox.enqueue(session, key=f"return-{ret.id}-{event}-seller", channel=OutboxChannel.TELEGRAM,
                             template=Notice.SELLER_RETURN,
                             payload={"return_id": ret.id, "event": event, "by_the_shop": system,
                                      "hours": int(auto_approve // timedelta(hours=1))},
                             chat_id=seller.notify_chat_id, seller_id=seller.id, now=now)
    if event != ReturnEventType.REQUESTED:
        await outbox.enqueue(session, key=f"return-{ret.id}-{event}-buyer", channel=OutboxChannel.TELEGRAM,
                             template=Notice.BUYER_RETURN, payload={"return_id": ret.id, "event": event},
                             chat_id=ret.buyer_id, now=now)
    if seller.webhook_url:
        body = {"type": f"return.{event}", "timestamp": now.isoformat(), "data": document(ret, order)}
        await outbox.enqueue(session, key=f"return-{ret.id}-{event}", channel=OutboxChannel.WEBHOOK,
                             template=f"return.{event}", payload=body, seller_id=seller.id, now=now)
