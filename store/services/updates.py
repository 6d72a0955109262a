"""Each Telegram update is applied once.

Telegram may deliver an update twice (a webhook retry, or a redelivery after a
crash), and with several bot processes behind one address two of them may
receive it at the same moment. Claiming inserts the update id under a primary
key in the transaction that applies the update: exactly one insert commits.
A concurrent copy waits on the key until the first transaction ends, then sees
the conflict and skips the update, or, when the first one rolled back, takes
it on itself. An update whose handling failed is recorded on its own as
``failed``, so it is not retried forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ProcessedUpdate

# Telegram keeps an undelivered update for at most 24 hours; a week of ids is plenty.
KEEP_FOR = timedelta(days=7)


OK = "ok"
FAILED = "failed"


async def claim_update(session: AsyncSession, update_id: int, now: datetime, outcome: str = OK) -> bool:
    """Record ``update_id`` as handled in the session's transaction; False when it already was."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate).values(update_id=update_id, claimed_at=now, outcome=outcome)
        .on_conflict_do_nothing(index_elements=["update_id"]))
    return result.rowcount == 1


async def forget_old_updates(session: AsyncSession, now: datetime) -> int:
    """Drop claims older than KEEP_FOR; returns how many."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.claimed_at < now - KEEP_FOR))
    return result.rowcount


async def set_update_outcome(session: AsyncSession, update_id: int, outcome: str) -> None:
    """Change how a claimed update's handling ended (it failed after its claim)."""
    await session.execute(update(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id)
                          .values(outcome=outcome))
