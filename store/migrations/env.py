"""Alembic environment: runs migrations on the store's async engine.

When called from :mod:`store.migrate` the caller hands over an open
connection (``config.attributes["connection"]``); from the ``alembic`` command
line an engine is made from ``DATABASE_URL`` or the ini file's URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from store import migrate as store_migrate
from store.db import Database
from store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on one connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    """Open the store named by DATABASE_URL and migrate it."""
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    database = Database(url)
    try:
        await store_migrate.run_migrations(database, run_migrations)
    finally:
        await database.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    shared = config.attributes.get("connection")
    if shared is not None:
        run_migrations(shared)
    else:
        asyncio.run(run_from_command_line())
