"""followup reach: the organizer's note on an event's prompts, and when each
prompt's one reminder went

Revision ID: 0012_followup_reach
Revises: 0011_remember
Create Date: 2026-12-05 21:25:59.204947

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0012_followup_reach'
down_revision = '0011_remember'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_followup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=True))

    with op.batch_alter_table('followup_prompt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('followup_prompt', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    with op.batch_alter_table('event_followup', schema=None) as batch_op:
        batch_op.drop_column('note')
