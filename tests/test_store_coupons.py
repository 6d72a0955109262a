"""Discount codes in the store: what a code takes off and why it takes nothing, the rounding of its
discount over the lines, its uses held and given back, the race for the last use, and creators' codes."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store.errors import Changed, ErrorCode, InvalidInput, ShopError
from store.models import Click, Commission, Coupon, CouponUse, Creator, FlashDeal, Order, OrderLine, User, Variant
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import coupons, deals, earnings, payments, unpaid
from store.services.coupons import CouponTerms
from store.services.invoices import invoice_payload
from store.states import PaymentMethod

from .factories import make_category, make_product, make_seller, make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)
OPERATOR = 900


@pytest.fixture
async def shop(db):
    """Two shops: Tee Shop (a $19.99 tee, a $5.00 cap) and Mug Shop (a $12.00 mug); shoppers 1 and 2."""
    async with db.transaction() as session:
        tees = await make_seller(session, "Tee Shop")
        mugs = await make_seller(session, "Mug Shop")
        clothing = await make_category(session, "Clothing")
        tee = await make_product(session, tees, clothing, "Classic Tee", [("M", 1999, 50)])
        cap = await make_product(session, tees, clothing, "Cap", [("", 500, 50)])
        mug = await make_product(session, mugs, clothing, "Mug", [("", 1200, 50)])
        for user_id, name in ((1, "Ann"), (2, "Bob"), (3, "Cleo")):
            await make_user(session, user_id, name)
        variant = {p.id: await session.scalar(select(Variant.id).where(Variant.product_id == p.id))
                   for p in (tee, cap, mug)}
    return {"tees": tees.id, "mugs": mugs.id, "tee": variant[tee.id], "cap": variant[cap.id],
            "mug": variant[mug.id], "tee_product": tee.id, "cap_product": cap.id}


async def coupon(db, seller_id: int | None, code: str, **terms) -> Coupon:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await coupons.create_coupon(session, seller_id=seller_id, code=code, terms=CouponTerms(**terms),
                                           created_by=OPERATOR, now=NOW)


async def fill(db, user_id: int, *items: tuple[int, int]) -> None:
    async with db.transaction() as session:
        for variant_id, quantity in items:
            await cart_service.add_to_cart(session, user_id, variant_id, quantity)


async def priced(db, user_id: int, code: str, now: datetime = NOW) -> coupons.Discount:
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, user_id, now)
        return await coupons.price_code(session, user_id, cart, code, "USD", now)


async def place(db, user_id: int, payment: str = PaymentMethod.CARD, now: datetime = NOW) -> co.Placed:
    """Place the user's cart with the code they entered, paid by ``payment`` with standard shipping."""
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, user_id, now)
        discount, _refusal = await coupons.discount_for(session, user_id, cart, "USD", now)
        quote = co.quote(cart, await co.get_shipping(session, "standard"), "USD", RULES.stars_per_unit, discount)
        return await co.place_order(
            session, user_id, contact_name="Ann Lee", phone=None, address="1 Main St, Springfield 12345",
            shipping_code="standard", payment_method=payment, expected_total=quote.total.amount, rules=RULES,
            now=now)


async def enter(db, user_id: int, code: str) -> None:
    async with db.transaction() as session:
        await coupons.enter_code(session, user_id, code)


# --- the rounding rule ----------------------------------------------------------------------------


def test_a_discount_is_spread_in_proportion_with_the_remainder_on_the_largest_line():
    # $10.00 off lines of $19.99, $5.00 and $5.00: 666 + 166 + 166 = 998, and the 2 cents left go on the tee.
    assert coupons.allocate(1000, [1999, 500, 500]) == [668, 166, 166]
    assert coupons.allocate(0, [1999, 500]) == [0, 0]
    # The largest line cannot take the whole remainder: the next largest takes the rest; none goes below 0.
    assert coupons.allocate(10, [5, 5, 1]) == [5, 5, 0]


def test_the_parts_always_add_up_and_never_exceed_a_line():
    rng = random.Random(16)
    for _ in range(2000):
        totals = [rng.randint(1, 50_000) for _ in range(rng.randint(1, 25))]
        discount = rng.randint(0, sum(totals))
        parts = coupons.allocate(discount, totals)
        assert sum(parts) == discount
        assert all(0 <= part <= total for part, total in zip(parts, totals, strict=True))


