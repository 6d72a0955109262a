"""How updates travel through the running bot: in order per person, side by side across people,
payments answered ahead of any queue, and a refused answer to a button never stopping its work."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.dispatcher import Dispatcher
from bot.sandbox.emulator import QUERY_INVALID
from store.models import InboxUpdate, Order, User
from store.states import InboxState as State

from .conftest import BotRunner
from .journeys import add_to_cart, go_to_confirm_step


def sends_to(fake, chat_id: int) -> list:  # type: ignore[no-untyped-def]
    """The messages the bot sent to a chat, as calls (with when they started and were answered)."""
    return [call for call in fake.find_calls("sendMessage", chat_id=chat_id) if call.ok]


async def test_one_persons_updates_are_handled_in_order_and_peoples_side_by_side(fake, bot):
    ann, bob = fake.user(5001, "Ann"), fake.user(5002, "Bob")
    # Telegram takes half a second to accept the bot's answer to Ann's first message.
    fake.slow_next("sendMessage", 0.5, match={"chat_id": 5001})
    # Ann types two searches in a row; Bob opens the bot right after.
    await ann.send("hoodie", wait=False)
    await ann.send("mug", wait=False)
    await bob.send("/start")
    await ann.send("/cart")  # (waits until the bot is done with everything before)

    first, second, cart = sends_to(fake, 5001)
    assert "hoodie" in first.params["text"] and "mug" in second.params["text"]
    assert "cart is empty" in cart.params["text"].lower()
    # Ann's second search was handled only once the first was answered: in order, never at once.
    assert second.time >= first.answered_at
    # Bob did not wait for Ann: he was answered while her first answer was still on its way.
    (welcome,) = sends_to(fake, 5002)
    assert "Welcome to chatshop, Bob" in welcome.params["text"] and welcome.answered_at < first.answered_at
    # Every update is recorded as done, without its content.
    async with bot.db.read() as session:
        rows = (await session.execute(select(InboxUpdate.state, InboxUpdate.payload))).all()
    assert len(rows) == 4 and all(state == State.DONE and payload is None for state, payload in rows)


async def test_a_pre_checkout_query_is_answered_ahead_of_thousands_waiting(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, payment_provider_token="284685063:TEST:provider",
                         concurrent_updates=8) as runner:
        dan = fake.user(5101, "Dan")
        await add_to_cart(dan, "wireless earbuds", "Wireless Earbuds")
        await go_to_confirm_step(dan, "3 Mill Lane, Leeds LS1 4AB", payment="Card")
        await dan.press("Place order")
        assert fake.find_calls("sendInvoice", chat_id=5101)

        # Telegram is 50 ms away, and a crowd of 2,000 people write at once.
        fake.latency = 0.05
        crowd = [fake.user(600_000 + i, f"Guest {i}") for i in range(2000)]
        for guest in crowd:
            await guest.send("/start", wait=False)

        # Dan pays meanwhile. Telegram cancels a payment whose pre-checkout query is not answered
        # within 10 seconds (the fake's time limit here): it is answered, and ahead of the crowd.
        answer = await dan.pre_checkout(timeout=10, settle=False)
        assert answer["ok"] is True
        answered_guests = sum(1 for call in fake.calls if call.method == "sendMessage"
                              and call.ok and int(call.params["chat_id"]) >= 600_000)
        assert answered_guests < 1000, f"{answered_guests} of the crowd were answered before Dan's payment"
        async with runner.db.read() as session:
            waiting = await session.scalar(select(func.count()).where(InboxUpdate.state.in_(
                (State.PENDING, State.CLAIMED))))
        assert waiting > 1000
        fake.latency = 0.0  # (the crowd is left in the inbox when the bot stops)


async def test_a_refused_answer_to_a_button_does_not_stop_its_work(fake, bot):
    eve = fake.user(5201, "Eve")
    await add_to_cart(eve, "wireless earbuds", "Wireless Earbuds")

    # Telegram refuses the bot's answer to Eve's "Cart" press (as it does for a press handled again
    # after a restart): the cart is shown all the same.
    fake.fail_next("answerCallbackQuery", 400, QUERY_INVALID)
    await eve.press("🛒 Cart")
    assert "Wireless Earbuds" in eve.last_text and "✅ Checkout" in eve.buttons()

    # The same at "Place order": the order is placed once and the message says so.
    await go_to_confirm_step(eve, "9 Quay Street, Galway H91 X2YZ")
    fake.fail_next("answerCallbackQuery", 400, QUERY_INVALID)
    await eve.press("Place order")
    assert "is placed" in eve.last_text
    async with bot.db.read() as session:
        assert await session.scalar(select(func.count(Order.id)).where(Order.buyer_id == 5201)) == 1
        assert (await session.scalars(select(InboxUpdate.state))).all().count(State.FAILED) == 0


class RecordingApplication:
    """Stands in for the bot's Application: records the updates it is asked to apply."""

    def __init__(self) -> None:
        self.bot = None
        self.applied: list[int] = []
        self.duplicates = 0
        self.languages: dict[int, str | None] = {}
        self.languages_seen: list[str | None] = []  # the person's chosen language each update was applied with

    async def apply(self, update, owner: str, *, waited: float = 0.0, may_retry: bool = False) -> str:  # type: ignore[no-untyped-def]
        self.applied.append(update.update_id)
        self.languages_seen.append(self.languages.get(update.effective_user.id, "not read"))
        return "ok"

    def count_duplicate(self, update) -> None:  # type: ignore[no-untyped-def]
        self.duplicates += 1


