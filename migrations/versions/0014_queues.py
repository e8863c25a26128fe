"""queues: jobs carry the queue of their kind ("default" or "heavy"), and the
claim's index leads with it (mixer worker --queues)

Revision ID: 0014_queues
Revises: 0013_checkin_reported
Create Date: 2026-12-07 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_queues'
down_revision = '0013_checkin_reported'
branch_labels = None
depends_on = None

# The kinds registered as heavy when this migration was written (their handlers
# say so with @handler(..., queue="heavy")); jobs already waiting move with them.
HEAVY_KINDS = ('badges.batch', 'rotations.printout')


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'queue', sa.String(length=10), nullable=False, server_default='default'
            )
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_job_queue'), "queue IN ('default', 'heavy')"
        )
        batch_op.drop_index('ix_job_due')
        batch_op.create_index(
            'ix_job_queue_due', ['queue', 'status', 'run_at'], unique=False
        )
    job = sa.table('job', sa.column('kind', sa.String), sa.column('queue', sa.String))
    op.execute(
        job.update().where(job.c.kind.in_(HEAVY_KINDS)).values(queue='heavy')
    )


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_queue_due')
        batch_op.create_index('ix_job_due', ['status', 'run_at'], unique=False)
        batch_op.drop_constraint(batch_op.f('ck_job_queue'), type_='check')
        batch_op.drop_column('queue')
