"""Promotions: coupons and creators' codes with their uses, flash deals with reminders, a price history

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'coupons',
        sa.Column('id', Id, nullable=False),
        sa.Column('scope', sa.BigInteger(), nullable=False),
        sa.Column('seller_id', Id, nullable=True),
        sa.Column('creator_id', Id, nullable=True),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('percent_off', sa.SmallInteger(), nullable=True),
        sa.Column('amount_off', sa.BigInteger(), nullable=True),
        sa.Column('min_spend', sa.BigInteger(), nullable=False),
        sa.Column('starts_at', When, nullable=True),
        sa.Column('ends_at', When, nullable=True),
        sa.Column('max_uses', sa.Integer(), nullable=True),
        sa.Column('per_shopper', sa.Integer(), nullable=True),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.CheckConstraint('uses >= 0', name='ck_coupons_uses_not_negative'),
        sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name='ck_coupons_uses_within_max'),
        sa.CheckConstraint('(percent_off IS NULL) <> (amount_off IS NULL)', name='ck_coupons_one_kind_of_discount'),
        sa.ForeignKeyConstraint(['creator_id'], ['creators.id']),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scope', 'code', name='uq_coupons_scope_code'),
    )
    op.create_index('ix_coupons_code', 'coupons', ['code'])
    op.create_index('ix_coupons_seller_id', 'coupons', ['seller_id'])
    op.create_index('ix_coupons_creator_id', 'coupons', ['creator_id'])
    op.create_table(
        'coupon_products',
        sa.Column('coupon_id', Id, nullable=False),
        sa.Column('product_id', Id, nullable=False),
        sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id']),
        sa.ForeignKeyConstraint(['product_id'], ['products.id']),
        sa.PrimaryKeyConstraint('coupon_id', 'product_id'),
    )
    op.create_table(
        'coupon_uses',
        sa.Column('id', Id, nullable=False),
        sa.Column('coupon_id', Id, nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.Column('returned_at', When, nullable=True),
        sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_coupon_uses_coupon_user', 'coupon_uses', ['coupon_id', 'user_id'])
    op.create_table(
        'price_changes',
        sa.Column('id', Id, nullable=False),
        sa.Column('variant_id', Id, nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('changed_at', When, nullable=False),
        sa.ForeignKeyConstraint(['variant_id'], ['variants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_price_changes_variant_at', 'price_changes', ['variant_id', 'changed_at'])
    op.create_table(
        'flash_deals',
        sa.Column('id', Id, nullable=False),
        sa.Column('variant_id', Id, nullable=False),
        sa.Column('seller_id', Id, nullable=False),
        sa.Column('price', sa.BigInteger(), nullable=False),
        sa.Column('starts_at', When, nullable=False),
        sa.Column('ends_at', When, nullable=False),
        sa.Column('cap', sa.Integer(), nullable=True),
        sa.Column('sold', sa.Integer(), nullable=False),
        sa.Column('announced_at', When, nullable=True),
        sa.Column('cancelled_at', When, nullable=True),
        sa.Column('created_at', When, nullable=False),
        sa.CheckConstraint('sold >= 0', name='ck_flash_deals_sold_not_negative'),
        sa.CheckConstraint('cap IS NULL OR sold <= cap', name='ck_flash_deals_sold_within_cap'),
        sa.CheckConstraint('price > 0', name='ck_flash_deals_price_positive'),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id']),
        sa.ForeignKeyConstraint(['variant_id'], ['variants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_flash_deals_variant_time', 'flash_deals', ['variant_id', 'starts_at', 'ends_at'])
    op.create_index('ix_flash_deals_time', 'flash_deals', ['starts_at', 'ends_at'])
    op.create_index('ix_flash_deals_seller_id', 'flash_deals', ['seller_id'])
    op.create_table(
        'deal_reminders',
        sa.Column('deal_id', Id, nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', When, nullable=False),
        sa.ForeignKeyConstraint(['deal_id'], ['flash_deals.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('deal_id', 'user_id'),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promo_code', sa.String(length=20), nullable=True))
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('platform_discount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('coupon_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('coupon_use_id', Id, nullable=True))
        batch_op.create_foreign_key('fk_orders_coupon_use_id_coupon_uses', 'coupon_uses', ['coupon_use_id'], ['id'])
        batch_op.create_index('ix_orders_coupon_use_id', ['coupon_use_id'])
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('deal_id', Id, nullable=True))
        batch_op.create_foreign_key('fk_order_lines_deal_id_flash_deals', 'flash_deals', ['deal_id'], ['id'])
    # Every variant's price so far, as of now: the history a flash deal's price is checked against.
    op.execute("INSERT INTO price_changes (variant_id, price, changed_at) "
               "SELECT id, price, CURRENT_TIMESTAMP FROM variants")


def downgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint('fk_order_lines_deal_id_flash_deals', type_='foreignkey')
        batch_op.drop_column('deal_id')
        batch_op.drop_column('discount')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_coupon_use_id')
        batch_op.drop_constraint('fk_orders_coupon_use_id_coupon_uses', type_='foreignkey')
        batch_op.drop_column('coupon_use_id')
        batch_op.drop_column('coupon_code')
        batch_op.drop_column('platform_discount')
        batch_op.drop_column('discount')
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_column('discount')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('promo_code')
    op.drop_table('deal_reminders')
    op.drop_index('ix_flash_deals_seller_id', table_name='flash_deals')
    op.drop_index('ix_flash_deals_time', table_name='flash_deals')
    op.drop_index('ix_flash_deals_variant_time', table_name='flash_deals')
    op.drop_table('flash_deals')
    op.drop_index('ix_price_changes_variant_at', table_name='price_changes')
    op.drop_table('price_changes')
    op.drop_index('ix_coupon_uses_coupon_user', table_name='coupon_uses')
    op.drop_table('coupon_uses')
    op.drop_table('coupon_products')
    op.drop_index('ix_coupons_creator_id', table_name='coupons')
    op.drop_index('ix_coupons_seller_id', table_name='coupons')
    op.drop_index('ix_coupons_code', table_name='coupons')
    op.drop_table('coupons')
