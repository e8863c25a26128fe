"""freebusy: a person's private calendar feed and its busy intervals (issue 20)

Revision ID: 0024_freebusy
Revises: 0023_slots
Create Date: 2026-12-06 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0024_freebusy'
down_revision = '0023_slots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'free_busy_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('url_sealed', sa.Text(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('fetched_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('synced_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=40), nullable=True),
        sa.Column('error_detail', sa.String(length=300), nullable=True),
        sa.Column('busy_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_free_busy_feed_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_free_busy_feed')),
        sa.UniqueConstraint('user_id', name=op.f('uq_free_busy_feed_user_id')),
    )
    op.create_table(
        'busy_interval',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ends_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_busy_interval_busy_interval_order')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_busy_interval_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_busy_interval')),
    )
    op.create_index('ix_busy_interval_user_starts', 'busy_interval', ['user_id', 'starts_at'], unique=False)


def downgrade():
    op.drop_index('ix_busy_interval_user_starts', table_name='busy_interval')
    op.drop_table('busy_interval')
    op.drop_table('free_busy_feed')
