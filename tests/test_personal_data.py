"""A shopper's data: /privacy, their copy (/mydata), who received their address, /forget and retention.

Through the real bot, a seller's real webhook receiver and HTTP API on 127.0.0.1, on both databases;
erased data is checked in the tables themselves, not only in what the bot shows.
"""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select, update

from store.models import CartLine, Click, DataAccess, InboxUpdate, Order, OutboxMessage, Seller, User, UserStep
from store.services import sellers
from store.states import OutboxChannel

from .conftest import BotRunner, eventually
from .journeys import add_to_cart, open_link, place_order, share_link_for, start_creator
from .test_retailers import LOOPBACK, Receiver

OPERATOR, ANN, BOB, SELLER_CHAT = 9001, 1001, 1002, 3001
ANN_ADDRESS, BOB_ADDRESS = "1 Main Street, Springfield 12345", "9 Other Road, Shelbyville 54321"


async def my_data(fake, user) -> dict:  # type: ignore[no-untyped-def]
    """Send /mydata and read the JSON file the bot sends back."""
    await user.send("/mydata")
    call = fake.find_calls("sendDocument", chat_id=user.id)[-1]
    assert call.ok and call.result["document"]["file_name"] == "chatshop-my-data.json"
    return json.loads(fake.files[call.result["document"]["file_id"]].data)


async def contact_of(runner: BotRunner, order_id: int) -> tuple[str | None, str | None, str | None]:
    """The name, phone and address an order keeps, as stored."""
    async with runner.db.read() as session:
        order = await session.get(Order, order_id)
        return order.contact_name, order.phone, order.address


async def last_order(runner: BotRunner, buyer: int) -> int:
    async with runner.db.read() as session:
        return await session.scalar(select(func.max(Order.id)).where(Order.buyer_id == buyer))


def events(receiver: Receiver, count: int):  # type: ignore[no-untyped-def]
    """A check that the receiver has accepted ``count`` events."""
    async def arrived():  # type: ignore[no-untyped-def]
        return len(receiver.accepted) >= count
    return arrived


async def to_contact_step(user) -> None:  # type: ignore[no-untyped-def]
    """From anywhere: open the cart, check out, accept the review."""
    await user.press("🛒 Cart")
    await user.press("Checkout")
    await user.press("Continue")


async def run_job(runner: BotRunner, name: str) -> None:
    await runner.application.job_queue.get_jobs_by_name(name)[0].run(runner.application)


async def test_privacy_says_who_sees_what_and_for_how_long(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, personal_data_days=30):
        ann = fake.user(ANN, "Ann")
        await ann.send("/privacy")
        assert "only on that seller's own orders" in ann.last_text and "erased 30 days after" in ann.last_text
        assert "/mydata" in ann.last_text and "/forget" in ann.last_text


