"""Personal data: who was given a buyer's contact, erasing it (retention, or on request), and sellers
who need no buyer phone

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Surrogate keys as the models declare them (BIGINT, INTEGER on SQLite).
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'data_access',
        sa.Column('id', ID, nullable=False),
        sa.Column('buyer_id', sa.BigInteger(), nullable=False),
        sa.Column('order_id', ID, nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('seller_id', ID, nullable=True),
        sa.Column('viewer_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_data_access_buyer_id', 'data_access', ['buyer_id'])
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.alter_column('contact_name', existing_type=sa.String(length=128), nullable=True)
        batch_op.alter_column('phone', existing_type=sa.String(length=32), nullable=True)
        batch_op.alter_column('address', existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forget_requested_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_phone', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.drop_column('buyer_phone')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('forget_requested_at')
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.alter_column('address', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('contact_name', existing_type=sa.String(length=128), nullable=False)
    op.drop_index('ix_data_access_buyer_id', table_name='data_access')
    op.drop_table('data_access')
