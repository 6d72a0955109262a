"""Schema migrations (Alembic) run from inside the application."""

from __future__ import annotations

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

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def pending(database: Database) -> list[str]:
    """Return the revisions not yet applied to ``database`` (empty when current)."""
    script = ScriptDirectory.from_config(alembic_config())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        applied = await connection.run_sync(current)
    lower = tuple(applied) if applied else "base"
    return [rev.revision for rev in script.iterate_revisions("heads", lower)][::-1]
