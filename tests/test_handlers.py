"""Handlers as a shopper and a stranger meet them, without a network (tests/offline.py): fast, and each one
through the inbox and the real store."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from store.models import CartLine, OutboxMessage, Product, Seller, Variant, utcnow
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import payments, sellers, unpaid
from store.services.invoices import invoice_payload
from store.states import OutboxChannel, OutboxStatus, PaymentMethod, ProductStatus

from .factories import make_user
from .offline import OfflineShop


@pytest.fixture
async def shop(tmp_path):
    async with OfflineShop(f"sqlite:///{tmp_path / 'shop.db'}") as running:
        yield running


async def cart_quantities(shop: OfflineShop, user_id: int) -> list[int]:
    async with shop.application.shop.db.read() as session:
        return list(await session.scalars(select(CartLine.quantity).where(CartLine.user_id == user_id)
                                           .order_by(CartLine.id)))


async def test_a_search_with_a_typo_finds_the_product_and_it_goes_in_the_cart(shop):
    ann = shop.person(1001, "Ann")
    await ann.send("/start")
    assert "Welcome" in ann.last_text
    await ann.send("yoga mt")
    assert "Non-Slip Yoga Mat" in ann.last_text
    await ann.press("Non-Slip Yoga Mat")
    assert "Non-Slip Yoga Mat" in ann.last_text
    await ann.press("Add to cart")
    assert "Added to your cart (1 item)" in ann.answers[-1].params["text"]
    assert await cart_quantities(shop, 1001) == [1]

    await ann.send("/cart")
    assert "Non-Slip Yoga Mat" in ann.last_text
    await ann.press("+ 1")
    assert await cart_quantities(shop, 1001) == [2]
    await ann.press("✕ 1")
    assert await cart_quantities(shop, 1001) == []


async def test_someone_elses_cart_line_and_forged_buttons_change_nothing(shop):
    ann, eve = shop.person(1001, "Ann"), shop.person(1002, "Eve")
    await ann.send("yoga mat")
    await ann.press("Non-Slip Yoga Mat")
    await ann.press("Add to cart")
    await ann.send("/cart")
    plus = next(data for label, data in ann.buttons() if label == "+ 1")

    # Eve replays Ann's button, and presses buttons that were never ours.
    for data in (plus, "cl:999999:inc", "a:notanumber", "zz:1", "sa:1:acc"):
        await eve.press_data(data)
        assert eve.answers[-1].params.get("show_alert") is True, data
    assert await cart_quantities(shop, 1001) == [1]
    assert await cart_quantities(shop, 1002) == []
    assert "expired" in eve.answers[-2].params["text"]  # zz:1, not one of ours


async def test_commands_out_of_place_get_a_polite_answer(shop):
    eve = shop.person(1002, "Eve")
    await eve.send("/cancel")
    assert "nothing to cancel" in eve.last_text.lower()
    await eve.send("/seller_orders")
    assert "This is for sellers" in eve.last_text
    await eve.send("/frobnicate")
    assert "don't know that command" in eve.last_text


async def at_the_contact_step(shop: OfflineShop):  # type: ignore[no-untyped-def]
    """Ann, with a yoga mat in her cart, at the checkout's contact step."""
    ann = shop.person(1001, "Ann")
    await ann.send("yoga mat")
    await ann.press("Non-Slip Yoga Mat")
    await ann.press("Add to cart")
    await ann.send("/cart")
    await ann.press("Checkout")
    await ann.press("Continue")
    assert "Checkout — contact" in ann.last_text
    return ann


async def test_a_photo_or_sticker_at_a_typing_step_gets_the_steps_prompt(shop):
    ann = await at_the_contact_step(shop)
    await ann.send_photo()
    assert ann.last_text == "Please type your name and phone number, or tap Share my contact."
    await ann.send_contact("+1 202 555 0143")
    assert "shipping address" in ann.last_text
    await ann.send_photo()
    assert ann.last_text == "Please type your shipping address as text."
    # Outside any step a photo is still answered as before.
    await ann.send("/cancel")
    await ann.send_photo()
    assert "Nice picture" in ann.last_text


async def test_an_anonymous_number_shared_from_telegram_is_taken(shop):
    ann = await at_the_contact_step(shop)
    await ann.send_contact("+888 0123 4567")
    assert "Ann, +88801234567 ✓" in ann.last_text
    assert "shipping address" in ann.last_text


