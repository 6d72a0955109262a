"""Earnings: the creator's dashboard, the seller's sales through creators, and paying creators once."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.payouts import end_of_day, payouts
from handlers.earnings import (
    NOT_A_CREATOR,
    NOT_A_SELLER,
    creator_sales_text,
    earnings_text,
)
from store.models import Checkout, Click, Commission, Creator, Order, OrderLine, Payout, Product, Seller, Variant
from store.services.creators import approve_due, record_commissions, reverse_commissions
from store.services.earnings import (
    CreatorSales,
    Dashboard,
    LinkStats,
    PayableRow,
    PeriodStats,
    ProductEarnings,
    attributed_link,
    creator_dashboard,
    mark_paid,
    payable,
    seller_creator_sales,
)

from .conftest import BotRunner
from .factories import make_category, make_product, make_seller, make_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TOKEN = "123456:TEST-token-for-the-fake-bot-api"


def ago(**delta: float) -> datetime:
    """A moment before NOW."""
    return NOW - timedelta(**delta)


async def make_creator(session, user_id: int, code: str) -> Creator:
    """An approved creator with a fixed code."""
    await make_user(session, user_id)
    creator = Creator(user_id=user_id, code=code, status="approved", created_at=ago(days=100))
    session.add(creator)
    await session.flush()
    return creator


async def click(session, creator: Creator, user_id: int, product: Product | None, at: datetime) -> None:
    """The user opens one of the creator's links (a product's, or the showcase when ``product`` is None)."""
    session.add(Click(creator_id=creator.id, product_id=product.id if product else None, user_id=user_id,
                      created_at=at))
    await session.flush()


async def buy(session, buyer: int, lines: list[tuple[Product, int]], at: datetime, *, creator: Creator,
              bp: int = 1000, currency: str = "USD", unit_price: int | None = None) -> int:
    """An order of ``buyer`` attributed to ``creator``, placed at ``at``, with its pending commissions."""
    priced = []
    for product, quantity in lines:
        variant = (await session.execute(select(Variant.id, Variant.sku, Variant.price)
                                         .where(Variant.product_id == product.id))).first()
        priced.append((product, variant, quantity, unit_price or variant.price))
    total = sum(price * quantity for _, _, quantity, price in priced)
    checkout = Checkout(user_id=buyer, status="placed", payment_method="cod", currency=currency, items_total=total,
                        shipping_total=0, total=total, invoice_currency=currency, invoice_amount=total,
                        shipping_code="standard", shipping_name="Standard", created_at=at)
    session.add(checkout)
    await session.flush()
    order = Order(checkout_id=checkout.id, seller_id=lines[0][0].seller_id, buyer_id=buyer, status="placed",
                  currency=currency, items_total=total, shipping_fee=0, total=total, created_at=at,
                  contact_name="Ann Lee", phone="+12025550143", address="1 Main St")
    session.add(order)
    await session.flush()
    for product, variant, quantity, price in priced:
        session.add(OrderLine(order_id=order.id, variant_id=variant.id, product_id=product.id, title=product.title,
                              sku=variant.sku, unit_price=price, quantity=quantity, line_total=price * quantity,
                              creator_id=creator.id, commission_bp=bp))
    await session.flush()
    await record_commissions(session, order.id, at)
    return order.id


async def deliver_and_approve(session, order_id: int, at: datetime) -> None:
    """The order is delivered at ``at`` and the approval job runs then (return window of zero)."""
    await session.execute(update(Order).where(Order.id == order_id).values(status="delivered", delivered_at=at))
    await approve_due(session, at, timedelta(0))


@pytest.fixture
async def story(db):
    """Creator C sells hoodies, mugs, caps and a lamp over 40 days; creator D sold one hoodie.

    C's commissions (10 % unless said):
      O3 hoodie x1   40 days ago, buyer 302  paid          5000 ->  500
      O6 lamp x3     20 days ago, buyer 303  approved      9000 ->  450 (5 %)
      O2 cap x1      10 days ago, buyer 301  approved      2000 ->  200
      O4 hoodie x1    5 days ago, buyer 301  reversed      5000 ->  500
      O1 hoodie x2 +  2 days ago, buyer 300  pending      10000 -> 1000
         mug x1                                           1200 ->  120
    D's: O5 hoodie x1 12 days ago, buyer 300, approved 10 days ago: 5000 -> 500.
    """
    async with db.transaction() as session:
        clothing = await make_category(session, "Clothing")
        shop = await make_seller(session, "Corner Shop")
        other_shop = await make_seller(session, "Lamp Land")
        hoodie = await make_product(session, shop, clothing, "Hoodie", [("M", 5000, 50)])
        mug = await make_product(session, shop, clothing, "Mug", [("", 1200, 50)])
        cap = await make_product(session, shop, clothing, "Cap", [("", 2000, 50)])
        lamp = await make_product(session, other_shop, clothing, "Lamp", [("", 3000, 50)])
        c = await make_creator(session, 100, "abcdefgh")
        d = await make_creator(session, 101, "mnpqrstu")
        for buyer in (300, 301, 302, 303):
            await make_user(session, buyer)

        # Who opened which link, and when.
        await click(session, c, 302, hoodie, ago(days=40, hours=1))
        await click(session, c, 301, None, ago(days=11))
        await click(session, c, 302, None, ago(days=7))  # exactly 7 days ago: not in "last 7 days"
        await click(session, c, 300, None, ago(days=3))
        await click(session, c, 300, hoodie, ago(days=2, hours=1))
        await click(session, c, 303, mug, ago(days=1))  # after 303's only purchase
        await click(session, d, 300, hoodie, ago(days=13))

        o3 = await buy(session, 302, [(hoodie, 1)], ago(days=40), creator=c)
        o6 = await buy(session, 303, [(lamp, 3)], ago(days=20), creator=c, bp=500)
        o5 = await buy(session, 300, [(hoodie, 1)], ago(days=12), creator=d)
        o2 = await buy(session, 301, [(cap, 1)], ago(days=10), creator=c)
        o4 = await buy(session, 301, [(hoodie, 1)], ago(days=5), creator=c)
        o1 = await buy(session, 300, [(hoodie, 2), (mug, 1)], ago(days=2), creator=c)

        # Time passes: deliveries approve commissions, one payout, one cancellation.
        await deliver_and_approve(session, o3, ago(days=30))
        assert [p.amount for p in await mark_paid(session, ago(days=30), ago(days=30))] == [500]
        await deliver_and_approve(session, o5, ago(days=10))
        await reverse_commissions(session, o4, ago(days=4))
        await deliver_and_approve(session, o6, ago(days=3))
        await deliver_and_approve(session, o2, ago(days=1))
    return {"c": c, "d": d, "shop": shop, "other_shop": other_shop, "hoodie": hoodie, "mug": mug, "cap": cap,
            "lamp": lamp, "orders": {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "o6": o6}}


async def statuses(db, creator: Creator) -> list[tuple[int, str]]:
    async with db.read() as session:
        rows = await session.execute(select(Commission.amount, Commission.status)
                                     .where(Commission.creator_id == creator.id).order_by(Commission.id))
        return [tuple(row) for row in rows]


async def test_the_story_is_built_through_the_real_ledger(db, story):
    # The ledger itself made these rows: pending, approved, reversed and paid.
    assert await statuses(db, story["c"]) == [(500, "paid"), (450, "approved"), (200, "approved"),
                                               (500, "reversed"), (1000, "pending"), (120, "pending")]


async def test_dashboard_counts_each_period(db, story):
    async with db.read() as session:
        dashboard = await creator_dashboard(session, story["c"].id, NOW)

    assert dashboard.code == "abcdefgh"
    assert dashboard.currency == "USD"  # the currency of the latest commission
    assert dashboard.periods == (
        # 7 days: the hoodie link and showcase clicks of 300, the mug click of 303; O1; O4 reversed.
        PeriodStats(days=7, clicks=3, orders=1, items=3, sales=11200, pending=1120, approved=0, reversed=500),
        # 30 days: also the showcase clicks 11 and exactly 7 days ago; O2 and O6 approved.
        PeriodStats(days=30, clicks=5, orders=3, items=7, sales=22200, pending=1120, approved=650, reversed=500),
        # All time: also O3, approved then paid (paid counts as approved); D's hoodie is not C's.
        PeriodStats(days=None, clicks=6, orders=4, items=8, sales=27200, pending=1120, approved=1150,
                    reversed=500),
    )


async def test_dashboard_top_products_and_links(db, story):
    async with db.read() as session:
        dashboard = await creator_dashboard(session, story["c"].id, NOW, currency="USD")

    hoodie, mug, cap, lamp = (story[k].id for k in ("hoodie", "mug", "cap", "lamp"))
    # By sales, reversed lines left out: O4's hoodie does not count.
    assert dashboard.top_products == (
        ProductEarnings(hoodie, "Hoodie", items=3, sales=15000, commission=1500),
        ProductEarnings(lamp, "Lamp", items=3, sales=9000, commission=450),
        ProductEarnings(cap, "Cap", items=1, sales=2000, commission=200),
        ProductEarnings(mug, "Mug", items=1, sales=1200, commission=120),
    )
    assert dashboard.links == (
        # The showcase: 301 came through it (cap); 303 bought the lamp with no click before it (fallback).
        LinkStats(None, None, clicks=3, orders=2, sales=11000, commission=650),
        # The hoodie link: 300's hoodies, 300's mug (the last link 300 opened before buying), 302's hoodie.
        LinkStats(hoodie, "Hoodie", clicks=2, orders=2, sales=16200, commission=1620),
        LinkStats(mug, "Mug", clicks=1, orders=0, sales=0, commission=0),
    )


async def test_dashboard_in_another_currency_and_of_a_creator_with_nothing(db, story):
    async with db.transaction() as session:
        newcomer = await make_creator(session, 102, "qrstuvwx")
    async with db.read() as session:
        euros = await creator_dashboard(session, story["c"].id, NOW, currency="EUR")
        empty = await creator_dashboard(session, newcomer.id, NOW)

    # Money in euros: none; clicks have no currency.
    assert euros.periods[2] == PeriodStats(None, clicks=6, orders=0, items=0, sales=0, pending=0, approved=0,
                                           reversed=0)
    assert euros.top_products == ()
    assert empty.currency is None
    assert [p.clicks + p.sales for p in empty.periods] == [0, 0, 0]
    assert empty.links == (LinkStats(None, None, 0, 0, 0, 0),)


async def test_top_products_are_the_best_five(db):
    async with db.transaction() as session:
        clothing = await make_category(session)
        shop = await make_seller(session)
        creator = await make_creator(session, 100, "abcdefgh")
        await make_user(session, 300)
        products = [await make_product(session, shop, clothing, f"Item {i}", [("", 1000, 50)]) for i in range(6)]
        # Item 0 sells 1, item 1 sells 2, ... item 5 sells 6 (at 10.00 each).
        for i, product in enumerate(products):
            await buy(session, 300, [(product, i + 1)], ago(days=1), creator=creator)
    async with db.read() as session:
        dashboard = await creator_dashboard(session, creator.id, NOW)

    assert [(p.title, p.items, p.sales, p.commission) for p in dashboard.top_products] == [
        ("Item 5", 6, 6000, 600), ("Item 4", 5, 5000, 500), ("Item 3", 4, 4000, 400), ("Item 2", 3, 3000, 300),
        ("Item 1", 2, 2000, 200)]


def test_link_attribution_rule():
    clicks = [(None, ago(days=3)), (7, ago(days=2)), (9, ago(days=1))]
    # The product's own link, when the buyer opened it before the commission.
    assert attributed_link(7, ago(hours=1), clicks) == 7
    # Otherwise the buyer's latest link before it; the showcase when there is none.
    assert attributed_link(8, ago(days=1, hours=12), clicks) == 7
    assert attributed_link(9, ago(days=2, hours=12), clicks) is None
    assert attributed_link(8, ago(days=4), clicks) is None


async def test_seller_sees_sales_through_creators_per_product(db, story):
    async with db.read() as session:
        corner = await seller_creator_sales(session, story["shop"].id)
        lamps = await seller_creator_sales(session, story["other_shop"].id)

    hoodie, mug, cap, lamp = (story[k].id for k in ("hoodie", "mug", "cap", "lamp"))
    # Hoodie: O1 (2, pending), O3 (1, paid), D's O5 (1, approved); O4 was reversed.
    assert corner == [
        CreatorSales(hoodie, "Hoodie", "USD", orders=3, items=4, sales=20000, commission=2000),
        CreatorSales(cap, "Cap", "USD", orders=1, items=1, sales=2000, commission=200),
        CreatorSales(mug, "Mug", "USD", orders=1, items=1, sales=1200, commission=120),
    ]
    assert lamps == [CreatorSales(lamp, "Lamp", "USD", orders=1, items=3, sales=9000, commission=450)]


async def test_payable_lists_approved_unpaid_commission_up_to_a_date(db, story):
    c, d = story["c"], story["d"]
    async with db.read() as session:
        until_now = await payable(session, NOW)
        until_two_days_ago = await payable(session, ago(days=2))
        until_long_ago = await payable(session, ago(days=20))

    # Not O3 (paid), O4 (reversed) nor O1 (pending).
    assert until_now == [PayableRow(c.id, "abcdefgh", 100, "USD", amount=650, count=2),
                         PayableRow(d.id, "mnpqrstu", 101, "USD", amount=500, count=1)]
    # O2 was approved one day ago.
    assert until_two_days_ago == [PayableRow(c.id, "abcdefgh", 100, "USD", amount=450, count=1),
                                  PayableRow(d.id, "mnpqrstu", 101, "USD", amount=500, count=1)]
    assert until_long_ago == []


async def test_mark_paid_pays_once(db, story):
    c, d = story["c"], story["d"]
    async with db.transaction() as session:
        first = await mark_paid(session, ago(days=2), NOW)
    async with db.transaction() as session:
        again = await mark_paid(session, ago(days=2), NOW)
        left = await payable(session, NOW)

    assert [(p.creator_id, p.currency, p.amount, p.until, p.created_at) for p in first] == [
        (c.id, "USD", 450, ago(days=2), NOW), (d.id, "USD", 500, ago(days=2), NOW)]
    assert again == []
    assert left == [PayableRow(c.id, "abcdefgh", 100, "USD", amount=200, count=1)]
    # The lamp commission (450) is paid by the first payout; the cap's (200) is still approved.
    assert await statuses(db, c) == [(500, "paid"), (450, "paid"), (200, "approved"), (500, "reversed"),
                                     (1000, "pending"), (120, "pending")]
    async with db.read() as session:
        lamp_payout = await session.scalar(select(Commission.payout_id).where(Commission.amount == 450))
    assert lamp_payout == first[0].id


async def pay_in_own_transaction(db, until: datetime) -> list[tuple[int, int]]:
    async with db.transaction() as session:
        return [(p.creator_id, p.amount) for p in await mark_paid(session, until, NOW)]


async def payout_count(db) -> tuple[int, int]:
    async with db.read() as session:
        row = (await session.execute(select(func.count(Payout.id), func.sum(Payout.amount)))).one()
    return row[0], int(row[1])


async def test_a_run_waits_for_a_concurrent_one_and_pays_nothing(db, story):
    c, d = story["c"], story["d"]
    async with db.transaction() as session:
        first = [(p.creator_id, p.amount) for p in await mark_paid(session, NOW, NOW)]
        # A second run starts while the first still holds its locks: it has to wait ...
        second = asyncio.create_task(pay_in_own_transaction(db, NOW))
        await asyncio.sleep(0.5)
        assert not second.done()
    # ... and once the first has committed, it finds nothing left to pay.
    assert await asyncio.wait_for(second, 30) == []
    assert first == [(c.id, 650), (d.id, 500)]
    assert await payout_count(db) == (3, 500 + 650 + 500)  # O3's payout, then these two


async def test_two_runs_at_once_pay_once(db, story):
    c, d = story["c"], story["d"]
    results = await asyncio.gather(pay_in_own_transaction(db, NOW), pay_in_own_transaction(db, NOW))

    assert sorted(results) == [[], [(c.id, 650), (d.id, 500)]]
    assert await payout_count(db) == (3, 500 + 650 + 500)


# --- the payouts command ----------------------------------------------------------------------


def test_end_of_day_is_the_last_instant_of_the_day_in_utc():
    assert end_of_day(date(2026, 11, 24)) == datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=UTC)


async def test_payouts_command_prints_csv_and_marks_paid_once(db, story):
    c, d = story["c"], story["d"]
    async with db.transaction() as session:
        # D also sold a lamp in yen (no decimals) approved yesterday at 12:00.
        yen = await buy(session, 303, [(story["lamp"], 1)], ago(days=3), creator=d, bp=1500, currency="JPY",
                        unit_price=3000)
        await deliver_and_approve(session, yen, ago(days=1))
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=db.url)
    header = "creator_id,code,user_id,currency,amount,entries,amount_decimal,payout_id\n"

    # Until the day before yesterday (2026-11-23, end of day): the lamp of C and the hoodie of D.
    out = io.StringIO()
    assert await payouts(settings, until=date(2026, 11, 23), mark_paid=False, out=out) == 0
    assert out.getvalue() == header + (f"{c.id},abcdefgh,100,USD,450,1,4.50,\n"
                                       f"{d.id},mnpqrstu,101,USD,500,1,5.00,\n")

    # Until today: everything approved, in yen and dollars.
    out = io.StringIO()
    assert await payouts(settings, until=date(2026, 11, 25), mark_paid=False, out=out) == 0
    listed = (f"{c.id},abcdefgh,100,USD,650,2,6.50,\n"
              f"{d.id},mnpqrstu,101,JPY,450,1,450,\n"
              f"{d.id},mnpqrstu,101,USD,500,1,5.00,\n")
    assert out.getvalue() == header + listed

    # Marking paid prints the same rows with their payout ids (payout 1 was O3's).
    out = io.StringIO()
    assert await payouts(settings, until=date(2026, 11, 25), mark_paid=True, out=out) == 0
    assert out.getvalue() == header + (f"{c.id},abcdefgh,100,USD,650,2,6.50,2\n"
                                       f"{d.id},mnpqrstu,101,JPY,450,1,450,3\n"
                                       f"{d.id},mnpqrstu,101,USD,500,1,5.00,4\n")

    # Nothing is paid twice.
    for mark in (True, False):
        out = io.StringIO()
        assert await payouts(settings, until=date(2026, 11, 25), mark_paid=mark, out=out) == 0
        assert out.getvalue() == header
    assert await payout_count(db) == (4, 500 + 650 + 450 + 500)


# --- what the chat shows ----------------------------------------------------------------------


def test_earnings_message_escapes_titles_and_formats_money():
    dashboard = Dashboard(
        creator_id=1, code="abcdefgh", currency="USD",
        periods=(PeriodStats(7, 1, 1, 2, 2500, 250, 0, 0), PeriodStats(30, 1, 1, 2, 2500, 250, 0, 0),
                 PeriodStats(None, 12, 3, 4, 10050, 250, 755, 100)),
        top_products=(ProductEarnings(5, "Tee <XL> & co", 2, 2500, 250),),
        links=(LinkStats(None, None, 3, 1, 2500, 250), LinkStats(5, "Tee <XL> & co", 9, 2, 7550, 755)))

    text = earnings_text(dashboard, "USD", "en")

    assert "<b>Last 7 days</b>\n👆 1 click · 🧾 1 order · 📦 2 items · sales $25.00" in text
    assert ("<b>All time</b>\n👆 12 clicks · 🧾 3 orders · 📦 4 items · sales $100.50\n"
            "💰 pending $2.50 · approved $7.55 · reversed $1.00") in text
    assert "1. Tee &lt;XL&gt; &amp; co — 2 items, $25.00 sales, $2.50 commission" in text
    assert "• 🛍 Your showcase — 3 clicks, 1 order, $25.00 sales, $2.50" in text
    assert "• Tee &lt;XL&gt; &amp; co — 9 clicks, 2 orders, $75.50 sales, $7.55" in text
    assert "<XL>" not in text


def test_creator_sales_message():
    rows = [CreatorSales(1, "Hoodie & co", "USD", 3, 4, 20000, 2000), CreatorSales(2, "Cap", "USD", 1, 1, 2000, 200)]

    text = creator_sales_text("Corner <Shop>", rows, "en")

    assert text.splitlines()[0] == "📊 <b>Sales through creators</b> · Corner &lt;Shop&gt;"
    assert "1. <b>Hoodie &amp; co</b> — 3 orders, 4 items, $200.00 sales, $20.00 commission owed" in text
    assert "<b>Total</b>: $220.00 sales, $22.00 commission owed" in text
    assert "Nothing yet" in creator_sales_text("Corner Shop", [], "en")


# --- through the real bot ---------------------------------------------------------------------


async def test_earnings_and_creator_sales_in_the_chat(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True) as runner:
        # Not a creator yet: a pointer to /creator.
        cleo = fake.user(5001, "Cleo")
        await cleo.send("/earnings")
        assert cleo.last_text == NOT_A_CREATOR
        await cleo.send("/creator")

        # Ann opened Cleo's showcase, then bought two of a demo product an hour later.
        async with runner.db.transaction() as session:
            creator = await session.scalar(select(Creator).where(Creator.user_id == 5001))
            product = await session.scalar(select(Product).order_by(Product.id).limit(1))
            await make_user(session, 1001)
            await click(session, creator, 1001, None, clock() - timedelta(hours=2))
            await buy(session, 1001, [(product, 2)], clock() - timedelta(hours=1), creator=creator, bp=1000,
                      unit_price=2500)
            seller_id = product.seller_id
            await session.execute(update(Seller).where(Seller.id == seller_id).values(owner_user_id=7001))

        await cleo.send("/earnings")
        text = cleo.last_text
        assert text.startswith(f"📈 Your earnings · code {creator.code}")
        assert ("Last 7 days\n👆 1 click · 🧾 1 order · 📦 2 items · sales $50.00\n"
                "💰 pending $5.00 · approved $0.00 · reversed $0.00") in text
        assert f"1. {product.title} — 2 items, $50.00 sales, $5.00 commission" in text
        assert "• 🛍 Your showcase — 1 click, 1 order, $50.00 sales, $5.00" in text

        # The seller sees the product sold through creators; a shopper is pointed to /sell.
        owner = fake.user(7001, "Sam")
        await owner.send("/creator_sales")
        assert f"1. {product.title} — 1 order, 2 items, $50.00 sales, $5.00 commission owed" in owner.last_text
        ann = fake.user(1001, "Ann")
        await ann.send("/creator_sales")
        assert ann.last_text == NOT_A_SELLER
