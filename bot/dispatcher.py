"""Updates in: stored in the inbox first, then handled once each, in order per person.

    long polling / webhook --receive()--> inbox rows, committed before Telegram is told
        --> one lane per person: that person's updates one at a time, oldest first
        --> at most CONCURRENT_UPDATES lanes at once (pre-checkout queries go ahead of all)
        --> the handler (its store work commits with the update's "applied" mark)
        --> finished rows recorded; the lane's next update starts

One writer task does the inbox's bookkeeping in one short transaction at a
time: it stores what was received (group commit: every update that arrived
meanwhile goes in the same transaction), claims what this process may handle,
records what finished, hands over lanes it is done with, renews its lease and,
every few seconds, takes over lanes of processes that died
(:mod:`store.services.inbox`). No network call is made while it writes.

A handler's work never waits for that bookkeeping: a lane's next update starts
as soon as the previous one is done in this process.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Update

from bot.application import ShopApplication
from bot.observability import INBOX_IN_HAND, update_kind
from store.db import Database
from store.models import utcnow
from store.services import inbox
from store.services.inbox import Finished, Held, Incoming, Taken
from store.states import InboxState

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 2.0, 5.0)  # seconds before handling an update again after the store failed
WRITE_RETRY = 1.0  # seconds before the bookkeeping is tried again after the store failed
# The event loop's pace: a timer due every TICK seconds that fires more than BEHIND late means the
# process has more work than one core does in time. Then fewer updates start at once (the others wait
# in the inbox), so those in hand are not slowed down by all the rest.
TICK = 0.01
BEHIND = 0.005
FEWEST = 4  # updates in hand at once however busy the process is


class NotTakingUpdates(Exception):
    """The process is shutting down: updates are left to Telegram's next delivery or another process."""


def lane_of(update: Update) -> tuple[int | None, int]:
    """The lane an update is handled in (the person, else the chat), and its priority.

    A pre-checkout query has no lane and goes first: Telegram cancels the payment when it is not
    answered within 10 seconds, whatever else the person is doing.
    """
    if update.pre_checkout_query is not None:
        return None, 1
    if update.effective_user is not None:
        return update.effective_user.id, 0
    if update.effective_chat is not None:
        return update.effective_chat.id, 0
    return None, 0


def well_formed(update: Update) -> bool:
    """Whether an update has what Telegram always sends with its kind: a sender and a chat for a
    message, a sender for a button press or a query, text as text. Anything else is not from Telegram
    (or not for us) and is refused on receipt rather than failing in a handler."""
    message = update.message or update.edited_message
    if message is not None:
        return (message.from_user is not None and message.chat is not None and isinstance(message.chat.id, int)
                and isinstance(message.from_user.id, int) and isinstance(message.text, str | None))
    if update.callback_query is not None:
        query = update.callback_query
        return (query.from_user is not None and isinstance(query.from_user.id, int)
                and isinstance(query.data, str | None))
    for query in (update.inline_query, update.pre_checkout_query, update.shipping_query, update.chosen_inline_result):
        if query is not None:
            return query.from_user is not None and isinstance(query.from_user.id, int)
    return True


def incoming(update: Update, raw: str) -> Incoming:
    """The inbox row of an update received as ``raw`` JSON."""
    lane, priority = lane_of(update)
    return Incoming(update.update_id, lane, update_kind(update), raw, priority)


@dataclass(slots=True)
class _Job:
    """An update this process holds, with its parsed form when it was received here."""

    taken: Taken
    update: Update | None
    attempt: int = 0

    @property
    def update_id(self) -> int:
        return self.taken.update_id


