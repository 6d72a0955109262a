"""SQLite connections that run their statements in the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close, commit) to a thread
of its own and back: four or five thread hops per statement, each costing more
CPU than the statement itself on a WAL database whose pages are cached (a few
microseconds), and each letting other tasks run in between, so a writing
transaction held SQLite's write lock for several turns of a busy event loop.
:class:`LoopConnection` keeps aiosqlite's interface and its thread, but runs
calls directly: a transaction then runs from ``BEGIN`` to ``COMMIT`` without
giving the loop away.

Only what may wait goes to the connection's thread. Readers in WAL mode never
wait for writers, and within this process writers take turns
(:class:`store.db.Database`), so the write lock is free unless another process
(a separate outbox worker, a catalog import) holds it: ``BEGIN IMMEDIATE`` is
tried at once (the connection's busy timeout is 0) and, when the lock is taken,
tried again on the thread with the real busy timeout. ``PRAGMA`` set-up of a
new connection goes to the thread as well. A commit that fills the WAL past
its checkpoint threshold copies pages into the database file in the committing
call, as SQLite does; with ``synchronous=NORMAL`` only those checkpoints sync
to disk.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

# Ids per statement when many rows are named (SQLite allows 32,766 parameters in one).
IDS_PER_STATEMENT = 1000
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's write lock
_ON_THREAD = ("PRAGMA", "VACUUM")


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread unless they may wait.

    A call on the thread runs to its end even when the task that made it is cancelled; until then no
    other call touches the connection (closing it under the thread's feet would crash the process).
    """

    _on_thread: asyncio.Future | None = None

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        busy = self._on_thread
        if busy is not None:
            if not busy.done():
                await asyncio.wait([busy])  # a cancelled caller's call on the thread: let it finish first
            self._on_thread = None
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        sql = args[0].lstrip().upper() if args and isinstance(args[0], str) else ""
        if sql.startswith(_ON_THREAD):
            return await self._thread_call(fn, *args, **kwargs)
        if sql.startswith("BEGIN IMMEDIATE"):
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            # Another process writes: wait for it on the thread, not in the event loop.
            return await self._thread_call(self._waiting, fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def _thread_call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        # Its outcome is read here, or by nobody when the caller was cancelled: never "never retrieved".
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._tx.put_nowait((future, functools.partial(fn, *args, **kwargs)))
        self._on_thread = future
        result = await asyncio.shield(future)
        self._on_thread = None
        return result

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            return fn(*args, **kwargs)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")


def loop_connector(path: str) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: opens ``path`` as a :class:`LoopConnection`."""

    def connector() -> sqlite3.Connection:
        # Used from the event loop's thread as well as the connection's own (never at once). No busy
        # timeout: a statement that would wait raises at once (see LoopConnection).
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)

    async def create() -> LoopConnection:
        connection = LoopConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold up exit
        return await connection

    return create