async def test_a_percentage_rounds_half_up_and_never_takes_everything(db, shop):
    await coupon(db, shop["tees"], "HALF", percent_off=50)
    await coupon(db, shop["tees"], "ALLOFF", percent_off=100)
    await fill(db, 1, (shop["tee"], 1))
    assert (await priced(db, 1, "half")).total == 1000  # 999.5 cents, rounded half up
    assert (await priced(db, 1, "ALLOFF")).total == 1998  # one cent is always paid


# --- why a code takes nothing -----------------------------------------------------------------------


async def refusal(db, user_id: int, code: str, now: datetime = NOW) -> ShopError:
    with pytest.raises(ShopError) as refused:
        await priced(db, user_id, code, now)
    return refused.value


async def test_a_code_that_does_not_apply_says_exactly_why(db, shop):
    await fill(db, 1, (shop["cap"], 1))
    await coupon(db, shop["tees"], "SOON", percent_off=10, starts_at=NOW + timedelta(days=1))
    await coupon(db, shop["tees"], "OVER", percent_off=10, ends_at=NOW - timedelta(hours=1))
    await coupon(db, shop["tees"], "BIGSPEND", amount_off=500, min_spend=2000)
    await coupon(db, shop["tees"], "TEEONLY", percent_off=10, product_ids=(shop["tee_product"],))
    await coupon(db, shop["mugs"], "MUGS", percent_off=10)

    assert (await refusal(db, 1, "NOPE")).code == ErrorCode.COUPON_UNKNOWN
    assert (await refusal(db, 1, "SOON")).code == ErrorCode.COUPON_NOT_STARTED
    assert (await refusal(db, 1, "OVER")).code == ErrorCode.COUPON_EXPIRED
    short = await refusal(db, 1, "BIGSPEND")
    assert short.code == ErrorCode.COUPON_MIN_SPEND and short.data["missing"] == 1500
    assert (await refusal(db, 1, "TEEONLY")).code == ErrorCode.COUPON_NOT_FOR_THESE
    assert (await refusal(db, 1, "MUGS")).code == ErrorCode.COUPON_NOT_FOR_THESE
    with pytest.raises(InvalidInput) as malformed:
        await priced(db, 1, "no spaces")
    assert malformed.value.code == ErrorCode.COUPON_CODE_FORMAT


async def test_a_code_is_unique_per_shop_and_no_shop_may_take_a_platform_code(db, shop):
    await coupon(db, shop["tees"], "SUMMER10", percent_off=10)
    await coupon(db, shop["mugs"], "summer10", percent_off=15)  # another shop may have the same code
    for seller_id, code in ((shop["tees"], "Summer10"), (None, "SUMMER10")):
        with pytest.raises(InvalidInput) as taken:
            await coupon(db, seller_id, code, percent_off=5)
        assert taken.value.code == ErrorCode.COUPON_CODE_TAKEN
    await coupon(db, None, "WELCOME", amount_off=300)
    with pytest.raises(InvalidInput):
        await coupon(db, shop["tees"], "WELCOME", percent_off=5)


# --- what it takes off, and the orders -----------------------------------------------------------


async def test_a_shops_coupon_takes_off_its_own_goods_and_the_orders_add_up(db, shop):
    await coupon(db, shop["tees"], "TEES10", amount_off=1000)
    await fill(db, 1, (shop["tee"], 1), (shop["cap"], 2), (shop["mug"], 1))
    await enter(db, 1, "tees10")

    placed = await place(db, 1)

    checkout = placed.checkout
    tees, mugs = sorted(placed.orders, key=lambda order: order.seller_id != shop["tees"])
    async with db.transaction() as session:
        lines = {line.variant_id: line for line in await session.scalars(
            select(OrderLine).where(OrderLine.order_id.in_([tees.id, mugs.id])))}
    # $10.00 over the tee ($19.99) and two caps ($10.00): 666 + 333, the cent left on the tee.
    assert lines[shop["tee"]].discount == 667 and lines[shop["cap"]].discount == 333
    assert lines[shop["mug"]].discount == 0
    assert (tees.discount, tees.platform_discount, tees.coupon_code) == (1000, 0, "TEES10")
    assert (mugs.discount, mugs.coupon_code) == (0, None)
    shipping = tees.shipping_fee
    assert tees.total == 1999 + 1000 - 1000 + shipping and mugs.total == 1200 + shipping
    assert checkout.discount == 1000
    assert checkout.total == checkout.items_total - 1000 + checkout.shipping_total == tees.total + mugs.total
    assert checkout.invoice_amount == checkout.total  # the invoice asks what is left to pay


