"""check-in: badge tokens on registrations, scan nonces

Revision ID: 0004_checkin
Revises: 0003_connections
Create Date: 2026-11-28 12:00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

import mixer.db_types

# revision identifiers, used by Alembic.
revision = "0004_checkin"
down_revision = "0003_connections"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("badge_token", sa.String(length=32)))

    # Every existing registration gets its own random token before the column
    # becomes required and unique.
    conn = op.get_bind()
    registration = sa.table(
        "registration", sa.column("id", sa.Integer), sa.column("badge_token")
    )
    ids = conn.execute(
        sa.select(registration.c.id).where(registration.c.badge_token.is_(None))
    ).scalars()
    for rid in list(ids):
        conn.execute(
            registration.update()
            .where(registration.c.id == rid)
            .values(badge_token=secrets.token_urlsafe(16))
        )

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.alter_column(
            "badge_token", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_registration_badge_token"), ["badge_token"]
        )

    op.create_table(
        "checkin_nonce",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at", mixer.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_checkin_nonce_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_nonce")),
        sa.UniqueConstraint("nonce", name=op.f("uq_checkin_nonce_nonce")),
    )
    with op.batch_alter_table("checkin_nonce", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkin_nonce_registration_id"),
            ["registration_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("checkin_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_nonce_registration_id"))
    op.drop_table("checkin_nonce")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_registration_badge_token"), type_="unique"
        )
        batch_op.drop_column("badge_token")
