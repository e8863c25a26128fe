"""remember: reporting lines, location, languages and mentoring capacity on
memberships; the look-back and location preference of rotation plans

Revision ID: 0011_remember
Revises: 0010_door
Create Date: 2026-12-05 21:23:01.415653

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0011_remember'
down_revision = '0010_door'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('mentoring_capacity', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('available_from', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_membership_manager_id'), ['manager_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_membership_manager_id_membership'), 'membership', ['manager_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_membership_mentoring_capacity'), 'mentoring_capacity >= 0 AND mentoring_capacity <= 20')
        batch_op.create_check_constraint(batch_op.f('ck_membership_manager'), 'manager_id IS NULL OR manager_id <> id')

    with op.batch_alter_table('rotation_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookback_months', sa.Integer(), server_default='12', nullable=True))
        batch_op.add_column(sa.Column('location_preference', sa.String(length=10), server_default='any', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_rotation_plan_location_preference'), "location_preference IN ('any', 'same', 'different')")
        batch_op.create_check_constraint(batch_op.f('ck_rotation_plan_lookback_months'), 'lookback_months IS NULL OR lookback_months >= 0')



def downgrade():
    with op.batch_alter_table('rotation_plan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_rotation_plan_lookback_months'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_rotation_plan_location_preference'), type_='check')
        batch_op.drop_column('location_preference')
        batch_op.drop_column('lookback_months')

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_membership_manager'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_membership_mentoring_capacity'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_membership_manager_id_membership'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_membership_manager_id'))
        batch_op.drop_column('available_from')
        batch_op.drop_column('mentoring_capacity')
        batch_op.drop_column('languages')
        batch_op.drop_column('location')
        batch_op.drop_column('manager_id')

