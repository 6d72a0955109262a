"""SQLite connections that run their statements in the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close, commit) to a thread
of its own and back: four or five thread hops per statement, each costing more
CPU than the statement itself on a WAL database whose pages are cached (a few
microseconds). :class:`LoopConnection` keeps aiosqlite's interface and its
thread, but runs calls directly, except those that may wait for another
process: taking the write lock (``BEGIN IMMEDIATE``, which waits up to the busy
timeout while another process writes) and the ``PRAGMA`` set-up of a new
connection. Within this process writers already take turns
(:class:`store.db.Database`), and readers in WAL mode never wait for writers,
so the event loop never blocks on a lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

# Statements that can wait for a lock held by another process: run on the connection's thread.
_MAY_WAIT = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "PRAGMA", "VACUUM")


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread unless they may wait for a lock."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and args[0].lstrip().upper().startswith(_MAY_WAIT):
            return await super()._execute(fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def loop_connector(path: str) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: opens ``path`` as a :class:`LoopConnection`."""

    def connector() -> sqlite3.Connection:
        # Used from the event loop's thread as well as the connection's own (never at once).
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def create() -> LoopConnection:
        connection = LoopConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold up exit
        return await connection

    return create
