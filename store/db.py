"""The store's connection: one engine and one session factory per process.

SQLite (aiosqlite) runs in WAL mode with every writing transaction opened as
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails
at once with SQLITE_BUSY when another connection has written meanwhile, while
an immediate one waits its turn (``busy_timeout``). :meth:`Database.read`
opens deferred transactions for work that only reads. PostgreSQL (asyncpg) runs
at READ COMMITTED, where conditional updates re-check their condition on the
newest row version.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; on SQLite its transactions begin deferred, so reads never wait for writers.
        self.reads = async_sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                        expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session inside one transaction, committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reading only (on SQLite it takes no write lock)."""
        async with self.reads() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
