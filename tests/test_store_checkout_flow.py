"""The checkout conversation in the store: steps in order, placed exactly once, nothing unconfirmed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from handlers.messages import error_text
from store.db import Database
from store.errors import Changed, ErrorCode, Expired, InvalidInput
from store.models import Checkout, Seller, User, Variant, utcnow
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import checkout_flow as flow
from store.services.checkout_flow import CheckoutStep
from store.services.contact import one_line
from store.services.users import Step, get_step
from store.states import CartAction, PaymentMethod

from .factories import make_category, make_digital, make_product, make_seller, make_user

RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30), stars_per_unit=50)
OFFERED = (PaymentMethod.CARD, PaymentMethod.COD)


@pytest.fixture
async def shop(db):
    """A mug (10 in stock) and a shopper with one in the cart, at the confirm step."""
    async with db.transaction() as session:
        seller = await make_seller(session)
        await make_product(session, seller, await make_category(session), "Café Mug", [("", 899, 10)])
        await make_product(session, seller, await make_category(session, "Lamps"), "Floor Lamp",
                           [("", 29_999, 10)])
        await make_user(session, 1)
        mug, lamp = (await session.scalars(select(Variant.id).order_by(Variant.id))).all()
        await cart_service.add_to_cart(session, 1, mug)
    return {"mug": mug, "lamp": lamp}


async def walk_to_confirm(db, method: str = PaymentMethod.COD) -> flow.Confirmation:
    """Answer every step up to the confirmation."""
    async with db.transaction() as session:
        await flow.begin(session, 1, RULES, utcnow())
        await flow.to_contact(session, 1, RULES, utcnow())
        await flow.submit_contact(session, 1, "Ann Lee +1 202 555 0143", "US", "Ann")
        await flow.submit_address(session, 1, "1 Main Street, Springfield 12345", RULES, utcnow())
        await flow.choose_shipping(session, 1, "standard", RULES, utcnow())
    async with db.transaction() as session:
        return await flow.choose_payment(session, 1, method, OFFERED, RULES, utcnow())


async def test_steps_must_come_in_order(db, shop):
    async with db.transaction() as session:
        await flow.begin(session, 1, RULES, utcnow())
    # Jumping ahead (an old button, a forged one) is refused and changes nothing.
    with pytest.raises(Expired):
        async with db.transaction() as session:
            await flow.choose_shipping(session, 1, "standard", RULES, utcnow())
    with pytest.raises(Expired):
        async with db.transaction() as session:
            await flow.submit_address(session, 1, "1 Main Street, Springfield 12345", RULES, utcnow())
    async with db.transaction() as session:
        assert (await get_step(session, 1)).name == CheckoutStep.REVIEW


async def test_two_presses_of_place_order_at_once_place_one_order(db, shop):
    shown = await walk_to_confirm(db)

    async def press() -> str:
        try:
            async with db.transaction() as session:
                await flow.confirm(session, 1, shown.quote.total.amount, RULES, utcnow())
            return "placed"
        except Expired:
            return "refused"

    outcomes = await asyncio.gather(*(press() for _ in range(4)))
    assert sorted(outcomes) == ["placed", "refused", "refused", "refused"]
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Checkout.id))) == 1
        assert await session.scalar(select(Variant.stock).where(Variant.id == shop["mug"])) == 9


async def test_a_cart_changed_after_confirming_places_nothing(db, shop):
    shown = await walk_to_confirm(db)
    # From an older message, the shopper adds a lamp and removes the mug: same step, other goods.
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, 1, shop["lamp"])
        line = (await cart_service.get_cart(session, 1)).lines[0]
        await cart_service.change_line(session, 1, line.id, CartAction.REMOVE)

    with pytest.raises(Changed):
        async with db.transaction() as session:
            await flow.confirm(session, 1, shown.quote.total.amount, RULES, utcnow())
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Checkout.id))) == 0


async def test_an_older_confirmation_button_is_refused_without_losing_the_step(db, shop):
    shown = await walk_to_confirm(db)
    with pytest.raises(Expired) as refused:
        async with db.transaction() as session:
            await flow.confirm(session, 1, shown.quote.total.amount + 100, RULES, utcnow())
    assert refused.value.code == ErrorCode.CONFIRMATION_OUTDATED
    async with db.transaction() as session:
        placed = await flow.confirm(session, 1, shown.quote.total.amount, RULES, utcnow())
    assert placed.checkout.total == 899 + 499


async def test_stars_are_refused_above_what_one_invoice_may_ask(db, shop):
    async with db.transaction() as session:
        seller = await session.scalar(select(Seller))
        course = await make_digital(session, seller, await make_category(session, "Courses"), "Design Course",
                                    29_999, text="https://example.org/course")
        await cart_service.add_to_cart(session, 1, course.id, 9)  # 9 x 299.99 = 2,699.91 -> 134,996 stars
    # Beside the mug, the course is a second payment in Stars: over what one Stars invoice may ask.
    with pytest.raises(InvalidInput) as refused:
        await walk_to_confirm(db, PaymentMethod.CARD)
    assert "up to 10,000 ⭐" in error_text(refused.value)
    async with db.transaction() as session:
        assert (await get_step(session, 1)).name == CheckoutStep.PAYMENT  # the shopper can change the cart
    # Alone, it is refused at once, before any step.
    async with db.transaction() as session:
        await cart_service.change_line(session, 1, (await cart_service.get_cart(session, 1)).lines[0].id,
                                       CartAction.REMOVE)
        await flow.begin(session, 1, RULES, utcnow())
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            await flow.to_contact(session, 1, RULES, utcnow())


async def test_digital_goods_alone_go_from_the_review_to_their_confirmation(db, shop):
    async with db.transaction() as session:
        seller = await session.scalar(select(Seller))
        ebook = await make_digital(session, seller, await make_category(session, "Books"), "E-book", 500,
                                   file="file-1")
        await cart_service.change_line(session, 1, (await cart_service.get_cart(session, 1)).lines[0].id,
                                       CartAction.REMOVE)
        await cart_service.add_to_cart(session, 1, ebook.id, 1)
        await flow.begin(session, 1, RULES, utcnow())
    async with db.transaction() as session:
        shown = await flow.to_contact(session, 1, RULES, utcnow())
    assert isinstance(shown, flow.Confirmation)
    assert (shown.details["payment"], shown.details["stars"], shown.details["address"]) == ("stars", 250, None)
    async with db.transaction() as session:
        placed = await flow.confirm(session, 1, shown.quote.total.amount, RULES, utcnow())
    assert (placed.checkout.invoice_currency, placed.checkout.invoice_amount) == ("XTR", 250)
    assert placed.orders[0].address is None and placed.orders[0].kind == "digital"


async def test_only_the_shoppers_own_shared_contact_is_accepted(db, shop):
    async with db.transaction() as session:
        await flow.begin(session, 1, RULES, utcnow())
        await flow.to_contact(session, 1, RULES, utcnow())
    for owner in (None, 2):
        with pytest.raises(InvalidInput):
            async with db.transaction() as session:
                await flow.submit_shared_contact(session, 1, "Bob", "12025550143", owner)
    async with db.transaction() as session:
        name, phone, _ = await flow.submit_shared_contact(session, 1, "Ann Lee", "12025550143", 1)
    assert (name, phone) == ("Ann Lee", "+12025550143")


async def test_an_anonymous_number_shared_by_telegram_is_accepted_but_not_when_typed(db, shop):
    """+888 numbers (Fragment) are in no numbering plan: Telegram's own share vouches for them."""
    async with db.transaction() as session:
        await flow.begin(session, 1, RULES, utcnow())
        await flow.to_contact(session, 1, RULES, utcnow())
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            await flow.submit_contact(session, 1, "Ann +888 0123 4567", "US", "Ann")
    async with db.transaction() as session:
        name, phone, _ = await flow.submit_shared_contact(session, 1, "Ann", "+888 0123 4567", 1)
    assert (name, phone) == ("Ann", "+88801234567")


