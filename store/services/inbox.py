"""The inbox: every Telegram update is a row before Telegram is told it arrived.

A bot process stores each batch of updates it receives and, in the same
transaction, claims the ones whose *lane* (the person, or the chat) no other
process holds. It handles a lane's updates one at a time, oldest first, and
records each as finished. A process holds its rows under a lease it renews; a
process that dies stops renewing, and once the lease has run out any process
takes the lane over (:func:`take_over`): updates not yet applied are handled
again, and an update already applied (its effect committed, its reply perhaps
not sent) is only marked done.

An update's effect and the mark that it is applied commit together: the first
write transaction of the update runs :func:`mark_applied`, which refuses an
update that another process has applied meanwhile, so the effect happens once.

On PostgreSQL, decisions about a lane (claim, finish, hand over, take over)
are serialised by a transaction-level advisory lock per lane. A transaction
takes all the lane locks it needs in one statement, in ascending order, so
two processes never wait for each other in a circle: that is why a process's
bookkeeping is one call (:func:`exchange`). On SQLite every writing
transaction holds the database's single write lock anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InboxUpdate, User
from store.sqlite import IDS_PER_STATEMENT
from store.states import UNFINISHED, InboxState

# Telegram keeps an undelivered update for at most 24 hours; a week of ids is plenty.
KEEP_FOR = timedelta(days=7)
# An update that was next in line in its lane each time this many processes died will kill the next one
# too (a poison update): give up on it. Updates queued behind it are not counted.
MAX_ATTEMPTS = 5
# Lanes one sweep takes over at most (each an advisory lock on PostgreSQL, whose lock table is shared).
TAKE_OVER_LANES = 200
# Namespace of the advisory locks taken per lane on PostgreSQL ("inbx").
LANE_LOCKS = 0x696E6278

LOCK_LANES = text("SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS int[])) AS key")

INBOX = InboxUpdate.__table__
_OTHER = INBOX.alias("other")
_HELD = (InboxState.CLAIMED, InboxState.APPLIED)
# The language the lane's person chose (/language), read with the claim so handling it needs no query.
_CHOSEN_LANGUAGE = select(User.language).where(User.id == INBOX.c.lane).scalar_subquery().label("language")
_TAKEN_COLUMNS = (INBOX.c.update_id, INBOX.c.lane, INBOX.c.priority, INBOX.c.kind, INBOX.c.state,
                  INBOX.c.attempts, INBOX.c.received_at, _CHOSEN_LANGUAGE)


class AlreadyApplied(Exception):
    """The update was applied already (by another process, or before a restart): nothing more to do."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was applied already")
        self.update_id = update_id


@dataclass(frozen=True, slots=True)
class Incoming:
    """An update as received: its id, whose lane it is in, and the raw JSON."""

    update_id: int
    lane: int | None
    kind: str
    payload: str
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Held:
    """An update a process holds, in its lane."""

    update_id: int
    lane: int | None


@dataclass(frozen=True, slots=True)
class Finished:
    """An update a process is done with, in its lane; ``failed`` when a handler failed on it."""

    update_id: int
    lane: int | None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Taken:
    """An update this process now holds: to handle (claimed), or only to finish (applied)."""

    update_id: int
    lane: int | None
    priority: int
    kind: str
    state: InboxState
    attempts: int
    received_at: datetime
    payload: str | None = None
    language: str | None = None  # the language the lane's person chose, if any


def _taken(rows: Iterable, with_payload: bool = False) -> list[Taken]:
    return [Taken(row.update_id, row.lane, row.priority, row.kind, InboxState(row.state), row.attempts,
                  row.received_at, row.payload if with_payload else None, row.language) for row in rows]


