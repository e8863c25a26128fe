"""Schools' check-in lists: a teacher's (or student mentor's) list of students,
the short check-ins with each, and the mentors admins name.

Every row hangs off memberships with ``ON DELETE CASCADE``: a keeper who leaves
takes their lists and private notes with them, a student who leaves drops off
every list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model
from mixer.orgs.models import Membership

LIST_NAME_MAX = 80
NOTE_MAX = 2000


class RosterCadence(StrEnum):
    """How often the keeper means to check in with each student."""

    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def period(self) -> timedelta:
        """One period of this cadence."""
        return timedelta(days=1 if self is RosterCadence.DAILY else 7)


CADENCES = tuple(c.value for c in RosterCadence)


class RosterMentor(Model):
    """A member an admin allows to keep check-in lists (an older student mentor)."""

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    membership: Mapped[Membership] = relationship()

    def __repr__(self) -> str:
        return f"<RosterMentor membership={self.membership_id}>"


class RosterList(Model):
    """One keeper's check-in list ("Class 7b, daily")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(LIST_NAME_MAX))
    cadence: Mapped[RosterCadence] = mapped_column(
        StrEnumType(RosterCadence, 10), default=RosterCadence.WEEKLY
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    owner: Mapped[Membership] = relationship()
    entries: Mapped[list[RosterEntry]] = relationship(
        back_populates="roster_list", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("owner_id", "name"),
        CheckConstraint(f"cadence IN {CADENCES!r}", name="cadence"),
    )

    def __repr__(self) -> str:
        return f"<RosterList {self.id} {self.name!r} {self.cadence}>"


class RosterEntry(Model):
    """A student on a list; ``last_checkin_at`` is the latest check-in's time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("roster_list.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roster_list: Mapped[RosterList] = relationship(back_populates="entries")
    student: Mapped[Membership] = relationship()
    checkins: Mapped[list[RosterCheckin]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RosterCheckin.at.desc()",
    )

    __table_args__ = (UniqueConstraint("list_id", "student_id"),)

    @property
    def since(self) -> datetime:
        """Since when nobody checked in: the last check-in, else when added."""
        return self.last_checkin_at or self.added_at

    def due_at(self) -> datetime:
        """When the next check-in is due by the list's cadence."""
        return self.since + self.roster_list.cadence.period

    def nudge_at(self) -> datetime:
        """When the keeper gets a gentle nudge: two periods without a check-in."""
        return self.since + 2 * self.roster_list.cadence.period

    def state(self, now: datetime) -> str:
        """ "ok", "due" (a period passed) or "overdue" (two periods passed)."""
        if now >= self.nudge_at():
            return "overdue"
        if now >= self.due_at():
            return "due"
        return "ok"

    def __repr__(self) -> str:
        return f"<RosterEntry list={self.list_id} student={self.student_id}>"


class RosterCheckin(Model):
    """One check-in with a student; the note is the keeper's alone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entry.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    note: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[RosterEntry] = relationship(back_populates="checkins")

    def __repr__(self) -> str:
        return f"<RosterCheckin entry={self.entry_id} at={self.at:%Y-%m-%d}>"