async def test_buttons_under_a_message_sent_in_inline_mode_answer_in_the_persons_chat(shop):
    """Such a press names the message (inline_message_id) and carries none: replies go to the person."""
    ann = shop.person(1001, "Ann")
    await ann.send("yoga mat")
    await ann.press("Non-Slip Yoga Mat")
    add = next(data for label, data in ann.buttons() if "Add to cart" in label)
    for data in (add, "cart", "m"):
        await ann.press_data(data, inline=True)
    assert await cart_quantities(shop, 1001) == [1]
    assert "Your cart" in ann.said[-2] and "Non-Slip Yoga Mat" in ann.said[-2]


async def test_empty_callback_data_is_answered_as_an_expired_button(shop):
    eve = shop.person(1002, "Eve")
    await eve.press_data("")
    assert eve.answers[-1].params.get("show_alert") is True
    assert "expired" in eve.answers[-1].params["text"]


async def test_help_shows_each_person_their_own_commands(tmp_path):
    async with OfflineShop(f"sqlite:///{tmp_path / 'shop.db'}", operator_ids="9001") as shop:
        ann, olga = shop.person(1001, "Ann"), shop.person(9001, "Olga")
        await ann.send("/help")
        assert "How to shop here" in ann.last_text and "/seller_orders" not in ann.last_text
        await olga.send("/help")
        assert "How to shop here" in olga.last_text and "Operating the shop" in olga.last_text
        # Once approved, a seller is shown the seller's commands too.
        await ann.send("/sell")
        await ann.send("Ann's Lamps")
        async with shop.application.shop.db.read() as session:
            seller_id = await session.scalar(select(Seller.id).where(Seller.name == "Ann's Lamps"))
        await olga.press_data(f"sd:{seller_id}:1")  # Approve, under the application the outbox sends her
        await ann.send("/help")
        assert "/seller_orders" in ann.last_text and "Operating the shop" not in ann.last_text


async def test_an_operator_sees_refunds_due_and_replays_a_shops_webhooks(tmp_path):
    async with OfflineShop(f"sqlite:///{tmp_path / 'shop.db'}", operator_ids="9001",
                           payment_provider_token="284685063:TEST:provider") as shop:
        db = shop.application.shop.db
        async with db.transaction() as session:
            await make_user(session, 1001)
            seller = await session.scalar(select(Seller).where(Seller.kind == "retailer").order_by(Seller.id))
            variant = await session.scalar(select(Variant.id).join(Product, Product.id == Variant.product_id)
                                           .where(Variant.seller_id == seller.id, Variant.stock > 2,
                                                  Product.status == ProductStatus.ACTIVE))
            await cart_service.add_to_cart(session, 1001, variant)
            await sellers.set_webhook(session, seller.id, "https://hooks.example.com/orders")
        rules = shop.application.shop.options.rules
        async with db.transaction() as session:
            cart = await cart_service.get_cart(session, 1001)
            total = co.quote(cart, await co.get_shipping(session, "standard"), rules.currency).total.amount
            placed = await co.place_order(session, 1001, contact_name="Ann Lee", phone="+12025550143",
                                          address="1 Main St, Springfield 12345", shipping_code="standard",
                                          payment_method=PaymentMethod.CARD, expected_total=total, rules=rules,
                                          now=utcnow())
            await unpaid.cancel_checkout(session, 1001, placed.checkout.id, utcnow())
            await payments.record_payment(session, 1001, invoice_payload(placed.checkout.id), currency="USD",
                                          amount=placed.checkout.invoice_amount, charge_id="tg-late",
                                          provider_charge_id="ch_late", now=utcnow(), operators=frozenset({9001}))

        olga, ann = shop.person(9001, "Olga"), shop.person(1001, "Ann")
        await olga.send("/seller_orders")
        assert olga.last_text.startswith("<b>Refunds due</b>\n• 💸 ")
        assert "ch_late" in olga.last_text and f"#{placed.orders[0].id}" in olga.last_text

        await ann.send(f"/replay_webhooks {seller.id}")
        assert ann.last_text == "That command is for the shop's operators."
        await olga.send("/replay_webhooks")
        assert "/replay_webhooks SHOP_ID" in olga.last_text
        await olga.send(f"/replay_webhooks {seller.id}")
        assert olga.last_text == f"Shop {seller.id} has no given-up webhook events."
        async with db.transaction() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.WEBHOOK)
                                  .values(status=OutboxStatus.HELD))
        await olga.send(f"/replay_webhooks {seller.id}")
        # The order's created and cancelled events.
        assert olga.last_text == f"2 order events of shop {seller.id} will be sent again, in order."
