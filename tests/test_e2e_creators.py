"""Creators through the real bot: links, attribution, the commission ledger and the showcase.

Time is a clock the test moves (attribution window, return window): nothing sleeps.
"""

from __future__ import annotations

from sqlalchemy import func, select

from store.models import CartLine, Click, Commission, Creator, OrderLine, Product

from .conftest import BotRunner
from .journeys import open_link, place_order, share_link_for, start_creator

OPERATOR, CREATOR, SHOPPER = 9001, 5001, 1001


async def fulfil(operator, order_id: int, *, deliver: bool = True, cancel: bool = False) -> None:
    """The operator acts for the (demo) seller on one order."""
    await operator.press_data(f"sv:{order_id}")
    if cancel:
        await operator.press("Cancel")
        await operator.send("Damaged in the warehouse")
        return
    await operator.press("Accept")
    await operator.press("Ship")
    await operator.send("DHL JD014600003")
    if deliver:
        await operator.press("Delivered")


async def commissions(runner: BotRunner) -> list[tuple[str, int, int]]:
    async with runner.db.transaction() as session:
        rows = await session.execute(select(Commission.status, Commission.amount, Commission.sales)
                                     .order_by(Commission.id))
        return [tuple(row) for row in rows]


async def test_a_creators_link_earns_commission_after_the_return_window(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR), creator_auto_approve=True,
                       attribution_window_days=7, return_window_days=14) as runner:
        cleo, code = await start_creator(fake, runner)
        url = await share_link_for(cleo, "wireless earbuds", "Wireless Earbuds")
        assert url.endswith(f"_{code}") and len(url.split("start=")[1]) <= 64
        operator = fake.user(OPERATOR, "Olga")
        await operator.send("/start")

        # A shopper taps the link: the card opens; the click is recorded.
        ann = fake.user(SHOPPER, "Ann")
        await open_link(ann, url)
        assert "Wireless Earbuds" in ann.last_text
        await ann.press("Add to cart")
        await place_order(ann)
        async with runner.db.transaction() as session:
            line = await session.scalar(select(OrderLine))
            assert line.creator_id is not None and line.commission_bp == 700  # Voltbox's default rate
        # 7% of 49.99, rounded half up: 3.4993 -> 3.50
        assert await commissions(runner) == [("pending", 350, 4999)]

        # The seller (the operator, for the demo shop) ships and delivers.
        await fulfil(operator, line.order_id)
        clock.advance(days=13)
        await runner.application.job_queue.get_jobs_by_name("approve-commissions")[0].run(runner.application)
        assert await commissions(runner) == [("pending", 350, 4999)]  # still inside the return window
        clock.advance(days=2)
        await runner.application.job_queue.get_jobs_by_name("approve-commissions")[0].run(runner.application)
        assert await commissions(runner) == [("approved", 350, 4999)]

        # A second order through the link is cancelled: its commission is reversed.
        await open_link(ann, url)
        await ann.press("Add to cart")
        await place_order(ann)
        async with runner.db.transaction() as session:
            second = await session.scalar(select(OrderLine.order_id).order_by(OrderLine.id.desc()).limit(1))
        await fulfil(operator, second, cancel=True)
        assert await commissions(runner) == [("approved", 350, 4999), ("reversed", 350, 4999)]

        # Cleo's dashboard shows it all, and the seller sees the sale came through a creator.
        await cleo.send("/earnings")
        all_time = cleo.last_text.split("All time", 1)[1]
        assert "2 clicks" in all_time and "approved $3.50" in all_time and "reversed $3.50" in all_time
        assert "Wireless Earbuds" in cleo.last_text.split("Top products", 1)[1]
        # Shared inline, her results carry her code.
        answer = await cleo.inline_query("earbuds")
        assert answer["results"][0]["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"_{code}")


async def test_self_purchases_expired_clicks_and_bad_links_earn_nothing(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True, attribution_window_days=7) as runner:
        cleo, code = await start_creator(fake, runner)
        url = await share_link_for(cleo, "usb-c charger", "USB-C Charger")

        # Cleo buys through her own link: no click, no attribution, no commission.
        await open_link(cleo, url)
        await cleo.press("Add to cart")
        await place_order(cleo)

        # Bob clicks, but adds to the cart eight days later: outside the window.
        bob = fake.user(1002, "Bob")
        await open_link(bob, url)
        card = bob.last_message
        clock.advance(days=8)
        await bob.press("Add to cart", message=card)
        async with runner.db.transaction() as session:
            assert await session.scalar(select(CartLine.creator_id).where(CartLine.user_id == 1002)) is None
        await place_order(bob)
        assert await commissions(runner) == []

        # Malformed links, a missing product, an unknown creator: the start menu, nothing recorded.
        async with runner.db.transaction() as session:
            clicks_before = await session.scalar(select(func.count(Click.id)))
            product_id = await session.scalar(select(Product.id).where(Product.title == "Wireless Mouse"))
        for payload in ("garbage", f"p{product_id}_zzzzzzzz", "p999999", f"s_{'a' * 8}", "p1_" + code + "x",
                        "<b>hi</b>"):
            await bob.send(f"/start {payload}")
            assert "isn't valid any more" in bob.last_text and "Welcome to chatshop" in bob.last_text, payload
        async with runner.db.transaction() as session:
            assert await session.scalar(select(func.count(Click.id))) == clicks_before


async def test_a_paused_product_link_lands_on_the_menu(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True) as runner:
        cleo, _code = await start_creator(fake, runner)
        url = await share_link_for(cleo, "smart watch", "Smart Watch S2")
        async with runner.db.transaction() as session:
            product = await session.scalar(select(Product).where(Product.title == "Smart Watch S2"))
            product.status = "paused"
        dan = fake.user(1003, "Dan")
        await open_link(dan, url)
        assert "isn't valid any more" in dan.last_text


async def test_the_showcase_link_opens_the_creators_picks_and_attributes_them(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True) as runner:
        cleo, code = await start_creator(fake, runner)
        for query, title in (("yoga mat", "Non-Slip Yoga Mat"), ("french press", "French Press Coffee Maker")):
            await cleo.send(query)
            await cleo.press(title)
            await cleo.press("Add to showcase")
            assert "In showcase ✓" in " ".join(cleo.buttons())
        await cleo.send("/creator")
        showcase_url = next(w for w in cleo.last_text.split() if "start=s_" in w)

        eve = fake.user(1004, "Eve")
        await open_link(eve, showcase_url)
        assert "Cleo's picks" in eve.last_text
        assert {"1. French Press Coffee Maker", "2. Non-Slip Yoga Mat 6 mm"} == set(eve.buttons())
        await eve.press("Non-Slip Yoga Mat")
        await eve.press("Add to cart")
        await place_order(eve)
        assert len(await commissions(runner)) == 1

        # Taking a product out of the showcase.
        await cleo.press("In showcase ✓")
        assert "Add to showcase" in " ".join(cleo.buttons())
        await open_link(eve, showcase_url)
        assert eve.buttons() == ["1. Non-Slip Yoga Mat 6 mm"]


async def test_an_operator_approves_a_creator_and_nobody_else_can(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        operator = fake.user(OPERATOR, "Olga")
        await operator.send("/start")
        cleo = fake.user(CREATOR, "Cleo", username="cleo")
        await cleo.send("/creator")
        assert "with an operator" in cleo.last_text
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") in (OPERATOR, str(OPERATOR))
                            and "Creator application" in (call.result or {}).get("text", ""), timeout=10)
        # Cleo cannot approve herself with a forged button.
        async with runner.db.read() as session:
            creator_id = await session.scalar(select(Creator.id))
        await cleo.press_data(f"cd:{creator_id}:1")
        assert "Only an operator" in cleo.last_answer["text"]

        await operator.press("Approve")
        assert operator.last_text == "✨ Creator application of Cleo (@cleo): approved."  # the person, not an id
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") in (CREATOR, str(CREATOR))
                            and "approved as a chatshop creator" in (call.result or {}).get("text", ""), timeout=10)
        await cleo.send("/creator")
        assert "You're a chatshop creator" in cleo.last_text
        # Deciding twice is refused.
        await operator.press_data(f"cd:{creator_id}:0")
        assert "already approved" in operator.last_answer["text"]
