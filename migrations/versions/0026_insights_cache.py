"""insights cache: the dashboard's figures per organization and filter (issue 17)

A snapshot of ``dashboard()`` as JSON, when it was computed and last read; the
page and the API read it instead of recounting 50,000 registrations on every
view (docs/insights.md, "Freshness").

Revision ID: 0026_insights_cache
Revises: 0025_school_charter
Create Date: 2026-12-06 06:30:00.000000

"""

from alembic import op
import sqlalchemy as sa
import mixer.db_types


# revision identifiers, used by Alembic.
revision = "0026_insights_cache"
down_revision = "0025_school_charter"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insight_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("filter_key", sa.String(length=200), nullable=False),
        sa.Column(
            "computed_at", mixer.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("used_at", mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_insight_snapshot_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_snapshot")),
        sa.UniqueConstraint(
            "org_id", "filter_key", name=op.f("uq_insight_snapshot_org_id_filter_key")
        ),
    )
    with op.batch_alter_table("insight_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_insight_snapshot_org_id"), ["org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_insight_snapshot_used_at"), ["used_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("insight_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insight_snapshot_used_at"))
        batch_op.drop_index(batch_op.f("ix_insight_snapshot_org_id"))

    op.drop_table("insight_snapshot")
