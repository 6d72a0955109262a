"""After-sales: reviews and ratings, returns with their history, saved products, stock and price alerts

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
# The name PostgreSQL gave the unnamed unique constraint of 0003, and the one SQLite's copy gets here.
SALE_UNIQUE_PG = 'commissions_order_line_id_key'
SALE_UNIQUE = 'uq_commissions_order_line_id'


def upgrade() -> None:
    op.create_table(
        'reviews',
        sa.Column('id', Id, nullable=False),
        sa.Column('order_line_id', Id, nullable=False),
        sa.Column('order_id', Id, nullable=False),
        sa.Column('product_id', Id, nullable=False),
        sa.Column('seller_id', Id, nullable=False),
        sa.Column('buyer_id', sa.BigInteger(), nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('photo', sa.String(length=255), nullable=True),
        sa.Column('edits', sa.Integer(), nullable=False),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('replied_at', When, nullable=True),
        sa.Column('hidden_at', When, nullable=True),
        sa.Column('hidden_by', sa.BigInteger(), nullable=True),
        sa.Column('hidden_reason', sa.Text(), nullable=True),
        sa.Column('created_at', When, nullable=False),
        sa.Column('updated_at', When, nullable=False),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name='ck_reviews_rating_1_to_5'),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id']),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['product_id'], ['products.id']),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.ForeignKeyConstraint(['buyer_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('order_line_id'),
    )
    op.create_index('ix_reviews_product_created', 'reviews', ['product_id', 'created_at'])
    op.create_index('ix_reviews_order_id', 'reviews', ['order_id'])
    op.create_index('ix_reviews_seller_id', 'reviews', ['seller_id'])
    op.create_index('ix_reviews_buyer_id', 'reviews', ['buyer_id'])
    op.create_table(
        'returns',
        sa.Column('id', Id, nullable=False),
        sa.Column('order_id', Id, nullable=False),
        sa.Column('seller_id', Id, nullable=False),
        sa.Column('buyer_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=24), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('photo', sa.String(length=255), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('without_goods', sa.Boolean(), nullable=False),
        sa.Column('reject_reason', sa.Text(), nullable=True),
        sa.Column('refund_status', sa.String(length=16), nullable=True),
        sa.Column('created_at', When, nullable=False),
        sa.Column('updated_at', When, nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.ForeignKeyConstraint(['buyer_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_returns_status_created', 'returns', ['status', 'created_at'])
    op.create_index('ix_returns_order_id', 'returns', ['order_id'])
    op.create_index('ix_returns_seller_id', 'returns', ['seller_id'])
    op.create_index('ix_returns_buyer_id', 'returns', ['buyer_id'])
    op.create_table(
        'return_lines',
        sa.Column('id', Id, nullable=False),
        sa.Column('return_id', Id, nullable=False),
        sa.Column('order_line_id', Id, nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('quantity > 0', name='ck_return_lines_quantity_positive'),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id']),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_return_lines_return_id', 'return_lines', ['return_id'])
    op.create_index('ix_return_lines_order_line_id', 'return_lines', ['order_line_id'])
    op.create_table(
        'return_events',
        sa.Column('id', Id, nullable=False),
        sa.Column('return_id', Id, nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=True),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', When, nullable=False),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_return_events_return_id', 'return_events', ['return_id'])
    op.create_table(
        'saved_items',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('product_id', Id, nullable=False),
        sa.Column('price_seen', sa.BigInteger(), nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['product_id'], ['products.id']),
        sa.PrimaryKeyConstraint('user_id', 'product_id'),
    )
    op.create_index('ix_saved_items_product_id', 'saved_items', ['product_id'])
    op.create_table(
        'stock_alerts',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('variant_id', Id, nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['variant_id'], ['variants.id']),
        sa.PrimaryKeyConstraint('user_id', 'variant_id'),
    )
    op.create_index('ix_stock_alerts_variant_id', 'stock_alerts', ['variant_id'])
    op.create_table(
        'muted_alerts',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id', 'kind'),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_alert_at', When, nullable=True))
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_instructions', sa.Text(), nullable=True))
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rating_sum', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_asked_at', When, nullable=True))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_order_lines_returned_within_quantity',
                                         'returned >= 0 AND returned <= quantity')
    # A line's commission: one sale entry, plus one negative entry per return that claws it back.
    unique = SALE_UNIQUE_PG if op.get_bind().dialect.name == 'postgresql' else SALE_UNIQUE
    with op.batch_alter_table('commissions', schema=None,
                              naming_convention={'uq': 'uq_%(table_name)s_%(column_0_name)s'}) as batch_op:
        batch_op.add_column(sa.Column('return_id', Id, nullable=True))
        batch_op.create_foreign_key('fk_commissions_return_id_returns', 'returns', ['return_id'], ['id'])
        batch_op.drop_constraint(unique, type_='unique')
        batch_op.create_unique_constraint('uq_commissions_line_return', ['order_line_id', 'return_id'])
    op.create_index('uq_commissions_sale_line', 'commissions', ['order_line_id'], unique=True,
                    sqlite_where=sa.text('return_id IS NULL'), postgresql_where=sa.text('return_id IS NULL'))
    op.create_index('ix_price_changes_at', 'price_changes', ['changed_at'])
    op.create_index('ix_orders_seller_created', 'orders', ['seller_id', 'created_at'])
    due = sa.text("status = 'delivered' AND review_asked_at IS NULL")
    op.create_index('ix_orders_review_due', 'orders', ['delivered_at'], sqlite_where=due, postgresql_where=due)


def downgrade() -> None:
    op.drop_index('ix_orders_review_due', table_name='orders')
    op.drop_index('ix_orders_seller_created', table_name='orders')
    op.drop_index('ix_price_changes_at', table_name='price_changes')
    op.drop_index('uq_commissions_sale_line', table_name='commissions')
    op.execute('DELETE FROM commissions WHERE return_id IS NOT NULL')
    unique = SALE_UNIQUE_PG if op.get_bind().dialect.name == 'postgresql' else SALE_UNIQUE
    with op.batch_alter_table('commissions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_commissions_line_return', type_='unique')
        batch_op.create_unique_constraint(unique, ['order_line_id'])
        batch_op.drop_constraint('fk_commissions_return_id_returns', type_='foreignkey')
        batch_op.drop_column('return_id')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint('ck_order_lines_returned_within_quantity', type_='check')
        batch_op.drop_column('returned')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('review_asked_at')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('rating_sum')
        batch_op.drop_column('rating_count')
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.drop_column('return_instructions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('price_alert_at')
    op.drop_table('muted_alerts')
    op.drop_index('ix_stock_alerts_variant_id', table_name='stock_alerts')
    op.drop_table('stock_alerts')
    op.drop_index('ix_saved_items_product_id', table_name='saved_items')
    op.drop_table('saved_items')
    op.drop_index('ix_return_events_return_id', table_name='return_events')
    op.drop_table('return_events')
    op.drop_index('ix_return_lines_order_line_id', table_name='return_lines')
    op.drop_index('ix_return_lines_return_id', table_name='return_lines')
    op.drop_table('return_lines')
    op.drop_index('ix_returns_buyer_id', table_name='returns')
    op.drop_index('ix_returns_seller_id', table_name='returns')
    op.drop_index('ix_returns_order_id', table_name='returns')
    op.drop_index('ix_returns_status_created', table_name='returns')
    op.drop_table('returns')
    op.drop_index('ix_reviews_buyer_id', table_name='reviews')
    op.drop_index('ix_reviews_seller_id', table_name='reviews')
    op.drop_index('ix_reviews_order_id', table_name='reviews')
    op.drop_index('ix_reviews_product_created', table_name='reviews')
    op.drop_table('reviews')