async def _lock_lanes(session: AsyncSession, lanes: Iterable[int | None]) -> None:
    """On PostgreSQL, hold each lane's advisory lock until the transaction ends (in one order: no deadlock)."""
    if session.bind.dialect.name != "postgresql":
        return
    keys = sorted({lane % 2**31 for lane in lanes if lane is not None})
    if keys:
        # unnest yields the sorted keys in order, so every transaction takes them in the same order.
        await session.execute(LOCK_LANES, {"space": LANE_LOCKS, "keys": keys})


def _claim(owner: str, lease_until: datetime) -> dict:
    return {"state": InboxState.CLAIMED, "owner": owner, "lease_until": lease_until}


def _held_by_another(owner: str, *, live_at: datetime | None = None):  # type: ignore[no-untyped-def]
    """Some other process holds the row's lane (claimed or applied rows), with a live lease if ``live_at``."""
    conditions = [_OTHER.c.lane == INBOX.c.lane, _OTHER.c.state.in_(_HELD), _OTHER.c.owner != owner]
    if live_at is not None:
        conditions.append(_OTHER.c.lease_until >= live_at)
    return exists().where(*conditions)


async def exchange(session: AsyncSession, owner: str, now: datetime, lease: timedelta, *,
                   finished: Sequence[Finished] = (), emptied: Iterable[int] = (),
                   incoming: Sequence[Incoming] = (), released: Sequence[Held] = ()) -> tuple[set[int], list[Taken]]:
    """A process's bookkeeping in one transaction: record what it finished, give back what it will not
    start (on shutdown), take over what waits in the lanes it has just finished with (updates other
    processes received), store what it received and claim what it may handle.

    Returns the ids received that were new (an update id seen before is ignored) and every row now
    claimed by ``owner``. A received row stays pending while another process holds its lane, or an
    older update of the lane waits: that process hands the lane over when done, or a sweep takes it
    (:func:`take_over`).
    """
    emptied = sorted(set(emptied))
    await _lock_lanes(session, [*(item.lane for item in finished), *(item.lane for item in released), *emptied,
                                *(item.lane for item in incoming)])
    await _finish(session, owner, now, finished)
    await _release(session, owner, [item.update_id for item in released])
    claimed = await _hand_over(session, emptied, owner, now, lease)
    new, mine = await _receive(session, incoming, owner, now, lease)
    return new, claimed + mine


async def receive(session: AsyncSession, incoming: Sequence[Incoming], owner: str, now: datetime,
                  lease: timedelta) -> tuple[set[int], list[Taken]]:
    """Store and claim received updates (:func:`exchange` with nothing else to record)."""
    return await exchange(session, owner, now, lease, incoming=incoming)


async def _receive(session: AsyncSession, incoming: Sequence[Incoming], owner: str, now: datetime,
                   lease: timedelta) -> tuple[set[int], list[Taken]]:
    """Store new updates (an update id seen before is ignored) and claim those whose lane is free."""
    if not incoming:
        return set(), []
    insert_ = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values = [{"update_id": item.update_id, "lane": item.lane, "priority": item.priority, "kind": item.kind,
               "payload": item.payload, "state": InboxState.PENDING, "attempts": 0, "received_at": now}
              for item in incoming]
    stored = await session.execute(insert_(INBOX).values(values).on_conflict_do_nothing(index_elements=["update_id"])
                                   .returning(INBOX.c.update_id))
    new = set(stored.scalars())
    if not new:
        return new, []
    ids = sorted(new)
    older_waiting = exists().where(_OTHER.c.lane == INBOX.c.lane, _OTHER.c.state == InboxState.PENDING,
                                   _OTHER.c.update_id < INBOX.c.update_id, _OTHER.c.update_id.not_in(ids))
    claimed = await session.execute(
        update(INBOX)
        .where(INBOX.c.update_id.in_(ids), INBOX.c.state == InboxState.PENDING,
               or_(INBOX.c.lane.is_(None), and_(~_held_by_another(owner), ~older_waiting)))
        .values(**_claim(owner, now + lease))
        .returning(*_TAKEN_COLUMNS))
    return new, _taken(claimed)


