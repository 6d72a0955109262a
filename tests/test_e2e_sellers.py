"""Sellers through the real bot: onboarding, catalog in the chat, order notices and fulfilment.

Three people at once, as in life: a shopper, a seller and an operator. Notices
travel through the outbox worker running inside the bot.
"""

from __future__ import annotations

from sqlalchemy import func, select

from store.models import DataAccess, DigitalCode, Order, OutboxMessage, Product, Seller, User

from .conftest import BotRunner, eventually
from .factories import make_category, make_digital
from .journeys import add_to_cart, place_order, product_stock

OPERATOR, SELLER, SHOPPER = 9001, 3001, 1001


def sent_to(chat_id: int, *words: str):
    """A wait_for predicate: a message to ``chat_id`` containing every word."""
    def match(call) -> bool:  # type: ignore[no-untyped-def]
        result = call.result if isinstance(call.result, dict) else {}
        text = result.get("text") or result.get("caption") or ""  # as the person reads it
        return call.params.get("chat_id") in (chat_id, str(chat_id)) and all(w in text for w in words)
    return match


async def open_shop(fake, runner: BotRunner, name: str = "Sam's Shirts"):
    """The seller applies with /sell and the operator approves; returns (seller, operator)."""
    operator, seller = fake.user(OPERATOR, "Olga"), fake.user(SELLER, "Sam", username="sam")
    await operator.send("/start")
    await seller.send("/sell")
    assert "What is your shop called?" in seller.last_text
    await seller.send(name)
    assert "waiting for an operator" in seller.last_text
    await fake.wait_for("sendMessage", sent_to(OPERATOR, "Seller application", name), timeout=10)
    await operator.press("Approve")
    assert "approved" in operator.last_text
    await fake.wait_for("sendMessage", sent_to(SELLER, "is approved"), timeout=10)
    await fake.wait_for("setMyCommands", lambda call: str(SELLER) in str(call.params.get("scope")), timeout=10)
    return seller, operator


async def add_linen_shirt(seller) -> None:
    """The seller adds a shirt with two sizes, in the chat."""
    await seller.send("/add_product")
    await seller.send("Linen Summer Shirt")
    await seller.send("Breathable linen, relaxed fit.")
    await seller.press("Clothing")
    await seller.send("/skip")
    await seller.press("Physical")
    await seller.send("M / White; 45.00; 3")
    await seller.send("L / White; 45; 2")
    await seller.press("Done")
    assert "is on sale now" in seller.texts[-2]


async def buy(shopper, variant: str, address: str = "1 Main Street, Springfield 12345") -> None:
    """The shopper finds the shirt (with a typo), picks a size and pays cash on delivery."""
    await add_to_cart(shopper, "linnen shirt", "Linen Summer Shirt", variant)
    await place_order(shopper, address)


async def deliver(fake, seller, buyer_id: int) -> None:  # type: ignore[no-untyped-def]
    """The seller accepts, ships and marks delivered the newest order; its buyer hears it was delivered."""
    await fake.wait_for("sendMessage", sent_to(SELLER, "Order #", "Linen Summer Shirt"), timeout=10)
    await seller.press("Accept")
    await seller.press("Ship")
    await seller.send("UPS 1Z999AA10123456784")
    await seller.press("Delivered")
    await fake.wait_for("sendMessage", sent_to(buyer_id, "was delivered"), timeout=10)


async def stock(runner: BotRunner, label: str) -> int:
    return await product_stock(runner.db, "Linen Summer Shirt", label)


async def test_a_seller_joins_lists_a_product_and_fulfils_an_order(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)

        # The shopper finds the new shirt (with a typo) and orders an L.
        shopper = fake.user(SHOPPER, "Ann")
        await buy(shopper, "L / White")
        assert await stock(runner, "L / White") == 1

        # The seller hears of it at once, with the buyer's details and buttons.
        notice = await fake.wait_for("sendMessage", sent_to(SELLER, "Order #", "Linen Summer Shirt"), timeout=10)
        assert "1 Main Street, Springfield 12345" in notice.params["text"]
        assert "cash on delivery" in notice.params["text"]
        await seller.press("Accept")
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "accepted your order"), timeout=10)

        # Shipping asks for the tracking number; the shopper sees it.
        await seller.press("Ship")
        assert "tracking number" in seller.last_text
        await seller.send("UPS 1Z999AA10123456784")
        assert "shipped" in seller.last_text and "1Z999AA10123456784" in seller.last_text
        # The first notice no longer reads "accepted" with Ship / Cancel: it shows where the order is now.
        first = seller.chat.messages[notice.result["message_id"]]
        assert "shipped" in first["text"] and "reply_markup" not in first
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "on its way", "UPS 1Z999AA10123456784"), timeout=10)
        await seller.press("Delivered")
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "was delivered"), timeout=10)

        # A second order is cancelled by the seller: stock comes back, the shopper learns why.
        await buy(shopper, "M / White")
        assert await stock(runner, "M / White") == 2
        await fake.wait_for("sendMessage", sent_to(SELLER, "Order #", "M / White"), timeout=10)
        await seller.press("Cancel")
        await seller.send("Sorry, the last M has a flaw")
        assert "cancelled" in seller.last_text
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "cancelled your order", "the last M has a flaw"),
                            timeout=10)
        assert await stock(runner, "M / White") == 3

        # The shopper's order list shows both outcomes; the history records who did what.
        await shopper.send("/orders")
        assert "delivered" in shopper.last_text and "cancelled" in shopper.last_text
        async with runner.db.transaction() as session:
            first = await session.scalar(select(Order).order_by(Order.id).limit(1))
            assert (first.status, first.carrier, first.tracking_number) == ("delivered", "UPS", "1Z999AA10123456784")

        # /seller_orders lists open orders only; both are closed now.
        await seller.send("/seller_orders")
        assert "No open orders" in seller.last_text


