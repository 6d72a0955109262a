"""Digital goods: a product's kind, a digital variant's delivery, pools of codes, an order's kind

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='physical', nullable=False))
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('content', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('content_type', sa.String(length=16), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='physical', nullable=False))
    op.create_table(
        'digital_codes',
        sa.Column('id', Id, nullable=False),
        sa.Column('variant_id', Id, nullable=False),
        sa.Column('code', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('order_line_id', Id, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id']),
        sa.ForeignKeyConstraint(['variant_id'], ['variants.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('variant_id', 'code', name='uq_digital_codes_variant_code'),
    )
    op.create_index('ix_digital_codes_variant_status', 'digital_codes', ['variant_id', 'status', 'id'])
    op.create_index('ix_digital_codes_order_line_id', 'digital_codes', ['order_line_id'])


def downgrade() -> None:
    op.drop_index('ix_digital_codes_order_line_id', table_name='digital_codes')
    op.drop_index('ix_digital_codes_variant_status', table_name='digital_codes')
    op.drop_table('digital_codes')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_column('content_type')
        batch_op.drop_column('content')
        batch_op.drop_column('delivery')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('kind')
