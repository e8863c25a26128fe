"""Mentoring pairs, their check-ins and end-of-term feedback.

A pair is two people of one organization who agreed to keep talking: mentor and
mentee, or two peers. ``a_id < b_id`` always; ``mentor_id`` says which of the two
mentors (NULL for peers). ``open_key`` is set while the pair is active or paused
and NULL afterwards, so the database itself refuses a second open pair of the
same two people, even when both sides agree at the same instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.events.models import Event
    from mixer.orgs.models import Organization

PAIR_KINDS = ("mentoring", "peer")
# active → paused → active; active/paused → ended (term over) or closed (stopped early)
PAIR_STATUSES = ("active", "paused", "ended", "closed")
OPEN_STATUSES = ("active", "paused")
PAIR_SOURCES = ("event", "request", "renewal")
# scheduled: upcoming or awaiting an answer; met/moved/skipped: answered;
# missed: nobody answered in time. A moved check-in keeps its number, new due_at.
CHECKIN_STATUSES = ("scheduled", "met", "moved", "skipped", "missed")


class Pair(Model):
    """Two people who keep in touch with short, regular check-ins."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    a_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    b_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(10), default="active")
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="event")
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentor_request.id", ondelete="SET NULL")
    )
    renewed_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("pair.id", ondelete="SET NULL")
    )
    topic: Mapped[str | None] = mapped_column(String(200))
    cadence_days: Mapped[int] = mapped_column(default=14)
    checkin_minutes: Mapped[int] = mapped_column(default=5)
    first_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The zone its check-ins are proposed and shown in (an IANA name).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    term_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_in_row: Mapped[int] = mapped_column(default=0)
    # The recurring calendar invite: one UID for life, SEQUENCE up on each change.
    ics_uid: Mapped[str] = mapped_column(String(80), unique=True)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    org: Mapped[Organization] = relationship()
    a: Mapped[User] = relationship(foreign_keys=[a_id])
    b: Mapped[User] = relationship(foreign_keys=[b_id])
    event: Mapped[Event | None] = relationship()
    checkins: Mapped[list[PairCheckin]] = relationship(
        back_populates="pair",
        cascade="all, delete-orphan",
        order_by="PairCheckin.number",
    )
    feedback: Mapped[list[PairFeedback]] = relationship(
        back_populates="pair", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("a_id < b_id", name="ordered_pair"),
        CheckConstraint(f"kind IN {PAIR_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {PAIR_STATUSES!r}", name="status"),
        CheckConstraint(f"source IN {PAIR_SOURCES!r}", name="source"),
        CheckConstraint(
            "(kind = 'peer' AND mentor_id IS NULL) OR "
            "(kind = 'mentoring' AND mentor_id IN (a_id, b_id))",
            name="mentor",
        ),
        CheckConstraint("cadence_days BETWEEN 1 AND 92", name="cadence"),
        CheckConstraint("checkin_minutes BETWEEN 5 AND 120", name="minutes"),
        CheckConstraint(
            f"(status IN {OPEN_STATUSES!r}) = (open_key IS NOT NULL)", name="open_key"
        ),
        Index("ix_pair_org_status", "org_id", "status"),
    )

    @property
    def mentee_id(self) -> int | None:
        """The mentee's user id (None for peers)."""
        if self.mentor_id is None:
            return None
        return self.b_id if self.mentor_id == self.a_id else self.a_id

    @property
    def is_open(self) -> bool:
        """Active or paused: still a pair."""
        return self.status in OPEN_STATUSES

    def has(self, user_id: int) -> bool:
        """Whether ``user_id`` is one of the two."""
        return user_id in (self.a_id, self.b_id)

    def other(self, user_id: int) -> int:
        """The other person's user id."""
        return self.b_id if user_id == self.a_id else self.a_id

    def role_of(self, user_id: int) -> str:
        """ "mentor", "mentee" or "peer" for one of the two."""
        if self.mentor_id is None:
            return "peer"
        return "mentor" if user_id == self.mentor_id else "mentee"

    def __repr__(self) -> str:
        return f"<Pair {self.id} {self.kind} {self.a_id}–{self.b_id} {self.status}>"


def open_key(org_id: int, a_id: int, b_id: int) -> str:
    """The value of ``Pair.open_key`` for an open pair of two users."""
    low, high = sorted((a_id, b_id))
    return f"{org_id}:{low}:{high}"


class PairCheckin(Model):
    """One of a pair's regular check-ins (number 1, 2, 3… in order)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    number: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "What helped", by user id (as a string: JSON keys), each side's own words.
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pair: Mapped[Pair] = relationship(back_populates="checkins")

    __table_args__ = (
        UniqueConstraint("pair_id", "number"),
        CheckConstraint(f"status IN {CHECKIN_STATUSES!r}", name="status"),
        Index("ix_pair_checkin_due", "status", "due_at"),
    )

    def __repr__(self) -> str:
        return f"<PairCheckin pair={self.pair_id} #{self.number} {self.status}>"


class PairFeedback(Model):
    """One side's end-of-term feedback, and whether they would renew."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    rating: Mapped[int | None]
    helped: Mapped[str | None] = mapped_column(Text)
    wants_renewal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pair: Mapped[Pair] = relationship(back_populates="feedback")

    __table_args__ = (
        UniqueConstraint("pair_id", "user_id"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )

    def __repr__(self) -> str:
        return f"<PairFeedback pair={self.pair_id} by={self.user_id}>"
