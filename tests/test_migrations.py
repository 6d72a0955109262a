"""Upgrading a store that has data in it: the migrations run on real rows, not only on empty tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from store.db import Database
from store.migrate import upgrade

from .conftest import BACKENDS, PG_URL

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_0009_moves_each_checkouts_contact_onto_its_orders(backend, tmp_path):
    old = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}" if backend == "sqlite" else PG_URL)
    if not old.is_sqlite:
        async with old.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    try:
        await upgrade(old, "0008")
        async with old.engine.begin() as connection:
            await connection.execute(text("INSERT INTO users (id, first_name, created_at) VALUES (7, 'Ann', :now)"),
                                     {"now": NOW})
            await connection.execute(text("INSERT INTO sellers (id, name, kind, status, commission_bp, created_at) "
                                          "VALUES (3, 'Shop', 'retailer', 'approved', 1000, :now)"), {"now": NOW})
            await connection.execute(text(
                "INSERT INTO checkouts (id, user_id, status, payment_method, currency, items_total, shipping_total, "
                "total, invoice_currency, invoice_amount, contact_name, phone, address, shipping_code, "
                "shipping_name, created_at) VALUES (1, 7, 'placed', 'cod', 'USD', 1000, 499, 1499, 'USD', 1499, "
                "'Ann Lee', '+12025550143', '1 Main Street', 'standard', 'Standard', :now)"), {"now": NOW})
            for order_id in (1, 2):
                await connection.execute(text(
                    "INSERT INTO orders (id, checkout_id, seller_id, buyer_id, status, currency, items_total, "
                    "shipping_fee, total, created_at, updated_at) VALUES (:id, 1, 3, 7, 'placed', 'USD', 500, "
                    "499, 999, :now, :now)"), {"id": order_id, "now": NOW})
        await upgrade(old)
        async with old.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, contact_name, phone, address FROM orders ORDER BY id"))
                    ).all()
            assert [tuple(row) for row in rows] == [(1, "Ann Lee", "+12025550143", "1 Main Street"),
                                                   (2, "Ann Lee", "+12025550143", "1 Main Street")]
            if old.is_sqlite:  # the foreign keys are on again, and hold
                assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
                assert (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
    finally:
        await old.dispose()