@dataclass(slots=True)
class _Received:
    item: Incoming
    update: Update
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Dispatcher:
    """The inbox of one bot process: receives updates, and handles the ones it claims."""

    def __init__(self, db: Database, application: ShopApplication, *, concurrency: int = 64,
                 lease: float = 10.0, owner: str | None = None) -> None:
        self.db, self.application = db, application
        self.concurrency = concurrency
        self.limit = float(concurrency)  # updates in hand at once now: CONCURRENT_UPDATES, less when busy
        self.lease = timedelta(seconds=lease)
        self.sweep_interval = max(lease / 3, 0.2)
        self.owner = owner or uuid.uuid4().hex[:12]  # this process, in the inbox's claims
        self._received: list[_Received] = []
        self._finished: list[Finished] = []
        self._emptied: set[int] = set()
        self._lanes: dict[Hashable, deque[_Job]] = {}
        self._ready: deque[Hashable] = deque()
        self._running: dict[Hashable, asyncio.Task] = {}
        self._in_hand: set[int] = set()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None
        self._pacer: asyncio.Task | None = None
        self._taking = False
        self._closing = False
        self._next_sweep = 0.0

    # ---- receiving

    async def receive(self, updates: Sequence[tuple[Update, str]]) -> None:
        """Store updates in the inbox; returns once they are committed (then Telegram may be told).

        Raises :class:`NotTakingUpdates` while shutting down, or the store's error if it failed.
        """
        if not self._taking:
            raise NotTakingUpdates
        batch = [_Received(incoming(update, raw), update) for update, raw in updates]
        self._received.extend(batch)
        self._wake.set()
        await asyncio.gather(*(entry.done for entry in batch))

    def busy(self) -> bool:
        """Whether anything received is still being stored, handled or recorded."""
        return bool(self._in_hand or self._received or self._finished or self._emptied)

    # ---- lifecycle

    async def start(self) -> None:
        """Start taking updates (and take over what a dead process left, once its lease has run out)."""
        self._taking, self._closing = True, False
        self._next_sweep = 0.0
        self._writer = asyncio.create_task(self._write_loop(), name="inbox-writer")
        self._pacer = asyncio.create_task(self._pace(), name="inbox-pacer")
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking updates, finish those being handled, and leave the waiting ones in the inbox."""
        self._taking = False
        self._ready.clear()  # nothing new starts
        if self._pacer is not None:
            self._pacer.cancel()
            await asyncio.gather(self._pacer, return_exceptions=True)
            self._pacer = None
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
        writer, self._writer = self._writer, None
        if writer is not None:
            self._closing = True
            self._wake.set()
            await asyncio.gather(writer, return_exceptions=True)
        waiting = [Held(job.update_id, job.taken.lane) for jobs in self._lanes.values() for job in jobs]
        self._lanes.clear()
        self._in_hand.clear()
        for entry in self._received:  # arrived during shutdown: the sender will deliver it again
            if not entry.done.done():
                entry.done.set_exception(NotTakingUpdates())
        self._received.clear()
        try:
            await self._write(final=True, release=waiting)
        except Exception:  # they stay claimed until the lease runs out; another process takes them then
            logger.exception("could not record the last finished updates")
        if waiting:
            logger.info("left %d waiting updates in the inbox", len(waiting))
        INBOX_IN_HAND.set(0)

    # ---- bookkeeping

    async def _write_loop(self) -> None:
        while not self._closing:
            timeout = max(0.0, self._next_sweep - time.monotonic())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self._wake.clear()
            if self._closing:
                return
            try:
                await self._write()
            except Exception:
                logger.exception("inbox bookkeeping failed; trying again")
                await asyncio.sleep(WRITE_RETRY)
                self._wake.set()

    async def _write(self, *, final: bool = False, release: Sequence[Held] = ()) -> None:
        """The inbox's bookkeeping: in one transaction record finished updates, hand over lanes, store
        and claim what arrived; when due, renew the lease on what is in hand and take over the lanes of
        dead processes (each in a transaction of its own: each takes its lane locks at once, see
        inbox.exchange)."""
        received, self._received = self._received, []
        finished, self._finished = self._finished, []
        emptied, self._emptied = self._emptied, set()
        sweep = not final and time.monotonic() >= self._next_sweep
        if not (received or finished or emptied or sweep or release):
            return
        try:
            async with self.db.transaction() as session:
                new, claimed = await inbox.exchange(
                    session, self.owner, utcnow(), self.lease, finished=finished, released=release,
                    emptied=() if final else emptied, incoming=() if final else [entry.item for entry in received])
        except BaseException as exc:
            # Nothing of it is committed: keep the records for the next try, fail the receivers.
            self._finished[:0] = finished
            self._emptied |= emptied
            for entry in received:
                if not entry.done.done():
                    entry.done.set_exception(exc if isinstance(exc, Exception) else NotTakingUpdates())
            raise
        self._read_languages(claimed)
        parsed = {entry.item.update_id: entry.update for entry in received}
        for entry in received:
            if not entry.done.done():  # (a receiver that gave up, e.g. a poller stopped mid-batch)
                entry.done.set_result(None)
        duplicates = len(received) - len(new)
        if duplicates:
            logger.info("%d updates were received before; ignored", duplicates)
            for entry in received:
                if entry.item.update_id not in new:
                    self.application.count_duplicate(entry.update)
        self._take(claimed, parsed)
        if sweep:
            await self._sweep()

    async def _sweep(self) -> None:
        """Renew the lease on what is in hand (dropping what another process took over meanwhile), and
        take over the lanes nobody holds."""
        self._next_sweep = time.monotonic() + self.sweep_interval
        held = [Held(job.update_id, job.taken.lane) for jobs in self._lanes.values() for job in jobs]
        async with self.db.transaction() as session:
            kept = await inbox.renew(session, self.owner, utcnow(), self.lease, held)
        lost = {item.update_id for item in held} - kept
        if lost:
            # This process's lease ran out (it was stalled) and another process took these over.
            logger.warning("%d updates were taken over by another process; leaving them to it", len(lost))
            self._drop(lost)
        async with self.db.transaction() as session:
            taken = await inbox.take_over(session, self.owner, utcnow(), self.lease)
        self._read_languages(taken)
        if len({item.lane for item in taken}) >= inbox.TAKE_OVER_LANES:
            self._next_sweep = 0.0  # more to take: sweep again at once
            self._wake.set()
        self._take(taken, {})

    def _read_languages(self, taken: Sequence[Taken]) -> None:
        """Keep the chosen language of the people whose lanes were just taken (read with the claim); a lane
        in hand keeps what /language set meanwhile."""
        languages = self.application.languages
        for item in taken:
            if item.lane is not None and item.lane not in languages:
                languages[item.lane] = item.language

    def _drop(self, ids: set[int]) -> None:
        """Forget queued updates another process now holds (one running finishes; its write is refused)."""
        for key in list(self._lanes):
            jobs = self._lanes[key]
            running = jobs[0] if key in self._running else None
            kept = deque(job for job in jobs if job is running or job.update_id not in ids)
            for job in jobs:
                if job not in kept:
                    self._in_hand.discard(job.update_id)
            if kept:
                self._lanes[key] = kept
            else:
                del self._lanes[key]
                self.application.languages.pop(key, None)
                with contextlib.suppress(ValueError):
                    self._ready.remove(key)

    def _take(self, claimed: list[Taken], parsed: dict[int, Update]) -> None:
        for taken in sorted(claimed, key=lambda t: t.update_id):
            self._enqueue(_Job(taken, parsed.get(taken.update_id)))
        self._start_more()

    # ---- lanes

    @staticmethod
    def _key(taken: Taken) -> Hashable:
        return taken.lane if taken.lane is not None else ("alone", taken.update_id)

    def _enqueue(self, job: _Job) -> None:
        if job.update_id in self._in_hand:
            return
        self._in_hand.add(job.update_id)
        key = self._key(job.taken)
        jobs = self._lanes.get(key)
        if jobs is None:
            self._lanes[key] = deque([job])
            if job.taken.priority > 0 and self._taking:
                self._launch(key)  # ahead of the queue and outside its bound
            else:
                self._ready.append(key)
            return
        # Behind the one running, in update order (a late delivery of an older update goes first).
        ids = [queued.update_id for queued in jobs]
        start = 1 if key in self._running else 0
        jobs.insert(bisect.bisect_left(ids, job.update_id, lo=start), job)
        INBOX_IN_HAND.set(len(self._in_hand))

    def _start_more(self) -> None:
        while self._ready and self._taking and len(self._running) < self.limit:
            self._launch(self._ready.popleft())
        INBOX_IN_HAND.set(len(self._in_hand))

    async def _pace(self) -> None:
        """Adjust how many updates run at once to what the process keeps up with (additive increase,
        multiplicative decrease on the event loop's lateness), within FEWEST..CONCURRENT_UPDATES."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            if loop.time() - due > BEHIND:
                self.limit = max(min(FEWEST, self.concurrency), self.limit * 0.9)
            else:
                self.limit = min(self.concurrency, self.limit + 1)
                self._start_more()

    def _launch(self, key: Hashable) -> None:
        self._running[key] = asyncio.create_task(self._run_lane_head(key), name=f"update-lane-{key}")

    async def _run_lane_head(self, key: Hashable) -> None:
        job = self._lanes[key][0]
        try:
            failed = await self._handle(job)
        except Exception:  # a bug in the dispatch itself: record the update failed, keep the lane going
            logger.exception("update %s could not be dispatched", job.update_id)
            failed = True
        self._running.pop(key, None)
        jobs = self._lanes.get(key)
        if jobs and jobs[0] is job:
            jobs.popleft()
        self._in_hand.discard(job.update_id)
        self._finished.append(Finished(job.update_id, job.taken.lane, failed))
        if jobs:
            if self._taking:
                self._ready.append(key)
        else:
            self._lanes.pop(key, None)
            if job.taken.lane is not None:
                self._emptied.add(job.taken.lane)
                self.application.languages.pop(job.taken.lane, None)
        self._wake.set()
        self._start_more()

    async def _handle(self, job: _Job) -> bool:
        """Handle one update (again after a store failure, a few times); True when it failed."""
        taken = job.taken
        if taken.state == InboxState.APPLIED:
            # Its process died after committing the effect, before or while replying.
            logger.warning("update %s was applied before its process stopped; its reply may be missing",
                           taken.update_id)
            return False
        if taken.attempts >= inbox.MAX_ATTEMPTS:
            logger.error("update %s was next in line each time %d processes stopped without finishing it; "
                         "giving up on it", taken.update_id, taken.attempts)
            return True
        update = job.update
        if update is None:
            try:
                update = Update.de_json(json.loads(taken.payload or "null"), self.application.bot)
            except Exception:
                logger.error("update %s as stored cannot be read; dropped", taken.update_id)
                return True
        waited = (utcnow() - taken.received_at).total_seconds()
        while True:
            final = job.attempt >= len(RETRY_DELAYS)
            outcome = await self.application.apply(update, self.owner, waited=waited, may_retry=not final)
            if outcome != "retry":
                return outcome == "error"
            delay = RETRY_DELAYS[job.attempt]
            job.attempt += 1
            logger.warning("update %s: the store is unavailable; trying again in %.1fs", taken.update_id, delay)
            await asyncio.sleep(delay)
