"""workers: when each job worker was last seen (readiness and /metrics)

Revision ID: 0015_workers
Revises: 0014_queues
Create Date: 2026-12-06 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0015_workers'
down_revision = '0014_queues'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_seen',
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('last_seen', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_seen')),
    )
    with op.batch_alter_table('worker_seen', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_worker_seen_last_seen'), ['last_seen'], unique=False
        )


def downgrade():
    with op.batch_alter_table('worker_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_seen_last_seen'))
    op.drop_table('worker_seen')
