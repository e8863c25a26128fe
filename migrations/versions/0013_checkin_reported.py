"""checkin reported: an index on check-ins by pair, status and report time, for
the month's recognition scores of one organization

Revision ID: 0013_checkin_reported
Revises: 0012_followup_reach
Create Date: 2026-12-06 00:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_checkin_reported'
down_revision = '0012_followup_reach'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pair_checkin', schema=None) as batch_op:
        batch_op.create_index(
            'ix_pair_checkin_pair_reported',
            ['pair_id', 'status', 'reported_at'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('pair_checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_pair_checkin_pair_reported')
