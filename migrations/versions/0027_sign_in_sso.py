"""sign_in.via_sso: a sign-in made through an organization's single sign-on
survives that organization switching passwords off (issue 18)

Revision ID: 0027_sign_in_sso
Revises: 0026_insights_cache
Create Date: 2026-12-06 06:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0027_sign_in_sso"
down_revision = "0026_insights_cache"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy on SQLite): sign_in has no triggers, but
    # it is read on every request, so keep the change cheap.
    op.add_column(
        "sign_in",
        sa.Column("via_sso", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.drop_column("via_sso")
