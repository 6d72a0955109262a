"""Buy now through the real bot: from a creator's link to a placed order, counting every tap.

A tap is a press of an inline or reply-keyboard button; a typed message is
counted apart; opening the link is neither. The cart is left as it was.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from store.models import CartLine, Order, OrderLine, Product, UserStep, Variant

from .conftest import BotRunner
from .journeys import (
    add_to_cart,
    go_to_confirm_step,
    open_link,
    place_order,
    share_link_for,
    start_creator,
    variant_stock,
)

SHOPPER, NEWCOMER = 1001, 1002
ADDRESS = "1 Main Street, Springfield 12345"
PROVIDER = "284685063:TEST:provider"


class Counted:
    """A shopper whose taps and typed messages are counted."""

    def __init__(self, user) -> None:  # type: ignore[no-untyped-def]
        self.user, self.taps, self.typed = user, 0, 0

    async def press(self, label: str) -> None:
        self.taps += 1
        await self.user.press(label)

    async def tap(self, label: str) -> None:
        self.taps += 1
        await self.user.tap(label)

    async def type(self, text: str) -> None:
        self.typed += 1
        await self.user.send(text)


async def returning_shopper(user) -> None:  # type: ignore[no-untyped-def]
    """An earlier order saved the shopper's details; the USB-C charger is in the cart now."""
    await add_to_cart(user, "smart watch", "Smart Watch S2")
    await place_order(user, ADDRESS)
    await add_to_cart(user, "usb-c charger", "USB-C Charger")


async def to_confirmation(user, query: str, title: str, option: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """A new shopper: search, open the product (pick the option), Buy now, type the contact and address,
    pay cash on delivery: the confirmation with Place order is on screen."""
    await user.send(query)
    await user.press(title)
    if option:
        await user.press(option)
    await user.press("Buy now")
    await user.send("Bea Kim +1 202 555 0199")
    await user.send("2 Oak Avenue, Springfield 12345")
    await user.press("Cash on delivery")
    assert "Place order" in user.buttons()[0]


async def order_lines(runner: BotRunner, buyer: int) -> list[tuple[str, int, int | None]]:
    async with runner.db.read() as session:
        rows = await session.execute(select(OrderLine.sku, OrderLine.quantity, OrderLine.creator_id)
                                     .join(Order, Order.id == OrderLine.order_id).where(Order.buyer_id == buyer)
                                     .order_by(OrderLine.id))
        return [tuple(row) for row in rows]


async def cart_skus(runner: BotRunner, user_id: int) -> list[str]:
    async with runner.db.read() as session:
        return list(await session.scalars(select(Variant.sku).join(CartLine, CartLine.variant_id == Variant.id)
                                          .where(CartLine.user_id == user_id).order_by(CartLine.id)))


async def test_a_returning_shopper_buys_from_a_creators_link_in_four_taps(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, creator_auto_approve=True) as runner:
        cleo, _ = await start_creator(fake, runner)
        url = await share_link_for(cleo, "wireless earbuds", "Wireless Earbuds")
        # Ann ordered before (her details are saved) and has something in her cart.
        ann = fake.user(SHOPPER, "Ann")
        await returning_shopper(ann)
        stock = await variant_stock(runner.db, "VB-WEB-001")
        before = await order_lines(runner, SHOPPER)

        await open_link(ann, url)
        card = ann.last_message
        shopper = Counted(ann)
        await shopper.press("Buy now")
        # A new message under the card (which stays) already offers her saved details.
        screen = ann.last_message
        assert screen["message_id"] != card["message_id"] and card in ann.messages
        assert "Buy now" in screen["text"] and "Wireless Earbuds" in screen["text"] and "$49.99" in screen["text"]
        assert "Deliver to Ann, +12025550143" in screen["text"] and ADDRESS.split(",")[0] in screen["text"]

        await shopper.press("Deliver there")
        assert ann.last_message["message_id"] == screen["message_id"]  # edited in place
        # The cheapest shipping is chosen already; the others are a tap away.
        assert "✓ Pick up at a partner point — free" in ann.buttons()
        assert "Express delivery (1-2 days) — $12.99" in ann.buttons()
        assert "Total: $49.99" in ann.last_text

        await shopper.press("Cash on delivery")
        assert ann.last_message["message_id"] == screen["message_id"]
        assert "confirm your order" in ann.last_text and "Total: $49.99" in ann.last_text
        await shopper.press("Place order")
        assert ann.last_message["message_id"] == screen["message_id"]
        assert "is placed" in ann.last_text

        assert (shopper.taps, shopper.typed) == (4, 0)
        # One unit ordered, attributed to Cleo's link; the cart is as it was; the step is over.
        new = (await order_lines(runner, SHOPPER))[len(before):]
        assert [(sku, quantity) for sku, quantity, _ in new] == [("VB-WEB-001", 1)] and new[0][2] is not None
        assert await variant_stock(runner.db, "VB-WEB-001") == stock - 1
        assert await cart_skus(runner, SHOPPER) == ["VB-CHG-065"]
        async with runner.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(UserStep)) == 0