async def test_a_retailer_gets_the_contact_until_it_expires_and_the_buyer_sees_every_time(fake, store_url, clock):
    async with Receiver() as receiver, BotRunner(fake, store_url, clock, personal_data_days=30,
                                                 webhook_allowed_networks="127.0.0.0/8") as runner:
        async with runner.db.transaction() as session:
            voltbox = await session.scalar(select(Seller).where(Seller.name == "Voltbox Electronics"))
            receiver.secret = await sellers.set_webhook(session, voltbox.id, receiver.url, LOOPBACK)
            key = await sellers.issue_api_key(session, voltbox.id)
            voltbox.notify_chat_id = SELLER_CHAT
        ann, bob = fake.user(ANN, "Ann"), fake.user(BOB, "Bob")
        await add_to_cart(bob, "wireless earbuds", "Wireless Earbuds")
        await place_order(bob, BOB_ADDRESS)
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await place_order(ann, ANN_ADDRESS)
        order_id = await last_order(runner, ANN)

        # The seller's chat and webhook get the order with her contact; the API shows it; she sees it all.
        await eventually(events(receiver, 2), timeout=20)
        assert receiver.accepted[-1]["data"]["buyer"]["address"] == ANN_ADDRESS
        await fake.until(lambda: any(f"Order #{order_id}" in c.params["text"]
                                     for c in fake.find_calls("sendMessage", chat_id=SELLER_CHAT)), timeout=10)
        auth = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession(base_url=runner.runtime.web.url, headers=auth) as http:
            async with http.get(f"/api/v1/orders/{order_id}") as response:
                assert (await response.json())["buyer"]["phone"] == "+12025550143"
            async with http.get("/api/v1/orders") as response:  # polled again within the hour: counted
                assert order_id in [o["id"] for o in (await response.json())["orders"]]
            async with http.post(f"/api/v1/orders/{order_id}/accept") as response:
                assert response.status == 200
            async with http.post(f"/api/v1/orders/{order_id}/ship",
                                 json={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}) as response:
                assert response.status == 200
            async with http.post(f"/api/v1/orders/{order_id}/deliver") as response:
                assert (await response.json())["status"] == "delivered"
        await eventually(events(receiver, 5), timeout=20)  # created twice, accepted, shipped, delivered

        mine = await my_data(fake, ann)
        raw = json.dumps(mine)
        assert [o["contact"]["address"] for o in mine["orders"]] == [ANN_ADDRESS]
        assert "Other Road" not in raw and "Bob" not in raw  # another buyer's data is never in her copy
        given = {(g["order_id"], g["channel"], g["seller"]): g["times"] for g in mine["contact_given_to"]}
        assert {(order_id, channel, "Voltbox Electronics") for channel in ("seller_chat", "webhook", "http_api")} \
            <= set(given)
        assert given[(order_id, "http_api", "Voltbox Electronics")] == 5  # 2 reads and 3 actions...
        async with runner.db.read() as session:  # ...counted on one row, not a row each
            assert await session.scalar(select(func.count(DataAccess.id)).where(
                DataAccess.order_id == order_id, DataAccess.channel == "http_api")) == 1
        assert given[(order_id, "webhook", "Voltbox Electronics")] == 4  # created, accepted, shipped, delivered
        assert f"given out {sum(given.values())} times" in ann.last_message["caption"]

        # Thirty days after delivery her phone and address are erased: in the table, the API, the kept
        # webhook bodies. Bob's order, delivered later, keeps his for now.
        clock.advance(days=29)
        await run_job(runner, "erase-personal-data")
        assert await contact_of(runner, order_id) == ("Ann", "+12025550143", ANN_ADDRESS)
        clock.advance(days=2)
        await run_job(runner, "erase-personal-data")
        assert await contact_of(runner, order_id) == ("Ann", None, None)
        assert (await contact_of(runner, await last_order(runner, BOB)))[2] == BOB_ADDRESS  # still open
        async with aiohttp.ClientSession(base_url=runner.runtime.web.url, headers=auth) as http:
            async with http.get(f"/api/v1/orders/{order_id}") as response:
                assert (await response.json())["buyer"] == {"name": "Ann", "phone": None, "address": None}
        async with runner.db.read() as session:
            bodies = await session.scalars(select(OutboxMessage.payload).where(
                OutboxMessage.channel == OutboxChannel.WEBHOOK, OutboxMessage.key.like(f"order-{order_id}-%")))
            assert all(body["data"]["buyer"]["address"] is None for body in bodies)
        mine = await my_data(fake, ann)
        assert mine["orders"][0]["contact"]["address"] is None and mine["orders"][0]["contact"]["erased_at"]


