"""Checkout in the store: orders per seller, stock reservation, payment once, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from handlers.messages import cart_adjustment, error_text
from handlers.notifications import refund_due_line
from store.errors import Expired, InvalidInput, NotFound, OutOfStock
from store.models import Checkout, Order, OrderEvent, OutboxMessage, Payment, Seller, Variant
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import contact, payments, personal_data, unpaid
from store.services.fulfilment import complete_stars_refund, refunds_due
from store.services.invoices import invoice_payload
from store.services.orders import get_order_for_buyer, list_orders
from store.states import PaymentMethod

from .factories import make_category, make_digital, make_product, make_seller, make_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)


async def stock_of(db, variant_id: int) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(Variant.stock).where(Variant.id == variant_id))


async def place(db, user_id: int, payment: str = PaymentMethod.COD, now: datetime = NOW) -> co.Placed:
    """Place the user's cart with standard shipping, confirming the quoted total."""
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, user_id)
        quote = co.quote(cart, await co.get_shipping(session, "standard"), RULES.currency)
        return await co.place_order(
            session, user_id, contact_name="Ann Lee", phone="+12025550143", address="1 Main St, Springfield 12345",
            shipping_code="standard", payment_method=payment, expected_total=quote.total.amount, rules=RULES, now=now)


@pytest.fixture
async def shop(db):
    """Two sellers: a tee with sizes (5 M left) and a mug."""
    async with db.transaction() as session:
        clothing = await make_category(session, "Clothing")
        home = await make_category(session, "Home")
        tees = await make_seller(session, "Tee Shop")
        mugs = await make_seller(session, "Mug House")
        tee = await make_product(session, tees, clothing, "Classic Tee", [("M", 1999, 5), ("L", 1999, 0)])
        mug = await make_product(session, mugs, home, "Café Mug", [("", 899, 10)])
        await make_user(session, 1)
        await make_user(session, 2, "Bob")
        tee_m = (await session.scalars(select(Variant.id).where(Variant.product_id == tee.id)
                                       .order_by(Variant.position))).first()
        mug_v = await session.scalar(select(Variant.id).where(Variant.product_id == mug.id))
    return {"tee_m": tee_m, "mug": mug_v}


async def test_one_checkout_makes_one_order_per_seller_and_reserves_stock(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 2)
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)

    placed = await place(db, 1)

    assert placed.checkout.status == "placed"
    assert placed.checkout.items_total == 2 * 1999 + 899
    assert placed.checkout.shipping_total == 2 * 499  # standard fee once per seller
    assert placed.checkout.total == 2 * 1999 + 899 + 2 * 499
    assert sorted(o.total for o in placed.orders) == sorted([2 * 1999 + 499, 899 + 499])
    assert await stock_of(db, shop["tee_m"]) == 3
    assert await stock_of(db, shop["mug"]) == 9
    async with db.transaction() as session:
        assert (await cart_service.get_cart(session, 1)).lines == ()
        orders, total = await list_orders(session, 1)
        assert total == 2 and {o.status for o in orders} == {"placed"}
        detail = await get_order_for_buyer(session, 1, placed.orders[0].id)
        assert detail.order.lines[0].title in ("Classic Tee", "Café Mug")
        assert [e.to_status for e in detail.order.events] == ["placed"]
        # Someone else's order is not visible to them.
        with pytest.raises(NotFound):
            await get_order_for_buyer(session, 2, placed.orders[0].id)


async def test_fifty_concurrent_checkouts_for_five_units_make_exactly_five_orders(db, shop):
    buyers = list(range(100, 150))
    async with db.transaction() as session:
        for buyer in buyers:
            await make_user(session, buyer)
            await cart_service.add_to_cart(session, buyer, shop["tee_m"], 1)

    async def attempt(buyer: int) -> str:
        try:
            await place(db, buyer)
            return "ok"
        except OutOfStock:
            return "short"

    outcomes = await asyncio.gather(*(attempt(b) for b in buyers))

    assert outcomes.count("ok") == 5
    assert outcomes.count("short") == 45
    assert await stock_of(db, shop["tee_m"]) == 0
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Order.id))) == 5
        # The 45 who missed out keep their carts; the 5 who got one have empty carts.
        counts = [await cart_service.cart_count(session, buyer) for buyer in buyers]
    assert sorted(counts) == [0] * 5 + [1] * 45


async def test_short_stock_places_nothing_and_names_the_line(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["mug"], 2)
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 5)
        await cart_service.add_to_cart(session, 2, shop["tee_m"], 1)
    await place(db, 2)  # Bob takes one tee: 4 left, Ann wants 5

    with pytest.raises(OutOfStock) as caught:
        await place(db, 1)

    assert "Classic Tee (M): 4 left" in error_text(caught.value)
    assert await stock_of(db, shop["mug"]) == 10  # the mug reservation was rolled back too
    async with db.transaction() as session:
        assert (await cart_service.get_cart(session, 1)).count == 7


