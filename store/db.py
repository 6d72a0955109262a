"""The store's connection: one engine and one session factory per process, and short transactions.

SQLite (aiosqlite, run in the event loop's thread: :mod:`store.sqlite`) runs
in WAL mode with every writing transaction opened as ``BEGIN IMMEDIATE``: a
deferred transaction that reads and then writes fails at once with SQLITE_BUSY
when another connection has written meanwhile, while an immediate one waits
its turn. :meth:`Database.read` opens deferred transactions for work that only
reads, so reads run side by side and never wait for a writer. PostgreSQL (asyncpg) runs at READ
COMMITTED, where conditional updates re-check their condition on the newest
row version.

Transactions are short and never span a network call: work reads and writes
the store, commits, and only then talks to Telegram or a webhook. The store
keeps count of the transactions open in each task (:func:`transaction_open`),
so the network clients can check that rule on every call.

While a Telegram update is being applied (:meth:`Database.applying`), its first
writing transaction also marks the update applied in the inbox, so the effect
and that mark commit together (:mod:`store.services.inbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.services.inbox import mark_applied
from store.sqlite import BUSY_TIMEOUT_MS, loop_connector

logger = logging.getLogger(__name__)

PG_POOL_SIZE = 30  # connections per process (PostgreSQL allows 100 by default: three processes fit)
READ_ONLY = "chatshop_read_only"


@dataclass(slots=True)
class _Open:
    """A transaction open in a task; tasks started inside it see it too, until it closes."""

    parent: _Open | None
    writing: bool
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    closed: bool = False


_OPEN: ContextVar[_Open | None] = ContextVar("chatshop_open_transaction", default=None)


@dataclass(slots=True)
class Applying:
    """The update a task is applying (as held by ``owner``): its first writing transaction marks it applied."""

    update_id: int
    owner: str
    applied: bool = False


_APPLYING: ContextVar[Applying | None] = ContextVar("chatshop_applying", default=None)


class RuleBroken(Exception):
    """Code broke a rule of the store's use: a network call inside a transaction, or a second
    writing transaction for one update."""


# What happens when a rule is broken: production logs it (and goes on); tests raise and keep a record.
_BROKEN: list[str] | None = None


def record_broken_rules(into: list[str] | None) -> None:
    """Raise :class:`RuleBroken` and append to ``into`` when a rule is broken (None: log only)."""
    global _BROKEN
    _BROKEN = into


def rule_broken(what: str) -> None:
    """Report a broken rule: logged as an error, and raised when tests asked for it."""
    if _BROKEN is None:
        logger.error("%s", what)
        return
    _BROKEN.append(what)
    raise RuleBroken(what)


def update_applied() -> bool:
    """Whether the update this task is applying has had its effect committed already."""
    work = _APPLYING.get()
    return work is not None and work.applied


def transaction_open() -> bool:
    """Whether the running task (or the task that started it) has a store transaction open."""
    current = _OPEN.get()
    while current is not None:
        if not current.closed:
            return True
        current = current.parent
    return False


def check_no_transaction(what: str) -> None:
    """Called before a network call: none may be made while a store transaction is open."""
    if transaction_open():
        rule_broken(f"{what} while a store transaction is open")


# PostgreSQL's "try again" errors: a serialization failure, a deadlock (the other side went through).
RETRYABLE_SQLSTATES = ("40001", "40P01")


def unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` means the store could not be reached or could not commit this time (worth
    trying again), as opposed to a refusal or a bug."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    return error.connection_invalidated or getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def normalize_url(url: str) -> str:
    """Return ``url`` with an async driver named (``sqlite`` -> aiosqlite, ``postgresql`` -> asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres") and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
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
        # Statement parameters stay out of error messages: they hold names, phones and addresses.
        kwargs: dict = {"echo": echo, "hide_parameters": True}
        if not self.is_sqlite:
            # No ping before every checkout (it costs a round trip per transaction); connections are
            # recycled instead, and a dropped one fails its transaction, which the caller reports.
            # No overflow: a burst waits a moment for a pooled connection rather than opening (and then
            # closing) connections of its own, each a new server process with cold statement caches.
            kwargs.update(pool_size=PG_POOL_SIZE, max_overflow=0, pool_timeout=30, pool_recycle=1800)
        else:
            kwargs.update(pool_size=16, max_overflow=0, pool_timeout=60,
                          async_creator=loop_connector(parsed.database or ":memory:"))
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # Reads that scan (metrics over every order, loading the whole catalog): on SQLite they run on
        # aiosqlite's own threads, so the event loop is not held for their length.
        self.scans = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine, 0)  # a writer waits for another process on a thread instead
            self.scans = create_async_engine(self.url, pool_size=2, max_overflow=0, pool_timeout=60,
                                             execution_options={READ_ONLY: True})
            _configure_sqlite(self.scans, BUSY_TIMEOUT_MS)
        # SQLite has one write lock per file: this process's writers take turns for it here, in order,
        # rather than in SQLite's busy handler. Each holds it for one short transaction.
        self._write_turn = asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Same pool. On SQLite reads begin deferred: they never wait for writers and see one snapshot.
        # On PostgreSQL at READ COMMITTED every statement sees its own snapshot anyway, so reads run
        # without BEGIN and COMMIT: two round trips fewer per read.
        reading = {READ_ONLY: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self.reads = async_sessionmaker(self.engine.execution_options(**reading), expire_on_commit=False)
        self.scan_reads = async_sessionmaker(self.scans.execution_options(**reading), expire_on_commit=False)

    @contextlib.contextmanager
    def applying(self, update_id: int, owner: str) -> Iterator[Applying]:
        """Within the block, the task applies update ``update_id``, held by ``owner``: its first writing
        transaction marks it applied (raising :class:`~store.services.inbox.AlreadyApplied` if it was
        already, or if another process took it over)."""
        work = Applying(update_id, owner)
        token = _APPLYING.set(work)
        try:
            yield work
        finally:
            _APPLYING.reset(token)

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once what was written is committed: when the transaction open in this
        task commits (not at all if it rolls back), or now. For signals to other tasks, such as
        waking a worker."""
        current = _OPEN.get()
        while current is not None and (current.closed or not current.writing):
            current = current.parent
        if current is None:
            callback()
        else:
            current.after_commit.append(callback)

    @asynccontextmanager
    async def _opened(self, *, writing: bool) -> AsyncIterator[_Open]:
        opened = _Open(_OPEN.get(), writing)
        token = _OPEN.set(opened)
        try:
            yield opened
        finally:
            opened.closed = True
            _OPEN.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one writing transaction, committed on success and rolled back on error.

        Keep it short: no network call inside. While an update is being applied, the first
        such transaction marks it applied; a second one breaks the one-effect-per-update rule.
        """
        work = _APPLYING.get()
        marking = work is not None and not work.applied
        if work is not None and work.applied:
            rule_broken(f"update {work.update_id} opened a second writing transaction")
        async with self._opened(writing=True) as opened:
            async with self._write_turn, self.sessions() as session, session.begin():
                if marking:
                    await mark_applied(session, work.update_id, work.owner)
                yield session
            if marking:
                work.applied = True
        for callback in opened.after_commit:
            callback()

    @asynccontextmanager
    async def read(self, *, scan: bool = False) -> AsyncIterator[AsyncSession]:
        """A session for reading only (on SQLite it takes no write lock). ``scan``: the reading may take a
        while (it goes through many rows), so on SQLite it runs off the event loop's thread."""
        sessions = self.scan_reads if scan else self.reads
        async with self._opened(writing=False), sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise unless the store answers a trivial query."""
        async with self.read() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.scans is not self.engine:
            await self.scans.dispose()
