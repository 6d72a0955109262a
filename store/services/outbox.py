"""The outbox: deliveries written with the change that causes them, sent later by a worker.

A row is written inside the caller's transaction, so a notification exists if
and only if the change it announces was committed. The worker claims due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take the
same row; SQLite serialises writers anyway), delivers them outside any
transaction, then records the outcome: sent, retry later with exponential
backoff, or dead (a receiver that will never accept it, such as a user who
blocked the bot). Delivery is at least once; ``key`` is the idempotency key a
receiver can deduplicate on.

A seller's webhook events are retried for days (``retry_for``, the shop's setting), not a number
of attempts, and stay in order: an event given up holds back the ones after it until an operator
replays the seller's events (:func:`replay_dead`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import OutboxMessage, utcnow
from store.states import OutboxChannel, OutboxStatus

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=30)
CLAIM_FOR = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row, detached from the session that claimed it."""

    id: int
    key: str
    channel: str
    lane: str
    chat_id: int | None
    seller_id: int | None
    template: str
    payload: dict[str, Any]
    attempts: int


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    channel: str,
    template: str,
    payload: dict[str, Any],
    chat_id: int | None = None,
    seller_id: int | None = None,
    now: datetime,
) -> None:
    """Add a delivery to the outbox unless one with the same key exists already.

    ``now`` is the business time of the change; the delivery is due at once by
    the wall clock, which is what the worker schedules by.
    """
    if channel == OutboxChannel.TELEGRAM:
        lane = f"chat:{chat_id}"
    elif channel == OutboxChannel.WEBHOOK:
        lane = f"webhook:{seller_id}"
    else:
        lane = f"{channel}:{key}"[:48]
    values = dict(key=key, channel=channel, template=template, payload=payload, chat_id=chat_id,
                  seller_id=seller_id, lane=lane, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                  created_at=now)
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 2 s, 4 s, 8 s ... at most 30 min."""
    return min(BASE_DELAY * (2 ** min(max(attempts - 1, 0), 20)), MAX_DELAY)  # capped before it can overflow


async def claim_due(session: AsyncSession, now: datetime, limit: int = 50,
                    channels: tuple[str, ...] | None = None) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries for this worker, oldest first, at most one per lane.

    Only the oldest pending delivery of a lane can be claimed, so a chat's
    messages and a seller's webhook events arrive in the order they happened,
    even across retries.
    """
    older = aliased(OutboxMessage)
    # An older event still pending holds a lane back, and so does a webhook event out of retries.
    holding = older.status.in_((OutboxStatus.PENDING, OutboxStatus.HELD))
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now,
               or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
               ~exists().where(older.lane == OutboxMessage.lane, holding, older.id < OutboxMessage.id))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    if channels:
        query = query.where(OutboxMessage.channel.in_(channels))
    rows = list(await session.scalars(query))
    for row in rows:
        row.claimed_until = now + CLAIM_FOR
    await session.flush()
    return [Delivery(r.id, r.key, r.channel, r.lane, r.chat_id, r.seller_id, r.template, dict(r.payload), r.attempts)
            for r in rows]


async def mark_sent(session: AsyncSession, delivery_id: int, now: datetime) -> None:
    """Record a successful delivery."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == delivery_id)
        .values(status=OutboxStatus.SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, claimed_until=None,
                last_error=None)
    )


async def mark_failed(session: AsyncSession, delivery_id: int, error: str, now: datetime, *,
                      retry_after: timedelta | None = None, give_up: bool = False,
                      retry_for: timedelta | None = None) -> str:
    """Record a failed attempt: retry later (backoff, or the receiver's delay) or give up; return the status.

    With ``retry_for`` the delivery is retried until that long after it was written, however many
    attempts that takes (sellers' webhooks), instead of ``MAX_ATTEMPTS`` times."""
    row = await session.get(OutboxMessage, delivery_id, with_for_update=True, populate_existing=True)
    if row is None:
        return OutboxStatus.DEAD
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_until = None
    if give_up:
        row.status = OutboxStatus.DEAD
    elif retry_for is not None and now >= row.created_at + retry_for:
        row.status = OutboxStatus.HELD  # kept, in order, until an operator replays the lane
    elif retry_for is None and row.attempts >= MAX_ATTEMPTS:
        row.status = OutboxStatus.DEAD
    else:
        row.next_attempt_at = now + (retry_after if retry_after is not None else backoff(row.attempts))
    await session.flush()
    return row.status


async def failing_since(session: AsyncSession, delivery_id: int) -> datetime | None:
    """When the delivery was written, if it has failed at least once (how long its receiver has been failing)."""
    row = await session.get(OutboxMessage, delivery_id)
    return row.created_at if row is not None and row.attempts > 0 else None


async def stuck(session: AsyncSession, delivery_id: int) -> OutboxMessage | None:
    """A delivery that has not gone out yet (pending or given up), for telling people about it."""
    row = await session.get(OutboxMessage, delivery_id)
    return row if row is not None and row.status != OutboxStatus.SENT else None


async def replay_dead(session: AsyncSession, seller_id: int, now: datetime) -> int:
    """Send a seller's webhook events that ran out of retries again, in order; return how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.seller_id == seller_id, OutboxMessage.channel == OutboxChannel.WEBHOOK,
               OutboxMessage.status == OutboxStatus.HELD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None,
                created_at=now))
    return result.rowcount or 0


async def drop_held(session: AsyncSession, seller_id: int) -> None:
    """A seller who changes or removes their webhook starts afresh: held events stop holding the lane."""
    await session.execute(update(OutboxMessage).where(OutboxMessage.seller_id == seller_id,
                                                      OutboxMessage.status == OutboxStatus.HELD)
                          .values(status=OutboxStatus.DEAD))


async def backlog(session: AsyncSession) -> dict[str, int]:
    """Number of rows per status (pending, sent, dead)."""
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return dict(rows.all())


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending delivery is due, or None when nothing is pending."""
    return await session.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                .where(OutboxMessage.status == OutboxStatus.PENDING))
