"""rotations: a Mentor Mixer's plan and its seats

Revision ID: 0006_rotations
Revises: 0005_speakers
Create Date: 2026-11-28 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0006_rotations'
down_revision = '0005_speakers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rotation_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('group_size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('min_level_gap', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('quality', sa.JSON(), nullable=False),
    sa.Column('participant_ids', sa.JSON(), nullable=False),
    sa.Column('sides', sa.JSON(), nullable=False),
    sa.Column('left_ids', sa.JSON(), nullable=False),
    sa.Column('current_round', sa.Integer(), nullable=False),
    sa.Column('round_started_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rounds > 0 AND rounds <= 50', name=op.f('ck_rotation_plan_rounds')),
    sa.CheckConstraint('minutes > 0 AND minutes <= 120', name=op.f('ck_rotation_plan_minutes')),
    sa.CheckConstraint("mode IN ('mentor_mentee', 'peer')", name=op.f('ck_rotation_plan_mode')),
    sa.CheckConstraint('group_size IN (2, 3)', name=op.f('ck_rotation_plan_group_size')),
    sa.CheckConstraint('current_round >= 0 AND current_round <= rounds', name=op.f('ck_rotation_plan_current_round')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_rotation_plan_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rotation_plan')),
    sa.UniqueConstraint('event_id', name=op.f('uq_rotation_plan_event_id'))
    )
    op.create_table('rotation_seat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=False),
    sa.Column('table_number', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('round_number > 0', name=op.f('ck_rotation_seat_round_number')),
    sa.CheckConstraint('table_number IS NULL OR table_number > 0', name=op.f('ck_rotation_seat_table_number')),
    sa.ForeignKeyConstraint(['plan_id'], ['rotation_plan.id'], name=op.f('fk_rotation_seat_plan_id_rotation_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_rotation_seat_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rotation_seat')),
    sa.UniqueConstraint('plan_id', 'round_number', 'registration_id', name=op.f('uq_rotation_seat_plan_id_round_number_registration_id'))
    )
    with op.batch_alter_table('rotation_seat', schema=None) as batch_op:
        batch_op.create_index('ix_rotation_seat_plan_round_table', ['plan_id', 'round_number', 'table_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_rotation_seat_registration_id'), ['registration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rotation_seat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rotation_seat_registration_id'))
        batch_op.drop_index('ix_rotation_seat_plan_round_table')

    op.drop_table('rotation_seat')
    op.drop_table('rotation_plan')