async def test_a_platform_coupon_takes_off_every_shops_goods_and_the_platform_pays_it(db, shop):
    await coupon(db, None, "WELCOME", percent_off=10)
    await fill(db, 1, (shop["tee"], 1), (shop["mug"], 1))
    await enter(db, 1, "WELCOME")

    discount = await priced(db, 1, "WELCOME")
    assert {(part.seller_name, part.amount, part.platform) for part in discount.sellers} == {
        ("Tee Shop", 200, True), ("Mug Shop", 120, True)}
    placed = await place(db, 1)
    assert sorted((order.discount, order.platform_discount) for order in placed.orders) == [(120, 120), (200, 200)]


async def test_commission_is_on_what_the_buyer_paid(db, shop):
    async with db.transaction() as session:
        creator = Creator(user_id=3, code="k7m2qx9a", status="approved", created_at=NOW)
        session.add(creator)
        await session.flush()
        creator_id = creator.id
        await cart_service.add_to_cart(session, 1, shop["tee"], 1, creator_id=creator_id)
    await coupon(db, shop["tees"], "FIVE", amount_off=500)
    await enter(db, 1, "FIVE")
    placed = await place(db, 1, PaymentMethod.COD)  # cash on delivery: the commission is recorded at once
    async with db.transaction() as session:
        commission = await session.scalar(select(Commission).where(Commission.order_id == placed.orders[0].id))
    assert (commission.sales, commission.amount) == (1499, 150)  # 10% of $14.99, rounded half up


# --- uses --------------------------------------------------------------------------------------------


async def uses_of(db, code: str) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(Coupon.uses).where(Coupon.code == code))


async def test_a_use_is_held_when_placed_and_given_back_when_every_order_of_it_ends(db, shop):
    await coupon(db, None, "ONCE", percent_off=10, max_uses=5, per_shopper=1)
    await fill(db, 1, (shop["tee"], 1), (shop["mug"], 1))
    await enter(db, 1, "ONCE")
    placed = await place(db, 1)
    assert await uses_of(db, "ONCE") == 1
    # Ann has used it: the same code again says so, by name.
    await fill(db, 1, (shop["cap"], 1))
    assert (await refusal(db, 1, "ONCE")).code == ErrorCode.COUPON_ALREADY_USED

    # The checkout is not paid in time: both orders expire, and the use comes back.
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
        use = await session.scalar(select(CouponUse))
        assert all(order.status == "expired" for order in await session.scalars(
            select(Order).where(Order.checkout_id == placed.checkout.id)))
    assert use.returned_at is not None and await uses_of(db, "ONCE") == 0
    assert (await priced(db, 1, "ONCE", NOW + timedelta(minutes=32))).total > 0  # Ann may use it again


async def expired_then_paid(db, shop, code: str, then_user: int) -> str:  # type: ignore[no-untyped-def]
    """Ann orders with ``code`` and lets it expire; ``then_user`` orders with it; Ann's payment of the expired
    order arrives after all: what became of it."""
    await fill(db, 1, (shop["tee"], 1))
    await enter(db, 1, code)
    late = await place(db, 1)
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
    await fill(db, then_user, (shop["tee"], 1))
    await enter(db, then_user, code)
    await place(db, then_user, now=NOW + timedelta(minutes=32))
    async with db.transaction() as session:
        outcome = await payments.record_payment(
            session, 1, invoice_payload(late.checkout.id), currency="USD", amount=late.checkout.invoice_amount,
            charge_id=f"late-{code}", provider_charge_id="p-1", now=NOW + timedelta(minutes=33))
    return outcome.status


async def test_a_late_payment_takes_the_use_again_or_goes_back(db, shop):
    await coupon(db, None, "LAST", percent_off=10, max_uses=1, per_shopper=None)
    # Bob takes the use that came back; Ann's payment can't be applied: it is refunded.
    assert await expired_then_paid(db, shop, "LAST", then_user=2) == "refund_due"
    assert await uses_of(db, "LAST") == 1


