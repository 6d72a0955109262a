"""A bot process killed (kill -9) at any moment loses no update and applies each one once.

A real `python -m bot` process, by long polling and by webhook, on SQLite and PostgreSQL, against
the fake Bot API. When it is killed, four things are in flight:

- Dee's payment: recorded, but the "payment received" reply is stuck on its way to Telegram
  (after commit, before the reply);
- Dee's /orders: received and stored, waiting behind her payment (after receiving);
- Bob's tap on Cart: the bot is stuck answering the tap (mid-handler, nothing to commit);
- Cy's "Place order": the handler is waiting for the store (mid-handler, before its commit).

A new process on the same store finishes all of it: Dee's payment is there once and her orders say
paid, Bob sees his cart even though Telegram refuses the late answer to his tap, Cy's order is
placed once with one unit of stock taken.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.sandbox.emulator import QUERY_INVALID
from store.db import Database
from store.models import InboxUpdate, Order, Payment, UserStep
from store.states import InboxState as State

from .conftest import eventually
from .journeys import add_to_cart, go_to_confirm_step, pressed, product_stock
from .processes import BotProcess

SETTINGS = {"PAYMENT_PROVIDER_TOKEN": "284685063:TEST:provider", "INBOX_LEASE_SECONDS": "2"}
STUCK = 120  # seconds a call hangs: longer than the test


def waiting_call(fake, method: str, **params: object):  # type: ignore[no-untyped-def]
    """A check: the bot has made this call and the fake has not answered it yet."""
    async def check() -> bool:
        return any(call.method == method and call.response is None
                   and all(str(call.params.get(k)) == str(v) for k, v in params.items()) for call in fake.calls)
    return check


def sent_since(fake, since: int, method: str, chat_id: int, text: str):  # type: ignore[no-untyped-def]
    """A check: since call ``since``, the bot made this call to this chat with ``text`` in it."""
    async def check() -> bool:
        return any(call.method == method and call.ok and int(call.params.get("chat_id", 0)) == chat_id
                   and text in call.params.get("text", "") for call in fake.calls[since:])
    return check


def stored(db: Database, update: dict):  # type: ignore[no-untyped-def]
    """A check: the update is in the inbox."""
    async def check() -> bool:
        async with db.read() as session:
            return await session.get(InboxUpdate, update["update_id"]) is not None
    return check


async def start(process: BotProcess, fake) -> None:  # type: ignore[no-untyped-def]
    await process.start()
    await eventually(process.ready, timeout=40, interval=0.2)
    if "WEBHOOK_URL" in process.env:
        async def registered() -> bool:
            return fake.webhook_url == process.hook
        await eventually(registered, timeout=10)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_process_killed_at_any_moment_loses_nothing_and_applies_each_update_once(tmp_path, fake,
                                                                                        store_url, mode):
    first = BotProcess("first", tmp_path, fake, webhook=mode == "webhook", DATABASE_URL=store_url, **SETTINGS)
    second = BotProcess("second", tmp_path, fake, webhook=mode == "webhook", DATABASE_URL=store_url, **SETTINGS)
    db = Database(store_url)
    try:
        await start(first, fake)
        dee, bob, cy = fake.user(7001, "Dee"), fake.user(7002, "Bob"), fake.user(7003, "Cy")
        # Dee orders earbuds by card and starts paying; Cy gets to "Place order"; Bob fills a cart.
        await add_to_cart(dee, "wireless earbuds", "Wireless Earbuds")
        await go_to_confirm_step(dee, "3 Mill Lane, Leeds LS1 4AB", payment="Card")
        await dee.press("Place order")
        assert (await dee.pre_checkout())["ok"] is True
        await add_to_cart(cy, "smart watch", "Smart Watch S2")
        await go_to_confirm_step(cy, "5 Rue de Rivoli, 75001 Paris")
        await add_to_cart(bob, "wireless earbuds", "Wireless Earbuds")
        stock = await product_stock(db, "Smart Watch S2")

        # Dee pays: the payment is recorded, and the bot hangs sending "payment received".
        fake.slow_next("sendMessage", STUCK, match={"chat_id": 7001})
        await dee.pay(charge_id="tg-charge-crash", wait=False)
        await eventually(waiting_call(fake, "sendMessage", chat_id=7001))
        # Dee asks for her orders: stored, waiting behind her payment.
        orders = await dee.send("/orders", wait=False)
        await eventually(stored(db, orders))
        # Bob taps Cart: the bot hangs answering the tap.
        cart_tap = pressed(fake, bob, "🛒 Cart")
        bob_query = cart_tap["callback_query"]["id"]
        fake.slow_next("answerCallbackQuery", STUCK, match={"callback_query_id": bob_query})
        await fake.send_update(cart_tap, wait=False)
        await eventually(waiting_call(fake, "answerCallbackQuery", callback_query_id=bob_query))
        # Cy taps an older Cart button (answered slowly), then "Place order", which waits behind it.
        warm_up, place = pressed(fake, cy, "🛒 Cart"), pressed(fake, cy, "Place order")
        fake.slow_next("answerCallbackQuery", 1.5, match={"callback_query_id": warm_up["callback_query"]["id"]})
        await fake.send_update(warm_up, wait=False)
        await fake.send_update(place, wait=False)
        await eventually(stored(db, place))
        # Meanwhile the store is locked, so "Place order" is stuck before its commit when the process dies.
        warmed_up = sent_since(fake, fake.mark(), "sendMessage", 7003, "Your cart")
        async with db.transaction() as session:
            await session.execute(select(UserStep).where(UserStep.user_id == 7003).with_for_update())
            await eventually(warmed_up)  # then "Place order" starts, and waits for the store
            await asyncio.sleep(0.5)
            await first.kill()

        # Telegram refuses the late answer to Bob's tap, as it does after 15 seconds.
        fake.fail_next("answerCallbackQuery", 400, QUERY_INVALID, match={"callback_query_id": bob_query})
        since = fake.mark()
        await start(second, fake)

        # Dee's orders say paid; Bob sees his cart; Cy is told her order is placed.
        await eventually(sent_since(fake, since, "sendMessage", 7001, "paid"), timeout=20)
        await eventually(sent_since(fake, since, "sendMessage", 7002, "Wireless Earbuds"), timeout=20)
        await eventually(sent_since(fake, since, "editMessageText", 7003, "is placed"), timeout=20)

        async def all_finished() -> bool:
            async with db.read() as session:
                return not await session.scalar(select(func.count()).where(InboxUpdate.state.in_(
                    (State.PENDING, State.CLAIMED, State.APPLIED))))
        await eventually(all_finished, timeout=20)
        async with db.read() as session:
            # Dee's payment is there once and her order is paid (it did not expire for want of one).
            assert (await session.scalars(select(Payment.telegram_charge_id))).all() == ["tg-charge-crash"]
            assert (await session.scalars(select(Order.status).where(Order.buyer_id == 7001))).all() == ["paid"]
            # Cy's order is placed once, with one watch taken from stock.
            assert (await session.scalars(select(Order.status).where(Order.buyer_id == 7003))).all() == ["placed"]
        assert await product_stock(db, "Smart Watch S2") == stock - 1
        # Nothing was applied twice: the payment's update was only finished (its reply is what was lost).
        assert "was applied before its process stopped" in second.log
        assert await second.terminate() == 0
    finally:
        for process in (first, second):
            await process.kill()
        await db.dispose()
