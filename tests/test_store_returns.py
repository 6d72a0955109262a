"""Returns in the store: who may ask and for what, the seller's decisions and the shop's auto-approval,
the refund (stock, money, Stars) and the creator's commission reversed or clawed back."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from store.errors import ErrorCode, Expired, InvalidInput, NotAllowed, NotFound, ShopError
from store.models import (
    Commission,
    Creator,
    MutedAlert,
    Order,
    OrderLine,
    OutboxMessage,
    Payment,
    Return,
    ReturnEvent,
    SavedItem,
    Seller,
    StockAlert,
    Variant,
)
from store.services import alerts, earnings, payments, personal_data, returns
from store.services import cart as cart_service
from store.services import checkout as co
from store.services.creators import approve_due, record_commissions
from store.services.fulfilment import Actor, cancel, complete_stars_refund
from store.services.invoices import invoice_payload
from store.states import (
    ActorKind,
    AlertKind,
    CommissionStatus,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    ReturnReason,
    ReturnStatus,
)

from .factories import make_category, make_digital, make_product, make_seller, make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)
OWNER, OTHER_OWNER, OPERATOR = 700, 701, 900


@pytest.fixture
async def shop(db):
    """Tee Shop (owner 700, a webhook) sells a $19.99 tee and a $5.00 cap, and a $3.00 e-book; Mug Shop
    (owner 701) a mug. Ann (1) and Bob (2) shop; Cleo (3) is a creator."""
    async with db.transaction() as session:
        tees = await make_seller(session, "Tee Shop")
        tees.owner_user_id, tees.notify_chat_id = OWNER, OWNER
        tees.webhook_url, tees.webhook_secret = "https://tees.example/hook", "whsec_dGVzdHNlY3JldA=="
        mugs = await make_seller(session, "Mug Shop")
        mugs.owner_user_id, mugs.notify_chat_id = OTHER_OWNER, OTHER_OWNER
        clothing = await make_category(session, "Clothing")
        for user_id, name in ((1, "Ann"), (2, "Bob"), (3, "Cleo"), (OWNER, "Tom"), (OTHER_OWNER, "Meg")):
            await make_user(session, user_id, name)
        tee = await make_product(session, tees, clothing, "Classic Tee", [("M", 1999, 10)])
        cap = await make_product(session, tees, clothing, "Cap", [("", 500, 10)])
        ebook = await make_digital(session, tees, clothing, "Watercolour E-book", 300, text="https://x.example/b")
        creator = Creator(user_id=3, code="CLEO", status="approved", created_at=NOW - timedelta(days=100))
        session.add(creator)
        await session.flush()
        variant = {p.id: await session.scalar(select(Variant.id).where(Variant.product_id == p.id))
                   for p in (tee, cap)}
    return {"tees": tees.id, "tee": variant[tee.id], "cap": variant[cap.id], "ebook": ebook.id,
            "creator": creator.id}


async def delivered(db, user_id: int, *items: tuple[int, int], payment: str = PaymentMethod.COD,
                    at: datetime = NOW, creator: int | None = None) -> Order:
    """The user buys ``items`` (variant id, units), paid by ``payment``, delivered at ``at``; lines attributed
    to ``creator`` at 10% when given."""
    async with db.transaction() as session:
        for variant_id, quantity in items:
            await cart_service.add_to_cart(session, user_id, variant_id, quantity)
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, user_id)
        physical = bool(cart.of_kind("physical").lines)
        shipping = await co.get_shipping(session, "standard") if physical else None
        quote = co.quote(cart, shipping, "USD", RULES.stars_per_unit)
        placed = await co.place_order(
            session, user_id, contact_name="Ann Lee" if physical else None, phone=None,
            address="1 Main St, Springfield 12345" if physical else None,
            shipping_code="standard" if physical else None, payment_method=payment if physical else None,
            expected_total=quote.total.amount, rules=RULES, now=at - timedelta(days=3))
    order, checkout = placed.orders[0], placed.checkout
    if payment != PaymentMethod.COD or not physical:
        async with db.transaction() as session:
            await payments.record_payment(session, user_id, invoice_payload(checkout.id),
                                          currency=checkout.invoice_currency, amount=checkout.invoice_amount,
                                          charge_id=f"charge-{checkout.id}", provider_charge_id=None,
                                          now=at - timedelta(days=3))
    async with db.transaction() as session:
        if creator is not None:
            await session.execute(update(OrderLine).where(OrderLine.order_id == order.id)
                                  .values(creator_id=creator, commission_bp=1000))
            await record_commissions(session, order.id, at)
        await session.execute(update(Order).where(Order.id == order.id)
                              .values(status=OrderStatus.DELIVERED, delivered_at=at))
        return await session.get(Order, order.id)


async def line_ids(db, order_id: int) -> list[int]:
    async with db.read() as session:
        return list(await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)
                                          .order_by(OrderLine.id)))


async def ask(db, user_id: int, order_id: int, quantities: dict[int, int], now: datetime = NOW,
              reason: ReturnReason = ReturnReason.DOES_NOT_FIT, note: str | None = None) -> Return:
    async with db.transaction() as session:
        return await returns.request(session, user_id, order_id, quantities, reason, note, None, now, WINDOW)


async def act(db, action, return_id: int, actor: Actor, *args, now: datetime = NOW) -> Return:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await action(session, return_id, actor, *args, now)


SELLER = Actor(ActorKind.SELLER, user_id=OWNER)


async def stock(db, variant_id: int) -> int:
    async with db.read() as session:
        return await session.scalar(select(Variant.stock).where(Variant.id == variant_id))


async def outbox_templates(db) -> list[str]:
    """What returns wrote to the outbox, in order (order news left out)."""
    async with db.read() as session:
        return list(await session.scalars(select(OutboxMessage.template).where(OutboxMessage.key.like("return-%"))
                                          .order_by(OutboxMessage.id)))


# --- the share of what was paid ---------------------------------------------------------------------------


def test_the_shares_of_every_return_of_a_line_add_up_to_what_was_paid():
    rng = random.Random(17)
    for _ in range(2000):
        quantity = rng.randint(1, 30)
        paid = rng.randint(1, 100_000)
        before, parts = 0, []
        while before < quantity:
            units = rng.randint(1, quantity - before)
            parts.append(returns.refund_share(paid, quantity, before, units))
            before += units
        assert sum(parts) == paid
        assert all(part >= 0 for part in parts)


# --- asking ------------------------------------------------------------------------------------------------


async def test_a_buyer_asks_back_part_of_a_delivered_order_and_the_seller_is_told(db, shop):
    order = await delivered(db, 1, (shop["tee"], 2), (shop["cap"], 1))
    tee_line, cap_line = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {tee_line: 1}, note="  too   small  ")
    assert (ret.status, ret.amount, ret.currency, ret.note) == (ReturnStatus.REQUESTED, 1999, "USD", "too small")
    # The seller's chat and its webhook hear of it; the buyer made it and is not told.
    assert await outbox_templates(db) == ["seller_return", "return.requested"]
    async with db.read() as session:
        assert await session.scalar(select(OrderLine.returned).where(OrderLine.id == tee_line)) == 1
        view = await returns.returnable(session, 1, order.id, NOW, WINDOW)
    assert [(line.title, line.left) for line in view.lines] == [("Classic Tee", 1), ("Cap", 1)]


async def test_what_a_buyer_cannot_return_is_refused_and_changes_nothing(db, shop):
    order = await delivered(db, 1, (shop["tee"], 2))
    (tee_line,) = await line_ids(db, order.id)
    # Someone else's order, nothing chosen, more units than bought, a note of a novel.
    with pytest.raises(NotFound):
        await ask(db, 2, order.id, {tee_line: 1})
    with pytest.raises(InvalidInput) as nothing:
        await ask(db, 1, order.id, {tee_line: 0})
    assert nothing.value.code == ErrorCode.RETURN_NOTHING_CHOSEN
    with pytest.raises(Expired) as too_many:
        await ask(db, 1, order.id, {tee_line: 3})
    assert too_many.value.code == ErrorCode.RETURN_UNITS_TAKEN
    with pytest.raises(InvalidInput):
        await ask(db, 1, order.id, {tee_line: 1}, note="x" * 501)
    # After the window: the date it ended is said.
    with pytest.raises(Expired) as late:
        await ask(db, 1, order.id, {tee_line: 1}, now=NOW + WINDOW + timedelta(minutes=1))
    assert late.value.code == ErrorCode.RETURN_WINDOW_OVER and late.value.data["until"] == NOW + WINDOW
    async with db.read() as session:
        assert await session.scalar(select(OrderLine.returned).where(OrderLine.id == tee_line)) == 0
        assert await session.scalar(select(Return.id)) is None
    # An order not delivered yet.
    async with db.transaction() as session:
        await session.execute(update(Order).where(Order.id == order.id).values(status=OrderStatus.SHIPPED))
    with pytest.raises(Expired) as shipped:
        await ask(db, 1, order.id, {tee_line: 1})
    assert shipped.value.code == ErrorCode.RETURN_NOT_DELIVERED


async def test_two_requests_for_the_last_unit_one_gets_it(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1))
    (tee_line,) = await line_ids(db, order.id)

    async def try_it() -> str:
        try:
            await ask(db, 1, order.id, {tee_line: 1})
            return "asked"
        except ShopError as error:
            return error.code

    outcomes = sorted(await asyncio.gather(try_it(), try_it()))
    assert outcomes[0] == "asked" and outcomes[1] in (ErrorCode.RETURN_UNITS_TAKEN, ErrorCode.RETURN_NOTHING_LEFT)
    async with db.read() as session:
        assert await session.scalar(select(OrderLine.returned).where(OrderLine.id == tee_line)) == 1


# --- the seller decides ------------------------------------------------------------------------------------


async def test_approve_then_received_puts_the_goods_back_and_marks_the_refund_due(db, shop):
    order = await delivered(db, 1, (shop["tee"], 2), payment=PaymentMethod.CARD)
    (tee_line,) = await line_ids(db, order.id)
    before = await stock(db, shop["tee"])
    ret = await ask(db, 1, order.id, {tee_line: 1})
    await act(db, returns.approve, ret.id, SELLER)
    assert await stock(db, shop["tee"]) == before  # nothing is back until it arrives
    done = await act(db, returns.received, ret.id, SELLER, now=NOW + timedelta(days=4))
    assert (done.status, done.refund_status, done.without_goods) == (ReturnStatus.REFUNDED, RefundStatus.DUE, False)
    assert await stock(db, shop["tee"]) == before + 1
    # Half of the order is back: the order itself stays delivered.
    async with db.read() as session:
        assert await session.scalar(select(Order.status).where(Order.id == order.id)) == OrderStatus.DELIVERED
        history = [(e.from_status, e.to_status, e.actor_kind) for e in await session.scalars(
            select(ReturnEvent).where(ReturnEvent.return_id == ret.id).order_by(ReturnEvent.id))]
    assert history == [(None, "requested", "buyer"), ("requested", "approved", "seller"),
                       ("approved", "refunded", "seller")]
    assert await outbox_templates(db) == ["seller_return", "return.requested", "buyer_return", "return.approved",
                                          "buyer_return", "return.refunded"]


async def test_a_whole_order_returned_is_refunded_and_a_second_received_is_refused(db, shop):
    order = await delivered(db, 1, (shop["cap"], 1))
    (cap_line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {cap_line: 1})
    await act(db, returns.approve, ret.id, SELLER)
    await act(db, returns.received, ret.id, SELLER)
    with pytest.raises(Expired) as again:
        await act(db, returns.received, ret.id, SELLER)
    assert again.value.code == ErrorCode.RETURN_ACTION_REFUSED
    async with db.read() as session:
        refunded = await session.get(Order, order.id)
        # The order is refunded; its money is the return's (refund due there, not twice on the order).
        assert (refunded.status, refunded.refund_status) == (OrderStatus.REFUNDED, None)
        assert (await session.get(Return, ret.id)).refund_status == RefundStatus.DUE
        # The retailer's webhook hears the order is refunded; the buyer hears it once, from the return.
        keys = set(await session.scalars(select(OutboxMessage.key)
                                         .where(OutboxMessage.key.like(f"order-{order.id}-%"))))
    assert f"order-{order.id}-refunded" in keys and f"order-{order.id}-refunded-buyer" not in keys
    with pytest.raises(Expired) as nothing_left:
        await ask(db, 1, order.id, {cap_line: 1})
    assert nothing_left.value.code == ErrorCode.RETURN_NOT_DELIVERED


async def test_refund_without_the_goods_leaves_stock_alone(db, shop):
    order = await delivered(db, 1, (shop["cap"], 2))
    (cap_line,) = await line_ids(db, order.id)
    before = await stock(db, shop["cap"])
    ret = await ask(db, 1, order.id, {cap_line: 2}, reason=ReturnReason.DAMAGED)
    done = await act(db, returns.refund_without_goods, ret.id, SELLER)
    assert (done.status, done.without_goods, done.amount) == (ReturnStatus.REFUNDED, True, 1000)
    assert await stock(db, shop["cap"]) == before


async def test_a_rejection_needs_a_reason_and_frees_the_units(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1))
    (tee_line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {tee_line: 1})
    with pytest.raises(InvalidInput):
        await act(db, returns.reject, ret.id, SELLER, "no")
    done = await act(db, returns.reject, ret.id, SELLER, "Worn and washed, see the photo")
    assert (done.status, done.reject_reason) == (ReturnStatus.REJECTED, "Worn and washed, see the photo")
    async with db.read() as session:
        assert await session.scalar(select(OrderLine.returned).where(OrderLine.id == tee_line)) == 0
    # The buyer may ask again while the window lasts.
    assert (await ask(db, 1, order.id, {tee_line: 1})).status == ReturnStatus.REQUESTED


async def test_only_the_orders_seller_or_an_operator_decides(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1))
    (tee_line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {tee_line: 1})
    with pytest.raises(NotAllowed):
        await act(db, returns.approve, ret.id, Actor(ActorKind.SELLER, user_id=OTHER_OWNER))
    async with db.read() as session:
        mugs = await session.scalar(select(Seller.id).where(Seller.name == "Mug Shop"))
    with pytest.raises(NotFound):
        await act(db, returns.approve, ret.id, Actor(ActorKind.API, seller_id=mugs))
    done = await act(db, returns.approve, ret.id, Actor(ActorKind.OPERATOR, user_id=OPERATOR))
    assert done.status == ReturnStatus.APPROVED


async def test_a_request_left_unanswered_is_approved_by_the_shop(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1))
    (tee_line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {tee_line: 1})
    after = timedelta(hours=48)
    async with db.transaction() as session:
        assert await returns.approve_overdue(session, NOW + timedelta(hours=47), after, 50) == 0
    async with db.transaction() as session:
        assert await returns.approve_overdue(session, NOW + timedelta(hours=49), after, 50) == 1
    async with db.read() as session:
        approved = await session.get(Return, ret.id)
        event = await session.scalar(select(ReturnEvent).where(ReturnEvent.return_id == ret.id)
                                     .order_by(ReturnEvent.id.desc()).limit(1))
    assert approved.status == ReturnStatus.APPROVED and event.actor_kind == ActorKind.SYSTEM
    # The seller hears the shop approved it, as does the buyer.
    assert (await outbox_templates(db)).count("seller_return") == 2
    async with db.transaction() as session:
        assert await returns.approve_overdue(session, NOW + timedelta(hours=50), after, 50) == 0


# --- money: Stars and commission ---------------------------------------------------------------------------


async def test_a_digital_order_returned_whole_is_refunded_in_stars(db, shop):
    order = await delivered(db, 1, (shop["ebook"], 1))
    (line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {line: 1})
    # Nothing to send back: the seller's approval is the refund.
    async with db.read() as session:
        view_ret, view_order = await returns.for_seller(session, ret.id, SELLER)
    assert returns.actions(view_ret, view_order.kind) == ("refund", "reject")
    done = await act(db, returns.approve, ret.id, SELLER)
    assert (done.status, done.refund_status) == (ReturnStatus.REFUNDED, RefundStatus.DUE)
    async with db.read() as session:
        refund = await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "stars_refund"))
        charge = await session.scalar(select(Payment.telegram_charge_id))
    assert refund.payload["charge_id"] == charge
    # Telegram refunded the charge: the return's refund is done.
    async with db.transaction() as session:
        await complete_stars_refund(session, refund.payload["checkout_id"], charge, NOW)
    async with db.read() as session:
        assert (await session.get(Return, ret.id)).refund_status == RefundStatus.DONE


async def test_part_of_a_stars_order_returned_is_refund_due_not_a_stars_refund(db, shop):
    order = await delivered(db, 1, (shop["ebook"], 2))
    (line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {line: 1})
    done = await act(db, returns.refund_without_goods, ret.id, SELLER)
    assert (done.refund_status, done.amount) == (RefundStatus.DUE, 300)
    async with db.read() as session:
        assert await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "stars_refund")) is None


async def commissions(db, order_id: int) -> list[tuple[int, str, int | None]]:
    async with db.read() as session:
        return [(c.amount, c.status, c.return_id) for c in await session.scalars(
            select(Commission).where(Commission.order_id == order_id).order_by(Commission.id))]


async def test_a_pending_commission_on_returned_goods_is_reversed(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1), creator=shop["creator"])
    (tee_line,) = await line_ids(db, order.id)
    assert await commissions(db, order.id) == [(200, CommissionStatus.PENDING, None)]
    ret = await ask(db, 1, order.id, {tee_line: 1})
    await act(db, returns.refund_without_goods, ret.id, SELLER)
    assert await commissions(db, order.id) == [(200, CommissionStatus.REVERSED, None)]


async def test_part_of_a_line_returned_before_approval_nets_the_pending_commission(db, shop):
    order = await delivered(db, 1, (shop["tee"], 2), creator=shop["creator"])
    (tee_line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {tee_line: 1})
    await act(db, returns.refund_without_goods, ret.id, SELLER)
    # $39.98 earned $4.00; one tee back takes $2.00 off, approved with the sale after the window.
    assert await commissions(db, order.id) == [(400, CommissionStatus.PENDING, None),
                                               (-200, CommissionStatus.PENDING, ret.id)]
    async with db.transaction() as session:
        await approve_due(session, NOW + WINDOW + timedelta(hours=1), WINDOW)
    async with db.read() as session:
        rows = await earnings.payable(session, NOW + WINDOW + timedelta(days=1))
    assert [row.amount for row in rows] == [200]


async def test_an_approved_commission_is_clawed_back_with_a_negative_entry(db, shop):
    # A return asked on the last day, received after the window: the commission was approved meanwhile.
    order = await delivered(db, 1, (shop["tee"], 2), creator=shop["creator"])
    (tee_line,) = await line_ids(db, order.id)
    last_day = NOW + WINDOW - timedelta(hours=1)
    ret = await ask(db, 1, order.id, {tee_line: 2}, now=last_day)
    await act(db, returns.approve, ret.id, SELLER, now=last_day)
    later = NOW + WINDOW + timedelta(days=2)
    async with db.transaction() as session:
        assert await approve_due(session, later, WINDOW) == 1
    await act(db, returns.received, ret.id, SELLER, now=later + timedelta(hours=1))
    assert await commissions(db, order.id) == [(400, CommissionStatus.APPROVED, None),
                                               (-400, CommissionStatus.APPROVED, ret.id)]
    # What is payable to the creator nets to nothing.
    async with db.read() as session:
        rows = await earnings.payable(session, later + timedelta(days=1))
    assert sum(row.amount for row in rows) == 0


# --- the buyer's own data -----------------------------------------------------------------------------------


async def test_mydata_holds_a_buyers_returns_and_alerts_and_forget_erases_what_is_personal(db, shop):
    order = await delivered(db, 1, (shop["tee"], 2))
    (tee_line,) = await line_ids(db, order.id)
    decided = await ask(db, 1, order.id, {tee_line: 1}, note="Too tight at the shoulders")
    await act(db, returns.refund_without_goods, decided.id, SELLER)
    await ask(db, 1, order.id, {tee_line: 1}, note="This one too")
    async with db.transaction() as session:
        session.add_all([SavedItem(user_id=1, product_id=await session.scalar(
            select(Variant.product_id).where(Variant.id == shop["cap"])), price_seen=500, created_at=NOW),
            StockAlert(user_id=1, variant_id=shop["tee"], created_at=NOW),
            MutedAlert(user_id=1, kind=AlertKind.PRICE_DROPS, created_at=NOW)])
    async with db.read() as session:
        document = await personal_data.export(session, 1, NOW)
    assert [(r["note"], r["status"]) for r in document["returns"]] == [
        ("Too tight at the shoulders", "refunded"), ("This one too", "requested")]
    assert len(document["saved_products"]) == 1 and len(document["back_in_stock_requests"]) == 1
    assert document["alerts_turned_off"] == ["prices"]

    async with db.transaction() as session:
        await personal_data.forget(session, 1, NOW)
    async with db.read() as session:
        document = await personal_data.export(session, 1, NOW)
    # The seller still needs the open return's words to decide it; the decided one's are gone.
    assert [r["note"] for r in document["returns"]] == [None, "This one too"]
    assert document["saved_products"] == [] and document["back_in_stock_requests"] == []
    assert document["alerts_turned_off"] == ["prices"]  # what they turned off stays off


# --- what the review of the first version found ------------------------------------------------------------


async def test_an_order_with_an_open_return_cannot_be_cancelled_over_it(db, shop):
    # Cancelling refunds the whole order: with a return waiting, that return is decided instead (else twice).
    order = await delivered(db, 1, (shop["ebook"], 2))
    (line,) = await line_ids(db, order.id)
    ret = await ask(db, 1, order.id, {line: 1})
    with pytest.raises(Expired) as refused:
        async with db.transaction() as session:
            await cancel(session, order.id, SELLER, "Changed my mind", NOW)
    assert refused.value.code == ErrorCode.ORDER_HAS_OPEN_RETURN
    done = await act(db, returns.refund_without_goods, ret.id, SELLER)
    assert done.status == ReturnStatus.REFUNDED


async def test_one_return_that_cannot_be_approved_does_not_hold_back_the_others(db, shop):
    first = await delivered(db, 1, (shop["tee"], 1))
    second = await delivered(db, 2, (shop["cap"], 1))
    stuck = await ask(db, 1, first.id, dict.fromkeys(await line_ids(db, first.id), 1))
    fine = await ask(db, 2, second.id, dict.fromkeys(await line_ids(db, second.id), 1))
    # The first order was moved on behind the return's back (as a cancel in another process might).
    async with db.transaction() as session:
        await session.execute(update(Order).where(Order.id == first.id).values(status=OrderStatus.CANCELLED))
    async with db.transaction() as session:
        assert await returns.approve_overdue(session, NOW + timedelta(hours=49), timedelta(hours=48), 50) == 2
    async with db.read() as session:
        assert (await session.get(Return, stuck.id)).status == ReturnStatus.REQUESTED
        assert (await session.get(Return, fine.id)).status == ReturnStatus.APPROVED


async def test_a_stars_charge_partly_owed_by_hand_is_not_refunded_whole_later(db, shop):
    # One e-book of two is refunded by hand (due); the second one's return then owes its share by hand too: a
    # whole-charge refund now would pay the first one twice.
    order = await delivered(db, 1, (shop["ebook"], 2))
    (line,) = await line_ids(db, order.id)
    first = await ask(db, 1, order.id, {line: 1})
    await act(db, returns.refund_without_goods, first.id, SELLER)
    second = await ask(db, 1, order.id, {line: 1})
    done = await act(db, returns.refund_without_goods, second.id, SELLER)
    assert (done.refund_status, done.amount) == (RefundStatus.DUE, 300)
    async with db.read() as session:
        assert await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "stars_refund")) is None
        assert (await session.get(Order, order.id)).status == OrderStatus.REFUNDED


async def test_the_api_key_that_decided_is_in_the_history(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1))
    ret = await ask(db, 1, order.id, dict.fromkeys(await line_ids(db, order.id), 1))
    await act(db, returns.approve, ret.id, Actor(ActorKind.API, seller_id=shop["tees"]))
    async with db.read() as session:
        last = await session.scalar(select(ReturnEvent).where(ReturnEvent.return_id == ret.id)
                                    .order_by(ReturnEvent.id.desc()).limit(1))
    assert (last.actor_kind, last.actor_id) == (ActorKind.API, shop["tees"])


async def test_a_claw_back_larger_than_what_is_due_waits_instead_of_a_negative_payout(db, shop):
    order = await delivered(db, 1, (shop["tee"], 1), creator=shop["creator"])
    async with db.transaction() as session:
        await approve_due(session, NOW + WINDOW + timedelta(hours=1), WINDOW)
    async with db.transaction() as session:
        (paid,) = await earnings.mark_paid(session, NOW + WINDOW + timedelta(days=1), NOW + WINDOW + timedelta(days=1))
    assert paid.amount == 200
    # A return asked on the last day, refunded after the payout: the creator owes it back.
    ret = await ask(db, 1, order.id, dict.fromkeys(await line_ids(db, order.id), 1),
                    now=NOW + WINDOW - timedelta(hours=2))
    await act(db, returns.refund_without_goods, ret.id, SELLER, now=NOW + WINDOW + timedelta(days=2))
    later = NOW + WINDOW + timedelta(days=3)
    async with db.transaction() as session:
        assert await earnings.payable(session, later) == []
        assert await earnings.mark_paid(session, later, later) == []
    assert await commissions(db, order.id) == [(200, CommissionStatus.PAID, None),
                                               (-200, CommissionStatus.APPROVED, ret.id)]


async def test_goods_received_back_tell_the_shoppers_waiting_for_them(db, shop):
    # The last cap is sold; Bob asks to be told when it is back; Ann's returned cap brings it back.
    async with db.transaction() as session:
        await session.execute(update(Variant).where(Variant.id == shop["cap"]).values(stock=1))
    order = await delivered(db, 1, (shop["cap"], 1))
    assert await stock(db, shop["cap"]) == 0
    async with db.transaction() as session:
        product_id = await session.scalar(select(Variant.product_id).where(Variant.id == shop["cap"]))
        await alerts.watch(session, 2, product_id, shop["cap"], NOW)
    ret = await ask(db, 1, order.id, dict.fromkeys(await line_ids(db, order.id), 1))
    await act(db, returns.approve, ret.id, SELLER)
    await act(db, returns.received, ret.id, SELLER)
    async with db.transaction() as session:
        assert await alerts.tell_restocked(session, NOW, "USD") == 1
    async with db.read() as session:
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "back_in_stock"))
    assert (told.chat_id, told.payload["variant_id"]) == (2, shop["cap"])