async def test_forget_erases_now_what_it_can_and_the_rest_when_the_order_ends(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR), creator_auto_approve=True) as runner:
        operator = fake.user(OPERATOR, "Olga")
        cleo, _ = await start_creator(fake, runner)
        url = await share_link_for(cleo, "pullover hoodie", "Pullover Hoodie")
        ann, bob = fake.user(ANN, "Ann", username="ann_lee"), fake.user(BOB, "Bob")
        await add_to_cart(bob, "smart watch", "Smart Watch S2")
        await place_order(bob, BOB_ADDRESS)
        await open_link(ann, url)
        await ann.press("Add to cart")
        await place_order(ann, ANN_ADDRESS)
        delivered = await last_order(runner, ANN)
        await operator.press_data(f"sv:{delivered}")  # the operator opens it (recorded), accepts, ships, delivers
        await operator.press("Accept")
        await operator.press("Ship")
        await operator.send("DHL JD014600003")
        await operator.press("Delivered")
        # Her notices (accepted, shipped, delivered: a second apart in her chat) are all in before she goes on,
        # so that what she reads next is the bot's answer to her.
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") == ANN
                            and "was delivered" in call.params.get("text", ""), timeout=15)
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await place_order(ann, ANN_ADDRESS)
        still_open = await last_order(runner, ANN)
        await add_to_cart(ann, "usb-c charger", "USB-C Charger")
        assert {"operator"} <= {g["channel"] for g in (await my_data(fake, ann))["contact_given_to"]}

        # Keeping changes nothing.
        clock.advance(minutes=1)
        await ann.send("/forget")
        assert "can't be undone" in ann.last_text
        await ann.press("Keep it")
        assert "Nothing was erased" in ann.last_text
        assert await contact_of(runner, delivered) == ("Ann", "+12025550143", ANN_ADDRESS)

        await ann.send("/forget")
        await ann.press("Erase my data")
        assert f"order #{delivered} are erased too" in ann.last_text
        assert f"order #{still_open} is still on the way" in ann.last_text
        async with runner.db.read() as session:
            user = await session.get(User, ANN)
            assert (user.first_name, user.username, user.contact_name, user.phone, user.last_address) == \
                ("", None, None, None, None)
            for table in (CartLine, Click, UserStep):
                assert await session.scalar(select(func.count()).select_from(table)
                                            .where(table.user_id == ANN)) == 0
            # Nothing she sent is kept once handled (the raw updates, her typed address among them).
            assert await session.scalar(select(func.count()).select_from(InboxUpdate).where(
                InboxUpdate.lane == ANN, InboxUpdate.payload.is_not(None))) == 0
        assert await contact_of(runner, delivered) == (None, None, None)
        assert await contact_of(runner, still_open) == ("Ann", "+12025550143", ANN_ADDRESS)  # to be delivered
        bob_order = await last_order(runner, BOB)
        assert await contact_of(runner, bob_order) == ("Bob", "+12025550143", BOB_ADDRESS)
        # Cleo's commission on both orders (her link was the last Ann opened) is kept for payout.
        await cleo.send("/earnings")
        assert "🧾 2 orders" in cleo.last_text

        # Once the open order is delivered, the job erases its contact too; the seller sees it erased.
        async with runner.db.transaction() as session:
            await session.execute(update(Order).where(Order.id == still_open).values(status="delivered"))
        await run_job(runner, "erase-personal-data")
        assert await contact_of(runner, still_open) == (None, None, None)
        await operator.press_data(f"sv:{still_open}")
        assert "(erased)" in operator.last_text and ANN_ADDRESS not in operator.last_text
        mine = await my_data(fake, ann)
        assert all(o["contact"] == {**o["contact"], "name": None, "phone": None, "address": None}
                   for o in mine["orders"])
        assert mine["cart"] == [] and mine["link_clicks"] == []


async def test_a_shop_that_needs_no_phone_never_gets_one(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock) as runner:
        async with runner.db.transaction() as session:
            voltbox = await session.scalar(select(Seller).where(Seller.name == "Voltbox Electronics"))
            voltbox.owner_user_id, voltbox.notify_chat_id = SELLER_CHAT, SELLER_CHAT
        vic = fake.user(SELLER_CHAT, "Vic")
        await vic.send("/seller_settings")
        assert "Buyers' phone number: asked" in vic.last_text
        await vic.send("/buyer_phone maybe")
        assert "/buyer_phone off" in vic.last_text
        await vic.send("/buyer_phone off")
        assert "no longer asked for a phone number" in vic.last_text

        # Only Voltbox in the cart: a name is enough, and a shared contact's phone is not kept.
        ann = fake.user(ANN, "Ann")
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await to_contact_step(ann)
        assert "No phone number is needed" in ann.last_text
        await ann.tap("Share my contact")
        assert "📇 Ann ✓" in ann.last_text
        await ann.send(ANN_ADDRESS)
        await ann.press("Standard delivery")
        await ann.press("Cash on delivery")
        assert "Deliver to: Ann\n" in ann.last_text
        await ann.press("Place order")
        order_id = await last_order(runner, ANN)
        assert await contact_of(runner, order_id) == ("Ann", None, ANN_ADDRESS)
        notice = await fake.until(lambda: next((c for c in fake.find_calls("sendMessage", chat_id=SELLER_CHAT)
                                                if f"Order #{order_id}" in c.params["text"]), None), timeout=10)
        assert "Buyer:</b> Ann\n" in notice.params["text"] and "+1" not in notice.params["text"]

        # A Buy now from the same shop: a typed phone number is left out, the name kept.
        bea = fake.user(BOB, "Bea")
        await bea.send("wireless earbuds")
        await bea.press("Wireless Earbuds")
        await bea.press("Buy now")
        assert "No phone number is needed" in bea.last_text
        await bea.send("Bea Kim +1 202 555 0199")
        assert "📇 Bea Kim ✓" in bea.last_text
        await bea.send(BOB_ADDRESS)
        await bea.press("Cash on delivery")
        await bea.press("Place order")
        assert await contact_of(runner, await last_order(runner, BOB)) == ("Bea Kim", None, BOB_ADDRESS)
        assert "0199" not in json.dumps(await my_data(fake, bea))

        # With a shop that needs a phone in the same cart, the phone is asked again.
        await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
        await add_to_cart(ann, "hoodie", "Pullover Hoodie")
        await to_contact_step(ann)
        assert "Checkout — contact" in ann.last_text and "No phone number" not in ann.last_text


