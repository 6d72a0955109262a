"""Discount codes through the real bot: typed at the review, brought by a link, a creator's own code, and
what the invoice, the seller and the creator see."""

from __future__ import annotations

from sqlalchemy import select

from store.models import Checkout, Coupon, Order, Product, Seller
from store.models import utcnow as now
from store.services import coupons
from store.services.coupons import CouponTerms
from store.services.events import load_order, order_document

from .conftest import BotRunner
from .journeys import add_to_cart, open_link, review_to_confirm, start_creator

SELLER, SHOPPER, OPERATOR = 7001, 1201, 9001
PROVIDER = "284685063:TEST:provider"


async def add_coupon(runner: BotRunner, shop: str | None, code: str, **terms) -> None:  # type: ignore[no-untyped-def]
    async with runner.db.transaction() as session:
        seller_id = await session.scalar(select(Seller.id).where(Seller.name == shop)) if shop else None
        await coupons.create_coupon(session, seller_id=seller_id, code=code, terms=CouponTerms(**terms),
                                    created_by=OPERATOR, now=now())


async def seller_chat(runner: BotRunner, shop: str) -> None:
    async with runner.db.transaction() as session:
        seller = await session.scalar(select(Seller).where(Seller.name == shop))
        seller.notify_chat_id = SELLER


async def test_a_code_typed_at_the_review_comes_off_the_invoice_and_the_seller_is_told(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token=PROVIDER) as runner:
        await add_coupon(runner, "Voltbox Electronics", "EARBUDS5", amount_off=500, min_spend=6000)
        await add_coupon(runner, None, "WELCOME10", percent_off=10)
        await seller_chat(runner, "Voltbox Electronics")
        ann = fake.user(SHOPPER, "Ann")
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await ann.press("🛒 Cart")
        await ann.press("Checkout")
        assert "Checkout — review" in ann.last_text and "🎟 Add a code" in ann.buttons()

        # A code that doesn't exist, then one whose minimum isn't reached: each says exactly why.
        await ann.press("🎟 Add a code")
        assert "Type your discount code" in ann.last_text
        await ann.send("nope1")
        assert "There is no code NOPE1" in ann.last_text
        await ann.send("earbuds5")
        assert "EARBUDS5 needs at least $60.00" in ann.last_text and "add $10.01 more" in ann.last_text
        await ann.send("welcome10")
        review = ann.last_text
        assert "🎟 WELCOME10: −$5.00" in review  # under the seller's lines
        assert "Items: $49.99 − $5.00 with WELCOME10 = $44.99" in review
        assert "🎟 Remove WELCOME10" in ann.buttons()

        await review_to_confirm(ann, "Card")
        assert "🎟 WELCOME10: −$5.00" in ann.last_text
        await ann.press("Place order")

        invoice = fake.find_calls("sendInvoice", chat_id=SHOPPER)[-1].params
        async with runner.db.transaction() as session:
            checkout = await session.scalar(select(Checkout))
            order = await session.scalar(select(Order))
        assert checkout.discount == 500 and order.total == 4999 - 500 + order.shipping_fee
        assert sum(price["amount"] for price in invoice["prices"]) == checkout.total == checkout.invoice_amount
        assert all(price["amount"] > 0 for price in invoice["prices"])
        assert "took off $5.00" in invoice["description"]

        assert (await ann.pre_checkout())["ok"] is True
        await ann.pay(charge_id="tg-charge-coupon")
        # The seller's notice says what the code took off and that the platform pays it.
        notice = await fake.wait_for("sendMessage", lambda call: str(call.params.get("chat_id")) == str(SELLER),
                                     since=0)
        assert "WELCOME10: −$5.00" in notice.params["text"]
        assert f"you are paid {'$'}{(4999 + order.shipping_fee) / 100:.2f}" in notice.params["text"]
        async with runner.db.transaction() as session:
            document = await order_document(session, await load_order(session, order.id))
        assert (document["discount"], document["platform_discount"], document["coupon_code"]) == (500, 500,
                                                                                                  "WELCOME10")
        assert document["lines"][0]["discount"] == 500
        await ann.send("/orders")
        await ann.press(f"#{order.id}")
        assert "🎟 WELCOME10: −$5.00" in ann.last_text


async def test_a_link_brings_a_code_that_comes_off_at_checkout(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock) as runner:
        await add_coupon(runner, None, "FRIENDS", amount_off=300)
        async with runner.db.transaction() as session:
            earbuds = await session.scalar(select(Product.id).where(Product.title == "Wireless Earbuds"))
        ann = fake.user(SHOPPER, "Ann")
        # A link with a code nobody has: the product still opens, and the code is said to be unknown.
        await ann.send(f"/start p{earbuds}_c_NOSUCH1")
        assert any("There is no code NOSUCH1" in (text or "") for text in ann.reply_texts)
        await ann.send(f"/start p{earbuds}_c_friends")
        assert any("Your code FRIENDS is saved" in (text or "") for text in ann.reply_texts)
        assert "Wireless Earbuds" in ann.last_text
        await ann.press("Add to cart")
        await ann.press("🛒 Cart")
        await ann.press("Checkout")
        assert "🎟 FRIENDS: −$3.00" in ann.last_text
        # Taking it off: the same review, without it.
        await ann.press("🎟 Remove FRIENDS")
        assert "FRIENDS" not in ann.last_text and "🎟 Add a code" in ann.buttons()
        # Add a code, then think better of it: Continue under the review goes on as it was shown.
        review = ann.last_message
        await ann.press("🎟 Add a code")
        await ann.press("Continue", message=review)
        assert any("Checkout — contact" in (text or "") for text in ann.reply_texts)
        # A code alone in a link lands on the front page with it saved.
        await open_link(ann, "https://t.me/chatshop_test_bot?start=c_FRIENDS")
        assert any("Your code FRIENDS is saved" in (text or "") for text in ann.reply_texts)
        assert "isn't valid" not in ann.last_text


async def test_a_creators_own_code_credits_them_and_shows_in_earnings(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True, creator_code_percent=15) as runner:
        cleo, _link_code = await start_creator(fake, runner)
        assert "/mycode" in cleo.last_text
        await cleo.send("/mycode c!")
        assert "A code is 4 to 20 letters A-Z and digits 0-9" in cleo.last_text
        await cleo.send("/mycode cleo15")
        assert "Your code is CLEO15: 15% off" in cleo.last_text
        async with runner.db.transaction() as session:
            assert await session.scalar(select(Coupon.percent_off).where(Coupon.code == "CLEO15")) == 15

        # Ann never opened Cleo's links: the code alone credits Cleo.
        ann = fake.user(SHOPPER, "Ann")
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await ann.press("🛒 Cart")
        await ann.press("Checkout")
        await ann.press("🎟 Add a code")
        await ann.send("CLEO15")
        assert "🎟 CLEO15: −$7.50" in ann.last_text
        await review_to_confirm(ann, "Cash on delivery")
        await ann.press("Place order")
        assert any("is placed" in (text or "") for text in ann.reply_texts)

        # Cleo may not use her own code (a link with it says so at once), and sees what it sold.
        await open_link(cleo, "https://t.me/chatshop_test_bot?start=c_CLEO15")
        assert any("CLEO15 is your own code" in (text or "") for text in cleo.reply_texts)
        await cleo.send("/earnings")
        assert "Your discount codes" in cleo.last_text and "CLEO15 — 1 order, $42.49 sales" in cleo.last_text