async def mark_applied(session: AsyncSession, update_id: int, owner: str) -> None:
    """Record, in the transaction that applies the update's effect, that ``owner`` applied it.

    Raises :class:`AlreadyApplied` when it was applied already, or another process has taken it over
    (this one's lease ran out): the caller rolls back, and the update's holder applies it.
    """
    result = await session.execute(update(INBOX).where(INBOX.c.update_id == update_id, INBOX.c.owner == owner,
                                                       INBOX.c.state == InboxState.CLAIMED)
                                   .values(state=InboxState.APPLIED))
    if result.rowcount != 1:
        raise AlreadyApplied(update_id)


async def finish(session: AsyncSession, owner: str, now: datetime, done: Sequence[int] = (),
                 failed: Sequence[int] = ()) -> None:
    """Record updates of ``owner`` as finished (done, or failed); their raw content is erased."""
    await _finish(session, owner, now, [*(Finished(i, None) for i in done), *(Finished(i, None, True) for i in failed)])


async def _finish(session: AsyncSession, owner: str, now: datetime, finished: Sequence[Finished]) -> None:
    for failed, state in ((False, InboxState.DONE), (True, InboxState.FAILED)):
        ids = sorted(item.update_id for item in finished if item.failed == failed)
        if ids:
            await session.execute(update(INBOX).where(INBOX.c.update_id.in_(ids), INBOX.c.owner == owner)
                                  .values(state=state, payload=None, owner=None, lease_until=None, finished_at=now))


async def hand_over(session: AsyncSession, lanes: Iterable[int], owner: str, now: datetime,
                    lease: timedelta) -> list[Taken]:
    """Claim what waits in lanes this process has just finished with (:func:`exchange` with only that)."""
    return (await exchange(session, owner, now, lease, emptied=lanes))[1]


async def _hand_over(session: AsyncSession, lanes: Sequence[int], owner: str, now: datetime,
                     lease: timedelta) -> list[Taken]:
    if not lanes:
        return []
    claimed = await session.execute(
        update(INBOX)
        .where(INBOX.c.lane.in_(lanes), INBOX.c.state == InboxState.PENDING, ~_held_by_another(owner))
        .values(**_claim(owner, now + lease))
        .returning(*_TAKEN_COLUMNS, INBOX.c.payload))
    return _taken(claimed, with_payload=True)


async def take_over(session: AsyncSession, owner: str, now: datetime, lease: timedelta,
                    limit: int = TAKE_OVER_LANES) -> list[Taken]:
    """Claim the lanes no live process holds: pending updates nobody claimed, and the rows of a
    process whose lease ran out (it died). Rows already applied come back as such, to be finished only.
    The oldest unfinished update of each lane taken from a dead process counts one more attempt.

    Run it in a transaction of its own: it takes lane locks (see :func:`exchange`)."""
    live = _held_by_another(owner, live_at=now)
    lanes = list((await session.execute(
        select(INBOX.c.lane).distinct()
        .where(INBOX.c.lane.is_not(None), INBOX.c.state.in_(UNFINISHED),
               or_(INBOX.c.state == InboxState.PENDING, INBOX.c.lease_until < now), ~live)
        .limit(limit))).scalars())
    # Rows this process holds under a live lease are in hand already.
    not_in_hand = or_(INBOX.c.owner.is_(None), INBOX.c.owner != owner, INBOX.c.lease_until < now)
    state = case((INBOX.c.state == InboxState.PENDING, InboxState.CLAIMED), else_=INBOX.c.state)
    died = and_(INBOX.c.state != InboxState.PENDING, INBOX.c.lease_until < now)
    taken = []
    if lanes:
        await _lock_lanes(session, lanes)
        older = exists().where(_OTHER.c.lane == INBOX.c.lane, _OTHER.c.state.in_(UNFINISHED),
                               _OTHER.c.update_id < INBOX.c.update_id)
        head = case((and_(died, ~older), 1), else_=0)
        result = await session.execute(
            update(INBOX).where(INBOX.c.lane.in_(lanes), INBOX.c.state.in_(UNFINISHED), not_in_hand, ~live)
            .values(state=state, owner=owner, lease_until=now + lease, attempts=INBOX.c.attempts + head)
            .returning(*_TAKEN_COLUMNS, INBOX.c.payload))
        taken += _taken(result, with_payload=True)
    # Updates outside any lane (pre-checkout queries): each on its own.
    result = await session.execute(
        update(INBOX).where(INBOX.c.lane.is_(None), INBOX.c.state.in_(UNFINISHED), not_in_hand,
                            or_(INBOX.c.state == InboxState.PENDING, INBOX.c.lease_until < now))
        .values(state=state, owner=owner, lease_until=now + lease,
                attempts=INBOX.c.attempts + case((died, 1), else_=0))
        .returning(*_TAKEN_COLUMNS, INBOX.c.payload))
    return taken + _taken(result, with_payload=True)


