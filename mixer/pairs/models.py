"""Mentoring pairs, their meetings and end-of-term feedback.

A pair is two people of one organization who agreed to keep talking: mentor and
mentee, or two peers. ``a_id < b_id`` always; ``mentor_id`` says which of the two
mentors (NULL for peers). ``open_key`` is set while the pair is active or paused
and NULL afterwards, so the database itself refuses a second open pair of the
same two people, even when both sides agree at the same instant.

The two meet regularly for a few minutes: a **meeting** (``PairMeeting``). People
read "check-in" for it (pages, e-mails, the API and the ``pair_checkin`` table
say so); in the code "check-in" is the door of an event (``mixer.checkin``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
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
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload
from sqlalchemy.sql import ColumnElement

from mixer import clock
from mixer.concurrency import lock_row
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.errors import NotFound
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.events.models import Event
    from mixer.orgs.models import Organization


class PairKind(StrEnum):
    """A mentor and a mentee, or two peers who learn from each other."""

    MENTORING = "mentoring"
    PEER = "peer"


class PairStatus(StrEnum):
    """active ⇄ paused; active or paused → ended (term over) or closed (stopped)."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"
    CLOSED = "closed"


class PairSource(StrEnum):
    """How a pair began: at an event, from an ask, or as a renewal."""

    EVENT = "event"
    ASK = "request"  # stored as "request": asks were first called mentor requests
    RENEWAL = "renewal"


class MeetingStatus(StrEnum):
    """scheduled: upcoming or awaiting an answer; met / moved / skipped: answered;
    missed: nobody answered in time. A moved meeting keeps its number, new due_at."""

    SCHEDULED = "scheduled"
    MET = "met"
    MOVED = "moved"
    SKIPPED = "skipped"
    MISSED = "missed"


def _values(members: tuple[StrEnum, ...] | type[StrEnum]) -> tuple[str, ...]:
    """Plain string values, for CHECK constraints (never the members' repr)."""
    return tuple(m.value for m in members)


PAIR_KINDS = _values(PairKind)
PAIR_STATUSES = _values(PairStatus)
PAIR_SOURCES = _values(PairSource)
MEETING_STATUSES = _values(MeetingStatus)
OPEN_STATUSES = (PairStatus.ACTIVE, PairStatus.PAUSED)
# Open meetings wait for their date or an answer; the others are history.
OPEN_MEETING = (MeetingStatus.SCHEDULED, MeetingStatus.MOVED)
# What the two may answer to "did you meet?"
ANSWERS = (MeetingStatus.MET, MeetingStatus.MOVED, MeetingStatus.SKIPPED)
# Missed in a row → a gentle nudge; → "pause or close?".
NUDGE_AT = 2
ASK_STANDING_AT = 3
# Where each state may go (``Pair.update_state``).
TRANSITIONS = {
    PairStatus.ACTIVE: {PairStatus.PAUSED, PairStatus.ENDED, PairStatus.CLOSED},
    PairStatus.PAUSED: {PairStatus.ACTIVE, PairStatus.ENDED, PairStatus.CLOSED},
    PairStatus.ENDED: set(),
    PairStatus.CLOSED: set(),
}


