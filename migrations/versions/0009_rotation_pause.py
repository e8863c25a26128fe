"""rotation pause: the round's clock can be stopped and resumed

Revision ID: 0009_rotation_pause
Revises: 0008_sign_ins
Create Date: 2026-12-05 04:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0009_rotation_pause'
down_revision = '0008_sign_ins'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rotation_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('rotation_plan', schema=None) as batch_op:
        batch_op.drop_column('paused_at')