async def renew(session: AsyncSession, owner: str, now: datetime, lease: timedelta,
                held: Sequence[Held]) -> set[int]:
    """Extend the lease on these rows of ``owner`` (the ones it has in hand); returns the ids it still
    holds (a row missing was taken over by another process: this one's lease had run out).

    Run it in a transaction of its own: it takes lane locks (see :func:`exchange`)."""
    await _lock_lanes(session, [item.lane for item in held])
    ids = sorted(item.update_id for item in held)
    renewed: set[int] = set()
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        result = await session.execute(update(INBOX).where(INBOX.c.update_id.in_(ids[start:start + IDS_PER_STATEMENT]),
                                                           INBOX.c.owner == owner, INBOX.c.state.in_(_HELD))
                                       .values(lease_until=now + lease).returning(INBOX.c.update_id))
        renewed.update(result.scalars())
    return renewed


async def release(session: AsyncSession, owner: str, held: Sequence[Held]) -> int:
    """Give back claimed updates not yet started (on shutdown): pending again, for any process
    (:func:`exchange` with only that)."""
    await _lock_lanes(session, [item.lane for item in held])
    return await _release(session, owner, [item.update_id for item in held])


async def _release(session: AsyncSession, owner: str, ids: Sequence[int]) -> int:
    ids = sorted(ids)
    released = 0
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        result = await session.execute(
            update(INBOX).where(INBOX.c.update_id.in_(ids[start:start + IDS_PER_STATEMENT]), INBOX.c.owner == owner,
                                INBOX.c.state == InboxState.CLAIMED)
            .values(state=InboxState.PENDING, owner=None, lease_until=None))
        released += result.rowcount
    return released


@dataclass(frozen=True, slots=True)
class Backlog:
    """Unfinished updates by state, and when the oldest waiting one arrived."""

    rows: dict[str, int]
    oldest_pending: datetime | None


async def backlog(session: AsyncSession) -> Backlog:
    """How many updates wait or are in hand, for metrics."""
    result = await session.execute(select(INBOX.c.state, func.count(), func.min(INBOX.c.received_at))
                                   .where(INBOX.c.state.in_(UNFINISHED)).group_by(INBOX.c.state))
    rows, oldest = {}, None
    for state, count, first in result:
        rows[state] = count
        if state == InboxState.PENDING:
            oldest = first
    return Backlog(rows, oldest)


async def forget_finished(session: AsyncSession, now: datetime, limit: int = 5000) -> int:
    """Drop up to ``limit`` finished rows older than KEEP_FOR (call again while it returns ``limit``)."""
    old = (select(INBOX.c.update_id).where(INBOX.c.state.in_((InboxState.DONE, InboxState.FAILED)),
                                           INBOX.c.finished_at < now - KEEP_FOR).limit(limit))
    result = await session.execute(delete(INBOX).where(INBOX.c.update_id.in_(old)))
    return result.rowcount
