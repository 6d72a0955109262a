"""Reviews in the store: verified buyers only, once per line, one change; the product's rating kept with every
change; one seller reply (the buyer told); operators hide with a reason; buyers asked once a day after
delivery unless they turned it off; the seller score's three figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from store.errors import ErrorCode, ShopError
from store.models import (
    Category,
    Checkout,
    MutedAlert,
    Order,
    OrderEvent,
    OrderLine,
    OutboxMessage,
    Product,
    Review,
    Seller,
    Variant,
)
from store.services import personal_data, review_flow, reviews
from store.services.search import CatalogSearch
from store.services.users import touch_user
from store.states import ActorKind, AlertKind, Notice, OrderStatus

from .factories import make_category, make_product, make_seller, make_user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ANN, BOB, OWNER, OPERATOR = 1, 2, 30, 90
OPERATORS = frozenset({OPERATOR})


async def make_order(session, shop, buyer: int, status: str = OrderStatus.DELIVERED, *, kind: str = "physical",
                     events: tuple[tuple[str, str, timedelta], ...] = (),
                     delivered_ago: timedelta = timedelta(days=2)) -> Order:  # type: ignore[no-untyped-def]
    """An order of the lamp and the mug by ``buyer``; ``events``: (to status, actor kind, how long ago)."""
    checkout = Checkout(user_id=buyer, status="placed", payment_method="cod", currency="USD", items_total=7000,
                        shipping_total=0, total=7000, invoice_currency="USD", invoice_amount=7000,
                        shipping_code="std", shipping_name="Standard")
    session.add(checkout)
    await session.flush()
    first = min((ago for *_, ago in events), default=timedelta(days=3))
    order = Order(checkout_id=checkout.id, seller_id=shop.seller, buyer_id=buyer, status=status, kind=kind,
                  currency="USD", items_total=7000, shipping_fee=0, total=7000, created_at=NOW - first,
                  delivered_at=NOW - delivered_ago if status == OrderStatus.DELIVERED else None)
    session.add(order)
    await session.flush()
    for product_id, title, price in ((shop.lamp, "Desk Lamp", 5000), (shop.mug, "Mug", 2000)):
        session.add(OrderLine(order_id=order.id, variant_id=shop.variants[product_id], product_id=product_id,
                              title=title, sku=f"S{product_id}", unit_price=price, quantity=1, line_total=price))
    for to_status, actor, ago in events:
        session.add(OrderEvent(order_id=order.id, to_status=to_status, actor_kind=actor, created_at=NOW - ago))
    await session.flush()
    return order


@pytest.fixture
async def shop(db):
    """Lamp Shop (owned by user 30) sells a lamp and a mug; Ann and Bob shop; Ann's order was delivered."""
    async with db.transaction() as session:
        seller = await make_seller(session, "Lamp Shop")
        seller.owner_user_id = OWNER
        home = await make_category(session, "Home")
        lamp = await make_product(session, seller, home, "Desk Lamp", [("", 5000, 10)])
        mug = await make_product(session, seller, home, "Mug", [("", 2000, 10)])
        for user_id, name in ((ANN, "Ann"), (BOB, "Bob"), (OWNER, "Sam"), (OPERATOR, "Olga")):
            await make_user(session, user_id, name)
        variants = {row.product_id: row.id for row in await session.execute(select(Variant.product_id, Variant.id))}
        found = SimpleNamespace(seller=seller.id, lamp=lamp.id, mug=mug.id, variants=variants)
        order = await make_order(session, found, ANN)
        lines = list(await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id)
                                           .order_by(OrderLine.id)))
    found.order, found.lamp_line, found.mug_line = order.id, lines[0], lines[1]
    return found


