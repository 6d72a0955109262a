"""Reviews through the real bot: a day after delivery the buyer is asked, rates with one tap, adds words and a
photo; the card, search and the Reviews pages show it; one change; the seller replies once (the buyer is
told); an operator hides it with a reason; a buyer who turned review requests off is not asked.

Time is the clock the test moves; the request job is run by hand (nothing sleeps ten minutes).
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from bot.jobs import ask_reviews
from handlers import callbacks as cb
from store.models import Checkout, MutedAlert, Order, OrderLine, Product, Review, Seller, Variant
from store.services import reviews
from store.services.cart import MAX_LINES
from store.services.seller_catalog import LABEL_MAX, TITLE_MAX
from store.services.sellers import NAME_MAX as SHOP_NAME_MAX
from store.states import AlertKind

from .conftest import BotRunner
from .factories import make_category, make_product, make_user
from .test_e2e_sellers import OPERATOR, SELLER, add_linen_shirt, buy, deliver, open_shop, sent_to
from .test_limits import SENDS, longest

ANN, BOB = 1001, 1002


def asked(fake, chat_id: int) -> list:  # type: ignore[no-untyped-def]
    """The review requests sent to a chat."""
    return [c for c in fake.find_calls("sendMessage", chat_id=chat_id) if "How was your order" in c.result["text"]]


async def test_a_buyer_rates_writes_changes_once_and_the_seller_and_an_operator_act(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        context = SimpleNamespace(shop=runner.application.shop)

        # Ann buys a shirt and it is delivered; she is not asked at once.
        ann = fake.user(ANN, "Ann", username="ann_secret")
        await buy(ann, "M / White")
        await deliver(fake, seller, ANN)
        await ask_reviews(context)
        assert not asked(fake, ANN)

        # A day later the job asks her, once, with five stars under the shirt and how to stop these questions.
        clock.advance(days=1, minutes=1)
        await ask_reviews(context)
        request = await fake.wait_for("sendMessage", sent_to(ANN, "How was your order", "Linen Summer Shirt"),
                                      timeout=10)
        assert "/notifications" in request.result["text"]
        await ask_reviews(context)
        assert len(asked(fake, ANN)) == 1

        # One tap rates it; she adds words and a photo, then Done.
        await ann.press("5 ★", message=request.result["message_id"])
        assert "Thank you" in ann.last_answer["text"]
        assert "Thanks for rating Linen Summer Shirt (M / White) ★★★★★" in ann.last_text
        await ann.send("Lovely  linen,\n\n\n\nfits well.")
        assert "Words added" in ann.last_text
        await ann.send_photo()
        assert "is published: ★★★★★" in ann.last_text  # words and a photo: nothing more to ask

        # Search and the card show the rating; the Reviews page shows her words by first name, and her photo.
        await ann.send("linen shirt")
        assert "★ 5.0 (1)" in ann.last_text
        await ann.press("Linen Summer Shirt")
        assert "★ 5.0 · 1 review" in ann.last_text and "🏪 Seller: ★ 5.0 (1)" in ann.last_text
        # The shop's page explains each figure of its score and lists what it sells.
        await ann.press("The shop")
        page = ann.last_text
        assert "Sam's Shirts" in page and "Rating: ★ 5.0, from 1 review of its products" in page
        assert "Shipped on time: 100% of 1 order (within 2 days of payment" in page
        assert "Cancelled by the seller: 0% of 1 paid order" in page and "1. Linen Summer Shirt" in page
        await ann.press("Reviews (1)")
        assert "Lovely linen,\n\nfits well." in ann.last_text and "Ann" in ann.last_text
        assert "ann_secret" not in ann.last_text and "Reply" not in " ".join(ann.buttons())
        await ann.press("📷 1")
        assert fake.find_calls("sendPhoto", chat_id=ANN)

        # A second tap on the same line, or a line of someone else's order, writes nothing.
        async with runner.db.read() as session:
            line_id = await session.scalar(select(OrderLine.id))
            order_id = await session.scalar(select(Order.id))
        await ann.press_data(cb.RateLine(line_id, 1).pack())
        assert "already rated" in ann.last_answer["text"]
        bob = fake.user(BOB, "Bob")
        await bob.send("/start")
        await bob.press_data(cb.RateLine(line_id, 1).pack())
        assert "isn't in one of your orders" in bob.last_answer["text"]

        # From /orders she changes it once: three stars. Then it is final.
        await ann.send("/orders")
        await ann.press(f"#{order_id}")
        await ann.press("Rate")
        await ann.press("Change my review")
        await ann.press("3 ★")
        assert "Changed: Linen Summer Shirt (M / White) ★★★☆☆" in ann.texts[-2]
        await ann.press("Done")
        await ann.send("/orders")
        await ann.press(f"#{order_id}")
        await ann.press("Rate")
        assert "Change my review" not in " ".join(ann.buttons()) and "Every item" in ann.last_text
        async with runner.db.read() as session:
            review_id = await session.scalar(select(Review.id))
        await ann.press_data(cb.EditReview(review_id).pack())
        assert "already changed this review once" in ann.last_answer["text"]

        # The seller replies once, from the card's Reviews; Ann is told.
        await seller.send("linen shirt")
        await seller.press("Linen Summer Shirt")
        assert "★ 3.0 · 1 review" in seller.last_text
        await seller.press("Reviews (1)")
        await seller.press("Reply 1")
        assert "Everyone sees it" in seller.last_text
        await seller.send("Thank you, Ann!")
        assert "reply is published" in seller.last_text
        await fake.wait_for("sendMessage", sent_to(ANN, "replied to your review", "Thank you, Ann!"), timeout=10)
        await seller.press("See the reviews")
        assert "Sam's Shirts replied: Thank you, Ann!" in seller.last_text
        assert "Reply" not in " ".join(seller.buttons())
        await seller.press_data(cb.ReplyReview(review_id).pack())
        assert "already has its reply" in seller.last_answer["text"]

        # An operator hides it with a reason: the card no longer counts it.
        await operator.send("linen shirt")
        await operator.press("Linen Summer Shirt")
        await operator.press("Reviews (1)")
        await operator.press("Hide 1")
        await operator.send("Mentions a competitor's shop")
        assert "is hidden" in operator.last_text
        async with runner.db.read() as session:
            hidden = await session.get(Review, review_id)
        assert (hidden.hidden_by, hidden.hidden_reason) == (OPERATOR, "Mentions a competitor's shop")
        await ann.send("linen shirt")
        await ann.press("Linen Summer Shirt")
        assert "★ 3.0" not in ann.last_text and "Reviews" not in " ".join(ann.buttons())


async def test_a_buyer_who_turned_review_requests_off_is_not_asked(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        context = SimpleNamespace(shop=runner.application.shop)

        # Bob turned review requests off (/notifications writes this row).
        bob = fake.user(BOB, "Bob")
        await buy(bob, "L / White")
        async with runner.db.transaction() as session:
            session.add(MutedAlert(user_id=BOB, kind=AlertKind.REVIEW_REQUESTS))
        await deliver(fake, seller, BOB)

        # A day later the job runs: Bob's order is marked asked, and nothing is sent to him.
        clock.advance(days=2)
        await ask_reviews(context)
        async with runner.db.read() as session:
            order = await session.scalar(select(Order))
        assert order.review_asked_at is not None and not asked(fake, BOB)
        # He can still rate from /orders.
        await bob.send("/orders")
        await bob.press(f"#{order.id}")
        await bob.press("Rate")
        await bob.press("4 ★")
        assert "Thanks for rating" in bob.last_text

        # One message of words; what he types after it is a search, not a new text for his review.
        await bob.send("Nice and light")
        assert "Words added" in bob.last_text
        await bob.send("blue hoodie")
        assert "Words added" not in bob.last_text
        async with runner.db.read() as session:
            assert (await session.scalar(select(Review.text).where(Review.buyer_id == BOB))) == "Nice and light"

        # The seller pressed Reply, then moved on with a command: his next words publish nothing.
        await seller.send("linen shirt")
        await seller.press("Linen Summer Shirt")
        await seller.press("Reviews (1)")
        await seller.press("Reply 1")
        await seller.send("/orders")
        await seller.send("thanks")
        async with runner.db.read() as session:
            assert (await session.scalar(select(Review.reply).where(Review.buyer_id == BOB))) is None
        # He replies for real; then Bob's review stays as it was answered.
        await seller.press("Reply 1")
        await seller.send("Glad you like it, Bob!")
        assert "reply is published" in seller.last_text
        await bob.send("/orders")
        await bob.press(f"#{order.id}")
        await bob.press("Rate")
        assert "Change my review" not in " ".join(bob.buttons())
        async with runner.db.read() as session:
            review_id = await session.scalar(select(Review.id).where(Review.buyer_id == BOB))
        await bob.press_data(cb.EditReview(review_id).pack())
        assert "seller has replied to this review" in bob.last_answer["text"]


async def test_the_longest_order_and_reviews_fit_telegrams_limits(fake, store_url, clock):
    """A 25-line order of the longest titles gets one request (at most Telegram's 100 buttons); a page of the
    longest reviews with the longest replies and names fits one message."""
    async with BotRunner(fake, store_url, clock) as runner:
        now = clock()
        photo = fake._new_file("photo", data=b"\xff\xd8\xff\xe0 picture", mime_type="image/jpeg").file_id
        async with runner.db.transaction() as session:
            seller = Seller(name=longest("Zanzibar <Traders> & Sons 😀 ", SHOP_NAME_MAX), kind="retailer",
                            status="approved", commission_bp=1000, owner_user_id=SELLER)
            session.add(seller)
            await session.flush()
            category = await make_category(session, "Lamps")
            products = [await make_product(session, seller, category,
                                           longest(f"Zanzibar lamp {i:02d} «extra» & <wide> 😀 ", TITLE_MAX),
                                           [(longest(f"{i:02d} Größe & <Farbe> 😀 ", LABEL_MAX), 1000, 10)])
                        for i in range(MAX_LINES)]
            variants = {row.product_id: row.id for row in await session.execute(select(Variant.product_id,
                                                                                        Variant.id))}
            for user_id in range(ANN, ANN + 6):
                await make_user(session, user_id, longest("Ann-Marie <&> 😀 ", 128))

            async def delivered(buyer: int, items: list[Product]) -> list[int]:
                checkout = Checkout(user_id=buyer, status="placed", payment_method="cod", currency="USD",
                                    items_total=1000, shipping_total=0, total=1000, invoice_currency="USD",
                                    invoice_amount=1000, shipping_code="std", shipping_name="Standard")
                session.add(checkout)
                await session.flush()
                order = Order(checkout_id=checkout.id, seller_id=seller.id, buyer_id=buyer, status="delivered",
                              currency="USD", items_total=1000, shipping_fee=0, total=1000,
                              delivered_at=now - timedelta(days=2))
                session.add(order)
                await session.flush()
                lines = [OrderLine(order_id=order.id, variant_id=variants[p.id], product_id=p.id, title=p.title,
                                   variant_label="x" * LABEL_MAX, sku="S", unit_price=1000, quantity=1,
                                   line_total=1000) for p in items]
                session.add_all(lines)
                await session.flush()
                return [line.id for line in lines]

            await delivered(ANN, products)
            # Five other buyers of the first lamp wrote the longest reviews, with a photo, and got the longest reply.
            for buyer in range(ANN + 1, ANN + 6):
                order_line = (await delivered(buyer, products[:1]))[0]
                review = await reviews.rate(session, buyer, order_line, 4, now)
                await reviews.set_text(session, buyer, review.id, longest("Bright & <sturdy> 😀 ", reviews.TEXT_MAX),
                                       now)
                await reviews.set_photo(session, buyer, review.id, photo, now)
                await reviews.reply(session, SELLER, review.id, longest("Thanks & <more> 😀 ", reviews.REPLY_MAX),
                                    frozenset(), now)
            session.add(MutedAlert(user_id=ANN + 1, kind=AlertKind.REVIEW_REQUESTS))
            first = products[0].id

        # Ann is asked about all 25 lines in one message; the first ten have stars (the rest from /orders).
        await ask_reviews(SimpleNamespace(shop=runner.application.shop))
        request = await fake.wait_for("sendMessage", sent_to(ANN, "Zanzibar lamp 24"), timeout=10)
        keyboard = request.params["reply_markup"]
        keyboard = json.loads(keyboard) if isinstance(keyboard, str) else keyboard
        assert 50 <= sum(len(row) for row in keyboard["inline_keyboard"]) <= 100
        ann = fake.user(ANN, "Ann")
        await ann.press("5 ★")
        assert "Thanks for rating" in ann.last_text

        # The seller reads a page of the longest reviews of the first lamp: one message, cut to fit if need be.
        sam = fake.user(SELLER, "Sam")
        await sam.press_data(cb.ReviewsPage(first, 0, False).pack())
        assert "Reviews of" in sam.last_text and "Next" in " ".join(sam.buttons())
        await sam.press("📷 2")  # (1 is Ann's, just written, without a photo)
        sent = [call for call in fake.calls if call.method in SENDS]
        assert sent and all(call.ok for call in sent), [call.summary() for call in sent if not call.ok]
