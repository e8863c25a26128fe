"""Events, their sessions and organizers, registrations, series and calendar feeds.

Times are stored in UTC (``UTCDateTime``); ``Event.timezone`` is the IANA zone the
event happens in, used to show it and to read organizers' wall-clock input.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

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
    or_,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model, db
from mixer.formatting import time_span

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization


class EventKind(StrEnum):
    """The three kinds of event Mixer runs."""

    MENTOR_MIXER = "mentor_mixer"
    LUNCH_AND_LEARN = "lunch_and_learn"
    WORKSHOP = "workshop"


KIND_LABELS = {
    EventKind.MENTOR_MIXER: "Mentor Mixer",
    EventKind.LUNCH_AND_LEARN: "Lunch & Learn",
    EventKind.WORKSHOP: "Workshop",
}


class EventStatus(StrEnum):
    """Where an event is in its life: draft → published → ended, or cancelled."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ENDED = "ended"


class Visibility(StrEnum):
    """Who may see an event: the organization's members, or anyone with the link
    (``share_key``), who then registers as a guest."""

    MEMBERS = "members"
    LINK = "link"


class RegistrationStatus(StrEnum):
    """A place at an event: pending (a guest who has not confirmed yet),
    registered (holds a seat), waitlisted (in the queue) or cancelled."""

    PENDING = "pending"
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class RegistrationSource(StrEnum):
    """How a place was made: a member's click, a guest's form (confirmed by
    e-mail), an organizer on the attendee page, or the API."""

    MEMBER = "member"
    GUEST = "guest"
    ORGANIZER = "organizer"
    API = "api"


class MixerRole(StrEnum):
    """What someone would like to be at a mixer (badges print mentor or mentee)."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    EITHER = "either"


# Plain values, for CHECK constraints, API schemas and form choices.
KINDS = tuple(k.value for k in EventKind)
STATUSES = tuple(s.value for s in EventStatus)
VISIBILITIES = tuple(v.value for v in Visibility)
REGISTRATION_STATUSES = tuple(s.value for s in RegistrationStatus)
SOURCES = tuple(s.value for s in RegistrationSource)
ROLES = tuple(r.value for r in MixerRole)
# A walk-in registered at the door without an e-mail address gets a unique
# address in this reserved domain (RFC 2606), which no mail is ever sent to.
NO_EMAIL_DOMAIN = "walk-in.invalid"
# "Active" registrations hold a seat or a place in the queue.
ACTIVE_STATUSES = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)

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
    kind: Mapped[EventKind] = mapped_column(StrEnumType(EventKind, 20))
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
    visibility: Mapped[Visibility] = mapped_column(
        StrEnumType(Visibility, 10), default=Visibility.MEMBERS
    )
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
    if TYPE_CHECKING:
        # Deferred counts, defined below Registration (``undefer`` loads them).
        registered_count: Mapped[int]
        waitlisted_count: Mapped[int]

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

    @hybrid_property
    def is_past(self) -> bool:
        """Whether the event has finished: its end has passed, or it was closed
        (ended) before its planned end (in Python and in SQL)."""
        return self.status == EventStatus.ENDED or self.ends_at <= clock.now()

    @is_past.inplace.expression
    @classmethod
    def _is_past_expression(cls) -> ColumnElement[bool]:
        return or_(cls.status == EventStatus.ENDED, cls.ends_at <= clock.now())

    @property
    def display_status(self) -> EventStatus:
        """The status, with a published event that has finished shown as ended."""
        if self.status == EventStatus.PUBLISHED and self.is_past:
            return EventStatus.ENDED
        return self.status

    @property
    def when_text(self) -> str:
        """ "Thu 05 Mar 2026, 12:00–13:00 CET" in the event's own zone, in the
        language in force (mixer.formatting.time_span)."""
        return time_span(self.starts_at, self.ends_at, self.timezone)

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
    source: Mapped[RegistrationSource] = mapped_column(
        StrEnumType(RegistrationSource, 10), default=RegistrationSource.MEMBER
    )
    role: Mapped[MixerRole | None] = mapped_column(StrEnumType(MixerRole, 10))
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
    def has_email(self) -> bool:
        """False for a walk-in registered at the door without an address."""
        return not self.email.endswith("@" + NO_EMAIL_DOMAIN)

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

    def update_state(
        self, status: RegistrationStatus, now: datetime, *, position: int | None = None
    ) -> None:
        """Move this place to ``status`` at ``now``; the fields that go with a
        status follow it, so they never disagree:

        * pending: a fresh sign-up (nothing confirmed, promoted or cancelled yet);
        * registered: ``confirmed_at`` when it comes from pending, ``promoted_at``
          when it comes from the waitlist;
        * waitlisted at ``position`` (required): ``confirmed_at`` when it comes
          from pending;
        * cancelled: ``cancelled_at``.

        ``waitlist_position`` is set only while waitlisted. Renumbering the rest of
        the queue is the caller's (``mixer.events.registration``, under the
        event's lock).
        """
        was = self.status
        if status == RegistrationStatus.WAITLISTED:
            if position is None:
                raise ValueError("A waitlisted place needs a position.")
        elif position is not None:
            raise ValueError(f"A {status} place has no waitlist position.")
        if status == RegistrationStatus.PENDING:
            self.confirmed_at = self.promoted_at = self.cancelled_at = None
        elif status == RegistrationStatus.CANCELLED:
            self.cancelled_at = now
        elif was == RegistrationStatus.PENDING:
            self.confirmed_at = now
        elif was == RegistrationStatus.WAITLISTED and status != was:
            self.promoted_at = now
        self.status = status
        self.waitlist_position = position

    def __repr__(self) -> str:
        return f"<Registration {self.id} event={self.event_id} {self.status}>"


def new_badge_token() -> str:
    """A fresh badge token: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def _count_of(status: RegistrationStatus) -> Any:
    """Registrations of one status for the row's event (load with ``undefer``)."""
    return column_property(
        select(func.count(Registration.id))
        .where(Registration.event_id == Event.id, Registration.status == status)
        .correlate_except(Registration)
        .scalar_subquery(),
        deferred=True,
    )


# Counted in SQL with the event when a list asks for them (one query for a page).
Event.registered_count = _count_of(RegistrationStatus.REGISTERED)
Event.waitlisted_count = _count_of(RegistrationStatus.WAITLISTED)


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