async def rating_of(db, product_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        product = await session.get(Product, product_id)
        return product.rating_count, product.rating_sum


async def refused(db, call) -> ErrorCode:  # type: ignore[no-untyped-def]
    """Run ``call(session)`` in a transaction and return the refusal's code (it must refuse)."""
    with pytest.raises(ShopError) as error:
        async with db.transaction() as session:
            await call(session)
    return error.value.code


async def test_a_buyer_rates_a_delivered_line_once_with_words_and_a_photo(db, shop):
    # Ann taps ★★★★★ on the lamp: the lamp's rating counts it at once.
    async with db.transaction() as session:
        review = await review_flow.rate(session, ANN, shop.lamp_line, 5, NOW)
    assert (review.rating, review.buyer_name, review.title) == (5, "Ann", "Desk Lamp")
    assert await rating_of(db, shop.lamp) == (1, 5)

    # A doubled tap (or a second tap of other stars) writes nothing and says so.
    assert await refused(db, lambda s: reviews.rate(s, ANN, shop.lamp_line, 5, NOW)) == ErrorCode.REVIEW_EXISTS
    assert await refused(db, lambda s: reviews.rate(s, ANN, shop.lamp_line, 1, NOW)) == ErrorCode.REVIEW_EXISTS
    assert await rating_of(db, shop.lamp) == (1, 5)

    # Too long a text is refused and changes nothing; she may try again.
    code = await refused(db, lambda s: review_flow.add_words(s, ANN, "x" * (reviews.TEXT_MAX + 1), NOW))
    assert code == ErrorCode.REVIEW_TEXT_LENGTH
    # Her words are tidied. One message of words: what she types next is hers again (a search), not the review's.
    async with db.transaction() as session:
        await review_flow.add_words(session, ANN, "  Bright   and\n\n\n\nsturdy.  ", NOW)
    assert await refused(db, lambda s: review_flow.add_words(s, ANN, "blue hoodie", NOW)) == \
        ErrorCode.REVIEW_STEP_OVER
    # A photo may still follow, kept by its file id; with both in, the dialogue is over.
    async with db.transaction() as session:
        review = await review_flow.add_photo(session, ANN, "photo-file-id", None, NOW)
    assert (review.text, review.photo) == ("Bright and\n\nsturdy.", "photo-file-id")
    assert await refused(db, lambda s: review_flow.add_photo(s, ANN, "another", None, NOW)) == \
        ErrorCode.REVIEW_STEP_OVER


async def test_only_the_buyer_of_a_delivered_line_may_rate_it_and_only_1_to_5(db, shop):
    # Bob did not buy it; a made-up line does not exist.
    assert await refused(db, lambda s: reviews.rate(s, BOB, shop.lamp_line, 5, NOW)) == ErrorCode.REVIEW_LINE_UNKNOWN
    assert await refused(db, lambda s: reviews.rate(s, ANN, 999_999, 5, NOW)) == ErrorCode.REVIEW_LINE_UNKNOWN
    # Zero or six stars are no rating.
    for stars in (0, 6):
        assert await refused(db, lambda s, n=stars: reviews.rate(s, ANN, shop.lamp_line, n, NOW)) == \
            ErrorCode.RATING_INVALID
    # An order on its way can't be rated yet.
    async with db.transaction() as session:
        shipped = await make_order(session, shop, BOB, OrderStatus.SHIPPED)
        line = await session.scalar(select(OrderLine.id).where(OrderLine.order_id == shipped.id).limit(1))
    assert await refused(db, lambda s: reviews.rate(s, BOB, line, 4, NOW)) == ErrorCode.REVIEW_NOT_DELIVERED
    async with db.read() as session:
        assert await session.scalar(select(func.count(Review.id))) == 0


async def test_the_buyer_changes_a_review_once_and_the_rating_follows(db, shop):
    async with db.transaction() as session:
        review = await review_flow.rate(session, ANN, shop.mug_line, 2, NOW)
        await review_flow.finish(session, ANN, review.id)
    # She changes her mind: 4 stars and new words.
    async with db.transaction() as session:
        await reviews.check_editable(session, ANN, review.id)
        await review_flow.edit(session, ANN, review.id, 4, NOW)
        await review_flow.add_words(session, ANN, "Grew on me.", NOW)
    assert await rating_of(db, shop.mug) == (1, 4)
    # That was her one change: it is final now, and nobody else may change it.
    assert await refused(db, lambda s: reviews.check_editable(s, ANN, review.id)) == ErrorCode.REVIEW_EDITED
    assert await refused(db, lambda s: review_flow.edit(s, ANN, review.id, 1, NOW)) == ErrorCode.REVIEW_EDITED
    assert await refused(db, lambda s: review_flow.edit(s, BOB, review.id, 1, NOW)) == ErrorCode.REVIEW_UNKNOWN
    assert await rating_of(db, shop.mug) == (1, 4)


async def test_the_seller_replies_once_and_the_buyer_is_told(db, shop):
    async with db.transaction() as session:
        review = await reviews.rate(session, ANN, shop.lamp_line, 3, NOW)
    # Bob is not the seller: refused. The shop's owner replies.
    code = await refused(db, lambda s: review_flow.start_reply(s, BOB, review.id, OPERATORS))
    assert code == ErrorCode.REVIEW_REPLY_NOT_YOURS
    async with db.transaction() as session:
        await review_flow.start_reply(session, OWNER, review.id, OPERATORS)
        replied = await review_flow.submit_reply(session, OWNER, " Thanks,   Ann! ", OPERATORS, NOW)
    assert replied.reply == "Thanks, Ann!"
    async with db.read() as session:
        notice = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == Notice.REVIEW_REPLY))
    assert (notice.chat_id, notice.payload) == (ANN, {"review_id": review.id})
    # A second reply, by the seller or an operator, is refused.
    assert await refused(db, lambda s: review_flow.start_reply(s, OWNER, review.id, OPERATORS)) == \
        ErrorCode.REVIEW_REPLIED
    assert await refused(db, lambda s: reviews.reply(s, OPERATOR, review.id, "Hi", OPERATORS, NOW)) == \
        ErrorCode.REVIEW_REPLIED


