"""Digital goods in the store: paid in Stars apart from physical goods, a pool's codes sold once each,
handed over through the outbox, and given back or spent when an order ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from handlers.notifications import render_notice
from store.errors import Expired, OutOfStock, ShopError
from store.models import Checkout, DigitalCode, Order, OutboxMessage, Payment, Variant, utcnow
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import checkout_flow as flow
from store.services import digital, payments, unpaid
from store.services.fulfilment import Actor, cancel, goods_again, goods_shown
from store.services.invoices import invoice_payload
from store.services.orders import allowed_actions
from store.states import ActorKind, PaymentMethod

from .factories import make_category, make_digital, make_product, make_seller, make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)
SELLER_OWNER = 500


@pytest.fixture
async def shop(db):
    """A tee (physical, 10 in stock) and gift cards (digital, 5 codes), both of one seller."""
    async with db.transaction() as session:
        seller = await make_seller(session, "Tee Shop")
        seller.owner_user_id = SELLER_OWNER
        clothing = await make_category(session, "Clothing")
        cards = await make_category(session, "Gift cards")
        tee = await make_product(session, seller, clothing, "Classic Tee", [("M", 1999, 10)])
        gift = await make_digital(session, seller, cards, "Gift Card", 1000,
                                  codes=[f"CODE-{n}" for n in range(1, 6)])
        ebook = await make_digital(session, seller, cards, "E-book", 500, file="file-ebook")
        await make_user(session, 1)
        await make_user(session, 2, "Bob")
        tee_m = await session.scalar(select(Variant.id).where(Variant.product_id == tee.id))
    return {"tee": tee_m, "gift": gift.id, "ebook": ebook.id}


async def place(db, user_id: int, payment: str | None = PaymentMethod.COD, now: datetime = NOW) -> co.Placed:
    """Place the user's cart as confirmed: physical goods by ``payment`` with standard shipping."""
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, user_id)
        physical = bool(cart.of_kind("physical").lines)
        shipping = await co.get_shipping(session, "standard") if physical else None
        quote = co.quote(cart, shipping, RULES.currency, RULES.stars_per_unit)
        return await co.place_order(
            session, user_id, contact_name="Ann Lee" if physical else None, phone=None,
            address="1 Main St, Springfield 12345" if physical else None,
            shipping_code="standard" if physical else None, payment_method=payment if physical else None,
            expected_total=quote.total.amount, rules=RULES, now=now)


async def pay(db, user_id: int, checkout: Checkout, charge: str, now: datetime = NOW) -> payments.PaymentOutcome:
    async with db.transaction() as session:
        return await payments.record_payment(session, user_id, invoice_payload(checkout.id), currency="XTR",
                                             amount=checkout.invoice_amount, charge_id=charge,
                                             provider_charge_id=None, now=now)


async def bought(db, variant_id: int, quantity: int) -> int:
    """Ann buys ``quantity`` of a digital variant and pays in Stars; returns her order's id."""
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, variant_id, quantity)
    placed = await place(db, 1)
    await pay(db, 1, placed.checkout, "charge-1")
    return placed.orders[0].id


async def codes(db, variant_id: int) -> dict[str, str]:
    """Each code of the pool and where it stands."""
    async with db.transaction() as session:
        rows = await session.execute(select(DigitalCode.code, DigitalCode.status)
                                     .where(DigitalCode.variant_id == variant_id))
        return dict(rows.all())


async def stock_of(db, variant_id: int) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(Variant.stock).where(Variant.id == variant_id))


