"""Filters typed in plain words (price, options, category) and the tie-breakers of search ranking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from store.demo import load_demo_catalog
from store.models import Checkout, FlashDeal, Order, OrderLine, Product, Variant, utcnow
from store.search import SearchHit
from store.services.query_filters import PriceRange, parse_query
from store.services.reviews import Rating
from store.services.search import CatalogSearch
from store.states import OrderStatus

from .factories import make_category, make_product, make_seller, make_user

# --- reading the query ---------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "words", "price"), [
    ("hoodie under 30", "hoodie", PriceRange(high=3000)),
    ("mugs below $15", "mugs", PriceRange(high=1500)),
    ("headphones 50-100", "headphones", PriceRange(5000, 10000)),
    ("headphones $100-$50", "headphones", PriceRange(5000, 10000)),
    ("cheaper than 20", "", PriceRange(high=2000)),
    ("shoes over 99.99", "shoes", PriceRange(low=9999)),
    ("between 20 and 50 mugs", "mugs", PriceRange(2000, 5000)),
    ("phone under 1,000 USD", "phone", PriceRange(high=100000)),
])
def test_a_price_in_the_query_is_read_in_minor_units(typed, words, price):
    parsed = parse_query(typed, "USD", "en")
    assert (parsed.words, parsed.price) == (words, price)


@pytest.mark.parametrize("typed", [
    "under armour hoodie",  # a price word without an amount
    "dumbbell 2-24 kg",  # a range of sizes, not of prices
    "black 42",  # a number alone is a size, not a price
    "smartphone 128 gb",
    "hoodie under 0",  # not a price
    "hoodie under 30.125",  # more decimals than dollars have
])
def test_numbers_that_are_not_prices_stay_words(typed):
    assert parse_query(typed, "USD", "en").price is None


@pytest.mark.parametrize(("typed", "language", "words", "price"), [
    ("худи до 30", "ru", "худи", PriceRange(high=3000)),
    ("кружка от 20 до 50", "ru", "кружка", PriceRange(2000, 5000)),
    ("кроссовки дешевле 99,99", "ru", "кроссовки", PriceRange(high=9999)),
    ("sudadera entre 20 y 50", "es", "sudadera", PriceRange(2000, 5000)),
    ("tazas por menos de 15", "es", "tazas", PriceRange(high=1500)),
    ("moletom até 30", "pt_BR", "moletom", PriceRange(high=3000)),
    ("tênis acima de 100", "pt-br", "tenis", PriceRange(low=10000)),
    ("hoodie di bawah 30", "id", "hoodie", PriceRange(high=3000)),
    ("sepatu antara 20 dan 50", "id", "sepatu", PriceRange(2000, 5000)),
])
def test_each_language_says_a_price_its_own_way(typed, language, words, price):
    parsed = parse_query(typed, "USD", language)
    assert (parsed.words, parsed.price) == (words, price)
    # The query a button carries is written the English way, and reads back the same in any language.
    assert parse_query(parsed.canonical("USD"), "USD", language) == parsed


def test_option_words_of_each_language_are_dropped_before_the_option():
    assert parse_query("худи размер M", "USD", "ru").words == "худи m"
    assert parse_query("sudadera talla M", "USD", "es").words == "sudadera m"
    assert parse_query("moletom tamanho M", "USD", "pt_BR").words == "moletom m"
    assert parse_query("hoodie ukuran M", "USD", "id").words == "hoodie m"


def test_amounts_follow_the_currency_and_size_words_are_dropped():
    assert parse_query("mug under 300", "JPY").price == PriceRange(high=300)  # yen have no minor units
    assert parse_query("mug under 30€", "EUR", "es").price == PriceRange(high=3000)
    assert parse_query("red hoodie size M", "USD").words == "red hoodie m"


@pytest.mark.parametrize("typed", ["hoodie under 30", "mugs below $15.50", "headphones 50-100", "over 20 socks",
                                   "v neck hoodie under 50", "g shock under 100", "pack of 3 socks under 10",
                                   "kids shoes $10-$12"])
def test_the_query_a_button_carries_reads_back_the_same(typed):
    parsed = parse_query(typed, "USD", "en")
    assert parsed.price is not None
    canonical = parsed.canonical("USD")
    assert parse_query(canonical, "USD") == parsed
    assert canonical.startswith(("under", "over", "between"))  # the price first: cutting it to fit cuts words


@pytest.mark.parametrize("typed", [
    "size 40-42 shoes", "jeans 32-34 blue", "kids shoes 10-12 years", "2-3 days delivery", "1-2 person tent",
    'tv 32-55"', "cable 1-2 m", "up to 50% off hoodie", "iphone pro max 256",
    "hoodie under 999999999999999999999999999",
])
def test_sizes_counts_and_names_are_no_price(typed):
    assert parse_query(typed, "USD", "en").price is None


def test_a_possessive_is_no_size_and_option_names_go_only_before_an_option():
    assert parse_query("women's hoodie", "USD").words == "women hoodie"
    # "size" and "colour" go only before an option: "king size bed" and "color printer" keep their words.
    assert parse_query("king size bed", "USD").words == "king size bed"
    assert parse_query("color printer", "USD", labels={"red"}).words == "color printer"
    assert parse_query("hoodie colour black", "USD", labels={"black"}).words == "hoodie black"


# --- searching the demo catalog with filters ---------------------------------------------------------


@pytest.fixture
async def demo(db):
    async with db.transaction() as session:
        await load_demo_catalog(session)
    search = CatalogSearch(refresh_interval=0)
    return db, search


async def _titles(db, search, query: str, **kwargs) -> tuple[list[str], object]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        result = await search.search(session, query, currency="USD", language="en", **kwargs)
        cards = await search.products(session, list(result.product_ids))
    return [cards[i].title for i in result.product_ids], result


async def test_a_price_filter_keeps_only_products_priced_within_it(demo):
    db, search = demo
    titles, result = await _titles(db, search, "hoodie under 42")
    assert titles == ["Pullover Hoodie"]  # the zip-up costs $44.99
    assert result.price == PriceRange(high=4200) and result.filtered
    assert result.variants == {}  # every option is within the price: the card opens as usual
    # Under $40 the navy XL ($41.99) is out: the card opens on an option within the price.
    titles, result = await _titles(db, search, "hoodie under 40")
    async with db.transaction() as session:
        red_m = await session.scalar(Variant.__table__.select().with_only_columns(Variant.id)
                                     .where(Variant.sku == "CS-HOD-RED-M"))
    assert titles == ["Pullover Hoodie"] and result.variants == {result.product_ids[0]: red_m}

    titles, _ = await _titles(db, search, "headphones 50-100")
    assert titles == ["Wireless Headphones"]  # the Pro cost $249.99
    # Without the filter, every match comes back.
    titles, result = await _titles(db, search, "headphones 50-100", filters=False)
    assert "Noise-Cancelling Wireless Headphones Pro" in titles and not result.filtered


async def test_a_price_alone_lists_what_costs_that_much(demo):
    db, search = demo
    titles, result = await _titles(db, search, "cheaper than 8")
    assert set(titles) == {"Pride and Prejudice — e-book (PDF)", "Lavender & Honey Soap Bar"}
    assert result.price == PriceRange(high=800)


async def test_option_words_narrow_to_products_with_that_variant_and_pick_it(demo):
    db, search = demo
    async with db.transaction() as session:
        red_m = await session.scalar(Variant.__table__.select().with_only_columns(Variant.id)
                                     .where(Variant.sku == "CS-HOD-RED-M"))
        black_42 = await session.scalar(Variant.__table__.select().with_only_columns(Variant.id)
                                         .where(Variant.label == "EU 42 / Black"))
    titles, result = await _titles(db, search, "red hoodie size M")
    assert titles == ["Pullover Hoodie"]  # the zip-up has an M, but no red
    assert result.variants == {result.product_ids[0]: red_m} and set(result.options) == {"red", "m"}

    titles, result = await _titles(db, search, "black 42")
    assert titles == ["Canvas Low-Top Sneakers"]
    assert result.variants == {result.product_ids[0]: black_42}


async def test_a_category_word_keeps_to_the_category_when_the_rest_matches_there(demo):
    db, search = demo
    titles, result = await _titles(db, search, "running shoes")
    assert set(titles) == {"Running Shoes", "Trail Running Shoes"}  # not the running tights
    assert result.category == "Shoes"
    titles, result = await _titles(db, search, "kitchen towels")
    assert titles == ["Linen Tea Towels (Set of 3)"] and result.category == "Home & Kitchen"

    # Nothing in the kitchen is a tent: the word only scores, nothing is kept out.
    titles, result = await _titles(db, search, "kitchen tent")
    assert "Ultralight Camping Tent 2P" in titles and result.category is None


# --- ranking -----------------------------------------------------------------------------------------


@pytest.fixture
async def mugs(db):
    """Three equally named mugs and a less relevant one; the store can sell them."""
    async with db.transaction() as session:
        seller, category = await make_seller(session), await make_category(session, "Kitchenware")
        products = {}
        for title in ("Blue Mug", "Blue Mug ", "Blue Mug  ", "Blue Mug Tray Set"):
            products[title] = (await make_product(session, seller, category, title.strip(), [("", 1000, 5)])).id
        await make_user(session, 1)
    return seller, products


async def _sell(db, seller, product_id: int, units: int, when) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        variant_id = await session.scalar(Variant.__table__.select().with_only_columns(Variant.id)
                                          .where(Variant.product_id == product_id))
        checkout = Checkout(user_id=1, status="placed", payment_method="cod", currency="USD", items_total=1000,
                            shipping_total=0, total=1000, invoice_currency="USD", invoice_amount=1000,
                            shipping_code="std", shipping_name="Standard")
        session.add(checkout)
        await session.flush()
        order = Order(checkout_id=checkout.id, seller_id=seller.id, buyer_id=1, status=OrderStatus.PLACED,
                      currency="USD", items_total=1000, shipping_fee=0, total=1000, created_at=when)
        session.add(order)
        await session.flush()
        session.add(OrderLine(order_id=order.id, variant_id=variant_id, product_id=product_id, title="Mug",
                              sku="S", unit_price=1000, quantity=units, line_total=1000 * units))


async def test_units_sold_break_ties_of_relevance_only(db, mugs):
    seller, products = mugs
    _, second, third = products["Blue Mug"], products["Blue Mug "], products["Blue Mug  "]
    tray = products["Blue Mug Tray Set"]
    now = utcnow()
    # The third mug sold 3 units this month; the tray sold 500; the second sold 50, but two months ago.
    await _sell(db, seller, third, 3, now - timedelta(days=2))
    await _sell(db, seller, tray, 500, now - timedelta(days=1))
    await _sell(db, seller, second, 50, now - timedelta(days=60))
    search = CatalogSearch(refresh_interval=0)
    async with db.transaction() as session:
        result = await search.search(session, "blue mug", currency="USD")
    assert search.sold == {third: 3, tray: 500}
    # Equally relevant mugs: the one that sold this month first; the tray, less relevant, stays last.
    assert result.product_ids[0] == third
    assert result.product_ids[-1] == tray


def test_sold_units_then_ratings_never_lift_a_less_relevant_product():
    search = CatalogSearch()
    search.sold = {2: 1000, 3: 5}
    search.ratings = {2: Rating(10, 50), 4: Rating(3, 15), 5: Rating(1, 1)}
    hits = [SearchHit(1, 90.0), SearchHit(2, 89.99), SearchHit(3, 80.0), SearchHit(4, 80.0), SearchHit(5, 80.0),
            SearchHit(6, 80.0)]
    # 2 sold the most and is rated best, yet 1 is more relevant; among the 80s: sold, then rated, then the rest.
    assert search.rank(hits) == (1, 2, 3, 4, 5, 6)
    search.sold_out = {1}  # sold out, 1 falls below in-stock products of similar relevance
    assert search.rank(hits)[:2] == (2, 3)


async def test_a_price_filter_counts_a_live_flash_deal(demo):
    # The zip-up costs $44.99; at a flash deal of $39.00 it is "under 42" while the deal lasts.
    db, search = demo
    async with db.transaction() as session:
        variants = list(await session.scalars(
            select(Variant.id).join(Product, Product.id == Variant.product_id).where(Product.title == "Zip-Up Hoodie")))
        for variant_id in variants:
            session.add(FlashDeal(variant_id=variant_id, seller_id=await session.scalar(
                select(Variant.seller_id).where(Variant.id == variant_id)), price=3900, starts_at=utcnow(),
                ends_at=utcnow() + timedelta(hours=2), sold=0))
    search.mark_stale()
    titles, _result = await _titles(db, search, "hoodie under 42")
    assert sorted(titles) == ["Pullover Hoodie", "Zip-Up Hoodie"]


@pytest.fixture
async def hoodies(db):
    """A shop of 300 hoodies at $35 and 5 at $15 whose longer titles rank them last, jeans in waist sizes, a
    gray hoodie in sizes, and two cookbooks among books."""
    async with db.transaction() as session:
        seller = await make_seller(session, "Hoodie Hub")
        clothing = await make_category(session, "Clothing")
        books = await make_category(session, "Books")
        for n in range(300):
            await make_product(session, seller, clothing, f"Hoodie {n}", [("", 3500, 5)])
        for n in range(5):
            await make_product(session, seller, clothing, f"Hoodie classic fleece lined model {n}", [("", 1500, 5)])
        await make_product(session, seller, clothing, "Slim Jeans", [("32", 4000, 5), ("34", 4000, 5)])
        await make_product(session, seller, clothing, "Gray Hoodie Deluxe", [("S", 5000, 5), ("M", 5000, 5)])
        await make_product(session, seller, clothing, "Grey Wool Scarf", [("Grey", 2000, 5)])
        await make_product(session, seller, books, "The Home Cookbook", [("", 2500, 5)])
        await make_product(session, seller, books, "Weeknight Cookbook", [("", 2200, 5)])
        await make_product(session, seller, books, "Poetry Book", [("", 900, 5)])
    return db, CatalogSearch(refresh_interval=0)


async def test_a_filter_that_keeps_few_of_many_matches_finds_them_all(hoodies):
    # The five $15 hoodies rank after the 300 shorter titles: the filter looks on past the first 200 matches.
    db, search = hoodies
    titles, _ = await _titles(db, search, "hoodie under 20")
    assert sorted(titles) == [f"Hoodie classic fleece lined model {n}" for n in range(5)]


async def test_sizes_of_what_the_words_find_are_no_price_and_a_near_title_word_no_option(hoodies):
    db, search = hoodies
    async with db.transaction() as session:
        await search.refresh(session, force=True)
    # Jeans come in 32 and 34: "jeans 32-34" names sizes; "hoodie 30-40" is a price (no hoodie in those sizes).
    assert search.read("jeans 32-34", "USD", "en").price is None
    assert search.read("hoodie 30-40", "USD", "en").price == PriceRange(3000, 4000)
    # "grey" is an option of the scarf, but the gray hoodie's title has it (a letter away): it is no filter there.
    titles, _ = await _titles(db, search, "grey hoodie")
    assert "Gray Hoodie Deluxe" in titles


async def test_a_category_word_keeps_the_whole_querys_hits_whose_titles_have_the_rest(hoodies):
    db, search = hoodies
    titles, result = await _titles(db, search, "cook book")
    assert set(titles) >= {"The Home Cookbook", "Weeknight Cookbook"} and result.category == "Books"


async def test_a_price_alone_keeps_one_order_from_page_to_page(hoodies):
    db, search = hoodies
    _, first = await _titles(db, search, "under 20")
    _, again = await _titles(db, search, "under 20")
    assert first.product_ids == again.product_ids == tuple(sorted(first.product_ids))
