"""Carts and catalog reads in the store: stock limits, ownership, search freshness, demo catalog."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from store.demo import load_demo_catalog
from store.errors import ErrorCode, Expired, NotFound, ShopError
from store.models import CartLine, Creator, Product, Variant, utcnow
from store.services import cart as cart_service
from store.services import creators
from store.services.catalog import category_page, get_product, list_categories, touch_products
from store.services.links import Link
from store.services.orders import release_stock, reserve_stock
from store.services.search import CatalogSearch
from store.states import CartAction, ProductStatus

from .factories import make_category, make_product, make_seller, make_user


@pytest.fixture
async def tee(db):
    """A tee in M (3 left) and L (sold out), and two shoppers."""
    async with db.transaction() as session:
        product = await make_product(session, await make_seller(session), await make_category(session),
                                     "Classic Tee", [("M", 1999, 3), ("L", 1999, 0)])
        await make_user(session, 1)
        await make_user(session, 2, "Bob")
        m, large = (await session.scalars(select(Variant.id).where(Variant.product_id == product.id)
                                      .order_by(Variant.position))).all()
    return {"product": product.id, "m": m, "l": large}


async def test_adding_is_limited_by_stock_and_merges_lines(db, tee):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, tee["m"])
        change = await cart_service.add_to_cart(session, 1, tee["m"], 2)
    assert [(line.quantity, line.label) for line in change.cart.lines] == [(3, "M")]

    for variant, code, data in [(tee["m"], ErrorCode.STOCK_SHORT_WITH_CART, {"stock": 3, "in_cart": 3}),
                                (tee["l"], ErrorCode.OPTION_SOLD_OUT, {})]:
        with pytest.raises(ShopError) as refused:
            async with db.transaction() as session:
                await cart_service.add_to_cart(session, 1, variant)
        assert (refused.value.code, refused.value.data) == (code, data)
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await cart_service.add_to_cart(session, 1, 999_999)
    for quantity in (0, -1, 100):
        with pytest.raises(ShopError):
            async with db.transaction() as session:
                await cart_service.add_to_cart(session, 1, tee["m"], quantity)
    async with db.transaction() as session:
        assert (await cart_service.get_cart(session, 1)).count == 3


async def test_line_buttons_stay_between_one_and_stock(db, tee):
    async with db.transaction() as session:
        change = await cart_service.add_to_cart(session, 1, tee["m"], 2)
    line_id = change.cart.lines[0].id

    async with db.transaction() as session:
        change = await cart_service.change_line(session, 1, line_id, CartAction.INCREASE)
    assert change.cart.lines[0].quantity == 3
    with pytest.raises(ShopError) as refused:
        async with db.transaction() as session:
            await cart_service.change_line(session, 1, line_id, CartAction.INCREASE)
    assert (refused.value.code, refused.value.data) == (ErrorCode.STOCK_SHORT, {"stock": 3})
    for _ in range(2):
        async with db.transaction() as session:
            change = await cart_service.change_line(session, 1, line_id, CartAction.DECREASE)
    assert change.cart.lines[0].quantity == 1
    with pytest.raises(ShopError) as refused:
        async with db.transaction() as session:
            await cart_service.change_line(session, 1, line_id, CartAction.DECREASE)
    assert refused.value.code == ErrorCode.QUANTITY_MINIMUM
    async with db.transaction() as session:
        assert (await cart_service.get_cart(session, 1)).count == 1


async def test_someone_elses_line_is_refused_and_untouched(db, tee):
    async with db.transaction() as session:
        change = await cart_service.add_to_cart(session, 1, tee["m"], 2)
    line_id = change.cart.lines[0].id

    for action in (CartAction.REMOVE, CartAction.INCREASE, CartAction.DECREASE, "bogus"):
        with pytest.raises(Expired):
            async with db.transaction() as session:
                await cart_service.change_line(session, 2, line_id, action)
    async with db.transaction() as session:
        assert await session.scalar(select(CartLine.quantity).where(CartLine.id == line_id)) == 2
        change = await cart_service.change_line(session, 1, line_id, CartAction.REMOVE)
    assert change.cart.lines == ()


async def test_paused_products_leave_the_shop_but_stay_visible_in_carts(db, tee):
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, tee["m"])
        product = await session.get(Product, tee["product"])
        product.status = ProductStatus.PAUSED
    async with db.transaction() as session:
        assert await get_product(session, tee["product"]) is None
        cart = await cart_service.get_cart(session, 1)
        assert cart.lines[0].available is False
        assert await list_categories(session) == []


async def test_search_index_follows_catalog_changes_without_restart(db, tee):
    search = CatalogSearch(refresh_interval=0)
    async with db.transaction() as session:
        assert (await search.search(session, "clasic tee")).product_ids == (tee["product"],)

    # The seller renames the product and adds a new one; another pauses the tee.
    async with db.transaction() as session:
        product = await session.get(Product, tee["product"])
        product.title = "Vintage Tee"
        await touch_products(session, [product.id])
        seller = await make_seller(session, "Hat Co")
        hat = await make_product(session, seller, await make_category(session, "Hats"), "Wool Beanie",
                                 [("", 1500, 4)])
    async with db.transaction() as session:
        assert (await search.search(session, "vintge tee")).product_ids == (tee["product"],)
        assert (await search.search(session, "beanie")).product_ids == (hat.id,)

    async with db.transaction() as session:
        product = await session.get(Product, tee["product"])
        product.status = "removed"
        await touch_products(session, [product.id])
    async with db.transaction() as session:
        result = await search.search(session, "vintage tee")
    assert tee["product"] not in result.product_ids


async def test_product_cards_show_live_stock_and_follow_catalog_changes(db, tee):
    search = CatalogSearch(refresh_interval=0)
    async with db.transaction() as session:
        card = await search.product(session, tee["product"])
    assert (card.title, [(v.label, v.price, v.stock) for v in card.variants]) == \
        ("Classic Tee", [("M", 1999, 3), ("L", 1999, 0)])

    # An order takes two tees and the price drops, with no new catalog version: the next card says so.
    async with db.transaction() as session:
        await session.execute(update(Variant).where(Variant.id == tee["m"]).values(stock=1, price=1799))
    async with db.transaction() as session:
        card = await search.product(session, tee["product"])
    assert [(v.label, v.price, v.stock) for v in card.variants] == [("M", 1799, 1), ("L", 1999, 0)]

    # A rename and a new size (a catalog change) show on the next card; a paused product shows none.
    async with db.transaction() as session:
        product = await session.get(Product, tee["product"])
        product.title = "Vintage Tee"
        session.add(Variant(product_id=product.id, seller_id=product.seller_id, sku="TEE-XL", label="XL",
                            price=2199, stock=5, position=3))
        await touch_products(session, [product.id])
    async with db.transaction() as session:
        card = (await search.products(session, [tee["product"], 999_999]))[tee["product"]]
    assert (card.title, [v.label for v in card.variants]) == ("Vintage Tee", ["M", "L", "XL"])
    async with db.transaction() as session:
        product = await session.get(Product, tee["product"])
        product.status = ProductStatus.PAUSED
        await touch_products(session, [product.id])
    async with db.transaction() as session:
        assert await search.product(session, tee["product"]) is None
        assert (await search.product(session, tee["product"], active_only=False)).status == "paused"


async def test_search_waits_for_its_refresh_interval(db, tee):
    search = CatalogSearch(refresh_interval=3600)
    async with db.transaction() as session:
        await search.search(session, "tee")
        await make_product(session, await make_seller(session, "Hat Co"), await make_category(session, "Hats"),
                           "Wool Beanie", [("", 1500, 4)])
    async with db.transaction() as session:
        assert (await search.search(session, "beanie")).product_ids == ()
        search.mark_stale()
        assert len((await search.search(session, "beanie")).product_ids) == 1


async def test_demo_catalog_loads_once_and_is_browsable(db):
    async with db.transaction() as session:
        assert await load_demo_catalog(session) is True
    async with db.transaction() as session:
        assert await load_demo_catalog(session) is False
        products = await session.scalar(select(func.count(Product.id)))
        categories = await list_categories(session)
        first = await category_page(session, categories[0].id, 0, 5)
        sold_out = await session.scalar(
            select(func.count()).select_from(
                select(Variant.product_id).group_by(Variant.product_id)
                .having(func.sum(Variant.stock) == 0).subquery()))
        multi = await session.scalar(
            select(func.count()).select_from(
                select(Variant.product_id).group_by(Variant.product_id).having(func.count() > 1).subquery()))
    assert products >= 40
    assert len(categories) >= 5 and sum(c.product_count for c in categories) == products
    assert first is not None and len(first[1]) == 5
    assert sold_out >= 3 and multi >= 10


async def test_the_last_creator_link_clicked_within_the_window_wins(db, tee):
    now = utcnow()
    async with db.transaction() as session:
        for user_id, code in ((10, "aaaaaaaa"), (11, "bbbbbbbb")):
            await make_user(session, user_id)
            session.add(Creator(user_id=user_id, code=code, status="approved"))
        await session.flush()
        first = await creators.open_link(session, Link(tee["product"], "aaaaaaaa"), 1, now - timedelta(days=2))
        second = await creators.open_link(session, Link(tee["product"], "bbbbbbbb"), 1, now - timedelta(days=1))
        window = timedelta(days=7)
        assert await creators.attributed_creator(session, 1, now, window) == second.creator.id
        # Eight days on, neither click counts any more.
        assert await creators.attributed_creator(session, 1, now + timedelta(days=7), window) is None
        # A creator opening their own link is not a click.
        await creators.open_link(session, Link(tee["product"], "aaaaaaaa"), 10, now)
        assert await creators.attributed_creator(session, 10, now, window) is None
        assert first.creator.id != second.creator.id


async def test_plus_at_the_per_item_cap_names_the_cap_not_the_stock(db, tee):
    async with db.transaction() as session:
        await session.execute(update(Variant).where(Variant.id == tee["m"]).values(stock=149))
        change = await cart_service.add_to_cart(session, 1, tee["m"], cart_service.MAX_QUANTITY)
    with pytest.raises(ShopError) as refused:
        async with db.transaction() as session:
            await cart_service.change_line(session, 1, change.cart.lines[0].id, CartAction.INCREASE)
    assert (refused.value.code, refused.value.data) == (ErrorCode.QUANTITY_CAP, {"max": 99})


async def test_search_ranks_in_stock_products_above_sold_out_ones_of_similar_relevance(db):
    async with db.transaction() as session:
        seller, category = await make_seller(session), await make_category(session)
        sold_out = await make_product(session, seller, category, "Blue Cap", [("", 1500, 0)])
        in_stock = await make_product(session, seller, category, "Blue Caps Set", [("", 2500, 8)])
        other = await make_product(session, seller, category, "Navy Blue Wool Cap", [("", 2900, 3)])
    search = CatalogSearch(refresh_interval=0)
    async with db.read() as session:
        ranked = (await search.search(session, "blue cap")).product_ids
        # Relevance alone puts the shorter, sold-out title first.
        assert [hit.product_id for hit in search.index.search("blue cap")][0] == sold_out.id
    assert ranked.index(in_stock.id) < ranked.index(sold_out.id)
    assert set(ranked) == {sold_out.id, in_stock.id, other.id}  # the sold-out one is still found

    # Its last units sell: the ranking learns it when the index reads the sold-out products again, and
    # again when they come back (an order cancelled).
    async with db.transaction() as session:
        variant = await session.scalar(select(Variant).where(Variant.product_id == in_stock.id))
        assert await reserve_stock(session, {variant.id: 8}) == {}
    async with db.read() as session:
        ranked = (await search.search(session, "blue cap")).product_ids
    assert ranked.index(sold_out.id) < ranked.index(in_stock.id) and in_stock.id in search.sold_out
    returned = SimpleNamespace(kind="physical", coupon_use_id=None,
                               lines=[SimpleNamespace(product_id=in_stock.id, variant_id=variant.id, quantity=2,
                                                      deal_id=None)])
    async with db.transaction() as session:
        await release_stock(session, returned)
    async with db.read() as session:
        ranked = (await search.search(session, "blue cap")).product_ids
    assert ranked.index(in_stock.id) < ranked.index(sold_out.id)
