"""Events, their sessions and organizers, registrations, series and calendar feeds.

Times are stored in UTC (``UTCDateTime``); ``Event.timezone`` is the IANA zone the
event happens in, used to show it and to read organizers' wall-clock input.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model, db

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization

KINDS = ("mentor_mixer", "lunch_and_learn", "workshop")
KIND_LABELS = {
    "mentor_mixer": "Mentor Mixer",
    "lunch_and_learn": "Lunch & Learn",
    "workshop": "Workshop",
}


class EventStatus(StrEnum):
    """Where an event is in its life: draft → published → ended, or cancelled."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ENDED = "ended"


class RegistrationStatus(StrEnum):
    """A place at an event: pending (a guest who has not confirmed yet),
    registered (holds a seat), waitlisted (in the queue) or cancelled."""

    PENDING = "pending"
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


STATUSES = tuple(s.value for s in EventStatus)
VISIBILITIES = ("members", "link")
REGISTRATION_STATUSES = tuple(s.value for s in RegistrationStatus)
# "Active" registrations hold a seat or a place in the queue.
ACTIVE_STATUSES = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
ROLES = ("mentor", "mentee", "either")
SOURCES = ("member", "guest", "organizer", "api")

event_organizer = Table(
    "event_organizer",
    db.metadata,
    Column(
        "event_id",
        ForeignKey("event.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class EventSeries(Model):
    """Events made together from one repeat rule (e.g. first Thursday, monthly)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(200))  # RFC 5545 RRULE text
    description: Mapped[str] = mapped_column(String(200))  # "First Thursday, monthly"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<EventSeries {self.id} {self.rule}>"


class Event(Model):
    """A Mentor Mixer, lunch-and-learn or workshop of one organization."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str | None] = mapped_column(String(200))  # room, building
    address: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int]
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visibility: Mapped[str] = mapped_column(String(10), default="members")
    # Anyone holding this key may see a visibility=link event and register as a guest.
    share_key: Mapped[str] = mapped_column(String(32))
    status: Mapped[EventStatus] = mapped_column(
        StrEnumType(EventStatus, 10), default=EventStatus.DRAFT
    )
    # Calendar identity: one UID for the event's whole life, SEQUENCE raised on change.
    ical_uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    # Lunch-and-learn
    topic: Mapped[str | None] = mapped_column(String(200))
    speakers: Mapped[str | None] = mapped_column(String(300))  # names, free text
    asks_dietary: Mapped[bool] = mapped_column(default=False)
    # Workshop: exercises (Markdown; role-play prompts) shown to attendees
    exercises: Mapped[str | None] = mapped_column(Text)
    # Mentor Mixer
    rounds: Mapped[int | None]
    minutes_per_round: Mapped[int | None]
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_series.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    org: Mapped[Organization] = relationship()
    series: Mapped[EventSeries | None] = relationship()
    organizers: Mapped[list[User]] = relationship(
        secondary=event_organizer, order_by="User.name"
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(EventSession.position, EventSession.id)",
    )

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="times"),
        CheckConstraint(
            "rounds IS NULL OR (rounds > 0 AND rounds <= 50)", name="rounds"
        ),
        CheckConstraint(
            "minutes_per_round IS NULL OR "
            "(minutes_per_round > 0 AND minutes_per_round <= 120)",
            name="minutes_per_round",
        ),
        Index("ix_event_org_starts", "org_id", "starts_at"),
    )

    @property
    def kind_label(self) -> str:
        """The kind as people say it ("Lunch & Learn")."""
        return KIND_LABELS[self.kind]

    @property
    def is_past(self) -> bool:
        """Whether the event has finished."""
        return self.ends_at <= clock.now()

    @property
    def display_status(self) -> str:
        """The status, with a published event that has finished shown as ended."""
        if self.status == "published" and self.is_past:
            return "ended"
        return self.status

    @property
    def place(self) -> str:
        """Venue and address in one line (empty when online only)."""
        return ", ".join(p for p in (self.venue, self.address) if p)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.kind} {self.title!r}>"


class EventSession(Model):
    """A part of an event's programme: a workshop's agenda item, or the talk itself.

    Every event has at least one session; speakers' material attaches here.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    speaker_name: Mapped[str | None] = mapped_column(String(200))

    event: Mapped[Event] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<EventSession {self.id} event={self.event_id} {self.title!r}>"


class Registration(Model):
    """One person's place at an event: pending, registered, waitlisted or cancelled.

    ``waitlist_position`` is 1, 2, 3… without gaps among the event's waitlisted
    registrations; it is only changed while the event row is locked.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))  # lower case
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[RegistrationStatus] = mapped_column(
        StrEnumType(RegistrationStatus, 12)
    )
    waitlist_position: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(10), default="member")
    role: Mapped[str | None] = mapped_column(String(10))
    department: Mapped[str | None] = mapped_column(String(80))
    level: Mapped[int | None]
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    seeks: Mapped[list[str]] = mapped_column(JSON, default=list)
    dietary: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret in the badge's QR code (``BASE_URL/c/<token>``): 128 random bits.
    badge_token: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: new_badge_token()
    )

    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        CheckConstraint(f"status IN {REGISTRATION_STATUSES!r}", name="status"),
        CheckConstraint(f"source IN {SOURCES!r}", name="source"),
        CheckConstraint(f"role IS NULL OR role IN {ROLES!r}", name="role"),
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name="waitlist_position",
        ),
        Index("ix_registration_event_status", "event_id", "status"),
    )

    @property
    def is_active(self) -> bool:
        """Holds a seat or a place on the waitlist."""
        return self.status in ACTIVE_STATUSES

    @hybrid_property
    def holds_seat(self) -> bool:
        """Registered: counts against the capacity (in Python and in SQL)."""
        return self.status == RegistrationStatus.REGISTERED

    @hybrid_property
    def is_checked_in(self) -> bool:
        """Came through the door: registered and checked in (Python and SQL).

        Check-in only ever stamps a registered place; a place cancelled or moved
        to the waitlist afterwards no longer counts as present.
        """
        return self.status == RegistrationStatus.REGISTERED and (
            self.checked_in_at is not None
        )

    @is_checked_in.inplace.expression
    @classmethod
    def _is_checked_in_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.status == RegistrationStatus.REGISTERED, cls.checked_in_at.is_not(None)
        )

    def __repr__(self) -> str:
        return f"<Registration {self.id} event={self.event_id} {self.status}>"


def new_badge_token() -> str:
    """A fresh badge token: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def _count_of(status: str):
    """Registrations of one status for the row's event (load with ``undefer``)."""
    return column_property(
        select(func.count(Registration.id))
        .where(Registration.event_id == Event.id, Registration.status == status)
        .correlate_except(Registration)
        .scalar_subquery(),
        deferred=True,
    )


# Counted in SQL with the event when a list asks for them (one query for a page).
Event.registered_count = _count_of("registered")
Event.waitlisted_count = _count_of("waitlisted")


class CalendarFeed(Model):
    """A secret, revocable ICS feed URL: a person's events, or an organization's."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # None: the person's own registrations in every organization.
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship()
    org: Mapped[Organization | None] = relationship()

    __table_args__ = (Index("ix_calendar_feed_owner", "user_id", "org_id"),)

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} user={self.user_id} org={self.org_id}>"