async def test_two_shoppers_racing_for_the_last_use_one_gets_it(db, shop):
    await coupon(db, None, "LASTONE", amount_off=300, max_uses=1, per_shopper=None)
    for user_id in (1, 2):
        await fill(db, user_id, (shop["tee"], 1))
        await enter(db, user_id, "LASTONE")
    # Both saw the discount at the confirmation; both tap Place order at once.
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, 1)
        discount = await coupons.price_code(session, 1, cart, "LASTONE", "USD", NOW)
        total = co.quote(cart, await co.get_shipping(session, "standard"), "USD", 50, discount).total.amount

    async def tap(user_id: int) -> str:
        try:
            async with db.transaction() as session:
                await co.place_order(session, user_id, contact_name="Ann Lee", phone=None,
                                     address="1 Main St, Springfield 12345", shipping_code="standard",
                                     payment_method=PaymentMethod.CARD, expected_total=total, rules=RULES, now=NOW)
            return "placed"
        except Changed as refused:
            return refused.code

    # One is placed; the other is told the code was used up (nothing placed, nothing charged).
    assert sorted(await asyncio.gather(tap(1), tap(2))) == [ErrorCode.COUPON_USED_UP, "placed"]
    assert await uses_of(db, "LASTONE") == 1
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(Order)))) == 1


# --- creators' codes -------------------------------------------------------------------------------


async def test_a_creators_code_credits_the_creator_over_an_earlier_click(db, shop):
    async with db.transaction() as session:
        anna = Creator(user_id=3, code="k7m2qx9a", status="approved", created_at=NOW)
        other = Creator(user_id=2, code="b3b3b3b3", status="approved", created_at=NOW)
        session.add_all([anna, other])
        await session.flush()
        ids = anna.id, other.id
        code = await coupons.set_creator_code(session, 3, "anna10", 10, NOW)
        assert (code.code, code.percent_off, code.scope) == ("ANNA10", 10, coupons.PLATFORM)
        # Ann opened the other creator's link before; the line is attributed to them by the click.
        session.add(Click(creator_id=other.id, product_id=None, user_id=1, created_at=NOW - timedelta(hours=1)))
        await cart_service.add_to_cart(session, 1, shop["tee"], 1, creator_id=other.id)
        await cart_service.add_to_cart(session, 1, shop["mug"], 1, creator_id=other.id)
    await enter(db, 1, "ANNA10")
    placed = await place(db, 1, PaymentMethod.COD)
    async with db.transaction() as session:
        lines = list(await session.scalars(select(OrderLine).where(
            OrderLine.order_id.in_([order.id for order in placed.orders]))))
        commissions = list(await session.scalars(select(Commission)))
        dashboard = await earnings.creator_dashboard(session, ids[0], NOW + timedelta(minutes=1), currency="USD")
    # The code took 10% off both lines and credits both to Anna, whatever was clicked before.
    assert {line.creator_id for line in lines} == {ids[0]}
    assert {c.creator_id for c in commissions} == {ids[0]}
    assert sum(line.discount for line in lines) == 200 + 120
    # Anna's /earnings shows the sales under her code, not under a link.
    assert [(c.code, c.orders, c.sales) for c in dashboard.codes] == [("ANNA10", 2, 1799 + 1080)]
    assert dashboard.links[0].orders == 0


async def test_a_creator_cannot_use_their_own_code_and_others_cannot_take_it(db, shop):
    async with db.transaction() as session:
        session.add(Creator(user_id=3, code="k7m2qx9a", status="approved", created_at=NOW))
        session.add(Creator(user_id=2, code="b3b3b3b3", status="approved", created_at=NOW))
        await session.flush()
        await coupons.set_creator_code(session, 3, "CLEO", 10, NOW)
        with pytest.raises(InvalidInput):  # a code is one creator's
            await coupons.set_creator_code(session, 2, "CLEO", 10, NOW)
    async with db.transaction() as session:
        with pytest.raises(ShopError) as pending:  # only approved creators have a code
            await coupons.set_creator_code(session, 1, "ANNIE", 10, NOW)
    assert pending.value.code == ErrorCode.CREATOR_CODE_FOR_CREATORS
    await fill(db, 3, (shop["tee"], 1))
    assert (await refusal(db, 3, "CLEO")).code == ErrorCode.COUPON_OWN_CODE
    async with db.transaction() as session:
        assert (await session.get(User, 3)).promo_code is None


# --- with a flash deal ---------------------------------------------------------------------------