async def test_a_cart_of_both_kinds_is_two_checkouts_stars_only_for_the_digital_goods(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee"], 1)
        await cart_service.add_to_cart(session, 1, shop["gift"], 2)
        cart = await cart_service.get_cart(session, 1)
        quote = co.quote(cart, await co.get_shipping(session, "standard"), "USD", 50)
    assert quote.two_payments and quote.digital.amount == 2000 and quote.stars == 1000
    assert quote.physical_total.amount == 1999 + 499  # shipping only for the tee's seller

    placed = await place(db, 1, PaymentMethod.CARD)

    physical, gifts = placed.checkouts
    assert (physical.payment_method, physical.invoice_currency, physical.invoice_amount) == ("card", "USD", 2498)
    assert (gifts.payment_method, gifts.invoice_currency, gifts.invoice_amount) == ("stars", "XTR", 1000)
    assert gifts.shipping_total == 0 and gifts.expires_at == NOW + RULES.expiry
    [tee_order] = placed.orders_of(physical)
    [gift_order] = placed.orders_of(gifts)
    assert (tee_order.kind, tee_order.address) == ("physical", "1 Main St, Springfield 12345")
    # A digital order keeps no name, phone or address: it ships nothing.
    assert (gift_order.kind, gift_order.contact_name, gift_order.phone, gift_order.address) == (
        "digital", None, None, None)
    # Its codes are held for it, out of the pool's stock.
    assert sorted(codes_ for codes_, status in (await codes(db, shop["gift"])).items() if status == "reserved") == [
        "CODE-1", "CODE-2"]
    assert await stock_of(db, shop["gift"]) == 3


async def test_stars_are_never_taken_for_physical_goods(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee"], 1)
    with pytest.raises(Expired):
        await place(db, 1, PaymentMethod.STARS)
    assert await stock_of(db, shop["tee"]) == 10


async def test_digital_goods_are_refused_where_the_shop_takes_no_stars(db, shop):
    async with db.transaction() as session:
        with pytest.raises(ShopError) as caught:
            await cart_service.add_to_cart(session, 1, shop["gift"], 1, sold=("physical",))
    assert caught.value.code == "digital_not_sold"
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["gift"], 1)
    no_stars = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), digital_sold=False)
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, 1)
        with pytest.raises(ShopError):
            await co.place_order(session, 1, contact_name=None, phone=None, address=None, shipping_code=None,
                                 payment_method=None, expected_total=1000, rules=no_stars, now=NOW)
        assert cart.count == 1


async def test_fifty_concurrent_buyers_for_the_last_five_codes_get_five_distinct_codes(db, shop):
    buyers = list(range(100, 150))
    async with db.transaction() as session:
        for buyer in buyers:
            await make_user(session, buyer)
            await cart_service.add_to_cart(session, buyer, shop["gift"], 1)

    async def buy(buyer: int) -> str:
        """Place the order, have Telegram ask before charging, then pay: what a buyer's tap on Pay does."""
        try:
            placed = await place(db, buyer)
        except OutOfStock:
            return "sold out"
        checkout = placed.checkout
        try:
            async with db.transaction() as session:
                await payments.check_pre_checkout(session, buyer, invoice_payload(checkout.id), "XTR",
                                                  checkout.invoice_amount, NOW)
        except ShopError:
            return "refused before paying"
        outcome = await pay(db, buyer, checkout, f"charge-{buyer}")
        return outcome.status

    outcomes = await asyncio.gather(*(buy(buyer) for buyer in buyers))

    # Five sales; the other 45 were refused before anyone was charged (at Place order, when the pool was
    # empty), never after a payment.
    assert outcomes.count("paid") == 5 and outcomes.count("sold out") == 45
    pool = await codes(db, shop["gift"])
    assert sorted(pool.values()) == ["sold"] * 5
    async with db.transaction() as session:
        sold = list(await session.scalars(select(DigitalCode.order_line_id).where(DigitalCode.status == "sold")))
        deliveries = list(await session.scalars(select(OutboxMessage.payload)
                                                .where(OutboxMessage.template == "digital_goods")))
        assert await session.scalar(select(func.count(Payment.id)).where(Payment.status == "refund_due")) == 0
    assert len(set(sold)) == 5  # one code per order line, none twice
    assert len(deliveries) == 5
    assert await stock_of(db, shop["gift"]) == 0


async def test_a_pool_that_ran_dry_mid_checkout_refuses_at_pre_checkout_never_after(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["gift"], 5)
    slow = await place(db, 1)
    # Ann's checkout expires: her five codes go back to the pool, and Bob buys them all.
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
    assert await stock_of(db, shop["gift"]) == 5
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 2, shop["gift"], 5)
    bob = await place(db, 2, now=NOW + timedelta(minutes=32))
    await pay(db, 2, bob.checkout, "bob", NOW + timedelta(minutes=33))

    # Ann taps Pay on her old invoice: Telegram asks first, and the bot says no before she is charged.
    async with db.transaction() as session:
        with pytest.raises(Expired):
            await payments.check_pre_checkout(session, 1, invoice_payload(slow.checkout.id), "XTR",
                                              slow.checkout.invoice_amount, NOW + timedelta(minutes=34))
    # Had the payment come anyway, it goes back: no code is taken from Bob, none sent to Ann.
    outcome = await pay(db, 1, slow.checkout, "late", NOW + timedelta(minutes=35))
    assert outcome.status == "refund_due"
    async with db.transaction() as session:
        refund = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "refund_stars"))
        sent = list(await session.scalars(select(OutboxMessage.chat_id)
                                          .where(OutboxMessage.template == "digital_goods")))
    assert refund.payload["charge_id"] == "late" and sent == [2]
    assert sorted((await codes(db, shop["gift"])).values()) == ["sold"] * 5


