"""The store's connection: one engine and one session factory per process.

SQLite (aiosqlite) runs in WAL mode with every writing transaction opened as
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails
at once with SQLITE_BUSY when another connection has written meanwhile, while
an immediate one waits its turn (``busy_timeout``). :meth:`Database.read`
opens deferred transactions for work that only reads. PostgreSQL (asyncpg) runs
at READ COMMITTED, where conditional updates re-check their condition on the
newest row version.

:meth:`Database.unit_of_work` makes one transaction of everything a piece of
work does: inside it, :meth:`~Database.transaction` opens a SAVEPOINT on the
same session (an error undoes that block alone) and :meth:`~Database.read`
reuses the session as it is. The bot handles each Telegram update as one unit
of work, so the record that the update was handled commits with its effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "chatshop_read_only"


@dataclass(slots=True)
class _Unit:
    """The unit of work in progress in a task: its database, session, and what to do once committed."""

    database: Database
    session: AsyncSession
    after_commit: list[Callable[[], object]] = field(default_factory=list)


_UNIT_OF_WORK: ContextVar[_Unit | None] = ContextVar("chatshop_unit_of_work", default=None)


def normalize_url(url: str) -> str:
    """Return ``url`` with an async driver named (``sqlite`` -> aiosqlite, ``postgresql`` -> asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        # Readers take no lock in WAL mode; writers queue up for the single write lock.
        deferred = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict = {"echo": echo}
        if not self.is_sqlite:
            # No ping before every checkout (it costs a round trip per transaction); connections are
            # recycled instead, and a dropped one fails its transaction, which the caller reports.
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        else:
            kwargs.update(pool_size=5, max_overflow=20, pool_timeout=60)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        # SQLite has one write lock per file: this process's writers queue for it here, in order,
        # rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self._write_turn = asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; on SQLite its transactions begin deferred, so reads never wait for writers.
        self.reads = async_sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                        expire_on_commit=False)

    def _unit(self) -> _Unit | None:
        """This task's unit of work on this database, if one is open."""
        unit = _UNIT_OF_WORK.get()
        return unit if unit is not None and unit.database is self else None

    def _current(self) -> AsyncSession | None:
        """The session of this task's unit of work on this database, if one is open."""
        unit = self._unit()
        return unit.session if unit is not None else None

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once what was written is committed: now, or when the open unit of work
        commits (not at all if it rolls back). For signals to other tasks, such as waking a worker."""
        unit = self._unit()
        if unit is None:
            callback()
        else:
            unit.after_commit.append(callback)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction for everything done inside, committed at the end or rolled back on error.

        Nested :meth:`transaction` blocks become savepoints of it and :meth:`read` blocks use it.
        It takes the write lock on SQLite at once, so keep it to one piece of work (one update).
        """
        if self._current() is not None:
            raise RuntimeError("a unit of work is already open in this task")
        unit: _Unit | None = None
        async with self._write_turn, self.sessions() as session, session.begin():
            unit = _Unit(self, session)
            token = _UNIT_OF_WORK.set(unit)
            try:
                yield session
            finally:
                _UNIT_OF_WORK.reset(token)
        for callback in unit.after_commit:
            callback()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session inside one transaction, committed on success and rolled back on error.

        Inside a unit of work this is a savepoint of it: an error rolls back this block only, and
        what it wrote commits with the unit of work.
        """
        current = self._current()
        if current is not None:
            async with current.begin_nested():
                yield current
            return
        async with self._write_turn, self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reading only (on SQLite it takes no write lock); inside a unit of work, its session."""
        current = self._current()
        if current is not None:
            yield current
            return
        async with self.reads() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
