"""A shopper buys digital goods through the real bot: paid in Telegram Stars, delivered in the chat at
once, again on request; a cart of both kinds is paid twice; Stars are never offered for physical goods."""

from __future__ import annotations

from sqlalchemy import select

from store.models import Checkout, DigitalCode, Order, Seller

from .conftest import BotRunner, eventually
from .factories import make_category, make_digital
from .journeys import add_to_cart, go_to_address_step
from .test_e2e_sellers import sent_to

ANN, BOB = 2001, 2002


def invoices_to(fake, chat_id: int) -> list[dict]:
    return [call.params for call in fake.find_calls("sendInvoice", chat_id=chat_id)]


async def order_states(runner: BotRunner) -> list[tuple[str, str]]:
    async with runner.db.read() as session:
        return [tuple(row) for row in await session.execute(select(Order.kind, Order.status).order_by(Order.id))]


async def test_a_gift_card_bought_with_buy_now_arrives_at_once_and_again_on_request(fake, bot):
    ann = fake.user(ANN, "Ann")
    await ann.send("gift card")
    await ann.press("Chatshop Gift Card")
    await ann.press("$25")
    await ann.press("Buy now")

    # Nothing to ask: no contact, address or shipping; straight to the confirmation, paid in Stars.
    assert "confirm your order" in ann.last_text and "⭐ 1,250 in Telegram Stars" in ann.last_text
    assert "Deliver to" not in ann.last_text and "Shipping" not in ann.last_text
    await ann.press("Place order")
    assert any("Pay in Telegram Stars" in (text or "") for text in ann.reply_texts)
    [invoice] = invoices_to(fake, ANN)
    assert (invoice["currency"], [p["amount"] for p in invoice["prices"]]) == ("XTR", [1250])
    assert "digital goods" in invoice["description"] and not invoice.get("provider_token")

    assert (await ann.pre_checkout())["ok"] is True
    payment = await ann.pay(charge_id="stars-1")
    assert any("your goods follow" in (text or "") for text in ann.reply_texts)
    # The code comes through the outbox, to be copied with a tap; then the order is delivered.
    delivered = await fake.wait_for("sendMessage", sent_to(ANN, "DEMO-25-0001"), timeout=10)
    assert "<code>DEMO-25-0001</code>" in delivered.params["text"]
    await eventually(lambda: _delivered(bot))

    # Telegram delivers the payment again: nothing new, no second code.
    before = len(ann.messages)
    await fake.resend(payment)
    assert len(ann.messages) == before

    # Later, from /orders: Get it again sends the same code.
    await ann.send("/orders")
    await ann.press(ann.buttons()[0])
    assert "Digital goods" in ann.last_text and "Ship" not in ann.last_text
    await ann.press("Get it again")
    assert "DEMO-25-0001" in ann.last_text and "DEMO-25-0002" not in ann.last_text

    # Only to the buyer: Bob pressing the same button gets a refusal, and no code.
    bob = fake.user(BOB, "Bob")
    await bob.send("/start")
    await bob.press_data(_get_again_data(ann), message=bob.last_message)
    assert "isn't one of yours" in bob.last_answer["text"]
    assert not any("DEMO-25" in (text or "") for text in bob.texts)
    async with bot.db.read() as session:
        pool = dict((await session.execute(select(DigitalCode.code, DigitalCode.status)
                                            .where(DigitalCode.code.like("DEMO-25-%")))).all())
    assert pool["DEMO-25-0001"] == "sold" and list(pool.values()).count("free") == 19


def _get_again_data(user) -> str:  # type: ignore[no-untyped-def]
    """The Get it again button's data, as the buyer's chat holds it."""
    for message in reversed(user.messages):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if "Get it again" in button["text"]:
                    return button["callback_data"]
    raise AssertionError("no Get it again button")


async def _delivered(runner: BotRunner) -> bool:
    return await order_states(runner) == [("digital", "delivered")]