async def test_an_operator_hides_a_review_with_a_reason_and_it_stops_counting(db, shop):
    async with db.transaction() as session:
        lamp = await reviews.rate(session, ANN, shop.lamp_line, 1, NOW)
        await reviews.rate(session, ANN, shop.mug_line, 5, NOW)
    # The seller can't hide it; an operator must give a reason.
    assert await refused(db, lambda s: review_flow.start_hide(s, OWNER, lamp.id, OPERATORS)) == \
        ErrorCode.ONLY_OPERATORS
    async with db.transaction() as session:
        await review_flow.start_hide(session, OPERATOR, lamp.id, OPERATORS)
    assert await refused(db, lambda s: review_flow.submit_hide(s, OPERATOR, "x", OPERATORS, NOW)) == \
        ErrorCode.REVIEW_HIDE_REASON_LENGTH
    async with db.transaction() as session:
        await review_flow.submit_hide(session, OPERATOR, "Insults the courier", OPERATORS, NOW)
    assert await rating_of(db, shop.lamp) == (0, 0)
    async with db.read() as session:
        row = await session.get(Review, lamp.id)
        shown, total = await reviews.product_reviews(session, shop.lamp, 0, 5)
        every = await reviews.ratings(session)
    assert (row.hidden_by, row.hidden_reason, shown, total) == (OPERATOR, "Insults the courier", [], 0)
    assert every == {shop.mug: reviews.Rating(1, 5)}
    # Hidden is hidden: not twice, and its buyer can't change it any more.
    assert await refused(db, lambda s: reviews.hide(s, OPERATOR, lamp.id, "again", OPERATORS, NOW)) == \
        ErrorCode.REVIEW_UNKNOWN
    assert await refused(db, lambda s: review_flow.edit(s, ANN, lamp.id, 5, NOW)) == ErrorCode.REVIEW_UNKNOWN


