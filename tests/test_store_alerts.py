"""Shopper alerts in the store: the wishlist, back-in-stock requests told once whatever brought the stock
back, price drops told once per drop and at most once a day, and the kinds a shopper turned off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from store.errors import ErrorCode, ShopError
from store.models import OutboxMessage, SavedItem, Seller, StockAlert, User, Variant
from store.services import alerts, deals
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import seller_catalog as catalog
from store.services.creators import card_viewer
from store.services.fulfilment import Actor, cancel
from store.states import ActorKind, AlertKind, Notice, PaymentMethod

from .factories import make_category, make_product, make_seller, make_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)


@pytest.fixture
async def shop(db):
    """A tee at 20.00 (M: 5 left, L: sold out) and a mug at 9.00; Ann (1) and Bob (2) shop."""
    async with db.transaction() as session:
        seller = await make_seller(session, "Tee Shop")
        clothing = await make_category(session, "Clothing")
        tee = await make_product(session, seller, clothing, "Classic Tee", [("M", 2000, 5), ("L", 2000, 0)])
        mug = await make_product(session, seller, clothing, "Café Mug", [("", 900, 10)])
        m, large = (await session.scalars(select(Variant.id).where(Variant.product_id == tee.id)
                                          .order_by(Variant.position))).all()
        mug_variant = await session.scalar(select(Variant.id).where(Variant.product_id == mug.id))
        await make_user(session, 1)
        await make_user(session, 2, "Bob")
    return SimpleNamespace(seller=seller.id, tee=tee.id, m=m, large=large, mug=mug.id, mug_variant=mug_variant)


async def notices(db, template: Notice, chat_id: int | None = None) -> list[OutboxMessage]:
    """The outbox messages of one kind (to one chat), oldest first."""
    async with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        return list(await session.scalars(query))


async def set_price(db, shop, variant: int, price: int, product: int | None = None) -> None:
    """The seller changes a price in the chat."""
    async with db.transaction() as session:
        await catalog.update_variant(session, shop.seller, product or shop.tee, variant, price=price)


async def set_stock(db, shop, variant: int, stock: int) -> None:
    """The seller changes a stock in the chat."""
    async with db.transaction() as session:
        await catalog.update_variant(session, shop.seller, shop.tee, variant, stock=stock)


async def run_restock_job(db, now: datetime = NOW) -> int:
    async with db.transaction() as session:
        return await alerts.tell_restocked(session, now, "USD")


async def run_price_job(db, now: datetime = NOW) -> int:
    async with db.transaction() as session:
        return await alerts.tell_price_drops(session, now, "USD")


# --- the wishlist ---------------------------------------------------------------------------------------


async def test_a_saved_product_keeps_the_price_seen_and_the_list_pages_newest_first(db, shop):
    # Ann saves the tee while a flash deal makes its M 15.00: that is the price she saw.
    async with db.transaction() as session:
        await deals.schedule(session, shop.seller, shop.m, price=1500, starts_at=NOW, ends_at=NOW + timedelta(hours=5),
                             cap=None, now=NOW, currency="USD")
        await alerts.save(session, 1, shop.tee, NOW)
        await alerts.save(session, 1, shop.tee, NOW)  # twice: still once
        await alerts.save(session, 1, shop.mug, NOW + timedelta(minutes=1))
        assert (await session.get(SavedItem, (1, shop.tee))).price_seen == 1500
        first = await alerts.saved_page(session, 1, 0, NOW, size=1)
        assert [e.title for e in first.entries] == ["Café Mug"] and (first.pages, first.total) == (2, 2)
        # A page past the end (after a removal) shows the last page.
        assert [e.title for e in (await alerts.saved_page(session, 1, 5, NOW, size=1)).entries] == ["Classic Tee"]
        # The card knows it is saved; Bob's does not.
        assert (await card_viewer(session, 1, shop.tee)).saved
        assert not (await card_viewer(session, 2, shop.tee)).saved


async def test_paused_and_sold_out_products_show_as_such_removed_ones_not_at_all(db, shop):
    async with db.transaction() as session:
        await alerts.save(session, 1, shop.tee, NOW)
        await alerts.save(session, 1, shop.mug, NOW)
        await catalog.update_variant(session, shop.seller, shop.mug, shop.mug_variant, stock=0)
        await catalog.set_status(session, shop.seller, shop.tee, "paused")
        page = await alerts.saved_page(session, 1, 0, NOW)
        assert {(e.title, e.status, e.in_stock) for e in page.entries} == {
            ("Classic Tee", "paused", True), ("Café Mug", "active", False)}
        await catalog.set_status(session, shop.seller, shop.tee, "removed")
        page = await alerts.saved_page(session, 1, 0, NOW)
        assert [e.title for e in page.entries] == ["Café Mug"] and page.total == 1
        # A product not on sale can't be saved; taking one off the list twice is harmless.
        with pytest.raises(ShopError) as refused:
            await alerts.save(session, 2, shop.tee, NOW)
        assert refused.value.code == ErrorCode.PRODUCT_GONE
        await alerts.unsave(session, 1, shop.mug)
        await alerts.unsave(session, 1, shop.mug)
        assert (await alerts.saved_page(session, 1, 0, NOW)).total == 0


# --- back in stock ---------------------------------------------------------------------------------------


async def test_back_in_stock_is_told_once_and_the_request_goes(db, shop):
    # Ann asks about the sold-out L (twice: one request); asking about the M in stock is refused.
    async with db.transaction() as session:
        await alerts.watch(session, 1, shop.tee, shop.large, NOW)
        await alerts.watch(session, 1, shop.tee, shop.large, NOW)
        with pytest.raises(ShopError) as refused:
            await alerts.watch(session, 1, shop.tee, shop.m, NOW)
        assert refused.value.code == ErrorCode.OPTION_IN_STOCK
        assert (await card_viewer(session, 1, shop.tee)).waiting == frozenset({shop.large})
    # Nothing yet: the L is still sold out.
    assert await run_restock_job(db) == 0
    # The seller restocks it: one message, with the product to open, and the request is gone.
    await set_stock(db, shop, shop.large, 3)
    await run_restock_job(db)
    told = await notices(db, Notice.BACK_IN_STOCK, 1)
    assert len(told) == 1 and told[0].payload["product_id"] == shop.tee
    assert told[0].payload["variant_id"] == shop.large
    await run_restock_job(db, NOW + timedelta(minutes=1))
    assert len(await notices(db, Notice.BACK_IN_STOCK)) == 1
    async with db.read() as session:
        assert await session.scalar(select(StockAlert)) is None
        assert (await card_viewer(session, 1, shop.tee)).waiting == frozenset()


async def test_a_restock_by_a_cancelled_order_is_caught(db, shop):
    # Bob orders all five M; Ann asks to be told when the M is back.
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 2, shop.m, 5)
        cart = await cart_service.get_cart(session, 2)
        quote = co.quote(cart, await co.get_shipping(session, "standard"), "USD")
        placed = await co.place_order(session, 2, contact_name="Bob Lee", phone="+12025550143",
                                      address="1 Main St, Springfield 12345", shipping_code="standard",
                                      payment_method=PaymentMethod.COD, expected_total=quote.total.amount,
                                      rules=RULES, now=NOW)
    async with db.transaction() as session:
        await alerts.watch(session, 1, shop.tee, shop.m, NOW)
    # The seller cancels Bob's order: the stock is back, and so is the news, without the cancel knowing.
    async with db.transaction() as session:
        await cancel(session, placed.orders[0].id, Actor(ActorKind.API, seller_id=shop.seller), "out of ink", NOW)
    await run_restock_job(db)
    assert [n.chat_id for n in await notices(db, Notice.BACK_IN_STOCK)] == [1]


async def test_muted_or_blocked_shoppers_are_not_told_and_their_requests_go(db, shop):
    async with db.transaction() as session:
        await make_user(session, 3, "Cy")
        for user in (1, 2, 3):
            await alerts.watch(session, user, shop.tee, shop.large, NOW)
        await alerts.set_muted(session, 1, AlertKind.BACK_IN_STOCK, True, NOW)
        await session.execute(update(User).where(User.id == 2).values(blocked_at=NOW))
        # Muted, a new request is refused with the way to turn the kind on again.
        with pytest.raises(ShopError) as refused:
            await alerts.watch(session, 1, shop.tee, shop.large, NOW)
        assert refused.value.code == ErrorCode.RESTOCK_ALERTS_OFF
    await set_stock(db, shop, shop.large, 1)
    await run_restock_job(db)
    assert [n.chat_id for n in await notices(db, Notice.BACK_IN_STOCK)] == [3]
    async with db.read() as session:
        assert await session.scalar(select(StockAlert)) is None


# --- price drops ------------------------------------------------------------------------------------------


async def test_a_drop_is_told_once_and_only_below_the_price_seen(db, shop):
    async with db.transaction() as session:
        await alerts.save(session, 1, shop.tee, NOW)
    # Up first: no news. Back to 20.00: not below what Ann saw.
    await set_price(db, shop, shop.m, 2500)
    await set_price(db, shop, shop.large, 2500)
    await run_price_job(db)
    await set_price(db, shop, shop.m, 2000)
    await run_price_job(db)
    assert await notices(db, Notice.PRICE_DROP) == []
    # 18.00: one message naming the tee at 18.00, was 20.00; the job again says nothing.
    await set_price(db, shop, shop.m, 1800)
    await run_price_job(db)
    await run_price_job(db, NOW + timedelta(days=2))
    told = await notices(db, Notice.PRICE_DROP, 1)
    assert len(told) == 1
    assert told[0].payload["items"] == [{"product_id": shop.tee, "price": 1800, "was": 2000}]
    # It rises to 30.00 and falls to 19.00: above the 18.00 told, so no news; then 17.00 is a new drop.
    later = NOW + timedelta(days=3)
    await set_price(db, shop, shop.m, 3000)
    await set_price(db, shop, shop.m, 1900)
    await run_price_job(db, later)
    assert len(await notices(db, Notice.PRICE_DROP)) == 1
    await set_price(db, shop, shop.m, 1700)
    await run_price_job(db, later)
    assert [n.payload["items"][0]["price"] for n in await notices(db, Notice.PRICE_DROP)] == [1800, 1700]


async def test_two_drops_in_one_day_give_one_message_the_next_day_the_next(db, shop):
    async with db.transaction() as session:
        await alerts.save(session, 1, shop.tee, NOW)
        await alerts.save(session, 1, shop.mug, NOW)
    await set_price(db, shop, shop.m, 1800)
    await set_price(db, shop, shop.mug_variant, 800, product=shop.mug)
    await run_price_job(db)
    # Both products in one message.
    [first] = await notices(db, Notice.PRICE_DROP, 1)
    assert {item["product_id"] for item in first.payload["items"]} == {shop.tee, shop.mug}
    # A second drop the same day waits for the next day.
    await set_price(db, shop, shop.m, 1500)
    await run_price_job(db, NOW + timedelta(hours=23))
    assert len(await notices(db, Notice.PRICE_DROP)) == 1
    await run_price_job(db, NOW + timedelta(days=1))
    told = await notices(db, Notice.PRICE_DROP, 1)
    assert len(told) == 2 and told[1].payload["items"] == [{"product_id": shop.tee, "price": 1500, "was": 1800}]


async def test_a_flash_deal_is_a_drop(db, shop):
    async with db.transaction() as session:
        await alerts.save(session, 1, shop.tee, NOW)
        await deals.schedule(session, shop.seller, shop.large, price=1200, starts_at=NOW,
                             ends_at=NOW + timedelta(hours=5), cap=None, now=NOW, currency="USD")
    await run_price_job(db)
    [told] = await notices(db, Notice.PRICE_DROP, 1)
    assert told.payload["items"] == [{"product_id": shop.tee, "price": 1200, "was": 2000}]


async def test_muted_price_drops_are_not_sent_and_muting_is_per_kind(db, shop):
    async with db.transaction() as session:
        await alerts.save(session, 1, shop.tee, NOW)
        await alerts.save(session, 2, shop.tee, NOW)
        assert await alerts.set_muted(session, 1, AlertKind.PRICE_DROPS, True, NOW) == {AlertKind.PRICE_DROPS}
        await alerts.set_muted(session, 1, AlertKind.PRICE_DROPS, True, NOW)  # twice: still off
        assert await alerts.set_muted(session, 2, AlertKind.REVIEW_REQUESTS, True, NOW) == {AlertKind.REVIEW_REQUESTS}
        assert await alerts.is_muted(session, 2, AlertKind.REVIEW_REQUESTS)
    await set_price(db, shop, shop.m, 1800)
    await run_price_job(db)
    assert [n.chat_id for n in await notices(db, Notice.PRICE_DROP)] == [2]
    # Turned on again, the drop is told.
    async with db.transaction() as session:
        assert await alerts.set_muted(session, 1, AlertKind.PRICE_DROPS, False, NOW) == set()
    await run_price_job(db)
    assert [n.chat_id for n in await notices(db, Notice.PRICE_DROP)] == [2, 1]


async def test_a_long_list_of_drops_names_the_first_and_counts_the_rest(db, shop):
    async with db.transaction() as session:
        seller = await session.get(Seller, shop.seller)
        category = await make_category(session, "Bulk")
        ids = []
        for number in range(alerts.DROP_LISTED + 3):
            product = await make_product(session, seller, category, f"Thing {number}", [("", 1000, 1)])
            ids.append(product.id)
            await alerts.save(session, 1, product.id, NOW)
        variants = dict((await session.execute(select(Variant.product_id, Variant.id)
                                               .where(Variant.product_id.in_(ids)))).all())
    for product_id in ids:
        await set_price(db, shop, variants[product_id], 900, product=product_id)
    assert await run_price_job(db) == 1
    [told] = await notices(db, Notice.PRICE_DROP, 1)
    assert len(told.payload["items"]) == alerts.DROP_LISTED and told.payload["more"] == 3