async def test_only_the_orders_seller_can_act_and_forged_buttons_change_nothing(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        shopper = fake.user(SHOPPER, "Ann")
        await buy(shopper, "L / White")
        async with runner.db.transaction() as session:
            order_id = await session.scalar(select(Order.id))

        # The shopper and a stranger forge the seller's buttons.
        stranger = fake.user(4444, "Eve")
        await stranger.send("/start")
        for person in (shopper, stranger):
            for data in (f"sa:{order_id}:acc", f"sa:{order_id}:cxl", f"sa:{order_id}:dlv", f"sv:{order_id}",
                         "sd:1:1"):
                await person.press_data(data)
                assert person.last_answer["show_alert"] is True, data
                if data.startswith("sa:"):  # a refusal to act says so, whichever action was pressed
                    assert person.last_answer["text"] == "Only this order's seller can do that.", data
        # Only the seller may apply or approve: a non-operator's approval is refused.
        await stranger.send("/seller_orders")
        assert "This is for sellers" in stranger.last_text
        async with runner.db.transaction() as session:
            assert (await session.get(Order, order_id)).status == "placed"

        # The seller cannot skip a step: delivered before shipping is refused.
        await seller.press_data(f"sa:{order_id}:dlv")
        assert "can't be delivered" in seller.last_answer["text"]
        async with runner.db.transaction() as session:
            assert (await session.get(Order, order_id)).status == "placed"


async def test_a_buyer_who_blocked_the_bot_is_marked_and_not_retried(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        shopper = fake.user(SHOPPER, "Ann")
        await buy(shopper, "L / White")
        await fake.wait_for("sendMessage", sent_to(SELLER, "Order #"), timeout=10)

        fake.block_user(SHOPPER)
        fake.fail_next("sendMessage", 429, parameters={"retry_after": 1})  # and Telegram is busy once
        await seller.press("Accept")
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") in (SHOPPER, str(SHOPPER))
                            and call.error_code == 403, timeout=15)

        async def notice_given_up():  # type: ignore[no-untyped-def]
            async with runner.db.transaction() as session:
                row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == SHOPPER))
                return row if row.status == "dead" else None

        row = await eventually(notice_given_up)
        assert "blocked" in row.last_error and row.attempts == 1
        async with runner.db.transaction() as session:
            assert (await session.get(User, SHOPPER)).blocked_at is not None


async def test_seller_edits_prices_stock_and_pauses_and_search_follows(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR), low_stock_threshold=1) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        shopper = fake.user(SHOPPER, "Ann")

        # New price for M, and a bad one refused politely.
        await seller.press("M / White price")
        await seller.send("12.345")
        assert "at most 2 decimals" in seller.last_text
        await seller.send("39.50")
        assert "Saved" in seller.last_text and "$39.50" in seller.last_text
        await shopper.send("linen shirt")
        await shopper.press("Linen Summer Shirt")
        assert "$39.50" in shopper.last_text  # the card shows the new price at once
        old_card = shopper.last_message

        # Buying the last-but-one L tells the seller stock is low.
        await buy(shopper, "L / White")
        await fake.wait_for("sendMessage", sent_to(SELLER, "Low stock", "L / White", "1 left"), timeout=10)

        # The seller pays creators more for this shirt; out-of-range rates are refused.
        await seller.send("/my_products")
        await seller.press("Linen Summer Shirt")
        assert "Creator commission: 10%" in seller.last_text
        await seller.press("Creator commission")
        await seller.send("80")
        assert "0 to 50 %" in seller.last_text
        await seller.send("12.5%")
        assert "Creator commission: 12.5%" in seller.last_text
        async with runner.db.transaction() as session:
            assert await session.scalar(select(Product.commission_bp).where(Product.title == "Linen Summer Shirt")) \
                == 1250

        # Restock L with a typed number; nonsense is refused.
        await seller.send("/my_products")
        await seller.press("Linen Summer Shirt")
        await seller.press("L / White stock")
        await seller.send("lots")
        assert "whole number" in seller.last_text
        await seller.send("12")
        assert await stock(runner, "L / White") == 12

        # Paused: gone from search; resumed: back.
        await seller.press("Pause")
        await shopper.send("linen summer shirt")
        assert "Linen Summer Shirt" not in shopper.last_text
        await seller.press("Resume")
        await shopper.send("linen summer shirt")
        assert "Linen Summer Shirt" in shopper.last_text

        # Removed: gone for good, and its old card button says so.
        await seller.press("Remove")
        assert "was removed" in seller.last_text
        await shopper.send("linen summer shirt")
        assert "Linen Summer Shirt" not in shopper.last_text
        await shopper.press("Add to cart", message=old_card)
        assert "no longer available" in shopper.last_answer["text"]


