"""Schema migrations (Alembic) run from inside the application."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from store.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Return an Alembic config pointing at the store's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` on ``database``."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    await run_migrations(database, run)


async def run_migrations(database: Database, work: Callable[[Connection], None]) -> None:
    """Run ``work`` (Alembic) in one transaction on ``database``.

    On SQLite a migration that changes a table rebuilds it (copy, drop, rename), which the
    foreign keys of the tables pointing at it would refuse: they are switched off for the
    migration (SQLite only honours that outside a transaction), checked after it, and on again.
    """
    async with database.engine.connect() as connection:
        if database.is_sqlite:
            await connection.run_sync(_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(work)
                if database.is_sqlite:
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"the migration left rows whose references are missing: {broken[:5]}")
        finally:
            if database.is_sqlite:
                await connection.run_sync(_foreign_keys, True)


def _foreign_keys(connection: Connection, on: bool) -> None:
    cursor = connection.connection.cursor()  # the driver's own: no transaction is begun for it
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


async def pending(database: Database) -> list[str]:
    """Return the revisions not yet applied to ``database`` (empty when current)."""
    script = ScriptDirectory.from_config(alembic_config())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        applied = await connection.run_sync(current)
    lower = tuple(applied) if applied else "base"
    return [rev.revision for rev in script.iterate_revisions("heads", lower)][::-1]
