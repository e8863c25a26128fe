"""privacy: retention settings per organization, events whose details were removed (issue 18)

Revision ID: 0019_privacy
Revises: 0018_webhooks
Create Date: 2026-12-06 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0019_privacy'
down_revision = '0018_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'privacy_settings',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('retention_months', sa.Integer(), server_default='24', nullable=False),
        sa.Column('updated_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            'retention_months >= 0 AND retention_months <= 120',
            name=op.f('ck_privacy_settings_retention_months'),
        ),
        sa.ForeignKeyConstraint(
            ['org_id'], ['organization.id'],
            name=op.f('fk_privacy_settings_org_id_organization'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_privacy_settings')),
    )
    op.create_table(
        'event_retention',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('applied_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['event_id'], ['event.id'],
            name=op.f('fk_event_retention_event_id_event'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_retention')),
    )


def downgrade():
    op.drop_table('event_retention')
    op.drop_table('privacy_settings')