async def test_a_stars_order_cancelled_by_the_seller_is_refunded_through_telegram(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        async with runner.db.transaction() as session:  # the shop sells license keys (digital: paid in Stars)
            shop = await session.scalar(select(Seller).where(Seller.owner_user_id == SELLER))
            shop.notify_chat_id = SELLER
            await make_digital(session, shop, await make_category(session, "Software"), "Photo Editor Licence",
                               2000, codes=["KEY-AAAA", "KEY-BBBB"])
        shopper = fake.user(SHOPPER, "Ann")
        since = fake.mark()
        await shopper.send("photo editor licence")
        await shopper.press("Photo Editor Licence")
        await shopper.press("Buy now")
        await shopper.press("Place order")
        assert (await shopper.pre_checkout())["ok"] is True
        await shopper.pay(charge_id="stars-charge-1")
        assert any("received" in (text or "") for text in shopper.reply_texts)
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "KEY-AAAA"), timeout=10)
        # One code left in the pool: the seller is told, as for low stock.
        await fake.wait_for("sendMessage", sent_to(SELLER, "Low on codes", "1 code left", "/my_products"), timeout=10,
                            since=since)

        # The seller sees a paid digital order: nothing to fulfil, no key shown, and one button to cancel it.
        notice = await fake.wait_for("sendMessage", sent_to(SELLER, "Order #", "paid by telegram stars"), timeout=10)
        assert "Photo Editor Licence" in notice.result["text"] and "KEY-" not in notice.result["text"]
        assert seller.buttons(notice.result["message_id"]) == ["✖ Cancel"]
        await seller.press("Cancel")
        await seller.send("Key did not activate")
        refund = await fake.wait_for("refundStarPayment", timeout=10)
        assert refund.ok and refund.params["telegram_payment_charge_id"] == "stars-charge-1"
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "was refunded"), timeout=10)
        async with runner.db.transaction() as session:
            order = await session.scalar(select(Order))
            assert (order.status, order.refund_status) == ("cancelled", "refunded")
            # The key was shown to the buyer: it is spent, never sold again; the other is still for sale.
            pool = dict((await session.execute(select(DigitalCode.code, DigitalCode.status)
                                               .where(DigitalCode.code.like("KEY-%")))).all())
        assert pool == {"KEY-AAAA": "spent", "KEY-BBBB": "free"}
        # A digital order holds no contact: the seller's notice gave none, so none is recorded as given.
        async with runner.db.read() as session:
            assert (order.contact_name, order.phone, order.address) == (None, None, None)
            assert await session.scalar(select(func.count(DataAccess.id))) == 0


async def test_a_notice_telegram_refuses_arrives_as_plain_text_or_the_operators_hear_of_it(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        shopper = fake.user(SHOPPER, "Ann")

        # Telegram refuses the HTML of the next notice to the seller once: it comes as plain text instead.
        since = fake.mark()
        fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities", match={"chat_id": SELLER})
        await buy(shopper, "L / White")
        await fake.wait_for("sendMessage", sent_to(SELLER, "Order #", "Linen Summer Shirt"), timeout=10)
        to_seller = [call for call in fake.find_calls("sendMessage", since=since, chat_id=SELLER)]
        plain = [call for call in to_seller if call.ok and call.params.get("parse_mode") is None]
        assert len(plain) == 1 and "<b>" not in plain[0].params["text"]
        assert [call.ok for call in to_seller].count(False) == 1
        # The low-stock notice of that order is through too, before the next faults are set.
        await fake.until(lambda: any(call.ok and "Low stock" in call.params["text"]
                                     for call in fake.find_calls("sendMessage", chat_id=SELLER)), timeout=10)

        # Refused both ways: given up, and the operators are told (no personal data, ids only).
        fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities", match={"chat_id": SELLER}, times=2)
        await buy(shopper, "M / White")
        told = await fake.until(lambda: next((call for call in fake.find_calls("sendMessage", chat_id=OPERATOR)
                                              if "Outbox gave up on delivery" in call.params["text"]), None),
                                timeout=10)
        assert f"to chat {SELLER}" in told.params["text"] and "1 Main Street" not in told.params["text"]
        async with runner.db.read() as session:
            statuses = (await session.scalars(select(OutboxMessage.status)
                                              .where(OutboxMessage.chat_id == SELLER))).all()
        assert statuses.count("dead") == 1
