"""Shared fixtures: a real, migrated store on SQLite (a file per test) and on PostgreSQL.

PostgreSQL runs when TEST_DATABASE_URL is set (CI sets it); each test then
gets the database's ``public`` schema wiped and migrated afresh.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from store.db import Database
from store.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")),
]


async def make_database(backend: str, tmp_path) -> Database:
    """Create an empty, migrated store on ``backend``."""
    if backend == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    else:
        database = Database(PG_URL)
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database)
    return database


@pytest.fixture(params=BACKENDS)
async def db(request, tmp_path):
    """A migrated, empty store on each backend."""
    database = await make_database(request.param, tmp_path)
    yield database
    await database.dispose()
