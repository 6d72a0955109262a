"""Returns through the real bot: a buyer asks from a delivered order (units, reason, words, a photo), the seller
approves (writing return instructions the first time) and refunds on receipt; a request left unanswered is
approved by the shop's job with the test clock; forged and doubled presses change nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from bot.jobs import approve_returns
from store.models import Return, ReturnEvent

from .conftest import BotRunner
from .test_e2e_sellers import OPERATOR, SELLER, SHOPPER, add_linen_shirt, buy, deliver, open_shop, sent_to, stock

BOB = 1002
ADDRESS = "Sam's Shirts returns, 5 Dock Road, Springfield 12345"


async def ask_return(ann, taps: int, reason: str, note: str | None = None, photo: bool = False) -> None:
    """From /orders, the newest order: Return, ``taps`` on the shirt's line, Next, the reason, words, photo."""
    await ann.send("/orders")
    await ann.press("#")
    await ann.press("↩️ Return")
    assert "Return from order #" in ann.last_text and "Returns are open until" in ann.last_text
    for _ in range(taps):
        await ann.press("Linen Summer Shirt")
    await ann.press("Continue ›")
    assert "Why are you returning it?" in ann.last_text
    await ann.press(reason)
    assert "Add a few words or a photo" in ann.last_text
    if note is not None:
        await ann.send(note)
        assert "Noted" in ann.last_text
    if photo:
        await ann.send_photo()
        assert "Photo added" in ann.last_text
    await ann.press("Send request")
    assert "is sent to the seller" in ann.last_text and "48 hours" in ann.last_text


async def test_a_buyer_returns_a_shirt_and_is_refunded_when_the_seller_receives_it(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await add_linen_shirt(seller)
        ann = fake.user(SHOPPER, "Ann")
        await buy(ann, "M / White")
        await deliver(fake, seller, SHOPPER)
        assert await stock(runner, "M / White") == 2

        # Next with nothing chosen says what to do; then one unit, a reason, words and a photo.
        await ann.send("/orders")
        await ann.press("#")
        await ann.press("↩️ Return")
        assert "1/1 · Linen Summer Shirt" in " ".join(ann.buttons())  # the only unit is chosen already
        await ann.press("Linen Summer Shirt")
        assert "0/1 · Linen Summer Shirt" in " ".join(ann.buttons())
        await ann.press("Continue ›")
        assert "Tap an item" in ann.last_answer["text"]
        await ann.press("Cancel")
        assert "Return not sent" in ann.last_text
        await ask_return(ann, 0, "Doesn't fit", note="Runs small, like an S", photo=True)

        # The seller hears of it with the buyer's words and photo, and its buttons.
        notice = await fake.wait_for("sendMessage", sent_to(SELLER, "Return #", "Doesn't fit", "Runs small"),
                                     timeout=10)
        assert "Refund: $45.00" in notice.result["text"] and "within 48 hours" in notice.result["text"]
        await fake.wait_for("sendPhoto", lambda call: str(call.params.get("chat_id")) == str(SELLER), timeout=10)
        # Approving the first time asks where goods come back to; the address approves it.
        await seller.press("Approve", message=notice.result["message_id"])
        assert "Where and how should buyers send goods back?" in seller.last_text
        await seller.send(ADDRESS)
        assert "Return instructions saved" in seller.texts[-2]
        assert "approved, goods to come back" in seller.last_text
        told = await fake.wait_for("sendMessage", sent_to(SHOPPER, "is approved", "5 Dock Road"), timeout=10)
        assert "You get $45.00 back once the seller receives it" in told.result["text"]
        assert await stock(runner, "M / White") == 2  # nothing is back before it arrives

        # The shirt arrives: stock is back and Ann is told how the money comes back (she paid cash).
        await seller.press("Received: refund")
        assert "closed with a refund" in seller.last_text and "Received" not in " ".join(seller.buttons())
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "is refunded", "$45.00", "paid in cash"), timeout=10)
        assert await stock(runner, "M / White") == 3
        # A second press of the old button changes nothing.
        await seller.press("Approve", message=notice.result["message_id"])
        assert "can't be done any more" in seller.last_answer["text"]
        assert await stock(runner, "M / White") == 3

        # The order shows the return; everything came back, so there is nothing left to return.
        await ann.send("/orders")
        await ann.press("#")
        assert "Return #" in ann.last_text and "closed with a refund" in ann.last_text
        assert "↩️ Return" not in ann.buttons()


