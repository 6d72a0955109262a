"""Personal data: each order keeps its buyer's contact (erased order by order), who was given it,
and sellers who need no buyer phone

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Surrogate keys as the models declare them (BIGINT, INTEGER on SQLite).
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
CONTACT = ('contact_name', 'phone', 'address')


def upgrade() -> None:
    op.create_table(
        'data_access',
        sa.Column('id', ID, nullable=False),
        sa.Column('buyer_id', sa.BigInteger(), nullable=False),
        sa.Column('order_id', ID, nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('seller_id', ID, nullable=True),
        sa.Column('viewer_id', sa.BigInteger(), nullable=True),
        sa.Column('times', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_data_access_buyer_id', 'data_access', ['buyer_id'])
    op.create_index('ix_data_access_order_channel', 'data_access', ['order_id', 'channel'])
    # The contact moves from the checkout to each of its orders, so each seller's copy ends with its order.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    for column in CONTACT:  # (empty: erased before a downgrade and an upgrade again)
        op.execute(f"UPDATE orders SET {column} = (SELECT NULLIF(checkouts.{column}, '') FROM checkouts "
                   "WHERE checkouts.id = orders.checkout_id)")
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        for column in CONTACT:
            batch_op.drop_column(column)
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
        batch_op.add_column(sa.Column('contact_name', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
    # Back on the checkout, from its first order not erased (else its first); what was erased (or never
    # asked) comes back empty.
    for column in CONTACT:
        op.execute(f"UPDATE checkouts SET {column} = COALESCE((SELECT orders.{column} FROM orders "
                   "WHERE orders.checkout_id = checkouts.id "
                   "ORDER BY CASE WHEN orders.erased_at IS NULL THEN 0 ELSE 1 END, orders.id LIMIT 1), '')")
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.alter_column('contact_name', existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('address', existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        for column in (*CONTACT, 'erased_at'):
            batch_op.drop_column(column)
    op.drop_index('ix_data_access_order_channel', table_name='data_access')
    op.drop_index('ix_data_access_buyer_id', table_name='data_access')
    op.drop_table('data_access')
