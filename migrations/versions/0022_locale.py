"""locale: a person's language and an organization's default language (issue 18)

Revision ID: 0022_locale
Revises: 0021_insights
Create Date: 2026-12-06 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_locale'
down_revision = '0021_insights'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_locale', sa.String(length=8), server_default='en', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('locale')

    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('default_locale')