async def returning(fake, runner: BotRunner, option: str, reason: str):  # type: ignore[no-untyped-def]
    """Sam's shop sells Ann a shirt in ``option``, delivers it, and she asks to return it for ``reason``;
    returns (seller, Ann, the seller's notice of the request)."""
    seller, _operator = await open_shop(fake, runner)
    await add_linen_shirt(seller)
    ann = fake.user(SHOPPER, "Ann")
    await buy(ann, option)
    await deliver(fake, seller, SHOPPER)
    await ask_return(ann, 0, reason)
    notice = await fake.wait_for("sendMessage", sent_to(SELLER, "Return #", reason.split()[0]), timeout=10)
    return seller, ann, notice


async def test_an_unanswered_request_is_approved_by_the_shop_and_strangers_cannot_decide(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _ann, notice = await returning(fake, runner, "L / White", "Damaged or faulty")

        # Bob, a stranger, forges the seller's Approve: refused, nothing changes.
        bob = fake.user(BOB, "Bob")
        await bob.send("/start")
        approve = next(b["callback_data"] for row in notice.result["reply_markup"]["inline_keyboard"]
                       for b in row if "Approve" in b["text"])
        await bob.press_data(approve)
        assert "Only this order's seller can do that" in bob.last_answer["text"]

        # Nobody answers: 47 hours on nothing happens, 49 hours on the shop approves it.
        context = SimpleNamespace(shop=runner.application.shop)
        clock.advance(hours=47)
        await approve_returns(context)
        clock.advance(hours=2)
        await approve_returns(context)
        await fake.wait_for("sendMessage", sent_to(SELLER, "Approved automatically", "no answer came within 48 "
                                                   "hours"), timeout=10)
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "is approved", "The seller will tell you where"),
                            timeout=10)
        async with runner.db.read() as session:
            ret = await session.scalar(select(Return))
            last = await session.scalar(select(ReturnEvent).order_by(ReturnEvent.id.desc()).limit(1))
        assert (ret.status, last.actor_kind) == ("approved", "system")

        # The seller's /returns lists it and says there are no instructions yet; Refund without the goods.
        await seller.send("/returns")
        assert "Returns to act on" in seller.last_text and "none yet" in seller.last_text
        await seller.press(f"#{ret.id}")
        await seller.press("Refund, no return")
        assert "closed with a refund" in seller.last_text
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "is refunded", "$45.00"), timeout=10)
        assert await stock(runner, "L / White") == 1  # kept by the buyer: not back in stock


async def test_a_seller_who_moved_on_does_not_reject_with_the_next_words_and_late_instructions_reach_the_buyer(
        fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _ann, notice = await returning(fake, runner, "M / White", "Wrong item sent")

        # Sam taps Reject, then goes on with other things: a command ends the question, and his next words
        # are a search, not the reason Ann would read.
        await seller.press("Reject", message=notice.result["message_id"])
        assert "why is it rejected?" in seller.last_text
        await seller.send("/seller_orders")
        await seller.send("linen shirt")
        assert "Linen Summer Shirt" in seller.last_text
        async with runner.db.read() as session:
            assert (await session.scalar(select(Return))).status == "requested"

        # He taps Approve and is asked for his instructions, but the shop's clock approves it first.
        await seller.press("Approve", message=notice.result["message_id"])
        assert "Where and how should buyers send goods back?" in seller.last_text
        clock.advance(hours=49)
        await approve_returns(SimpleNamespace(shop=runner.application.shop))
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "is approved", "The seller will tell you where"),
                            timeout=10)
        # His instructions still reach Ann, and he sees the return as it is now.
        await seller.send(ADDRESS)
        assert "Return instructions saved" in seller.texts[-2] and "approved, goods to come back" in seller.last_text
        await fake.wait_for("sendMessage", sent_to(SHOPPER, "is approved", "5 Dock Road"), timeout=10)
        # An approved return can no longer be rejected (an old button), and nothing changes.
        await seller.press("Reject", message=notice.result["message_id"])
        assert "can't be done any more" in seller.last_answer["text"]
