"""The inbox in the store: every update kept once, each person's updates taken by one process at a time,
a dead process's updates taken over, and an update's effect applied once."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from store.db import Database, RuleBroken
from store.migrate import upgrade
from store.models import InboxUpdate, utcnow
from store.services import inbox
from store.services.inbox import AlreadyApplied, Held, Incoming
from store.services.users import get_step, set_step
from store.states import InboxState

from .factories import make_user

LEASE = timedelta(seconds=10)
P, Q = "process-p", "process-q"


def update(update_id: int, lane: int | None, kind: str = "message", priority: int = 0) -> Incoming:
    """A received update of person ``lane``."""
    return Incoming(update_id, lane, kind, f'{{"update_id": {update_id}}}', priority)


async def receive(db: Database, owner: str, *updates: Incoming) -> tuple[set[int], list[int]]:
    async with db.transaction() as session:
        new, claimed = await inbox.receive(session, list(updates), owner, utcnow(), LEASE)
    return new, [taken.update_id for taken in claimed]


async def states(db: Database) -> dict[int, tuple[str, str | None]]:
    async with db.read() as session:
        rows = (await session.execute(select(InboxUpdate.update_id, InboxUpdate.state, InboxUpdate.owner))).all()
    return {update_id: (state, owner) for update_id, state, owner in rows}


async def test_an_update_is_stored_once_and_claimed_by_the_process_that_received_it(db):
    # Process P receives Ann's update and Bob's: both are new and both are P's to handle.
    assert await receive(db, P, update(1, 101), update(2, 102)) == ({1, 2}, [1, 2])
    # Telegram delivers update 1 again, to Q: it is recognised and nobody handles it a second time.
    assert await receive(db, Q, update(1, 101)) == (set(), [])
    assert await states(db) == {1: ("claimed", P), 2: ("claimed", P)}


async def test_a_persons_updates_go_to_one_process_at_a_time_and_in_order(db):
    # P is handling Ann's first update when her second reaches Q: Q leaves it waiting.
    await receive(db, P, update(1, 101))
    assert await receive(db, Q, update(2, 101)) == ({2}, [])
    # Her third reaches P: it waits too, behind the second (which came first).
    assert await receive(db, P, update(3, 101)) == ({3}, [])
    # A pre-checkout query belongs to no lane: taken at once by whoever received it.
    assert await receive(db, Q, update(4, None, "pre_checkout_query", priority=1)) == ({4}, [4])
    # P finishes the first and hands Ann's lane over to itself: the second and third, in order.
    async with db.transaction() as session:
        await inbox.finish(session, P, utcnow(), done=[1])
        taken = await inbox.hand_over(session, [101], P, utcnow(), LEASE)
    assert [t.update_id for t in taken] == [2, 3] and taken[0].payload == '{"update_id": 2}'
    assert await states(db) == {1: ("done", None), 2: ("claimed", P), 3: ("claimed", P), 4: ("claimed", Q)}


async def test_a_lane_that_waits_for_nobody_is_taken_by_the_next_sweep(db):
    # Q received Ann's update while P held her lane; P then gave its rows back on shutdown.
    await receive(db, P, update(1, 101), update(2, 101))
    await receive(db, Q, update(3, 101))
    async with db.transaction() as session:
        await inbox.finish(session, P, utcnow(), done=[1])
        assert await inbox.release(session, P, [Held(2, 101)]) == 1
    # Q's next sweep takes the lane: both waiting updates, oldest first.
    async with db.transaction() as session:
        taken = await inbox.take_over(session, Q, utcnow(), LEASE)
    assert [t.update_id for t in taken] == [2, 3]
    assert [t.state for t in taken] == [InboxState.CLAIMED, InboxState.CLAIMED]


async def test_a_dead_processs_lanes_are_taken_over_once_its_lease_runs_out(db):
    await receive(db, P, update(1, 101), update(2, 101), update(3, 102))
    async with db.transaction() as session:
        await inbox.mark_applied(session, 1, P)  # P committed update 1's effect, then died before replying
    # While P's lease runs, nobody else takes its lanes.
    async with db.transaction() as session:
        assert await inbox.take_over(session, Q, utcnow(), LEASE) == []
    # Once it has run out (P stopped renewing), Q takes all of them: update 1 only to finish it. The
    # update next in line in each lane counts an attempt (if it killed P, it might kill Q: after a few
    # such deaths it is given up); update 2 waited behind it and counts none.
    async with db.transaction() as session:
        taken = await inbox.take_over(session, Q, utcnow() + LEASE * 2, LEASE)
    assert [(t.update_id, t.state, t.attempts) for t in taken] == [
        (1, InboxState.APPLIED, 1), (2, InboxState.CLAIMED, 0), (3, InboxState.CLAIMED, 1)]
    # P, back from a stall, can no longer apply what Q took over.
    with pytest.raises(AlreadyApplied):
        async with db.transaction() as session:
            await inbox.mark_applied(session, 2, P)
    # A process that renews its lease keeps its lanes, and learns which rows it no longer holds.
    await receive(db, P, update(4, 103))
    async with db.transaction() as session:
        assert await inbox.renew(session, P, utcnow() + LEASE, LEASE, [Held(4, 103), Held(2, 101)]) == {4}
    async with db.transaction() as session:
        assert await inbox.take_over(session, Q, utcnow() + LEASE * 1.5, LEASE) == []


async def test_an_update_is_applied_once_even_when_two_try_at_the_same_moment(db):
    async with db.transaction() as session:
        await make_user(session, 101)
    await receive(db, P, update(1, 101))
    other = Database(db.url)
    try:
        async def apply(database: Database, page: int) -> str:
            # What a handler does: its writing transaction marks the update applied with its effect.
            try:
                with database.applying(1, P):
                    async with database.transaction() as session:
                        await set_step(session, 101, "tour", {"page": page})
                        await asyncio.sleep(0.05)  # both are inside at once
                return "applied"
            except AlreadyApplied:
                return "already applied"

        outcomes = await asyncio.gather(apply(db, 1), apply(other, 2))
    finally:
        await other.dispose()
    assert sorted(outcomes) == ["already applied", "applied"]
    async with db.read() as session:
        step = await get_step(session, 101)
    assert step.data == {"page": 1 if outcomes[0] == "applied" else 2}
    assert (await states(db))[1][0] == "applied"


async def test_an_update_gets_one_writing_transaction_and_no_network_inside_one(db, store_rules_enforced):
    async with db.transaction() as session:
        await make_user(session, 101)
    await receive(db, P, update(1, 101))
    with db.applying(1, P) as work:
        async with db.transaction() as session:
            await set_step(session, 101, "tour", {"page": 1})
        assert work.applied
        # A second writing transaction would not be covered by the update's exactly-once mark.
        with pytest.raises(RuleBroken):
            async with db.transaction():
                pass
    # Nor may anything talk to the network with a transaction open.
    from bot.request import AiohttpRequest

    request = AiohttpRequest()
    await request.initialize()
    try:
        async with db.read():
            with pytest.raises(RuleBroken):
                await request.do_request("http://127.0.0.1:9/bot123:abc/getMe", "POST")
    finally:
        await request.shutdown()
    assert store_rules_enforced == ["update 1 opened a second writing transaction",
                                    "HTTP POST to 127.0.0.1 while a store transaction is open"]
    store_rules_enforced.clear()  # both were broken on purpose


async def test_finished_updates_lose_their_content_and_are_forgotten_after_a_week(db):
    await receive(db, P, update(1, 101), update(2, 102))
    now = utcnow()
    async with db.transaction() as session:
        await inbox.finish(session, P, now - inbox.KEEP_FOR - timedelta(hours=1), done=[1])
        await inbox.finish(session, P, now, failed=[2])
    async with db.read() as session:
        assert await session.scalar(select(func.count()).where(InboxUpdate.payload.is_not(None))) == 0
        backlog = await inbox.backlog(session)
    assert backlog.rows == {} and backlog.oldest_pending is None
    async with db.transaction() as session:
        assert await inbox.forget_finished(session, now) == 1
    assert await states(db) == {2: ("failed", None)}


async def test_two_processes_doing_their_bookkeeping_at_once_never_wait_for_each_other(db):
    """P finishes with Ann's lane as it receives Bob's update while Q does the opposite, over and over:
    each takes all its lane locks at once, in one order, so neither ever waits for the other in a circle."""
    other = Database(db.url)
    ids = iter(range(1000, 2000))

    async def churn(database: Database, owner: str, done_with: int, received_for: int) -> None:
        for _ in range(40):
            async with database.transaction() as session:
                await inbox.exchange(session, owner, utcnow(), LEASE, emptied=[done_with],
                                     incoming=[update(next(ids), received_for)])
                await asyncio.sleep(0)  # let the other process in while this one holds its locks

    try:
        await asyncio.gather(churn(db, P, 101, 102), churn(other, Q, 102, 101))
    finally:
        await other.dispose()
    assert len(await states(db)) == 80


@pytest.fixture
async def locked_by_another_process(tmp_path):
    """A SQLite store with Ann in it, whose write lock another process (a catalog import, a separate
    outbox worker) has just taken; yields the store and that process's connection."""
    path = tmp_path / "shop.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    async with db.transaction() as session:
        await make_user(session, 101)
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    yield db, other_process
    other_process.close()
    await db.dispose()