async def test_reviews_are_listed_newest_first_by_first_name_only(db, shop):
    async with db.transaction() as session:
        bob_order = await make_order(session, shop, BOB)
        bob_line = await session.scalar(select(OrderLine.id).where(OrderLine.order_id == bob_order.id,
                                                                   OrderLine.product_id == shop.lamp))
        await reviews.rate(session, ANN, shop.lamp_line, 4, NOW)
        await reviews.rate(session, BOB, bob_line, 2, NOW + timedelta(hours=1))
    async with db.read() as session:
        first, total = await reviews.product_reviews(session, shop.lamp, 0, 1)
        second, _ = await reviews.product_reviews(session, shop.lamp, 1, 1)
    assert total == 2 and [(r.buyer_name, r.rating) for r in first + second] == [("Bob", 2), ("Ann", 4)]
    assert await rating_of(db, shop.lamp) == (2, 6)


async def test_buyers_are_asked_once_a_day_after_delivery_unless_they_turned_it_off(db, shop):
    delay = timedelta(days=1)
    async with db.transaction() as session:
        # Bob's order was delivered an hour ago; Bob turned review requests off for a later one.
        fresh = await make_order(session, shop, BOB, delivered_ago=timedelta(hours=1))
        muted = await make_order(session, shop, BOB, delivered_ago=timedelta(days=3))
        session.add(MutedAlert(user_id=BOB, kind=AlertKind.REVIEW_REQUESTS))
        # A digital order is asked too; one delivered months ago is only marked.
        digital = await make_order(session, shop, ANN, kind="digital", delivered_ago=timedelta(days=2))
        old = await make_order(session, shop, ANN, delivered_ago=timedelta(days=200))
    async with db.transaction() as session:
        assert await reviews.ask_for_reviews(session, NOW, delay) == 4
    async with db.transaction() as session:
        assert await reviews.ask_for_reviews(session, NOW, delay) == 0
        asked = {row.payload["order_id"]: row.chat_id for row in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == Notice.REVIEW_REQUEST))}
        marked = await session.scalar(select(Order.review_asked_at).where(Order.id == old.id))
    assert asked == {shop.order: ANN, digital.id: ANN} and marked is not None
    assert muted.id not in asked
    # A day later the fresh one is due, but Bob turned them off.
    async with db.transaction() as session:
        assert await reviews.ask_for_reviews(session, NOW + delay, delay) == 1
        assert await session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template == Notice.REVIEW_REQUEST, OutboxMessage.chat_id == BOB)) == 0
        assert await session.scalar(select(Order.review_asked_at).where(Order.id == fresh.id)) is not None


