"""A shopper's journey through the real bot, over HTTP, against the fake Telegram Bot API.

Each test reads as what a person does in the chat and checks what they see,
then what the store recorded.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from store.models import CartLine, Checkout, Order, Payment, Product, UserStep, Variant

from .conftest import BotRunner
from .journeys import add_to_cart, go_to_address_step, variant_stock


async def test_search_with_a_typo_to_cash_on_delivery_order(fake, bot):
    ann = fake.user(1001, "Ann", username="ann")

    # Ann opens the bot and sees the menu.
    await ann.send("/start")
    assert "Welcome to chatshop, Ann" in ann.last_text
    assert {"🗂 Categories", "🛒 Cart", "📦 My orders"} <= set(ann.buttons())

    # She misspells what she wants; the hoodie is still the first result.
    await ann.send("pulover hodie")
    assert "Results for “pulover hodie”" in ann.last_text
    assert ann.buttons()[0] == "1. Pullover Hoodie"

    # The card comes as a photo with its options; the sold-out one says so.
    await ann.press("1. Pullover Hoodie")
    photo = fake.find_calls("sendPhoto", chat_id=1001)[-1]
    assert "Pullover Hoodie" in photo.params["caption"] and "Chatshop Store" in photo.params["caption"]
    assert "L / Grey (sold out)" in ann.buttons()

    # She picks L / Red (the last one) and adds it, then M / Grey.
    await ann.press("L / Red")
    assert "Option: L / Red" in ann.last_text and "Only 1 left" in ann.last_text
    await ann.press("Add to cart")
    assert "Added to your cart (1 item)" in ann.last_answer["text"]
    await ann.press("M / Grey")
    await ann.press("Add to cart")
    assert "🛒 Cart (2)" in ann.buttons()

    # In the cart she adds one more grey, cannot exceed the single red, nor go below one.
    await ann.press("🛒 Cart (2)")
    assert "Pullover Hoodie (L / Red)" in ann.last_text and "Pullover Hoodie (M / Grey)" in ann.last_text
    cart_message = ann.last_message
    await ann.press("+ 2")
    assert "2 × $39.99 = $79.98" in ann.last_text
    assert ann.last_message["message_id"] == cart_message["message_id"]  # edited in place
    await ann.press("+ 1")
    assert "Only 1 in stock" in ann.last_answer["text"]
    await ann.press("− 1")
    assert "minimum" in ann.last_answer["text"]
    assert "Total: $119.97" in ann.last_text

    # Checkout: review, contact shared with the button, address typed, shipping, cash on delivery.
    await go_to_address_step(ann)
    await ann.send("1 Main Street\nSpringfield 12345, USA")
    assert "Checkout — shipping" in ann.last_text
    await ann.press("Standard delivery")
    assert "Checkout — payment" in ann.last_text
    await ann.press("Cash on delivery")
    assert "Total: $124.96" in ann.last_text  # 119.97 + 4.99 shipping
    assert "1 Main Street" in ann.last_text
    await ann.press("Place order")
    assert "is placed" in ann.last_text and "$124.96" in ann.last_text

    # Her order is listed, and its details show lines, address, payment and history.
    await ann.send("/orders")
    assert "placed (cash on delivery)" in ann.last_text
    await ann.press("#")
    detail = ann.last_text
    assert "Pullover Hoodie (M / Grey) — 2 × $39.99" in detail
    assert "Springfield 12345, USA" in detail and "Cash on delivery" in detail and "History" in detail

    # The store reserved the stock and emptied the cart.
    assert await variant_stock(bot.db, "CS-HOD-RED-L") == 0
    assert await variant_stock(bot.db, "CS-HOD-GRY-M") == 8
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count(CartLine.id))) == 0
        assert await session.scalar(select(func.count(UserStep.user_id))) == 0


async def test_invoice_payment_applied_once_even_when_delivered_twice(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider") as runner:
        bob = fake.user(1002, "Bob")
        await add_to_cart(bob, "wireless earbuds", "Wireless Earbuds")
        await go_to_address_step(bob)
        await bob.send("22 Baker Street, London NW1 6XE")
        await bob.press("Express delivery")
        assert "💳 Card" in bob.buttons() and "💵 Cash on delivery" in bob.buttons()
        await bob.press("Card")
        await bob.press("Place order")
        assert "reserved for you" in bob.texts[-2]
        reserved = bob.messages[-2]
        assert reserved.get("reply_markup")  # Pay again / Cancel

        sent = fake.find_calls("sendInvoice", chat_id=1002)[-1].params
        assert sent["currency"] == "USD" and sent["provider_token"] == "284685063:TEST:provider"
        async with runner.db.transaction() as session:
            checkout = await session.scalar(select(Checkout))
        assert sum(p["amount"] for p in sent["prices"]) == checkout.total
        assert sent["payload"] == f"checkout:{checkout.id}"
        assert bob.last_message["invoice"]["total_amount"] == checkout.total

        # Telegram asks before charging; the bot agrees, the payment arrives, then arrives again.
        answer = await bob.pre_checkout()
        assert answer["ok"] is True
        update = await bob.pay(charge_id="tg-charge-42")
        assert "Payment of" in bob.last_text and "received" in bob.last_text
        # The message that asked for the payment now says it is paid, its Pay / Cancel buttons gone.
        shown = next(m for m in bob.messages if m["message_id"] == reserved["message_id"])
        assert "is paid" in shown["text"] and "reply_markup" not in shown
        before = len(bob.messages)
        await fake.resend(update)
        await fake.resend(update, new_update_id=True)
        assert len(bob.messages) == before

        async with runner.db.transaction() as session:
            assert await session.scalar(select(func.count(Payment.id))) == 1
            assert (await session.scalars(select(Order.status))).all() == ["paid"]
        await bob.send("/orders")
        assert "paid" in bob.last_text

        # A second pre-checkout for the same, now paid, invoice is refused with a reason.
        answer = await bob.pre_checkout()
        assert answer["ok"] is False and "no longer awaiting payment" in answer["error_message"]


async def test_a_payment_is_kept_when_the_reply_to_it_fails(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider") as runner:
        dan = fake.user(1012, "Dan")
        await add_to_cart(dan, "wireless earbuds", "Wireless Earbuds")
        await go_to_address_step(dan)
        await dan.send("3 Mill Lane, Leeds LS1 4AB")
        await dan.press("Express delivery")
        await dan.press("Card")
        await dan.press("Place order")
        assert (await dan.pre_checkout())["ok"] is True

        # Dan is charged; Telegram then fails the bot's "payment received" message. The bot apologises,
        # and the payment stays recorded: Dan paid, so his order is paid.
        fake.fail_next("sendMessage", 400, "Bad Request: message is too long")
        update = await dan.pay(charge_id="tg-charge-77")
        assert "Sorry, something went wrong" in dan.last_text
        async with runner.db.read() as session:
            assert (await session.scalars(select(Payment.telegram_charge_id))).all() == ["tg-charge-77"]
            assert (await session.scalars(select(Order.status))).all() == ["paid"]
        # The update is recorded (as failed): delivered again, it is not applied again.
        before = len(dan.messages)
        await fake.resend(update)
        assert len(dan.messages) == before
        await dan.send("/orders")
        assert "paid" in dan.last_text


async def test_stars_invoice_and_unpaid_expiry_releases_stock(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, checkout_expiry_minutes=30) as runner:
        cy = fake.user(1003, "Cy")
        await add_to_cart(cy, "gift card", "Chatshop Gift Card")
        stock_before = await variant_stock(runner.db, "CS-GFT-10")
        await cy.press("🛒 Cart (1)")
        await cy.press("Checkout")
        await cy.press("Continue")  # digital goods alone: no contact, address or shipping asked
        assert "in Telegram Stars" in cy.last_text
        await cy.press("Place order")
        sent = fake.find_calls("sendInvoice", chat_id=1003)[-1].params
        assert sent["currency"] == "XTR" and len(sent["prices"]) == 1 and sent["prices"][0]["amount"] == 500
        assert await variant_stock(runner.db, "CS-GFT-10") == stock_before - 1

        # Cy never pays; half an hour later the items go back on sale and Cy is told.
        clock.advance(minutes=31)
        job = runner.application.job_queue.get_jobs_by_name("expire-unpaid")[0]
        await job.run(runner.application)
        await fake.wait_for("sendMessage", lambda call: "wasn't paid in time" in call.params.get("text", ""))
        assert await variant_stock(runner.db, "CS-GFT-10") == stock_before
        answer = await cy.pre_checkout()
        assert answer["ok"] is False and "no longer awaiting payment" in answer["error_message"]


async def _sku_of(runner: BotRunner, title: str) -> str:
    async with runner.db.transaction() as session:
        return await session.scalar(
            select(Variant.sku).join(Product, Product.id == Variant.product_id).where(Product.title == title)
            .order_by(Variant.position).limit(1))


async def test_restart_in_the_middle_of_checkout_continues_where_the_shopper_was(fake, bot):
    dee = fake.user(1004, "Dee")
    await add_to_cart(dee, "french press", "French Press Coffee Maker")
    await go_to_address_step(dee)

    # The bot process is restarted while Dee is typing her address.
    await bot.restart()

    await dee.send("9 Elm Road, Leeds LS1 4AP")
    assert "Checkout — shipping" in dee.last_text
    await dee.press("Standard delivery")
    await dee.press("Cash on delivery")
    await dee.press("Place order")
    assert "is placed" in dee.last_text

    # Her cart also survived a restart before it was ordered.
    await add_to_cart(dee, "yoga mat", "Non-Slip Yoga Mat")
    await bot.restart()
    await dee.send("/cart")
    assert "Non-Slip Yoga Mat" in dee.last_text


async def test_cancel_leaves_checkout_and_keeps_the_cart(fake, bot):
    eve = fake.user(1005, "Eve")
    await add_to_cart(eve, "chinos", "Slim Fit Chinos")
    await go_to_address_step(eve)
    await eve.send("/cancel")
    assert "Checkout cancelled" in eve.last_text

    # Text is a search again, and the cart still holds the chinos.
    await eve.send("umbrella")
    assert "Compact Travel Umbrella" in eve.last_text
    await eve.send("/cart")
    assert "Slim Fit Chinos" in eve.last_text

    # The Cancel button of the reply keyboard works at the contact step too.
    await eve.press("Checkout")
    await eve.press("Continue")
    await eve.tap("Cancel checkout")
    assert "Checkout cancelled" in eve.last_text


async def test_forged_and_stale_buttons_get_a_clear_answer_and_change_nothing(fake, bot):
    ann, mallory = fake.user(1006, "Ann"), fake.user(1666, "Mallory")
    await add_to_cart(ann, "espresso machine", "Espresso Machine")
    async with bot.db.transaction() as session:
        line_id = await session.scalar(select(CartLine.id))
        stock = dict((await session.execute(select(Variant.id, Variant.stock))).all())

    await mallory.send("/start")
    forged = [
        f"cl:{line_id}:del",  # someone else's cart line
        f"cl:{line_id}:inc",
        "a:999999",  # a variant that does not exist
        "a:0",  # "quantity" / id zero
        "p:-1",
        "cl:1:zero",
        "pl:1",  # placing an order without being at that step
        "zz:1",
        "\x00\xff garbage",
        "o:1:0",  # someone else's order
        "p:" + "9" * 60,
    ]
    for data in forged:
        await mallory.press_data(data)
        answer = mallory.last_answer
        assert answer is not None and answer.get("show_alert") is True, data
        assert any(word in answer["text"] for word in ("expired", "no longer", "isn't one of yours", "over")), (
            data, answer["text"])

    async with bot.db.transaction() as session:
        assert await session.scalar(select(CartLine.quantity).where(CartLine.id == line_id)) == 1
        assert dict((await session.execute(select(Variant.id, Variant.stock))).all()) == stock
        assert await session.scalar(select(func.count(Order.id))) == 0
    # Ann's cart is untouched.
    await ann.send("/cart")
    assert "Espresso Machine" in ann.last_text


async def test_search_that_finds_nothing_helps_and_html_is_escaped(fake, bot):
    fay = fake.user(1007, "Fay")

    await fay.send("qwxzv plmkj")
    assert "Nothing found for “qwxzv plmkj”" in fay.last_text
    assert any("Clothing" in label for label in fay.buttons())

    # Browsing a category from there, with paging.
    await fay.press("Electronics")
    assert "Electronics" in fay.last_text
    assert "Next ›" in fay.buttons()
    await fay.press("Next ›")
    assert "2 /" in " ".join(fay.buttons())

    # A title with characters that mean something in HTML shows as typed.
    await fay.send("fineliner pens")
    await fay.press("Fineliner Pens")
    assert "Fineliner Pens <0.4 mm> Pack of 10" in fay.last_text

    # An address with markup is kept as text, not interpreted.
    await add_to_cart(fay, "fineliner", "Fineliner Pens")
    await go_to_address_step(fay)
    await fay.send("<b>1 Bold St</b> & Sons, Springfield 12345")
    await fay.press("Standard delivery")
    await fay.press("Cash on delivery")
    assert "<b>1 Bold St</b> & Sons, Springfield 12345" in fay.last_text

    # Over-long and blank input get a polite answer.
    await fay.send("/cancel")
    await fay.send("x" * 500)
    assert "long message" in fay.last_text
    await fay.send("!!!")
    assert "Type a few letters" in fay.last_text


async def test_typed_contact_is_validated(fake, bot):
    gus = fake.user(1008, "Gus")
    await add_to_cart(gus, "power bank", "Power Bank")
    await gus.press("🛒 Cart")
    await gus.press("Checkout")
    await gus.press("Continue")

    await gus.send("call me maybe")
    assert "doesn't look like a phone number" in gus.last_text
    await gus.send("Gus +1 555")
    assert "isn't valid" in gus.last_text or "doesn't look like" in gus.last_text
    await gus.send("Gus Grant, +44 20 7946 0958")
    assert "+442079460958" in gus.last_text and "shipping address" in gus.last_text
    await gus.send("short")
    assert "too short" in gus.last_text


async def test_only_new_private_text_counts_and_other_input_gets_an_answer(fake, bot):
    hal = fake.user(1009, "Hal")
    await add_to_cart(hal, "travel umbrella", "Compact Travel Umbrella")
    await go_to_address_step(hal)
    search = hal.messages[0]

    # Editing an old message is not an answer to today's step.
    before = len(fake.calls)
    await hal._push({"edited_message": {**search, "text": "compact travel umbrellas", "edit_date": 1}}, wait=True)
    assert not [c for c in fake.calls[before:] if c.method in ("sendMessage", "editMessageText")]
    # A sticker or an unknown command at the address step gets a hint; the step stays.
    await hal._push({"message": hal._message(sticker={"file_id": "s1", "file_unique_id": "s1", "type": "regular",
                                                      "width": 512, "height": 512, "is_animated": False,
                                                      "is_video": False})}, wait=True)
    assert "type your shipping address" in hal.last_text
    await hal.send("/frobnicate")
    assert "don't know that command" in hal.last_text
    await hal.send("7 Oak Lane, Bristol BS1 4DJ")
    assert "Checkout — shipping" in hal.last_text

    # At a button step, typed words are a search and the checkout waits.
    await hal.send("yoga mat")
    assert "Non-Slip Yoga Mat" in hal.last_text
    await hal.press("Standard delivery")
    assert any("Checkout — payment" in text for text in hal.reply_texts)


async def test_commands_in_a_group_point_to_the_private_chat(fake, bot):
    ivy = fake.user(1010, "Ivy")
    group = {"id": -100123, "type": "supergroup", "title": "Friends"}
    update = {"message": {**ivy._message(text="/orders", entities=[{"type": "bot_command", "offset": 0,
                                                                     "length": 7}]), "chat": group}}
    before = len(fake.calls)
    await fake.send_update(update)
    replies = [c for c in fake.calls[before:] if c.method == "sendMessage"]
    assert len(replies) == 1 and replies[0].params["chat_id"] == -100123
    assert "private chat" in replies[0].params["text"] and "t.me/chatshop_test_bot" in replies[0].params["text"]


async def test_a_checkout_left_for_a_day_no_longer_captures_typing(fake, bot):
    jo = fake.user(1011, "Jo")
    await add_to_cart(jo, "chinos", "Slim Fit Chinos")
    await go_to_address_step(jo)
    async with bot.db.transaction() as session:  # a day passes
        step = await session.get(UserStep, 1011)
        step.updated_at -= timedelta(hours=25)
    await jo.send("running shoes")
    assert "Results for “running shoes”" in jo.last_text


async def test_search_results_page_in_place(fake, bot):
    kim = fake.user(1012, "Kim")
    await kim.send("electronics")
    first = kim.last_message
    assert "1 / " in " ".join(kim.buttons())
    await kim.press("Next ›")
    assert kim.last_message["message_id"] == first["message_id"]
    assert "2 / " in " ".join(kim.buttons()) and "7." in kim.last_text
    await kim.press("‹ Prev")
    assert "1." in kim.last_text


async def test_an_unpaid_order_can_be_paid_again_or_cancelled_and_strangers_cannot(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider") as runner:
        lee, mallory = fake.user(1013, "Lee"), fake.user(1666, "Mallory")
        await add_to_cart(lee, "smart watch", "Smart Watch S2")
        sku = await _sku_of(runner, "Smart Watch S2")
        stock_before = await variant_stock(runner.db, sku)
        await go_to_address_step(lee)
        await lee.send("3 Pine Road, Austin 73301")
        await lee.press("Standard delivery")
        await lee.press("Card")
        await lee.press("Place order")
        async with runner.db.transaction() as session:
            order_id, checkout_id = (await session.execute(select(Order.id, Order.checkout_id))).one()

        # The invoice got lost: the order detail offers it again.
        await lee.send("/orders")
        await lee.press(f"#{order_id}")
        invoices = len(fake.find_calls("sendInvoice", chat_id=1013))
        await lee.press("Pay")
        assert len(fake.find_calls("sendInvoice", chat_id=1013)) == invoices + 1

        # A stranger's forged buttons for this order change nothing.
        await mallory.send("/start")
        for data in (f"o:{order_id}:0", f"ou:{checkout_id}", f"pa:{checkout_id}"):
            await mallory.press_data(data)
            assert mallory.last_answer["show_alert"] is True
            assert "isn't one of yours" in mallory.last_answer["text"]
        assert not fake.find_calls("sendInvoice", chat_id=1666)

        # Lee calls it off: the watch is back on sale and the invoice is refused.
        await lee.press("Cancel this order")
        assert await variant_stock(runner.db, sku) == stock_before
        answer = await lee.pre_checkout()
        assert answer["ok"] is False


async def test_a_paid_card_order_cancelled_by_the_seller_is_marked_refund_due(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider",
                         operator_ids="9001") as runner:
        operator = fake.user(9001, "Olga")
        await operator.send("/start")
        max_ = fake.user(1014, "Max")
        await add_to_cart(max_, "wireless mouse", "Wireless Mouse")
        await go_to_address_step(max_)
        await max_.send("4 Birch Way, Denver 80202")
        await max_.press("Standard delivery")
        await max_.press("Card")
        await max_.press("Place order")
        assert (await max_.pre_checkout())["ok"] is True
        await max_.pay(charge_id="card-charge-7")
        async with runner.db.read() as session:
            order_id = await session.scalar(select(Order.id))

        # The operator cancels for the (demo) seller: the card payment is due back, by the provider.
        await operator.press_data(f"sv:{order_id}")
        await operator.press("Cancel")
        await operator.send("Out of stock at the warehouse")
        assert "refund due" in operator.last_text
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") in (1014, "1014")
                            and "will be refunded" in (call.result or {}).get("text", ""), timeout=10)
        assert not fake.find_calls("refundStarPayment")
        async with runner.db.read() as session:
            order = await session.get(Order, order_id)
        assert (order.status, order.refund_status) == ("cancelled", "due")


async def test_the_bot_starts_and_serves_when_telegram_refuses_its_command_menu(fake, store_url, clock):
    fake.fail_next("setMyCommands", 400, "Bad Request: commands are invalid", times=5)
    async with BotRunner(fake, store_url, clock, operator_ids="9001"):
        ann = fake.user(1001, "Ann")
        await ann.send("/start")
        assert "Welcome to chatshop" in ann.last_text
    assert [call.ok for call in fake.find_calls("setMyCommands")][:2] == [False, False]