async def write_page(db: Database, page: int) -> None:
    async with db.transaction() as session:
        await set_step(session, 101, "tour", {"page": page})


async def test_a_writer_waits_for_another_process_without_holding_up_the_event_loop(locked_by_another_process):
    """A write waits for the other process's lock, while the bot's other work goes on."""
    db, other_process = locked_by_another_process
    writing = asyncio.create_task(write_page(db, 1))
    ticks = 0
    for _ in range(20):  # the event loop keeps turning while the write waits
        await asyncio.sleep(0.01)
        ticks += 1
    assert not writing.done() and ticks == 20
    async with db.read() as session:  # and reads are answered meanwhile
        assert await get_step(session, 101) is None
    other_process.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    async with db.read() as session:
        assert (await get_step(session, 101)).data == {"page": 1}


async def test_a_write_given_up_while_another_process_holds_the_lock_leaves_the_store_usable(
        locked_by_another_process):
    """A write waiting for the other process's lock is cancelled (a shutdown, a timeout): its connection is
    closed only once the wait is over, nothing of it is written, and the next write goes through."""
    db, other_process = locked_by_another_process
    given_up = asyncio.create_task(write_page(db, 1))
    await asyncio.sleep(0.2)
    given_up.cancel()
    await asyncio.sleep(0.2)
    other_process.execute("COMMIT")
    with pytest.raises(asyncio.CancelledError):
        await given_up
    await write_page(db, 2)
    async with db.read() as session:
        assert (await get_step(session, 101)).data == {"page": 2}