async def test_review_reports_price_and_stock_changes(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 4)
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)
    async with db.transaction() as session:
        tee = await session.get(Variant, shop["tee_m"])
        tee.stock = 2
        mug = await session.get(Variant, shop["mug"])
        mug.price = 999

    async with db.transaction() as session:
        review = await co.review_cart(session, 1)

    said = [cart_adjustment(change) for change in review.changes]
    assert any("Only 2 of Classic Tee (M) left" in change for change in said)
    assert any("price of Café Mug went up" in change for change in said)
    assert [line.quantity for line in review.cart.lines] == [2, 1]
    async with db.transaction() as session:
        assert (await co.review_cart(session, 1)).changes == ()


async def test_a_changed_total_since_confirmation_places_nothing(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)
    with pytest.raises(Expired):
        async with db.transaction() as session:
            await co.place_order(session, 1, contact_name="Ann", phone="+12025550143", address="1 Main St, Town",
                                 shipping_code="standard", payment_method=PaymentMethod.COD, expected_total=1,
                                 rules=RULES, now=NOW)
    assert await stock_of(db, shop["mug"]) == 10


async def test_invoice_payment_is_applied_once_per_charge_id(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    payload = invoice_payload(placed.checkout.id)
    assert placed.checkout.status == "pending_payment"
    assert placed.checkout.invoice_amount == 899 + 499

    async with db.transaction() as session:
        await payments.check_pre_checkout(session, 1, payload, "USD", 1398, NOW)
    for _ in range(2):  # Telegram delivers the same successful payment twice
        async with db.transaction() as session:
            outcome = await payments.record_payment(session, 1, payload, currency="USD", amount=1398,
                                              charge_id="tg-charge-1", provider_charge_id="pr-1", now=NOW)
    assert outcome.status == "duplicate"

    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 1
        assert (await session.get(Checkout, placed.checkout.id)).status == "paid"
        events = (await session.scalars(select(OrderEvent.to_status).order_by(OrderEvent.id))).all()
        assert events == ["pending_payment", "paid"]


async def test_concurrent_copies_of_one_payment_apply_once(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    payload = invoice_payload(placed.checkout.id)

    async def pay() -> str:
        async with db.transaction() as session:
            outcome = await payments.record_payment(session, 1, payload, currency="USD", amount=1398,
                                              charge_id="same-charge", provider_charge_id=None, now=NOW)
            return outcome.status

    outcomes = await asyncio.gather(*(pay() for _ in range(5)))
    assert sorted(outcomes) == ["duplicate"] * 4 + ["paid"]


async def test_pre_checkout_refuses_a_wrong_amount_someone_elses_or_an_expired_invoice(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["mug"], 1)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    payload = invoice_payload(placed.checkout.id)

    for user, amount, when, error in [
        (1, 1, NOW, Expired),
        (2, 1398, NOW, NotFound),
        (1, 1398, NOW + timedelta(minutes=31), Expired),
    ]:
        with pytest.raises(error):
            async with db.transaction() as session:
                await payments.check_pre_checkout(session, user, payload, "USD", amount, when)
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await payments.check_pre_checkout(session, 1, "garbage", "USD", 1398, NOW)


async def test_unpaid_checkouts_expire_and_release_stock(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 3)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    assert await stock_of(db, shop["tee_m"]) == 2

    async with db.transaction() as session:
        assert await unpaid.expire_checkouts(session, NOW + timedelta(minutes=29)) == []
    async with db.transaction() as session:
        expired = await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))

    assert [c.id for c in expired] == [placed.checkout.id]
    assert await stock_of(db, shop["tee_m"]) == 5
    async with db.transaction() as session:
        assert (await session.get(Order, placed.orders[0].id)).status == "expired"
        # A payment that still arrives re-reserves the stock when it is there.
        outcome = await payments.record_payment(session, 1, invoice_payload(placed.checkout.id), currency="USD",
                                          amount=placed.checkout.invoice_amount, charge_id="late",
                                          provider_charge_id=None, now=NOW + timedelta(minutes=32))
    assert outcome.status == "paid"
    assert await stock_of(db, shop["tee_m"]) == 2


async def test_a_late_payment_without_stock_is_marked_refund_due(db, shop):
    async with db.transaction() as session:
        seller = await session.scalar(select(Seller).where(Seller.name == "Tee Shop"))
        gift = await make_digital(session, seller, await make_category(session, "Gift cards"), "Gift Card", 1999,
                                  codes=[f"G{n}" for n in range(5)])
        await cart_service.add_to_cart(session, 1, gift.id, 5)
    placed = await place(db, 1)  # digital goods: paid in Stars whatever the physical goods' way to pay
    assert placed.checkout.invoice_currency == "XTR"
    assert placed.checkout.invoice_amount == -(-(5 * 1999) * 50 // 100)
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(hours=1))
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 2, gift.id, 5)
    await place(db, 2)

    async with db.transaction() as session:
        outcome = await payments.record_payment(session, 1, invoice_payload(placed.checkout.id), currency="XTR",
                                          amount=placed.checkout.invoice_amount, charge_id="late-stars",
                                          provider_charge_id=None, now=NOW + timedelta(hours=2),
                                          operators=frozenset({9001}))
    assert outcome.status == "refund_due"
    assert await stock_of(db, gift.id) == 0
    async with db.transaction() as session:
        payment = await session.scalar(select(Payment))
        assert payment.status == "refund_due"
        # Telegram is asked to refund the Stars (once), and the operators hear of it.
        rows = {(row.template, row.chat_id): row.payload
                for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("refund%")))}
    assert rows[("refund_stars", 1)]["charge_id"] == "late-stars"
    assert ("refund_due", 9001) in rows

    # Once Telegram has refunded it, the buyer is told.
    async with db.transaction() as session:
        await complete_stars_refund(session, placed.checkout.id, "late-stars", NOW + timedelta(hours=3))
    async with db.transaction() as session:
        assert (await session.scalar(select(Payment))).status == "refunded"
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "payment_refunded"))
        assert told.chat_id == 1 and (await refunds_due(session, None)) == []


