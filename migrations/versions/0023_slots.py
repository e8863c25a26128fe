"""slots: five-minute slots, offers and bookings (issue 20)

Revision ID: 0023_slots
Revises: 0022_locale
Create Date: 2026-12-06 07:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = "0023_slots"
down_revision = "0022_locale"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "slot_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("weekly_cap", sa.Integer(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", mixer.db_types.UTCDateTime(), nullable=True),
        sa.Column("created_at", mixer.db_types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('weekly', 'once')", name=op.f("ck_slot_offer_kind")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 60", name=op.f("ck_slot_offer_slot_minutes")
        ),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_slot_offer_times")),
        sa.CheckConstraint(
            "weekly_cap IS NULL OR weekly_cap BETWEEN 1 AND 200",
            name=op.f("ck_slot_offer_weekly_cap"),
        ),
        sa.CheckConstraint(
            "(kind = 'once' AND on_date IS NOT NULL) OR (kind = 'weekly' AND weekdays <> '')",
            name=op.f("ck_slot_offer_rule"),
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["user.id"],
            name=op.f("fk_slot_offer_host_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_slot_offer_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_offer")),
    )
    op.create_index(
        "ix_slot_offer_org_active", "slot_offer", ["org_id", "active"], unique=False
    )
    op.create_index("ix_slot_offer_host", "slot_offer", ["host_id"], unique=False)
    op.create_table(
        "slot_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("guest_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", mixer.db_types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", mixer.db_types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("about", sa.String(length=140), nullable=False),
        sa.Column("ics_uid", sa.String(length=120), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), nullable=False),
        sa.Column("helped", sa.String(length=10), nullable=True),
        sa.Column("helped_at", mixer.db_types.UTCDateTime(), nullable=True),
        sa.Column("host_keeps", sa.Boolean(), nullable=False),
        sa.Column("guest_keeps", sa.Boolean(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", mixer.db_types.UTCDateTime(), nullable=True),
        sa.Column("created_at", mixer.db_types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled')", name=op.f("ck_slot_booking_status")
        ),
        sa.CheckConstraint(
            "helped IN ('yes', 'somewhat', 'no')", name=op.f("ck_slot_booking_helped")
        ),
        sa.CheckConstraint(
            "host_id <> guest_id", name=op.f("ck_slot_booking_two_people")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["slot_offer.id"],
            name=op.f("fk_slot_booking_offer_id_slot_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_slot_booking_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["user.id"],
            name=op.f("fk_slot_booking_host_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guest_id"],
            ["user.id"],
            name=op.f("fk_slot_booking_guest_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["pair.id"],
            name=op.f("fk_slot_booking_pair_id_pair"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_booking")),
        sa.UniqueConstraint("ics_uid", name=op.f("uq_slot_booking_ics_uid")),
    )
    op.create_index(
        "uq_slot_booking_live",
        "slot_booking",
        ["host_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.create_index(
        "ix_slot_booking_offer_starts",
        "slot_booking",
        ["offer_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_slot_booking_guest_starts",
        "slot_booking",
        ["guest_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_slot_booking_org_helped",
        "slot_booking",
        ["org_id", "helped_at"],
        unique=False,
    )


def downgrade():
    op.drop_table("slot_booking")
    op.drop_table("slot_offer")
