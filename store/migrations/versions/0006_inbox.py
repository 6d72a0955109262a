"""An inbox of received updates replaces the record of processed ones

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('lane', sa.BigInteger(), nullable=True),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_lane_state', ['lane', 'state', 'update_id'], unique=False)
        batch_op.create_index('ix_inbox_state_lane', ['state', 'lane'], unique=False)
        batch_op.create_index('ix_inbox_finished_at', ['finished_at'], unique=False)
    # Updates handled before the inbox stay known, so a late redelivery of one is still ignored.
    op.execute("INSERT INTO inbox (update_id, lane, priority, kind, payload, state, owner, lease_until, attempts, "
               "received_at, finished_at) SELECT update_id, NULL, 0, 'unknown', NULL, "
               "CASE WHEN outcome = 'failed' THEN 'failed' ELSE 'done' END, NULL, NULL, 1, claimed_at, claimed_at "
               "FROM processed_updates")
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_updates_claimed_at'))
    op.drop_table('processed_updates')


def downgrade() -> None:
    op.create_table('processed_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), server_default='ok', nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_updates_claimed_at'), ['claimed_at'], unique=False)
    op.execute("INSERT INTO processed_updates (update_id, claimed_at, outcome) SELECT update_id, "
               "COALESCE(finished_at, received_at), CASE WHEN state = 'failed' THEN 'failed' ELSE 'ok' END "
               "FROM inbox WHERE state IN ('applied', 'done', 'failed')")
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_finished_at')
        batch_op.drop_index('ix_inbox_state_lane')
        batch_op.drop_index('ix_inbox_lane_state')
    op.drop_table('inbox')
