"""insights: an index on pairs by organization and event, for the dashboard's funnel

The funnel asks, for each registration of the period, whether its person is in
a pair formed from its event (``pair.org_id = ? AND pair.event_id = ?``). With
only one-column indexes SQLite walks every pair of the organization for each
registration (the org_id index), which took the dashboard of 5,000 people and
3,000 pairs about a minute; with this one it reads the event's few pairs.

Revision ID: 0021_insights
Revises: 0020_sso
Create Date: 2026-12-06 04:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021_insights'
down_revision = '0020_sso'
branch_labels = None
depends_on = None


def upgrade():
    # A plain CREATE INDEX: batch mode would rebuild the table on SQLite and drop
    # the pair_checkin_month triggers on it (0016_pair_months).
    op.create_index('ix_pair_org_event', 'pair', ['org_id', 'event_id'], unique=False)


def downgrade():
    op.drop_index('ix_pair_org_event', table_name='pair')
