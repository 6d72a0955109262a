"""Coupons managed in the chat: a seller's for their shop, an operator's for the platform.

A seller opens /coupons, creates coupons step by step (a percentage limited to
one product, an amount with a minimum spend and a number of uses), mistypes on
the way and is told why, and pauses one; an operator creates a platform coupon;
a shopper and a rival seller get nowhere.
"""

from __future__ import annotations

from sqlalchemy import select

from store.models import Coupon, CouponProduct, Product, Seller
from store.services import coupons

from .conftest import BotRunner
from .test_e2e_sellers import OPERATOR, SHOPPER, add_linen_shirt, open_shop, sent_to

RIVAL = 3002


async def stored_coupons(db) -> list[Coupon]:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return list(await session.scalars(select(Coupon).order_by(Coupon.id)))


async def limited_to(db, coupon_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return list(await session.scalars(select(CouponProduct.product_id).where(
            CouponProduct.coupon_id == coupon_id)))


async def product_id(db, title: str) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await session.scalar(select(Product.id).where(Product.title == title))


async def test_a_seller_creates_a_percent_and_an_amount_coupon_and_pauses_one(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        shirt = await product_id(runner.db, "Linen Summer Shirt")

        # No coupons yet; ➕ New coupon asks for the code.
        await seller.send("/coupons")
        assert "has no coupons yet" in seller.last_text
        await seller.press("New coupon")
        assert "What code do shoppers type?" in seller.last_text

        # Too short: the rule is said and the step stays; lower case is taken, upper-cased.
        await seller.send("ab")
        assert seller.last_text == "A code is 4 to 20 letters A-Z and digits 0-9, with no spaces."
        await seller.send("summer10")
        assert "Code SUMMER10 ✓" in seller.last_text and "How much off?" in seller.last_text

        # 150% and words are refused; 10% is taken.
        await seller.send("150%")
        assert seller.last_text == "A percentage off is a whole number from 1 to 100."
        await seller.send("a lot")
        assert seller.last_text == "Type the discount as a percentage (10%) or an amount (5.00)."
        await seller.send("10%")
        assert "(3/8)" in seller.last_text
        await seller.send("0")  # typed, a minimum of 0 is no minimum, as the button says
        assert "(4/8)" in seller.last_text and "YYYY-MM-DD" in seller.last_text and "UTC" in seller.last_text

        # A date that isn't one, then an end before the start, are refused.
        await seller.send("2026-13-01")
        assert seller.last_text == "Type the date as YYYY-MM-DD, e.g. 2030-06-30 (UTC)."
        await seller.send("2026-12-10")
        assert "(5/8)" in seller.last_text
        await seller.send("2026-12-05")
        assert seller.last_text == "The end must come after the start."
        await seller.send("2026-12-31")
        assert "(6/8)" in seller.last_text
        await seller.send("0")
        assert seller.last_text == "A number of uses is a whole number of 1 or more."
        await seller.press("No limit")
        await seller.press("Once per shopper")

        # The products step lists the shop's products by number; another shop's number is refused.
        assert f"#{shirt} Linen Summer Shirt" in seller.last_text
        await seller.send("1, 2")
        assert seller.last_text == "That product isn't one of your shop's."
        await seller.send(str(shirt))
        summary = seller.last_text
        assert "New coupon SUMMER10: 10% off" in summary and "No minimum spend" in summary
        assert "Valid from 10 Dec 2026, 00:00 UTC until 31 Dec 2026, 23:59 UTC" in summary
        assert "Limited to 1 product" in summary and "Linen Summer Shirt" in summary
        assert await stored_coupons(runner.db) == []  # nothing made before Create
        create = seller.last_message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        summary_id = seller.last_message["message_id"]

        # Create, pressed twice: one coupon.
        await seller.press("Create")
        assert any("Coupon SUMMER10 is created" in (text or "") for text in seller.reply_texts)
        listing = seller.last_text
        assert "SUMMER10: 10% off · ▶ active" in listing and "Used: 0, no limit" in listing
        assert "Per shopper: 1 use" in listing and "Limited to 1 product" in listing
        await seller.press_data(create, message=summary_id)
        assert seller.last_answer["text"] == "This step is over. Send /coupons to start again."
        [coupon] = await stored_coupons(runner.db)
        assert (coupon.code, coupon.percent_off, coupon.amount_off, coupon.seller_id) == ("SUMMER10", 10, None,
                                                                                          coupon.seller_id)
        assert coupon.seller_id is not None and coupon.scope == coupon.seller_id
        assert (coupon.max_uses, coupon.per_shopper, coupon.active) == (None, 1, True)
        assert coupon.starts_at.isoformat() == "2026-12-10T00:00:00+00:00"
        assert await limited_to(runner.db, coupon.id) == [shirt]

        # Pausing it: the list says so and the store holds it.
        await seller.press("Pause SUMMER10")
        assert seller.last_answer["text"] == "Paused."
        assert "SUMMER10: 10% off · ⏸ paused" in seller.last_text and "Resume SUMMER10" in seller.buttons()[0]
        assert (await stored_coupons(runner.db))[0].active is False

        # An amount off with a minimum spend and 100 uses in all.
        await seller.press("New coupon")
        await seller.send("FiveOff")
        await seller.send("5")
        await seller.send("20.00")
        await seller.press("Starts now")
        await seller.press("No end")
        await seller.send("100")
        await seller.press("No limit per shopper")
        await seller.press("All my products")
        assert "New coupon FIVEOFF: $5.00 off" in seller.last_text and "Minimum spend: $20.00" in seller.last_text
        await seller.press("Create")
        assert "FIVEOFF: $5.00 off · ▶ active" in seller.last_text and "Used: 0 of 100" in seller.last_text
        five = (await stored_coupons(runner.db))[1]
        assert (five.code, five.amount_off, five.min_spend, five.max_uses, five.per_shopper) == (
            "FIVEOFF", 500, 2000, 100, None)
        assert (five.starts_at, five.ends_at) == (None, None) and await limited_to(runner.db, five.id) == []

        # A code the shop has already is refused; /cancel leaves with nothing made.
        await seller.press("New coupon")
        await seller.send("Summer10")
        assert seller.last_text == "The code SUMMER10 is already taken. Please choose another."
        await seller.send("/cancel")
        assert seller.last_text == "Cancelled. No coupon was created."
        assert len(await stored_coupons(runner.db)) == 2

        # /help tells sellers of /coupons.
        await seller.send("/help")
        assert "/coupons" in seller.last_text


async def test_an_operator_creates_a_platform_coupon_and_others_get_nowhere(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, operator = await open_shop(fake, runner)
        await seller.send("/coupons")
        await seller.press("New coupon")
        for answer in ("SAM20", "20%"):
            await seller.send(answer)
        for button in ("No minimum", "Starts now", "No end", "No limit", "Once per shopper", "All my products",
                       "Create"):
            await seller.press(button)
        [sams] = await stored_coupons(runner.db)

        # A shopper who sells nothing is told politely what /coupons is for.
        shopper = fake.user(SHOPPER, "Ann")
        await shopper.send("/coupons")
        assert shopper.last_text == "This is for sellers. To open a shop, send /sell."

        # Another seller forges the Pause button of Sam's coupon: refused, nothing changes.
        rival = fake.user(RIVAL, "Rita")
        await rival.send("/sell")
        await rival.send("Rita's Rugs")
        await fake.wait_for("sendMessage", sent_to(OPERATOR, "Seller application", "Rita's Rugs"), timeout=10)
        await operator.press("Approve")
        await rival.send("/coupons")
        assert "Rita's Rugs" in rival.last_text and "has no coupons yet" in rival.last_text
        await rival.press_data(f"kua:{sams.id}:0:0:0")
        assert rival.last_answer["text"] == "That coupon no longer exists."
        # ... nor as the platform's (Rita is no operator).
        await rival.press_data(f"kua:{sams.id}:1:0:0")
        assert rival.last_answer["text"] == "That command is for the shop's operators."
        assert (await stored_coupons(runner.db))[0].active is True

        # The operator manages the platform's coupons: paid by the platform, on any shop's goods.
        await operator.send("/coupons")
        assert "The platform has no coupons yet." in operator.last_text
        await operator.press("New coupon")
        await operator.send("SAM20")  # a shop's code can't be a platform code too
        assert operator.last_text == "The code SAM20 is already taken. Please choose another."
        await operator.send("welcome15")
        await operator.send("15%")
        await operator.send("30")
        await operator.press("Starts now")
        await operator.send("2027-01-31")
        await operator.send("500")
        await operator.send("2")
        await operator.press("All products")
        assert "The platform pays its discount, on every shop's goods." in operator.last_text
        await operator.press("Create")
        assert "Platform coupons" in operator.last_text and "WELCOME15: 15% off · ▶ active" in operator.last_text
        platform = (await stored_coupons(runner.db))[1]
        assert (platform.code, platform.scope, platform.seller_id, platform.percent_off) == ("WELCOME15", 0, None, 15)
        assert (platform.min_spend, platform.max_uses, platform.per_shopper) == (3000, 500, 2)
        assert platform.ends_at.isoformat() == "2027-01-31T23:59:59+00:00"

        # Sam's coupons list doesn't show the platform's.
        await seller.send("/coupons")
        assert "SAM20" in seller.last_text and "WELCOME15" not in seller.last_text


async def test_an_operator_who_sells_chooses_whose_coupons_and_long_lists_page(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        # The operator also runs the platform's own shop; it has 3 coupons, the platform 10.
        async with runner.db.transaction() as session:
            shop = await session.scalar(select(Seller).order_by(Seller.id).limit(1))
            shop.owner_user_id = OPERATOR
            for number in range(3):
                await coupons.create_coupon(session, seller_id=shop.id, code=f"SHOP{number}X", created_by=OPERATOR,
                                            terms=coupons.CouponTerms(percent_off=5), now=clock())
            for number in range(10):
                await coupons.create_coupon(session, seller_id=None, code=f"PLAT{number}X" + "Y" * 14,
                                            created_by=OPERATOR, now=clock(),
                                            terms=coupons.CouponTerms(amount_off=100, min_spend=99_999_999,
                                                                      max_uses=999_999, per_shopper=99,
                                                                      product_ids=()))
        operator = fake.user(OPERATOR, "Olga")
        await operator.send("/coupons")
        assert "Whose coupons?" in operator.last_text
        assert {"🏪 My shop's coupons", "🌐 Platform coupons"} <= set(operator.buttons())

        await operator.press("🏪 My shop's coupons")
        assert "3 coupons" in operator.last_text and "SHOP0X" in operator.last_text
        assert "PLAT" not in operator.last_text

        # Ten platform coupons: eight on the first page, two on the next, each page within Telegram's limits.
        await operator.send("/coupons")
        await operator.press("🌐 Platform coupons")
        first = operator.last_text
        assert "Platform coupons</b>" not in first and "Platform coupons: 10" in first
        assert first.count("🎟") == 8 and "1 / 2" in operator.buttons() and len(first) <= 4096
        await operator.press("Next ›")
        assert operator.last_text.count("🎟") == 2 and "2 / 2" in operator.buttons()