async def test_a_new_shopper_buys_in_three_taps_and_two_typed_messages(fake, bot):
    ann = fake.user(NEWCOMER, "Bea")
    await ann.send("wireless earbuds")
    await ann.press("Wireless Earbuds")
    shopper = Counted(ann)
    await shopper.press("Buy now")
    assert "Buy now" in ann.last_text and "type your name and phone number" in ann.last_text
    assert ["📱 Share my contact"] in ann.reply_keyboard

    await shopper.type("Bea Kim +1 202 555 0199")
    assert "shipping address" in ann.last_text
    await shopper.type("2 Oak Avenue, Springfield 12345")
    assert "✓ Pick up at a partner point — free" in ann.buttons() and "Total: $49.99" in ann.last_text
    await shopper.press("Cash on delivery")
    await shopper.press("Place order")
    assert "is placed" in ann.last_text

    assert (shopper.taps, shopper.typed) == (3, 2)
    assert await order_lines(bot, NEWCOMER) == [("VB-WEB-001", 1, None)]
    assert await cart_skus(bot, NEWCOMER) == []
    # Her details are kept for the next Buy now.
    await ann.press("Buy now")
    assert "Deliver to Bea Kim, +12025550199" in ann.last_text and "2 Oak Avenue" in ann.last_text


async def test_shipping_can_be_changed_and_the_invoice_is_for_the_one_item(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token=PROVIDER) as runner:
        ann = fake.user(SHOPPER, "Ann")
        await returning_shopper(ann)
        await ann.send("wireless earbuds")
        await ann.press("Wireless Earbuds")
        await ann.press("Buy now")
        await ann.press("Deliver there")
        screen = ann.last_message["message_id"]

        await ann.press("Express delivery")
        assert ann.last_message["message_id"] == screen
        assert "✓ Express delivery (1-2 days) — $12.99" in ann.buttons()
        assert "Pick up at a partner point — free" in ann.buttons()
        assert "Total: $62.98" in ann.last_text  # 49.99 + 12.99

        await ann.press("Card")
        assert "Total: $62.98" in ann.last_text and "Express" in ann.last_text
        await ann.press("Place order")
        invoice = fake.find_calls("sendInvoice", chat_id=SHOPPER)[-1].params
        assert sum(price["amount"] for price in invoice["prices"]) == 6298
        await ann.pre_checkout()
        await ann.pay(charge_id="tg-charge-buy-now")
        assert "received" in ann.last_text
        async with runner.db.read() as session:
            statuses = list(await session.scalars(select(Order.status).order_by(Order.id)))
        assert statuses[-1] == "paid"
        assert await cart_skus(runner, SHOPPER) == ["VB-CHG-065"]


