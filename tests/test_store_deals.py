"""Flash deals in the store: honest against the price history, at most 72 hours, one at a time, the seller's
own; the deal price in the cart while it lasts; its cap held by one buyer of two racing; units given back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from store.errors import Changed, ErrorCode, ShopError
from store.models import DealReminder, FlashDeal, OutboxMessage, PriceChange, Variant
from store.services import cart as cart_service
from store.services import deals
from store.services import seller_catalog as catalog
from store.states import Notice

from .factories import make_category, make_product, make_seller, make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
async def shop(db):
    """A lamp at 50.00, whose price history says: 35.00 40 days ago (a sale that ended 35 days ago), 45.00
    from 20 days ago (another), 50.00 again from 10 days ago. Two sellers, two shoppers."""
    async with db.transaction() as session:
        seller = await make_seller(session, "Lamp Shop")
        other = await make_seller(session, "Other Shop")
        home = await make_category(session, "Home")
        lamp = await make_product(session, seller, home, "Desk Lamp", [("", 5000, 10)])
        variant = await session.scalar(select(Variant).where(Variant.product_id == lamp.id))
        for days, price in ((40, 3500), (35, 5000), (20, 4500), (10, 5000)):
            await deals.record_price(session, variant.id, price, NOW - timedelta(days=days))
        await make_user(session, 1)
        await make_user(session, 2, "Bob")
    return SimpleNamespace(seller=seller.id, other=other.id, variant=variant.id, product=lamp.id)


async def schedule(db, shop, price: int, start: datetime = NOW, hours: float = 24, cap: int | None = None,
                   seller: int | None = None) -> deals.DealView:
    """The seller schedules a deal on the lamp."""
    async with db.transaction() as session:
        return await deals.schedule(session, seller or shop.seller, shop.variant, price=price, starts_at=start,
                                    ends_at=start + timedelta(hours=hours), cap=cap, now=NOW, currency="USD")


async def test_the_deal_must_beat_the_lowest_price_of_the_30_days_before_it(db, shop):
    # 35.00 was more than 30 days ago: it does not count. The lowest within the 30 days is 45.00
    # (20 days ago), so 46.00 is not a deal although it is below today's 50.00.
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 4600)
    assert refused.value.code == ErrorCode.DEAL_NOT_LOWER and refused.value.data["lowest"] == 4500
    with pytest.raises(ShopError):
        await schedule(db, shop, 4500)
    # A deal starting 25 days from now: the 45.00 sale ended 10 days ago, 35 days before it; the price in
    # effect when its 30 days begin (50.00) is the lowest.
    later = await schedule(db, shop, 4900, start=NOW + timedelta(days=25))
    assert later.price == 4900 and not later.live(NOW)
    # The price in effect when the 30 days begin counts too: for a start 9 days ago, the 35.00 of 39 days ago.
    async with db.transaction() as session:
        assert await deals.lowest_price(session, shop.variant, NOW - timedelta(days=9)) == 3500
    deal = await schedule(db, shop, 4499)
    assert deal.live(NOW) and deal.regular_price == 5000


async def test_a_price_change_is_recorded_only_when_the_price_changes(db, shop):
    async with db.transaction() as session:
        await catalog.update_variant(session, shop.seller, shop.product, shop.variant, price=5000)  # the same
        await catalog.update_variant(session, shop.seller, shop.product, shop.variant, price=3900)
        prices = list(await session.scalars(select(PriceChange.price).where(PriceChange.variant_id == shop.variant)
                                            .order_by(PriceChange.changed_at)))
    assert prices == [3500, 5000, 4500, 5000, 3900]


async def test_a_deal_lasts_at_most_72_hours_after_its_start_and_not_from_the_past(db, shop):
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 4000, hours=72.5)
    assert refused.value.code == ErrorCode.DEAL_TOO_LONG and refused.value.data["hours"] == 72
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 4000, hours=0)
    assert refused.value.code == ErrorCode.DEAL_ENDS_BEFORE_START
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 4000, start=NOW - timedelta(minutes=5))
    assert refused.value.code == ErrorCode.DEAL_STARTS_IN_PAST
    assert (await schedule(db, shop, 4000, start=NOW - timedelta(seconds=30), hours=72)).ends_at == \
        NOW - timedelta(seconds=30) + timedelta(hours=72)


async def test_one_deal_at_a_time_on_a_variant_and_only_its_seller_schedules_or_cancels_it(db, shop):
    first = await schedule(db, shop, 4000, hours=10)
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 3900, start=NOW + timedelta(hours=9))
    assert refused.value.code == ErrorCode.DEAL_OVERLAPS
    after = await schedule(db, shop, 3900, start=NOW + timedelta(hours=10), hours=5)  # right after it: fine
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 3000, seller=shop.other, start=NOW + timedelta(days=5))
    assert refused.value.code == ErrorCode.PRODUCT_NOT_YOURS
    # Someone else can't call it off; its seller can, and then the time is free again.
    async with db.transaction() as session:
        with pytest.raises(ShopError):
            await deals.cancel(session, shop.other, after.id, NOW)
        await deals.cancel(session, shop.seller, after.id, NOW)
    assert (await schedule(db, shop, 3800, start=NOW + timedelta(hours=11), hours=2)).price == 3800
    assert first.live(NOW)


async def test_the_cart_has_the_deal_price_while_it_lasts_and_not_after(db, shop):
    deal = await schedule(db, shop, 3999, start=NOW + timedelta(hours=1), hours=2)
    async with db.transaction() as session:
        before = await cart_service.add_to_cart(session, 1, shop.variant, 2, now=NOW)
        assert (before.cart.lines[0].unit_price, before.cart.lines[0].deal_id) == (5000, None)
        during = await cart_service.get_cart(session, 1, NOW + timedelta(hours=2))
        assert (during.lines[0].unit_price, during.lines[0].deal_id) == (3999, deal.id)
        item = await cart_service.one_item(session, shop.variant, now=NOW + timedelta(hours=2))
        assert (item.lines[0].unit_price, item.lines[0].seen_price, item.lines[0].deal_id) == (3999, 3999, deal.id)
        after = await cart_service.get_cart(session, 1, NOW + timedelta(hours=3))
        assert (after.lines[0].unit_price, after.lines[0].deal_id) == (5000, None)


async def test_a_capped_deal_is_the_price_of_as_many_units_as_are_left(db, shop):
    deal = await schedule(db, shop, 3999, cap=1)
    async with db.transaction() as session:
        two = await cart_service.add_to_cart(session, 1, shop.variant, 2, now=NOW)
        assert two.cart.lines[0].unit_price == 5000  # the cap is one unit: two are at the usual price
        one = await cart_service.add_to_cart(session, 2, shop.variant, 1, now=NOW)
        assert (one.cart.lines[0].unit_price, one.cart.lines[0].seen_price) == (3999, 3999)
        assert one.cart.lines[0].deal_id == deal.id


async def test_two_buyers_race_for_the_last_unit_at_the_deal_price_and_one_gets_it(db, shop):
    await schedule(db, shop, 3999, cap=1)
    async with db.transaction() as session:
        for buyer in (1, 2):
            await cart_service.add_to_cart(session, buyer, shop.variant, 1, now=NOW)

    async def buy(buyer: int) -> str:
        """Place the order at the price the buyer saw: the deal's unit is held, or the price has changed (the
        deal used up by the other buyer before this cart was read, or while this one was placing)."""
        try:
            async with db.transaction() as session:
                line = (await cart_service.get_cart(session, buyer, NOW)).lines[0]
                if line.unit_price != line.seen_price:
                    raise Changed(ErrorCode.PRICES_CHANGED)
                await deals.claim(session, (line,), NOW)
        except Changed:
            return "price changed"
        return "deal"

    outcomes = await asyncio.gather(buy(1), buy(2))
    assert sorted(outcomes) == ["deal", "price changed"]
    async with db.read() as session:
        deal = await session.scalar(select(FlashDeal))
        assert deal.sold == 1
        # Whoever lost sees the usual price now.
        loser = outcomes.index("price changed") + 1
        assert (await cart_service.get_cart(session, loser, NOW)).lines[0].unit_price == 5000


async def test_an_order_that_expires_gives_its_deal_units_back(db, shop):
    deal = await schedule(db, shop, 3999, cap=2)
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop.variant, 2, now=NOW)
        cart = await cart_service.get_cart(session, 1, NOW)
        await deals.claim(session, cart.lines, NOW)
    async with db.read() as session:
        assert (await session.get(FlashDeal, deal.id)).sold == 2
        assert await deals.live_for(session, [shop.variant], NOW) == {}  # used up: no longer live
    order = SimpleNamespace(lines=[SimpleNamespace(deal_id=deal.id, quantity=2)])
    async with db.transaction() as session:
        await deals.give_back(session, order)
    async with db.read() as session:
        assert (await session.get(FlashDeal, deal.id)).sold == 0
        assert deals.LiveDeal(deal.id, shop.variant, 3999, deal.ends_at, 2) == (
            await deals.live_for(session, [shop.variant], NOW))[shop.variant]


async def test_a_reminder_is_set_once_for_a_deal_to_come_and_sent_once_it_starts(db, shop):
    deal = await schedule(db, shop, 3999, start=NOW + timedelta(hours=2))
    async with db.transaction() as session:
        await deals.remind(session, deal.id, 1, NOW)
        with pytest.raises(ShopError) as refused:
            await deals.remind(session, deal.id, 1, NOW)
        assert refused.value.code == ErrorCode.DEAL_REMINDER_SET
        # Nothing to tell before it starts.
        assert await deals.announce_started(session, NOW + timedelta(hours=1), "USD") == 0
    async with db.transaction() as session:
        assert await deals.announce_started(session, NOW + timedelta(hours=2), "USD") == 1
        with pytest.raises(ShopError) as refused:
            await deals.remind(session, deal.id, 2, NOW + timedelta(hours=2))
        assert refused.value.code == ErrorCode.DEAL_NOT_UPCOMING
    async with db.transaction() as session:
        assert await deals.announce_started(session, NOW + timedelta(hours=3), "USD") == 0  # once
        sent = list(await session.scalars(select(OutboxMessage)))
        assert [(m.template, m.chat_id, m.payload) for m in sent] == [
            (Notice.DEAL_STARTED, 1, {"deal_id": deal.id, "currency": "USD"})]
        assert await session.scalar(select(DealReminder.user_id)) == 1


async def test_deals_lists_live_then_upcoming_deals(db, shop):
    async with db.transaction() as session:
        seller = await make_seller(session, "Mug Shop")
        home = await make_category(session, "Kitchen")
        mug = await make_product(session, seller, home, "Mug", [("", 1200, 5)])
        mug_variant = await session.scalar(select(Variant.id).where(Variant.product_id == mug.id))
        await deals.schedule(session, seller.id, mug_variant, price=900, starts_at=NOW + timedelta(days=1),
                             ends_at=NOW + timedelta(days=2), cap=None, now=NOW, currency="USD")
    await schedule(db, shop, 3999)
    async with db.read() as session:
        listed = await deals.listing(session, NOW)
    assert [(d.title, d.live(NOW)) for d in listed] == [("Desk Lamp", True), ("Mug", False)]


async def test_a_deal_starts_at_most_30_days_ahead_and_is_never_dearer_than_the_price_now(db, shop):
    with pytest.raises(ShopError) as refused:
        await schedule(db, shop, 4400, start=NOW + timedelta(days=31))
    assert refused.value.code == ErrorCode.DEAL_STARTS_TOO_LATE and refused.value.data["days"] == 30
    await schedule(db, shop, 4400)
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop.variant, 1, now=NOW)
        assert (await cart_service.get_cart(session, 1, NOW)).lines[0].unit_price == 4400
        # The seller lowers the lamp's own price below the deal's: the shopper pays the lower one, and no
        # deal is shown or held for it.
        await session.execute(update(Variant).where(Variant.id == shop.variant).values(price=3900))
        line = (await cart_service.get_cart(session, 1, NOW)).lines[0]
        assert (line.unit_price, line.deal_id) == (3900, None)
        assert await deals.live_for(session, [shop.variant], NOW) == {}