class Pair(Model):
    """Two people who keep in touch with short, regular meetings."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PairKind] = mapped_column(StrEnumType(PairKind, 10))
    a_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    b_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE")
    )
    status: Mapped[PairStatus] = mapped_column(
        StrEnumType(PairStatus, 10), default=PairStatus.ACTIVE
    )
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    source: Mapped[PairSource] = mapped_column(
        StrEnumType(PairSource, 10), default=PairSource.EVENT
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    ask_id: Mapped[int | None] = mapped_column(
        "request_id",  # the column keeps its first name
        ForeignKey("mentor_request.id", ondelete="SET NULL"),
    )
    renewed_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("pair.id", ondelete="SET NULL")
    )
    topic: Mapped[str | None] = mapped_column(String(200))
    cadence_days: Mapped[int] = mapped_column(default=14)
    # The column keeps the word people read ("check-in").
    meeting_minutes: Mapped[int] = mapped_column("checkin_minutes", default=5)
    first_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The zone its meetings are proposed and shown in (an IANA name).
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
    meetings: Mapped[list[PairMeeting]] = relationship(
        back_populates="pair",
        cascade="all, delete-orphan",
        order_by="PairMeeting.number",
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
            f"(status IN {_values(OPEN_STATUSES)!r}) = (open_key IS NOT NULL)",
            name="open_key",
        ),
        Index("ix_pair_org_status", "org_id", "status"),
        # The organizers' list, newest first, one page at a time.
        Index("ix_pair_org_created", "org_id", "created_at", "id"),
        # The pairs formed from one event (the insights funnel, per registration).
        Index("ix_pair_org_event", "org_id", "event_id"),
    )

    @property
    def mentee_id(self) -> int | None:
        """The mentee's user id (None for peers)."""
        if self.mentor_id is None:
            return None
        return self.b_id if self.mentor_id == self.a_id else self.a_id

    @hybrid_property
    def is_open(self) -> bool:
        """Active or paused: still a pair (in Python and in SQL)."""
        return self.status in OPEN_STATUSES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(OPEN_STATUSES)

    @property
    def people(self) -> tuple[User, User]:
        """The two people of the pair."""
        return self.a, self.b

    def has(self, user_id: int) -> bool:
        """Whether ``user_id`` is one of the two."""
        return user_id in (self.a_id, self.b_id)

    def other(self, user_id: int) -> int:
        """The other person's user id."""
        return self.b_id if user_id == self.a_id else self.a_id

    def other_person(self, user: User) -> User:
        """The other person of the pair."""
        return self.b if user.id == self.a_id else self.a

    def role_of(self, user_id: int) -> str:
        """ "mentor", "mentee" or "peer" for one of the two."""
        if self.mentor_id is None:
            return "peer"
        return "mentor" if user_id == self.mentor_id else "mentee"

    @property
    def open_meeting(self) -> PairMeeting | None:
        """The meeting that is planned or awaits an answer (at most one)."""
        return next((m for m in self.meetings if m.is_open), None)

    @property
    def next_meeting_at(self) -> datetime | None:
        """When the next meeting is due (None when paused, over or none is left)."""
        if self.status != PairStatus.ACTIVE:
            return None
        meeting = self.open_meeting
        return meeting.due_at if meeting else None

    @property
    def next_number(self) -> int:
        """The number the pair's next new meeting gets."""
        return max((m.number for m in self.meetings), default=0) + 1

    @property
    def streak(self) -> int:
        """Meetings held in a row, counting back from the latest settled one."""
        count = 0
        for meeting in reversed(self.meetings):
            if meeting.is_open:
                continue
            if meeting.status != MeetingStatus.MET:
                break
            count += 1
        return count

    @property
    def meetings_held(self) -> int:
        """Meetings the pair held."""
        return sum(m.status == MeetingStatus.MET for m in self.meetings)

    @property
    def meetings_missed(self) -> int:
        """Meetings missed or skipped (both count as missed)."""
        return sum(m.counts_as_missed for m in self.meetings)

    @property
    def standing_in_question(self) -> bool:
        """Active and missed often enough in a row to be asked "pause or close?"
        (until someone answers it, or they meet)."""
        return self.status == PairStatus.ACTIVE and self.missed_in_row >= (
            ASK_STANDING_AT
        )

    def update_state(self, status: PairStatus, now: datetime | None = None) -> None:
        """Move the pair to ``status``, with what goes with it.

        Pausing or resuming starts the missed-in-a-row count afresh; ending or
        closing frees ``open_key`` (the two may pair again) and stamps
        ``ended_at``. A move the life of a pair does not allow (e.g. out of
        "closed") is a mistake of the caller (ValueError).
        """
        status = PairStatus(status)
        if status not in TRANSITIONS[self.status]:
            raise ValueError(f"a pair cannot go from {self.status} to {status}")
        self.status = status
        if status in OPEN_STATUSES:
            self.missed_in_row = 0
        else:
            self.open_key = None
            self.ended_at = now or clock.now()

    def __repr__(self) -> str:
        return f"<Pair {self.id} {self.kind} {self.a_id}–{self.b_id} {self.status}>"


