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
        batch_op.add_column(sa.Column('minor_digits', sa.SmallInteger(), nullable=True))
    # Both are recorded at the next start (store/services/currency.py), which also rescales amounts
    # written with CLDR's minor-unit digits where Telegram counts others.


def downgrade() -> None:
    with op.batch_alter_table('catalog_state', schema=None) as batch_op:
        batch_op.drop_column('minor_digits')
        batch_op.drop_column('currency')