async def two_seller_orders(runner: BotRunner, ann) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """One checkout, two sellers: the hoodie's order is delivered, the earbuds' still open."""
    await add_to_cart(ann, "wireless earbuds", "Wireless Earbuds")
    await add_to_cart(ann, "hoodie", "Pullover Hoodie", "M / Grey")
    await place_order(ann, ANN_ADDRESS)
    async with runner.db.transaction() as session:
        rows = dict((await session.execute(select(Seller.name, Order.id).join(Seller, Seller.id == Order.seller_id)
                                           .where(Order.buyer_id == ANN))).all())
        earbuds, hoodie = rows["Voltbox Electronics"], rows["Chatshop Store"]
    async with runner.db.transaction() as session:
        await session.execute(update(Order).where(Order.id == hoodie)
                              .values(status="delivered", delivered_at=runner.clock()))
    return earbuds, hoodie


async def test_each_sellers_copy_of_the_contact_ends_with_its_own_order(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, personal_data_days=30) as runner:
        ann = fake.user(ANN, "Ann")
        earbuds, hoodie = await two_seller_orders(runner, ann)
        clock.advance(days=31)
        await run_job(runner, "erase-personal-data")
        assert await contact_of(runner, hoodie) == ("Ann", None, None)
        assert await contact_of(runner, earbuds) == ("Ann", "+12025550143", ANN_ADDRESS)  # still on its way
        # Her saved details stay while an order keeps them.
        async with runner.db.read() as session:
            assert (await session.get(User, ANN)).last_address == ANN_ADDRESS

        # /forget: the delivered order's name goes too; the open one is named.
        await ann.send("/forget")
        forget_message = ann.last_message
        await ann.send("/forget")
        await ann.press("Erase my data")
        assert f"order #{hoodie} are erased too" in ann.last_text
        assert f"order #{earbuds} is still on the way" in ann.last_text
        assert await contact_of(runner, hoodie) == (None, None, None)
        # The older /forget message's "Keep it" does not claim that nothing was erased.
        await ann.press("Keep it", message=forget_message)
        assert "erased" in ann.chat.messages[forget_message["message_id"]]["text"]
        assert "Nothing was erased" not in ann.chat.messages[forget_message["message_id"]]["text"]

        # A later order follows the normal retention, not the request made before it.
        async with runner.db.transaction() as session:
            await session.execute(update(Order).where(Order.id == earbuds).values(status="cancelled"))
        clock.advance(minutes=5)
        await add_to_cart(ann, "usb-c charger", "USB-C Charger")
        await place_order(ann, ANN_ADDRESS)
        later = await last_order(runner, ANN)
        async with runner.db.transaction() as session:
            await session.execute(update(Order).where(Order.id == later).values(status="delivered"))
        await run_job(runner, "erase-personal-data")
        assert await contact_of(runner, earbuds) == (None, None, None)
        assert await contact_of(runner, later) == ("Ann", "+12025550143", ANN_ADDRESS)