async def test_the_seller_score_counts_stars_shipping_on_time_and_cancellations(db, shop):
    day = timedelta(days=1)
    seller, paid, shipped = ActorKind.SELLER, OrderStatus.PAID, OrderStatus.SHIPPED
    async with db.transaction() as session:
        # Shipped a day after payment: on time. Shipped 3 days after: late.
        await make_order(session, shop, BOB, OrderStatus.SHIPPED,
                         events=((paid, ActorKind.BUYER, 10 * day), (shipped, seller, 9 * day)))
        await make_order(session, shop, BOB, OrderStatus.SHIPPED,
                         events=((paid, ActorKind.BUYER, 10 * day), (shipped, seller, 7 * day)))
        # Paid 5 days ago and never shipped: late. Paid an hour ago: not due yet, not counted.
        await make_order(session, shop, BOB, OrderStatus.PAID, events=((paid, ActorKind.BUYER, 5 * day),))
        await make_order(session, shop, BOB, OrderStatus.PAID, events=((paid, ActorKind.BUYER, day / 24),))
        # Cancelled by the seller after payment: a cancellation, not a shipping figure.
        await make_order(session, shop, BOB, OrderStatus.CANCELLED, events=(
            (paid, ActorKind.BUYER, 4 * day), (OrderStatus.CANCELLED, seller, 3 * day)))
        # The buyer called off an unpaid order; another expired; one was paid 100 days ago: none count.
        await make_order(session, shop, BOB, OrderStatus.CANCELLED, events=(
            (OrderStatus.PENDING_PAYMENT, ActorKind.BUYER, 2 * day), (OrderStatus.CANCELLED, ActorKind.BUYER, day)))
        await make_order(session, shop, BOB, OrderStatus.EXPIRED, events=((OrderStatus.EXPIRED, "system", day),))
        await make_order(session, shop, BOB, OrderStatus.SHIPPED,
                         events=((paid, ActorKind.BUYER, 100 * day), (shipped, seller, 99 * day)))
        await reviews.rate(session, ANN, shop.lamp_line, 5, NOW)
        await reviews.rate(session, ANN, shop.mug_line, 4, NOW)
    async with db.read() as session:
        score = await reviews.seller_score(session, shop.seller, NOW)
    assert (score.reviews, score.average) == (2, 4.5)
    # On time: 1 of 3 (on time, late, overdue); cancelled by the seller: 1 of 5 paid in the window.
    assert (score.on_time, score.shipped_counted) == (3333, 3)
    assert (score.cancelled, score.orders_counted) == (2000, 5)

    # The process keeps it: a card view reads it from memory until its time is up.
    scores = reviews.SellerScores()
    async with db.read() as session:
        assert await scores.get(session, shop.seller, NOW) == score
    assert scores.peek(shop.seller) == score and scores.peek(999) is None


async def test_ratings_break_ties_in_search_but_never_beat_relevance(db, shop):
    # A second "Desk Lamp" (exactly as relevant as the first) and a less relevant lamp holder, both rated 5.
    async with db.transaction() as session:
        seller = await session.get(Seller, shop.seller)
        home = await session.scalar(select(Category))
        twin = await make_product(session, seller, home, "Desk Lamp", [("", 5000, 10)])
        holder = await make_product(session, seller, home, "Desk Lamp Holder Bracket", [("", 900, 10)])
        for product in (twin, holder):
            variant = await session.scalar(select(Variant.id).where(Variant.product_id == product.id))
            shop.variants[product.id] = variant
        order = await make_order(session, shop, BOB)
        for product in (twin, holder):
            line = OrderLine(order_id=order.id, variant_id=shop.variants[product.id], product_id=product.id,
                             title=product.title, sku="T", unit_price=1000, quantity=1, line_total=1000)
            session.add(line)
            await session.flush()
            await reviews.rate(session, BOB, line.id, 5, NOW)
        # The first lamp has a 2-star review.
        await reviews.rate(session, ANN, shop.lamp_line, 2, NOW)
    # Searched two months on: the lamps' sales, older than the 30 days units sold count for, tie no more.
    search = CatalogSearch(refresh_interval=0, clock=lambda: NOW + timedelta(days=60))
    async with db.read() as session:
        found = await search.search(session, "desk lamp")
        hits = {hit.product_id: hit.score for hit in search.index.search("desk lamp", limit=10)}
    # The equally relevant twin, better rated, goes first; the holder, less relevant, stays below both.
    assert hits[twin.id] == hits[shop.lamp] > hits[holder.id]
    assert list(found.product_ids[:3]) == [twin.id, shop.lamp, holder.id]


async def test_a_review_stays_without_its_authors_name_once_they_are_forgotten(db, shop):
    async with db.transaction() as session:
        await reviews.rate(session, ANN, shop.lamp_line, 4, NOW)
    async with db.transaction() as session:
        await personal_data.forget(session, ANN, NOW)
    # Ann writes to the bot again: Telegram gives her name back to the store, not to her old review.
    async with db.transaction() as session:
        await touch_user(session, ANN, "Ann")
    async with db.read() as session:
        shown, total = await reviews.product_reviews(session, shop.lamp, 0, 10)
    assert total == 1 and (shown[0].rating, shown[0].buyer_name) == (4, "")