async def test_a_cart_of_both_kinds_is_paid_twice_and_stars_are_never_offered_for_the_hoodie(
        fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider") as runner:
        cy = fake.user(2003, "Cy")
        await add_to_cart(cy, "pride prejudice ebook", "Pride and Prejudice — e-book (PDF)")
        await add_to_cart(cy, "pullover hoodie", "Pullover Hoodie", "M / Grey")
        await cy.press("🛒 Cart (2)")
        await cy.press("Checkout")
        assert "Paid apart" in cy.last_text
        await cy.press("Continue")
        await cy.tap("Share my contact")
        await cy.send("5 Rue de Rivoli, 75001 Paris")
        await cy.press("Standard delivery")
        # The hoodie is paid by card or cash: Telegram Stars are not offered for it.
        assert cy.buttons() and not any("Stars" in label for label in cy.buttons())
        await cy.press("Cash on delivery")
        text = cy.last_text
        assert "Cash on delivery" in text and "Second payment" in text and "⭐ 150" in text
        await cy.press("Place order")
        placed = next(m for m in reversed(cy.messages) if "in cash on delivery" in (m.get("text") or ""))

        # One message, two payments: the hoodie's order placed (cash), the e-book's reserved with a Stars invoice.
        assert "Pay in Telegram Stars" in placed["text"]
        async with runner.db.read() as session:
            ebook_order = await session.scalar(select(Order.id).where(Order.kind == "digital"))
        assert cy.buttons(placed) == [f"⭐ Pay #{ebook_order}", f"✖ Cancel #{ebook_order}"]
        [invoice] = invoices_to(fake, 2003)
        assert invoice["currency"] == "XTR" and invoice["prices"][0]["amount"] == 150
        async with runner.db.read() as session:
            checkouts = (await session.execute(select(Checkout.payment_method, Checkout.status, Checkout.expires_at)
                                               .order_by(Checkout.id))).all()
        assert [(m, s) for m, s, _ in checkouts] == [("cod", "placed"), ("stars", "pending_payment")]
        assert checkouts[0][2] is None and checkouts[1][2] is not None  # each its own expiry

        await cy.pay(charge_id="stars-ebook")
        # The message now says the e-book is paid, the hoodie still to pay in cash, and offers no button.
        placed = cy._resolve(placed["message_id"])
        assert "is paid" in placed["text"] and "in cash on delivery" in placed["text"] and not cy.buttons(placed)
        # The e-book goes out as a document, by the address the shop gave.
        document = await fake.wait_for("sendDocument", lambda call: call.params.get("chat_id") in (2003, "2003"),
                                       timeout=10)
        assert document.params["document"].endswith("pride-and-prejudice.pdf")
        assert "Pride and Prejudice" in document.params["caption"]
        await eventually(lambda: _states_are(runner, [("physical", "placed"), ("digital", "delivered")]))
        async with runner.db.read() as session:
            ebook = await session.scalar(select(Order).where(Order.kind == "digital"))
        assert (ebook.contact_name, ebook.phone, ebook.address) == (None, None, None)


async def _states_are(runner: BotRunner, expected: list[tuple[str, str]]) -> bool:
    return await order_states(runner) == expected


async def test_without_stars_digital_goods_are_not_sold(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, stars_enabled=False) as runner:
        dee = fake.user(2004, "Dee")
        await dee.send("watercolour class")
        await dee.press("Online Watercolour Class for Beginners")
        await dee.press("Add to cart")
        assert "can't be bought in this shop" in dee.last_answer["text"]
        await dee.press("Buy now")
        assert "can't be bought in this shop" in dee.last_answer["text"]
        assert await order_states(runner) == []


async def test_a_class_link_is_revealed_only_after_payment(fake, bot):
    eve = fake.user(2005, "Eve")
    await eve.send("watercolour class")
    await eve.press("Online Watercolour Class for Beginners")
    card = eve.last_message.get("caption") or eve.last_text or ""
    assert "Digital: paid in Telegram Stars" in card and "meet.jit.si" not in card
    await eve.press("Buy now")
    await eve.press("Place order")
    assert not any("meet.jit.si" in (text or "") for text in eve.texts)
    await eve.pay(charge_id="stars-class")
    await fake.wait_for("sendMessage", sent_to(2005, "https://meet.jit.si/chatshop-watercolour"), timeout=10)


async def test_digital_goods_of_two_shops_are_two_stars_invoices_each_delivered_when_paid(fake, bot):
    async with bot.db.transaction() as session:  # a second shop selling license keys
        keys = Seller(name="Key Corner", kind="retailer", status="approved", commission_bp=500)
        session.add(keys)
        await session.flush()
        await make_digital(session, keys, await make_category(session, "Software"), "Antivirus Licence", 900,
                           codes=["AV-KEY-1"])
    fay = fake.user(2006, "Fay")
    await add_to_cart(fay, "antivirus licence", "Antivirus Licence")
    await add_to_cart(fay, "watercolour class", "Online Watercolour Class for Beginners")
    await fay.press("🛒 Cart (2)")
    await fay.press("Checkout")
    await fay.press("Continue")
    assert "in 2 payments (one per shop)" in fay.last_text and "⭐ 1,200" in fay.last_text
    await fay.press("Place order")

    # One invoice per shop: Telegram refunds a Stars payment whole, so each shop's order is paid on its own.
    invoices = invoices_to(fake, 2006)
    assert sorted(invoice["prices"][0]["amount"] for invoice in invoices) == [450, 750]
    since = fake.mark()
    for invoice_call in fake.find_calls("sendInvoice", chat_id=2006):
        await fay.pay(invoice_call.result["message_id"])
    await fake.wait_for("sendMessage", sent_to(2006, "AV-KEY-1"), timeout=10, since=since)
    await fake.wait_for("sendMessage", sent_to(2006, "meet.jit.si"), timeout=10, since=since)


async def test_two_payments_to_make_show_in_one_message_that_follows_each_of_them(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider") as runner:
        gus = fake.user(2007, "Gus")
        await add_to_cart(gus, "gift card", "Chatshop Gift Card")
        await add_to_cart(gus, "wireless mouse", "Wireless Mouse")
        await go_to_address_step(gus)
        await gus.send("7 Quay Street, Dublin D02 XY45")
        await gus.press("Standard delivery")
        await gus.press("Card")
        await gus.press("Place order")
        async with runner.db.read() as session:
            mouse, card = (await session.scalars(select(Order.id).order_by(Order.id))).all()
        placed = next(m for m in reversed(gus.messages) if "reserved for you" in (m.get("text") or ""))
        # Each payment has its own buttons, named by its order.
        assert gus.buttons(placed) == [f"💳 Pay #{mouse}", f"✖ Cancel #{mouse}", f"⭐ Pay #{card}",
                                       f"✖ Cancel #{card}"]
        assert len(invoices_to(fake, 2007)) == 2

        # The gift card is paid in Stars: the message says so and keeps the mouse's buttons only.
        stars_invoice = next(c for c in fake.find_calls("sendInvoice", chat_id=2007) if c.params["currency"] == "XTR")
        await gus.pay(stars_invoice.result["message_id"])
        placed = gus._resolve(placed["message_id"])
        assert f"Order #{card} is paid" in placed["text"]
        assert gus.buttons(placed) == [f"💳 Pay #{mouse}", f"✖ Cancel #{mouse}"]

        # Gus calls the mouse off from the same message: it says so, with no button left.
        await gus.press(f"✖ Cancel #{mouse}", message=placed)
        placed = gus._resolve(placed["message_id"])
        assert f"Order #{mouse} was cancelled before payment" in placed["text"] and not gus.buttons(placed)
        assert await order_states(runner) == [("physical", "cancelled"), ("digital", "delivered")] or \
            await order_states(runner) == [("physical", "cancelled"), ("digital", "paid")]