def text_update(update_id: int, user_id: int):  # type: ignore[no-untyped-def]
    from telegram import Update

    data = {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1, "text": "hi", "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ann"}}}
    return Update.de_json(data, None), json.dumps(data)


async def test_a_receiver_that_gives_up_while_its_batch_is_stored_loses_nothing(db):
    """The poller is stopped (cancelled) while its batch is being committed: the batch is stored all
    the same, and handled; the inbox goes on taking updates."""
    application = RecordingApplication()
    dispatcher = Dispatcher(db, application)  # type: ignore[arg-type]
    await dispatcher.start()
    try:
        receiving = asyncio.create_task(dispatcher.receive([text_update(1, 7), text_update(2, 8)]))
        await asyncio.sleep(0)  # the batch is handed to the inbox's writer
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        await dispatcher.receive([text_update(3, 7)])
        for _ in range(200):
            if sorted(application.applied) == [1, 2, 3] and not dispatcher.busy():
                break
            await asyncio.sleep(0.01)
        assert sorted(application.applied) == [1, 2, 3]
    finally:
        await dispatcher.stop()
    async with db.read() as session:
        states = (await session.scalars(select(InboxUpdate.state).order_by(InboxUpdate.update_id))).all()
    assert states == [State.DONE] * 3


async def test_the_persons_chosen_language_comes_with_the_claim_and_goes_with_the_lane(db):
    """The inbox reads each person's /language choice when it claims their lane, and forgets it once the
    lane is handed back (another process may hold it next and change it)."""
    async with db.transaction() as session:
        session.add_all([User(id=7, first_name="Ann", language="ru"), User(id=8, first_name="Bob")])
    application = RecordingApplication()
    dispatcher = Dispatcher(db, application)  # type: ignore[arg-type]
    await dispatcher.start()
    try:
        await dispatcher.receive([text_update(1, 7), text_update(2, 8), text_update(3, 9)])
        for _ in range(200):
            if len(application.applied) == 3 and not dispatcher.busy():
                break
            await asyncio.sleep(0.01)
        seen = dict(zip(application.applied, application.languages_seen))
        assert seen == {1: "ru", 2: None, 3: None}  # chosen; not chosen; not known yet
        assert application.languages == {}  # every lane was handed back
    finally:
        await dispatcher.stop()