async def test_a_late_payment_with_codes_still_free_takes_them_again(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["gift"], 2)
    placed = await place(db, 1)
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
    assert sorted((await codes(db, shop["gift"])).values()) == ["free"] * 5

    outcome = await pay(db, 1, placed.checkout, "late", NOW + timedelta(minutes=40))

    assert outcome.status == "paid"
    assert sorted((await codes(db, shop["gift"])).values()) == ["free"] * 3 + ["sold"] * 2
    assert await stock_of(db, shop["gift"]) == 3


async def test_a_payment_delivered_twice_hands_over_one_set_of_codes(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["gift"], 1)
    placed = await place(db, 1)
    first = await pay(db, 1, placed.checkout, "charge-1")
    again = await pay(db, 1, placed.checkout, "charge-1")
    assert (first.status, again.status) == ("paid", "duplicate")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "digital_goods")))
        goods = await digital.goods_of(session, placed.orders[0].id)
    assert len(rows) == 1 and rows[0].chat_id == 1
    assert [item.codes for item in goods] == [("CODE-1",)]


async def test_goods_rendered_to_be_sent_mark_the_order_delivered_and_get_it_again_is_the_buyers_alone(db, shop):
    order_id = await bought(db, shop["ebook"], 1)
    async with db.transaction() as session:
        notice = await render_notice(session, "digital_goods", {"order_id": order_id}, NOW)
        again = await render_notice(session, "digital_goods", {"order_id": order_id}, NOW)  # a retry
    assert notice.files[0].file == "file-ebook" and again == notice
    async with db.transaction() as session:
        order = await session.get(Order, order_id)
        assert (order.status, order.delivered_at) == ("delivered", NOW)
        events = list(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("order-%"))))
        [item] = await goods_again(session, 1, order_id, NOW)
        assert (item.delivery, item.content, item.content_type) == ("file", "file-ebook", "document")
        with pytest.raises(ShopError):
            await goods_again(session, 2, order_id, NOW)
    # Delivered once: the order's events are its creation and payment, then one delivery.
    assert sum(key.endswith("-delivered") for key in events) <= 1


async def test_cancelled_before_its_codes_went_out_they_go_back_to_the_pool(db, shop):
    order_id = await bought(db, shop["gift"], 2)
    seller = Actor(ActorKind.SELLER, user_id=SELLER_OWNER)

    async with db.transaction() as session:
        await cancel(session, order_id, seller, "payment looked wrong", NOW)

    assert sorted((await codes(db, shop["gift"])).values()) == ["free"] * 5
    assert await stock_of(db, shop["gift"]) == 5
    async with db.transaction() as session:
        # The delivery still waiting in the outbox sends nothing now (the codes are back on sale)...
        assert await render_notice(session, "digital_goods", {"order_id": order_id}, NOW) is None
        refund = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "refund_stars"))
        order = await session.get(Order, order_id)
    # ... and the Stars go back at once: the order was its own payment.
    assert refund.payload["charge_id"] == "charge-1" and order.status == "cancelled"


async def test_refunded_after_its_codes_were_shown_they_are_spent_never_sold_again(db, shop):
    order_id = await bought(db, shop["gift"], 2)
    async with db.transaction() as session:
        await goods_shown(session, order_id, NOW)
        await cancel(session, order_id, Actor(ActorKind.SELLER, user_id=SELLER_OWNER), "did not work", NOW)

    pool = await codes(db, shop["gift"])
    assert pool["CODE-1"] == pool["CODE-2"] == "spent"
    assert await stock_of(db, shop["gift"]) == 3
    async with db.transaction() as session:
        order = await session.get(Order, order_id)
        assert (order.status, order.refund_status) == ("cancelled", "due")
        assert await session.scalar(select(OutboxMessage.id).where(OutboxMessage.template == "refund_stars"))