def test_a_step_left_alone_for_a_day_goes_stale():
    assert Step(CheckoutStep.ADDRESS, {}, utcnow() - timedelta(hours=25)).is_stale(utcnow())
    assert not Step(CheckoutStep.ADDRESS, {}, utcnow() - timedelta(hours=23)).is_stale(utcnow())


async def test_a_step_read_earlier_is_checked_again_when_moving_on(db, shop):
    """A handler reads the step, then moves on in its own transaction; if the shopper's other update
    (in another process) moved on in between, the locked check sees it and the answer is stale."""
    async with db.transaction() as session:
        await flow.begin(session, 1, RULES, utcnow())
    other = Database(db.url)
    try:
        async with db.read() as session:
            assert (await get_step(session, 1)).name == CheckoutStep.REVIEW
        async with other.transaction() as elsewhere:
            await flow.to_contact(elsewhere, 1, RULES, utcnow())
        with pytest.raises(Expired):
            async with db.transaction() as session:
                await flow.to_contact(session, 1, RULES, utcnow())
    finally:
        await other.dispose()
    async with db.read() as session:
        assert (await get_step(session, 1)).name == CheckoutStep.CONTACT


async def test_the_saved_address_button_keeps_its_line_breaks(db, shop):
    saved = "Flat 2\n1 Main Street\nSpringfield 12345"
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == 1).values(last_address=saved))
        await flow.begin(session, 1, RULES, utcnow())
        await flow.to_contact(session, 1, RULES, utcnow())
        _, _, offered = await flow.submit_contact(session, 1, "Ann Lee +1 202 555 0143", "US", "Ann")
        # The reply-keyboard button shows it on one line, and sends that line when tapped.
        address = (await flow.submit_address(session, 1, one_line(offered), RULES, utcnow())).address
    assert address == saved
    async with db.transaction() as session:
        assert (await get_step(session, 1)).data["address"] == saved
