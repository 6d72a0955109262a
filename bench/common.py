"""Pieces the benches share: a fresh store, a free port, percentiles."""

from __future__ import annotations

import socket


async def fresh_store(url: str, token: str) -> None:
    """Empty the store at ``url`` (PostgreSQL: wipe the ``public`` schema) and prepare it as ``python -m bot``
    does on first start: the schema and the demo catalog."""
    from sqlalchemy import text

    from bot.config import Settings
    from bot.startup import prepare_store
    from store.db import Database

    database = Database(url)
    if not database.is_sqlite:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await database.dispose()
    await prepare_store(Settings(_env_file=None, bot_token=token, database_url=url), migrate=True)


def free_port() -> int:
    """A port nobody listens on right now on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (linear interpolation); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