async def test_codes_shown_with_get_it_again_before_the_outbox_sent_them_count_as_shown(db, shop):
    order_id = await bought(db, shop["gift"], 1)
    async with db.transaction() as session:  # the buyer asks from /orders while the outbox is behind
        [item] = await goods_again(session, 1, order_id, NOW)
    assert item.codes == ("CODE-1",)
    async with db.transaction() as session:
        await cancel(session, order_id, Actor(ActorKind.OPERATOR, user_id=9), "refund asked", NOW)
    assert (await codes(db, shop["gift"]))["CODE-1"] == "spent"


async def test_digital_goods_of_two_shops_are_two_stars_payments_each_refunded_on_its_own(db, shop):
    async with db.transaction() as session:
        other = await make_seller(session, "Key Store")
        other.owner_user_id = 501
        keys = await make_digital(session, other, await make_category(session, "Keys"), "Antivirus Key", 700,
                                  codes=["AV-1"])
        await cart_service.add_to_cart(session, 1, shop["gift"], 1)
        await cart_service.add_to_cart(session, 1, keys.id, 1)
    placed = await place(db, 1)
    assert [(c.payment_method, c.invoice_amount) for c in placed.checkouts] == [("stars", 500), ("stars", 350)]
    for n, checkout in enumerate(placed.checkouts):
        await pay(db, 1, checkout, f"charge-{n}")
    async with db.transaction() as session:
        await cancel(session, placed.orders[1].id, Actor(ActorKind.SELLER, user_id=501), "out of licences", NOW)
        refunds = list(await session.scalars(select(OutboxMessage.payload)
                                             .where(OutboxMessage.template == "refund_stars")))
    assert [refund["charge_id"] for refund in refunds] == ["charge-1"]  # the key shop's payment alone


async def test_only_digital_orders_have_nothing_but_cancel_for_their_seller(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["gift"], 1)
        await cart_service.add_to_cart(session, 1, shop["tee"], 1)
    placed = await place(db, 1)
    await pay(db, 1, placed.checkouts[1], "charge-1")
    async with db.transaction() as session:
        tee_order, gift_order = [await session.get(Order, o.id) for o in placed.orders]
        assert allowed_actions(gift_order) == ("cancel",)
        assert allowed_actions(tee_order) == ("accept", "cancel")


def test_code_lists_are_trimmed_deduplicated_and_capped():
    assert digital.clean_codes(" A-1 \n\nA-1\r\nB 2 , C-3;A-1\nX  Y\n") == ["A-1", "B 2", "C-3", "X  Y"]
    with pytest.raises(ShopError) as caught:
        digital.clean_codes("\n".join(f"K{n}" for n in range(digital.CODES_PER_UPLOAD + 1)))
    assert caught.value.data == {"max": 1000, "given": 1001}
    with pytest.raises(ShopError):
        digital.clean_codes(" \n , ")
    with pytest.raises(ShopError) as caught:
        digital.clean_codes("GOOD-1\nBAD\x00-2")
    assert caught.value.code == "code_unprintable"
    with pytest.raises(ShopError):
        digital.clean_codes("AB\tCD")  # a tab is no part of a key: refused, not turned into a space
    with pytest.raises(ShopError):
        digital.check_file_size(0, digital.DOCUMENT)  # an empty file is no file


async def test_codes_added_again_are_not_added_twice(db, shop):
    async with db.transaction() as session:
        added = await digital.add_codes(session, shop["gift"], ["CODE-5", "CODE-6", "CODE-7"])
    assert (added.added, added.known, added.available) == (2, 1, 7)
    async with db.transaction() as session:
        with pytest.raises(ShopError):
            await digital.add_codes(session, shop["ebook"], ["X"])


async def test_a_review_drops_goods_the_shop_no_longer_takes_payment_for(db, shop):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee"], 1)
        await cart_service.add_to_cart(session, 1, shop["gift"], 1)  # added while Stars were on
    no_stars = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), digital_sold=False)
    async with db.transaction() as session:
        review = await flow.begin(session, 1, no_stars, utcnow())
    assert [line.title for line in review.cart.lines] == ["Classic Tee"]
    assert [(change.kind, change.title) for change in review.changes] == [("removed", "Gift Card")]
