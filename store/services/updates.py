"""Each Telegram update is taken on by one process, once.

Telegram may deliver an update twice (a webhook retry), and with several bot
processes behind one address two of them may receive it at the same moment.
Claiming inserts the update id under a primary key: exactly one insert wins;
the others see a conflict and skip the update.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ProcessedUpdate

# Telegram keeps an undelivered update for at most 24 hours; a week of ids is plenty.
KEEP_FOR = timedelta(days=7)


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record that this process handles ``update_id``; False when another delivery already took it."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate).values(update_id=update_id, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"]))
    return result.rowcount == 1


async def forget_old_updates(session: AsyncSession, now: datetime) -> int:
    """Drop claims older than KEEP_FOR; returns how many."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.claimed_at < now - KEEP_FOR))
    return result.rowcount