def open_key(org_id: int, a_id: int, b_id: int) -> str:
    """The value of ``Pair.open_key`` for an open pair of two users."""
    low, high = sorted((a_id, b_id))
    return f"{org_id}:{low}:{high}"


def lock_pair(pair_id: int) -> Pair | None:
    """Lock a pair's row for the transaction and read it afresh (None: it is gone).

    Concurrent ticks and answers of one pair then take turns instead of both
    settling the same meeting (``mixer.concurrency``). The two people, the
    organization, the event and the meetings come in the same round trip or
    one more, as every caller needs them (mail, pages).
    """
    return lock_row(
        Pair,
        pair_id,
        options=(
            joinedload(Pair.a),
            joinedload(Pair.b),
            joinedload(Pair.org),
            joinedload(Pair.event),
            selectinload(Pair.meetings),
        ),
    )


def locked(pair: Pair) -> Pair:
    """``pair`` locked and read afresh (404 if its organization went meanwhile)."""
    fresh = lock_pair(pair.id)
    if fresh is None:
        raise NotFound("This pair no longer exists.")
    return fresh


class PairMeeting(Model):
    """One of a pair's regular meetings (number 1, 2, 3… in order)."""

    __tablename__ = "pair_checkin"  # its first name; renaming the table needs none

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    number: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[MeetingStatus] = mapped_column(
        StrEnumType(MeetingStatus, 10), default=MeetingStatus.SCHEDULED
    )
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "What helped", by user id (as a string: JSON keys), each side's own words.
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pair: Mapped[Pair] = relationship(back_populates="meetings")

    __table_args__ = (
        UniqueConstraint("pair_id", "number"),
        CheckConstraint(f"status IN {MEETING_STATUSES!r}", name="status"),
        Index("ix_pair_checkin_due", "status", "due_at"),
        # The month's held check-ins of one organization's pairs (recognition
        # scores): read through its pairs, not every organization's check-ins.
        Index("ix_pair_checkin_pair_reported", "pair_id", "status", "reported_at"),
    )

    @property
    def is_open(self) -> bool:
        """Planned, or awaiting an answer (scheduled or moved)."""
        return self.status in OPEN_MEETING

    @property
    def counts_as_missed(self) -> bool:
        """Missed or skipped: either way it did not happen."""
        return self.status in (MeetingStatus.MISSED, MeetingStatus.SKIPPED)

    @property
    def takes_notes(self) -> bool:
        """Answered (met, skipped or moved): either person may still add a note."""
        return self.status in ANSWERS

    def record(
        self,
        status: MeetingStatus,
        by: User | None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Set the status someone reported (or Mixer: ``by`` None), with their note."""
        self.status = status
        if by is not None:
            self.reported_by_id = by.id
            self.reported_at = now or clock.now()
            self.add_note(by.id, note)

    def add_note(self, user_id: int, note: str | None) -> None:
        """Keep one person's own "what helped" (an empty note changes nothing)."""
        if note:
            self.notes = {**(self.notes or {}), str(user_id): note}

    def __repr__(self) -> str:
        return f"<PairMeeting pair={self.pair_id} #{self.number} {self.status}>"


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


class PairMeetingMonth(Model):
    """Meetings held and missed by one organization's pairs in one UTC month.

    Kept by database triggers on ``pair_checkin`` and ``pair`` (migration
    ``0016_pair_months``), so every write counts, the ORM's and a cascade's
    alike: inserting or deleting a meeting, changing its status or date, or
    deleting its pair (a deleted member's pairs go with them). The organizers'
    overview reads these rows instead of the organization's check-ins, so its
    cost does not grow with the number of pairs. ``mixer.pairs.tallies`` recounts
    them from the check-ins and says where they differ.
    """

    __tablename__ = "pair_checkin_month"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-12"
    held: Mapped[int] = mapped_column(default=0)
    missed: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        counts = f"{self.held}/{self.missed}"
        return f"<PairMeetingMonth org={self.org_id} {self.month} {counts}>"