async def test_buy_now_refuses_what_changed_and_orders_nothing(fake, bot):
    ann, bea = fake.user(SHOPPER, "Ann"), fake.user(NEWCOMER, "Bea")
    # The last red hoodie in L: Bea gets to the confirmation with it...
    await to_confirmation(bea, "hoodie", "Pullover Hoodie", "L / Red")
    # ...but Ann checks it out first.
    await add_to_cart(ann, "hoodie", "Pullover Hoodie", "L / Red")
    await place_order(ann)
    await bea.press("Place order")
    assert "not enough stock" in bea.last_text and "Nothing was ordered" in bea.last_text
    assert "/cart" not in bea.last_text
    assert await order_lines(bot, NEWCOMER) == []

    # A sold-out option has no Buy now; a forged one is refused and starts nothing.
    await bea.send("/cancel")
    await bea.send("hoodie")
    await bea.press("Pullover Hoodie")
    await bea.press("L / Red")
    assert "Buy now" not in " ".join(bea.buttons())
    async with bot.db.read() as session:
        red = await session.scalar(select(Variant.id).where(Variant.sku == "CS-HOD-RED-L"))
    await bea.press_data(f"bn:{red}")
    assert "sold out" in bea.last_answer["text"]
    async with bot.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(UserStep).where(UserStep.user_id == NEWCOMER)) == 0

    # The price changes after she confirmed: nothing is placed, and she is told why.
    await to_confirmation(bea, "wireless earbuds", "Wireless Earbuds")
    async with bot.db.transaction() as session:
        await session.execute(update(Variant).where(Variant.sku == "VB-WEB-001").values(price=5999))
    await bea.press("Place order")
    assert "changed after you confirmed" in bea.last_text
    assert await order_lines(bot, NEWCOMER) == []

    # /cancel leaves a Buy now; the cart was never touched.
    await bea.press("Buy now")
    await bea.send("/cancel")
    assert "cancelled" in bea.last_text.lower()
    assert await cart_skus(bot, NEWCOMER) == []


async def ordered_skus(runner: BotRunner, buyer: int) -> list[str]:
    return [sku for sku, _, _ in await order_lines(runner, buyer)]


async def test_buttons_of_another_checkout_place_or_change_nothing(fake, bot):
    ann = fake.user(SHOPPER, "Ann")
    await returning_shopper(ann)
    # A Buy now left at its first screen, then a checkout of the cart: its "Deliver there" is over.
    await ann.send("wireless earbuds")
    await ann.press("Wireless Earbuds")
    await ann.press("Buy now")
    first_screen = ann.last_message
    await ann.press("🛒 Cart")
    await ann.press("Checkout")
    await ann.press("Continue")
    await ann.press("Deliver there", message=first_screen)
    assert "step of the checkout is over" in ann.last_answer["text"]
    assert await cart_skus(bot, SHOPPER) == ["VB-CHG-065"]

    # The cart's confirmation, then a Buy now of another option at the same price: the older Place order
    # places neither.
    await ann.send("/cancel")
    await add_to_cart(ann, "t-shirt", "Classic Cotton T-Shirt", "M / Black")
    await go_to_confirm_step(ann, ADDRESS, shipping="Pick up")
    cart_confirmation = ann.last_message
    ordered = await ordered_skus(bot, SHOPPER)
    await ann.send("t-shirt")
    await ann.press("Classic Cotton T-Shirt")
    await ann.press("M / White")
    await ann.press("Buy now")
    await ann.press("Deliver there")
    await ann.press("Cash on delivery")
    await ann.press("Place order", message=cart_confirmation)
    assert "out of date" in ann.last_answer["text"]
    assert await ordered_skus(bot, SHOPPER) == ordered
    await ann.press("Place order")  # the Buy now's own confirmation
    assert await ordered_skus(bot, SHOPPER) == [*ordered, "CS-TSH-WHT-M"]


async def test_a_product_paused_before_place_order_is_not_ordered(fake, bot):
    bea = fake.user(NEWCOMER, "Bea")
    await to_confirmation(bea, "wireless earbuds", "Wireless Earbuds")
    async with bot.db.transaction() as session:
        await session.execute(update(Product).where(Product.title == "Wireless Earbuds").values(status="paused"))
    await bea.press("Place order")
    assert refusal_of(bea) == "This product is no longer available."
    assert await order_lines(bot, NEWCOMER) == []


def refusal_of(user) -> str:  # type: ignore[no-untyped-def]
    """The refusal a press got: its alert, or the message it was said in."""
    return (user.last_answer or {}).get("text") or user.last_text
