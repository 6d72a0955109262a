"""Flash deals through the real bot: a seller schedules one in the chat, shoppers see it struck through on
the card and in search, ask to be reminded of one to come, and a deal that ends mid-checkout changes the
price at the review.

Time is the clock the test moves; the reminders' job is run by hand (nothing sleeps 30 seconds).
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from bot.jobs import announce_deals
from store.models import FlashDeal, OrderLine

from .conftest import BotRunner
from .journeys import add_to_cart, place_order
from .test_e2e_sellers import OPERATOR, add_linen_shirt, open_shop, sent_to

ANN, BOB = 1001, 1002


def struck(message: dict) -> list[str]:
    """The parts of a message drawn struck through (Telegram's offsets count UTF-16 units)."""
    text = message.get("text") or message.get("caption") or ""
    units = text.encode("utf-16-le")
    return [units[2 * e["offset"]:2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in message.get("entities") or message.get("caption_entities") or ()
            if e["type"] == "strikethrough"]


async def schedule_deal(seller, price: str, start: str | None, hours: str = "6") -> None:
    """The seller opens the shirt in /my_products and schedules a deal on its M size."""
    await seller.send("/my_products")
    await seller.press("Linen Summer Shirt")
    await seller.press("⚡ Flash deal")
    assert "Which option" in seller.last_text
    await seller.press("M / White")
    assert "below $45.00, its lowest price of the last 30 days" in seller.last_text
    await seller.send(price)
    assert "When does it start? Times are UTC" in seller.last_text
    if start is None:
        await seller.press("Now")
    else:
        await seller.send(start)
    assert "How many hours does it last?" in seller.last_text
    await seller.send(hours)
    assert "How many units" in seller.last_text
    await seller.send("/skip")
    assert "Flash deal scheduled" in seller.last_text and "UTC" in seller.last_text


async def test_a_seller_schedules_a_deal_and_shoppers_see_it_struck_through(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)

        # A "deal" at the usual price is refused with the figure to beat; 72 hours at most.
        await seller.send("/my_products")
        await seller.press("Linen Summer Shirt")
        await seller.press("⚡ Flash deal")
        await seller.press("M / White")
        await seller.send("45")
        assert "must be below the lowest price of the 30 days before it starts, $45.00" in seller.last_text
        await seller.send("39.99")
        await seller.press("Now")
        await seller.send("80")
        assert "from 1 to 72" in seller.last_text
        await seller.send("5")
        await seller.send("/skip")
        assert "Flash deal scheduled" in seller.last_text

        # A second deal on the same size while this one runs: the seller sees the one it has, and may call it off.
        await seller.send("/my_products")
        await seller.press("Linen Summer Shirt")
        await seller.press("⚡ Flash deal")
        await seller.press("M / White")
        assert "One deal at a time" in seller.last_text and "Cancel the deal" in seller.buttons()[0]

        # The shopper searches: the deal's price, the usual one struck through, and the time left.
        ann = fake.user(ANN, "Ann")
        await ann.send("linen shirt")
        assert "$39.99" in ann.last_text and "ends in 5 h 0 min" in ann.last_text
        assert struck(ann.last_message) == ["$45.00"]
        # Twenty minutes on, the card says the same with less time left.
        clock.advance(minutes=20)
        await ann.press("Linen Summer Shirt")
        assert "ends in 4 h 40 min" in ann.last_text and struck(ann.last_message) == ["$45.00"]
        await ann.press("M / White")
        assert "$39.99 instead of $45.00" in ann.last_text

        # Inline results show it too, struck through in plain text.
        answer = await ann.inline_query("linen shirt")
        result = answer["results"][0]
        assert "$39.99" in result["description"] and "4\u03365\u0336" in result["description"]
        assert "<s>$45.00</s>" in result["input_message_content"]["message_text"]

        # The seller calls it off: the card is back at the usual price.
        await seller.press("Cancel the deal")
        assert "called off" in seller.last_text
        await ann.send("linen shirt")
        assert "$39.99" not in ann.last_text and struck(ann.last_message) == []


async def test_remind_me_then_the_deal_starts_and_the_shopper_is_told(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        # Starting in two hours (the clock says 2026-11-25 12:00 UTC).
        await schedule_deal(seller, "35", "2026-11-25 14:00")

        # /deals lists it as coming, with Remind me.
        bob = fake.user(BOB, "Bob")
        await bob.send("/deals")
        assert "Linen Summer Shirt" in bob.last_text and "starts" in bob.last_text
        await bob.press("Remind me")
        assert "Reminder set" in bob.last_answer["text"]
        await bob.press("Remind me")
        assert "already set" in bob.last_answer["text"]

        # Nothing is said before it starts; once it has, the job writes the reminder and the outbox sends it.
        context = SimpleNamespace(shop=runner.application.shop)
        await announce_deals(context)
        assert not fake.find_calls("sendMessage", chat_id=BOB)[1:]
        clock.advance(hours=2)
        await announce_deals(context)
        notice = await fake.wait_for("sendMessage", sent_to(BOB, "has started", "Linen Summer Shirt"), timeout=10)
        assert "$35.00 instead of $45.00" in notice.result["text"]
        # The job again sends nothing twice; and a live deal can't be reminded of any more.
        await announce_deals(context)
        assert len([c for c in fake.find_calls("sendMessage", chat_id=BOB) if "has started" in c.result["text"]]) == 1
        await bob.send("/deals")
        assert "ends in" in bob.last_text and "Remind me" not in " ".join(bob.buttons())


async def test_a_deal_that_ends_mid_checkout_changes_the_price_at_the_review(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        await schedule_deal(seller, "39.99", None, hours="1")

        # Ann puts the shirt in her cart at the deal's price.
        ann = fake.user(ANN, "Ann")
        await add_to_cart(ann, "linen shirt", "Linen Summer Shirt", "M / White")
        await ann.press("🛒 Cart")
        assert "$39.99" in ann.last_text

        # She comes back after the deal has ended: the review says the price went up, and shows the usual one.
        clock.advance(hours=1, minutes=1)
        await ann.press("Checkout")
        review = next(text for text in reversed(ann.reply_texts) if text and "Checkout — review" in text)
        assert "The price of Linen Summer Shirt (M / White) went up." in review
        assert "$45.00" in review


async def test_a_shopper_orders_at_the_deal_price_and_its_unit_is_held(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        await schedule_deal(seller, "39.99", None, hours="1")

        # Ann orders the shirt while the deal lasts: every step prices it at the deal's price.
        ann = fake.user(ANN, "Ann")
        await add_to_cart(ann, "linen shirt", "Linen Summer Shirt", "M / White")
        await place_order(ann)
        async with runner.db.read() as session:
            line = await session.scalar(select(OrderLine))
            deal = await session.scalar(select(FlashDeal))
        assert (line.unit_price, line.deal_id, deal.sold) == (3999, deal.id, 1)