async def test_a_code_comes_off_the_flash_deal_price_and_the_deal_unit_is_held(db, shop):
    async with db.transaction() as session:
        # The tee has cost $19.99 for 40 days; its deal runs for an hour, two units at $14.99.
        await deals.record_price(session, shop["tee"], 1999, NOW - timedelta(days=40))
        await deals.schedule(session, shop["tees"], shop["tee"], price=1499, starts_at=NOW,
                             ends_at=NOW + timedelta(hours=1), cap=2, now=NOW, currency="USD")
    await coupon(db, None, "EXTRA10", percent_off=10)
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["tee"], 1, now=NOW)
    await enter(db, 1, "EXTRA10")

    placed = await place(db, 1)

    async with db.transaction() as session:
        line = await session.scalar(select(OrderLine).where(OrderLine.order_id == placed.orders[0].id))
        deal = await session.scalar(select(FlashDeal))
    assert (line.unit_price, line.discount, line.deal_id) == (1499, 150, deal.id)  # 10% of the deal price
    assert deal.sold == 1
    assert placed.orders[0].total == 1499 - 150 + placed.orders[0].shipping_fee
    # The order expires unpaid: its unit goes back to the deal, its use to the code.
    async with db.transaction() as session:
        await unpaid.expire_checkouts(session, NOW + timedelta(minutes=31))
    async with db.transaction() as session:
        assert (await session.get(FlashDeal, deal.id, populate_existing=True)).sold == 0
    assert await uses_of(db, "EXTRA10") == 0


# --- what the hostile run found ------------------------------------------------------------------


async def test_every_order_pays_something_however_big_the_code(db, shop):
    await coupon(db, None, "FREEALL", percent_off=100)
    await coupon(db, None, "HUGE", amount_off=100_000)
    await fill(db, 1, (shop["tee"], 1), (shop["cap"], 1), (shop["mug"], 1))
    for code in ("FREEALL", "HUGE"):
        discount = await priced(db, 1, code)
        # Each shop's order keeps one cent to pay: $24.99 -> $0.01, $12.00 -> $0.01.
        assert {part.seller_name: part.amount for part in discount.sellers} == {"Tee Shop": 2498, "Mug Shop": 1199}
        assert discount.total == sum(discount.lines.values())
    await enter(db, 1, "FREEALL")
    placed = await place(db, 1)
    assert all(order.items_total - order.discount == 1 for order in placed.orders)


async def test_a_code_is_kept_while_another_shops_coupon_of_it_may_still_apply(db, shop):
    await coupon(db, shop["tees"], "SAVE5", amount_off=500, ends_at=NOW - timedelta(days=1))
    await coupon(db, shop["mugs"], "SAVE5", amount_off=500)
    await fill(db, 1, (shop["tee"], 1))
    await enter(db, 1, "SAVE5")
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, 1, NOW)
        discount, refusal = await coupons.discount_for(session, 1, cart, "USD", NOW)
    # Not for a tee (Tee Shop's has expired), but Mug Shop's still is: the code stays for when a mug is added.
    assert discount.total == 0 and refusal.code == ErrorCode.COUPON_NOT_FOR_THESE
    await fill(db, 1, (shop["mug"], 1))
    async with db.transaction() as session:
        cart = await cart_service.get_cart(session, 1, NOW)
        discount, refusal = await coupons.discount_for(session, 1, cart, "USD", NOW)
    assert discount.total == 500 and refusal is None


async def test_a_late_payment_does_not_let_a_once_per_shopper_code_be_used_twice(db, shop):
    await coupon(db, None, "HALFONCE", percent_off=50, per_shopper=1)
    # The use came back; Ann uses the code again, then pays the first, expired, order after all.
    assert await expired_then_paid(db, shop, "HALFONCE", then_user=1) == "refund_due"
    async with db.transaction() as session:
        held = list(await session.scalars(select(CouponUse).where(CouponUse.returned_at.is_(None))))
    assert len(held) == 1


async def test_a_creator_may_go_back_to_a_code_of_theirs(db, shop):
    async with db.transaction() as session:
        session.add(Creator(user_id=3, code="k7m2qx9a", status="approved", created_at=NOW))
        await session.flush()
        first = await coupons.set_creator_code(session, 3, "CLEO10", 10, NOW)
        await coupons.set_creator_code(session, 3, "CLEO15", 15, NOW)
        again = await coupons.set_creator_code(session, 3, "cleo10", 12, NOW)
        assert (again.id, again.active, again.percent_off) == (first.id, True, 12)
        assert [c.code for c in await session.scalars(select(Coupon).where(Coupon.active.is_(True)))] == ["CLEO10"]
