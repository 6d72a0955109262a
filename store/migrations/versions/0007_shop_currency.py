"""The shop's currency is kept with the catalog, so a changed CURRENCY cannot re-denominate its prices

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    # A store that has taken orders knows its currency from the latest one; any other
    # adopts the configured CURRENCY at its next start.
    op.execute("UPDATE catalog_state SET currency = "
               "(SELECT currency FROM checkouts ORDER BY id DESC LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table('catalog_state', schema=None) as batch_op:
        batch_op.drop_column('currency')
