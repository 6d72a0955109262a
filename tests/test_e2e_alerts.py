"""Shopper alerts through the real bot: a shopper saves a shirt from its card and finds it in /saved, asks to be
told when a sold-out size is back and is told once when the seller restocks it in the chat, hears of a price
drop once, and turns price drops off with /notifications.

The alert jobs are run by hand (nothing sleeps a minute); the outbox worker inside the bot sends what they write.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from bot.jobs import tell_back_in_stock, tell_price_drops_job
from store.models import OutboxMessage, Seller, Variant
from store.services import alerts
from store.services import seller_catalog as catalog
from store.services.seller_catalog import LABEL_MAX, TITLE_MAX
from store.services.sellers import NAME_MAX as SHOP_NAME_MAX
from store.states import Notice

from .conftest import BotRunner
from .factories import make_category, make_product, make_user
from .test_e2e_deals import struck
from .test_e2e_sellers import OPERATOR, SHOPPER, add_linen_shirt, open_shop, sent_to
from .test_limits import longest


async def edit_variant(seller, button: str, value: str) -> None:
    """The seller opens the shirt in /my_products and types a new price or stock for one size."""
    await seller.send("/my_products")
    await seller.press("Linen Summer Shirt")
    await seller.press(button)
    await seller.send(value)


def told(fake, chat_id: int, *words: str) -> list:
    """The messages sent to ``chat_id`` holding every word."""
    return [call for call in fake.find_calls("sendMessage") if sent_to(chat_id, *words)(call)]


async def price_drops_written(runner: BotRunner) -> int:
    async with runner.db.read() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.template == Notice.PRICE_DROP))


async def test_a_shopper_saves_a_shirt_and_is_told_once_when_a_sold_out_size_is_back(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        await edit_variant(seller, "L / White stock", "0")  # the L sells out

        # Ann saves the shirt from its card: the button says so, in place.
        ann = fake.user(SHOPPER, "Ann")
        await ann.send("linen shirt")
        await ann.press("Linen Summer Shirt")
        await ann.press("♡ Save")
        assert "Saved" in ann.last_answer["text"]
        assert "♥ Saved" in ann.buttons() and "♡ Save" not in ann.buttons()

        # /saved lists it with its price; an empty list would say how to save.
        await ann.send("/saved")
        assert "Saved products" in ann.last_text and "Linen Summer Shirt" in ann.last_text
        assert "$45.00" in ann.last_text

        # From the list she opens the card and picks the sold-out L: she asks to be told when it is back.
        await ann.press("1. Linen Summer Shirt")
        await ann.press("L / White (sold out)")
        assert "Add to cart" not in " ".join(ann.buttons())
        await ann.press("Tell me when it's back")
        assert "once it's back" in ann.last_answer["text"]
        assert "🔔 We'll tell you ✓" in ann.buttons()

        # Nothing yet: the job finds the L still sold out.
        context = SimpleNamespace(shop=runner.application.shop)
        await tell_back_in_stock(context)
        assert not told(fake, SHOPPER, "Back in stock")

        # The seller restocks the L in the chat; the job tells Ann, with a button to the card.
        await edit_variant(seller, "L / White stock", "4")
        await tell_back_in_stock(context)
        notice = await fake.wait_for("sendMessage", sent_to(SHOPPER, "Back in stock", "Linen Summer Shirt"),
                                     timeout=10)
        assert "L / White" in notice.result["text"] and "/notifications" in notice.result["text"]
        await ann.press("Linen Summer Shirt", message=notice.result)
        assert ann.last_text.startswith("Linen Summer Shirt") and "Add to cart" in " ".join(ann.buttons())

        # Told once: the job again says nothing, even after the L sells out and comes back.
        await tell_back_in_stock(context)
        await edit_variant(seller, "L / White stock", "0")
        await edit_variant(seller, "L / White stock", "2")
        await tell_back_in_stock(context)
        assert len(told(fake, SHOPPER, "Back in stock")) == 1

        # Taking it off the list from /saved leaves the list empty, with how to save.
        await ann.send("/saved")
        await ann.press("✕ 1")
        assert "No saved products yet" in ann.last_text


async def test_a_price_drop_is_told_once_and_notifications_turn_it_off(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        ann = fake.user(SHOPPER, "Ann")
        await ann.send("linen shirt")
        await ann.press("Linen Summer Shirt")
        await ann.press("♡ Save")

        # The seller lowers the M in the chat: Ann hears of it once, the old price struck through.
        await edit_variant(seller, "M / White price", "39.50")
        context = SimpleNamespace(shop=runner.application.shop)
        await tell_price_drops_job(context)
        notice = await fake.wait_for("sendMessage", sent_to(SHOPPER, "got cheaper", "Linen Summer Shirt"), timeout=10)
        assert "$39.50" in notice.result["text"] and struck(notice.result) == ["$45.00"]
        assert "/notifications" in notice.result["text"]
        await tell_price_drops_job(context)
        assert len(told(fake, SHOPPER, "got cheaper")) == 1

        # Ann turns price drops off in /notifications (the button shows it, in place).
        await ann.send("/notifications")
        assert "✅ Price drops" in ann.buttons()
        await ann.press("Price drops")
        assert "🔕 Price drops" in ann.buttons() and "✅ Back in stock" in ann.buttons()

        # A further drop the next day: no message is written for her.
        await edit_variant(seller, "M / White price", "35")
        clock.advance(days=1, hours=1)
        await tell_price_drops_job(context)
        assert await price_drops_written(runner) == 1

        # On again, the drop she has not heard of comes.
        await ann.press("Price drops")
        assert "✅ Price drops" in ann.buttons()
        await tell_price_drops_job(context)
        notice = await fake.wait_for("sendMessage", sent_to(SHOPPER, "got cheaper", "$35.00"), timeout=10)
        assert struck(notice.result) == ["$39.50"]


async def test_alerts_and_saved_fit_telegrams_limits_whatever_the_titles(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock) as runner:
        # Twenty-five products with the longest titles and options the catalog allows, HTML and emoji in them.
        async with runner.db.transaction() as session:
            seller = Seller(name=longest("Zanzibar <Traders> & Sons 😀 ", SHOP_NAME_MAX), kind="retailer",
                            status="approved", commission_bp=1000)
            session.add(seller)
            await session.flush()
            category = await make_category(session, "Lamps")
            await make_user(session, SHOPPER)
            products = []
            for i in range(25):
                product = await make_product(session, seller, category,
                                             longest(f"Zanzibar lamp {i:02d} «extra» & <wide> 😀 ", TITLE_MAX),
                                             [(longest(f"{i:02d} Größe & <Farbe> 😀 ", LABEL_MAX), 5000, 0)])
                products.append(product.id)
                await alerts.save(session, SHOPPER, product.id, clock())
                if i < 2:  # (each request is a message of its own, a second apart in one chat)
                    variant = await session.scalar(select(Variant).where(Variant.product_id == product.id))
                    await alerts.watch(session, SHOPPER, product.id, variant.id, clock())
        # Every one is restocked (two were asked about) and gets cheaper.
        async with runner.db.transaction() as session:
            for product_id in products:
                variant = await session.scalar(select(Variant).where(Variant.product_id == product_id))
                await catalog.update_variant(session, seller.id, product_id, variant.id, price=4000, stock=5)

        ann = fake.user(SHOPPER, "Ann")
        await ann.send("/saved")
        assert "Saved products (25)" in ann.last_text and "1 / 4" in ann.buttons()
        await ann.press("Next ›")
        assert "2 / 4" in ann.buttons() and "9. Zanzibar lamp 16" in ann.last_text
        context = SimpleNamespace(shop=runner.application.shop)
        await tell_back_in_stock(context)
        await tell_price_drops_job(context)
        drop = await fake.wait_for("sendMessage", sent_to(SHOPPER, "got cheaper"), timeout=10)
        assert "… and 15 more: see /saved." in drop.result["text"]
        assert len(told(fake, SHOPPER, "Back in stock")) == 2

    sent = [call for call in fake.calls if call.method in ("sendMessage", "editMessageText")]
    assert sent and all(call.ok for call in sent), [call.summary() for call in sent if not call.ok]
    assert not any("went wrong" in (call.params.get("text") or "") for call in sent)
