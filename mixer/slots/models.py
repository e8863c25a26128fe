"""Slot offers (a rule of open times) and the bookings made in them.

An offer is a host's rule in their own zone: on some weekdays (``weekly``) or on
one date (``once``), from ``start_time`` to ``end_time`` local time, cut into
``slot_minutes`` slots. The slots themselves are never stored, only computed
(``mixer.slots.availability``); a booking stores its start and end in UTC.

A host's live booking of an instant exists once: the partial unique index
``uq_slot_booking_live`` on (host_id, starts_at) WHERE status = 'booked', so a
cancelled booking does not block booking the slot again.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization


class OfferKind(StrEnum):
    """Every week on some weekdays, or on one date."""

    WEEKLY = "weekly"
    ONCE = "once"


class BookingStatus(StrEnum):
    """booked → cancelled (by either side). A moved booking stays booked."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class Helped(StrEnum):
    """The guest's answer to "did it help?"."""

    YES = "yes"
    SOMEWHAT = "somewhat"
    NO = "no"


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


class SlotOffer(Model):
    """A host's open slots: a weekly rule or a one-off date, in their zone."""

    __tablename__ = "slot_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    host_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[OfferKind] = mapped_column(StrEnumType(OfferKind, 10))
    # ISO weekdays, Monday 1 … Sunday 7, as "2,4" (weekly offers).
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    on_date: Mapped[date | None] = mapped_column(Date)  # one-off offers
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(default=5)
    timezone: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(200), default="")
    weekly_cap: Mapped[int | None] = mapped_column()  # None: no cap
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Deleted by its host: hidden everywhere, kept for its past bookings' answers.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    org: Mapped[Organization] = relationship()
    host: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN {_values(OfferKind)!r}", name="kind"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 60", name="slot_minutes"),
        CheckConstraint("start_time < end_time", name="times"),
        CheckConstraint(
            "weekly_cap IS NULL OR weekly_cap BETWEEN 1 AND 200", name="weekly_cap"
        ),
        CheckConstraint(
            "(kind = 'once' AND on_date IS NOT NULL) OR "
            "(kind = 'weekly' AND weekdays <> '')",
            name="rule",
        ),
        Index("ix_slot_offer_org_active", "org_id", "active"),
        Index("ix_slot_offer_host", "host_id"),
    )

    @property
    def days(self) -> set[int]:
        """The ISO weekdays of a weekly offer."""
        return {int(d) for d in self.weekdays.split(",") if d.strip()}

    def __repr__(self) -> str:
        return f"<SlotOffer {self.id} host={self.host_id} {self.kind}>"


class SlotBooking(Model):
    """One slot of an offer, booked by a guest; times in UTC."""

    __tablename__ = "slot_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("slot_offer.id", ondelete="CASCADE")
    )
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    host_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    guest_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        StrEnumType(BookingStatus, 10), default=BookingStatus.BOOKED
    )
    about: Mapped[str] = mapped_column(String(140), default="")
    ics_uid: Mapped[str] = mapped_column(String(120), unique=True)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    helped: Mapped[Helped | None] = mapped_column(StrEnumType(Helped, 10))
    helped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Keep talking every two weeks?": each side's yes, and the pair it made.
    host_keeps: Mapped[bool] = mapped_column(default=False)
    guest_keeps: Mapped[bool] = mapped_column(default=False)
    pair_id: Mapped[int | None] = mapped_column(
        ForeignKey("pair.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    offer: Mapped[SlotOffer] = relationship()
    host: Mapped[User] = relationship(foreign_keys=[host_id])
    guest: Mapped[User] = relationship(foreign_keys=[guest_id])

    __table_args__ = (
        CheckConstraint(f"status IN {_values(BookingStatus)!r}", name="status"),
        CheckConstraint(f"helped IN {_values(Helped)!r}", name="helped"),
        CheckConstraint("host_id <> guest_id", name="two_people"),
        Index(
            "uq_slot_booking_live",
            "host_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_slot_booking_offer_starts", "offer_id", "starts_at"),
        Index("ix_slot_booking_guest_starts", "guest_id", "starts_at"),
        Index("ix_slot_booking_org_helped", "org_id", "helped_at"),
    )

    @property
    def is_live(self) -> bool:
        """Booked, not cancelled."""
        return self.status == BookingStatus.BOOKED

    def side_of(self, user_id: int) -> str | None:
        """ "host", "guest", or None for anyone else."""
        if user_id == self.host_id:
            return "host"
        if user_id == self.guest_id:
            return "guest"
        return None

    def cancel(self) -> None:
        """The booking's one way to end: cancelled, the invite one version on."""
        self.status = BookingStatus.CANCELLED
        self.cancelled_at = clock.now()
        self.ics_sequence += 1

    def __repr__(self) -> str:
        return f"<SlotBooking {self.id} host={self.host_id} at={self.starts_at}>"