async def test_a_card_payment_that_came_too_late_is_listed_and_told_to_its_seller_and_operators(db, shop):
    async with db.transaction() as session:
        seller = await session.scalar(select(Seller).where(Seller.name == "Tee Shop"))
        seller.notify_chat_id = 3001
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 5)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    async with db.transaction() as session:
        await unpaid.cancel_checkout(session, 1, placed.checkout.id, NOW)  # the buyer calls it off, then pays
        outcome = await payments.record_payment(session, 1, invoice_payload(placed.checkout.id), currency="USD",
                                                amount=placed.checkout.invoice_amount, charge_id="tg-late",
                                                provider_charge_id="ch_3Nabc", now=NOW,
                                                operators=frozenset({9001}))
    assert outcome.status == "refund_due"
    async with db.transaction() as session:
        chats = set(await session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.template == "refund_due")))
        due = await refunds_due(session, [seller.id])
        assert await refunds_due(session, [seller.id + 1000]) == []
    assert chats == {3001, 9001}
    assert [(d.order_ids, d.amount, d.method) for d in due] == [
        (tuple(o.id for o in placed.orders), placed.checkout.invoice_amount, "card")]
    line = refund_due_line(due[0])
    assert "$104.94" in line and "ch_3Nabc" in line and f"#{placed.orders[0].id}" in line


async def test_buyer_can_call_off_an_unpaid_checkout(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 2)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await unpaid.cancel_checkout(session, 2, placed.checkout.id, NOW)
    async with db.transaction() as session:
        await unpaid.cancel_checkout(session, 1, placed.checkout.id, NOW)
        # The buyer is not sent "the seller cancelled your order": they did, and the message they pressed says so.
        told = list(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.chat_id == 1)))
    assert not any(key.endswith("-cancelled-buyer") for key in told)
    assert await stock_of(db, shop["tee_m"]) == 5
    with pytest.raises(Expired):
        async with db.transaction() as session:
            await unpaid.cancel_checkout(session, 1, placed.checkout.id, NOW)
    assert await stock_of(db, shop["tee_m"]) == 5


@pytest.mark.parametrize(("typed", "name", "phone"), [
    ("Ann Lee, +1 202 555 0143", "Ann Lee", "+12025550143"),
    ("+44 20 7946 0958 Ann", "Ann", "+442079460958"),
    ("(202) 555-0143", "Telegram Name", "+12025550143"),
])
def test_typed_contacts_are_split_and_normalised(typed, name, phone):
    assert contact.parse_contact(typed, "US", "Telegram Name") == (name, phone)


@pytest.mark.parametrize("typed", ["", "Ann", "+1 555", "Ann 123", "x" * 70 + " +1 202 555 0143"])
def test_bad_contacts_are_refused(typed):
    with pytest.raises(InvalidInput):
        contact.parse_contact(typed, "US", "")


def test_addresses_are_tidied_and_limited():
    assert contact.clean_address("  1 Main   St\n\n Springfield  12345 ") == "1 Main St\nSpringfield 12345"
    for bad in ["", "short", "x" * 301]:
        with pytest.raises(InvalidInput):
            contact.clean_address(bad)


async def test_a_late_payment_for_a_forgotten_buyers_expired_order_goes_back_instead_of_reviving_it(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee_m"], 1)
    placed = await place(db, 1, payment=PaymentMethod.CARD)
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
    async with db.transaction() as session:
        await personal_data.forget(session, 1, NOW + timedelta(minutes=32))
    async with db.transaction() as session:
        outcome = await payments.record_payment(session, 1, invoice_payload(placed.checkout.id), currency="USD",
                                                amount=placed.checkout.invoice_amount, charge_id="late",
                                                provider_charge_id=None, now=NOW + timedelta(minutes=33))
    assert outcome.status == "refund_due"
    async with db.read() as session:
        order = await session.get(Order, placed.orders[0].id)
    assert order.status == "expired" and order.contact_name is None  # not an order with nowhere to deliver
    assert await stock_of(db, shop["tee_m"]) == 5  # released at expiry, not taken again
