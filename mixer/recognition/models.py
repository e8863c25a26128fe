"""Testimonials (moderated before anyone sees them) and monthly awards."""

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.events.models import Event


class TestimonialStatus(StrEnum):
    """pending (nobody sees it) → approved (shown) or hidden; back to pending
    when its author changes approved words, or a moderator un-hides it."""

    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"


class TestimonialSource(StrEnum):
    """Where the words were given: the follow-up prompt, or a pair's feedback."""

    PROMPT = "prompt"
    PAIR = "pair"


class AwardStatus(StrEnum):
    """A draft only organizers see, or published (the person was told)."""

    DRAFT = "draft"
    PUBLISHED = "published"


TESTIMONIAL_STATUSES = tuple(s.value for s in TestimonialStatus)
TESTIMONIAL_SOURCES = tuple(s.value for s in TestimonialSource)
AWARD_STATUSES = tuple(s.value for s in AwardStatus)


def stored_text(text: str | None) -> str:
    """Text as it is kept: browsers send line breaks as CRLF, we keep LF, without
    surrounding blanks (so a re-save of the same words is seen to be the same)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class Testimonial(Model):
    """Words someone agreed to publish; shown only once an organizer approves them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    pair_id: Mapped[int | None] = mapped_column(
        ForeignKey("pair.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[TestimonialSource] = mapped_column(
        StrEnumType(TestimonialSource, 10), default=TestimonialSource.PROMPT
    )
    # Where it came from ("prompt:12", "pair:4:7"): one testimonial per source.
    source_key: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[TestimonialStatus] = mapped_column(
        StrEnumType(TestimonialStatus, 10), default=TestimonialStatus.PENDING
    )
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint(f"status IN {TESTIMONIAL_STATUSES!r}", name="status"),
        CheckConstraint(f"source IN {TESTIMONIAL_SOURCES!r}", name="source"),
        Index("ix_testimonial_org_status", "org_id", "status"),
    )

    @staticmethod
    def state_values(
        status: TestimonialStatus, by: User | None, now: datetime
    ) -> dict[str, Any]:
        """What moving to ``status`` writes: a moderator's decision records who and
        when; words their author changed go back to pending unreviewed; Mixer
        hiding words their author took back keeps the moderator's record."""
        values: dict[str, Any] = {"status": status}
        if by is not None:
            values.update(moderated_by_id=by.id, moderated_at=now)
        elif status == TestimonialStatus.PENDING:
            values.update(moderated_by_id=None, moderated_at=None)
        else:
            values.update(moderated_at=now)
        return values

    def update_state(
        self,
        status: TestimonialStatus,
        by: User | None = None,
        now: datetime | None = None,
    ) -> None:
        """Move to ``status`` (see ``state_values``)."""
        for key, value in self.state_values(status, by, now or clock.now()).items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<Testimonial {self.id} {self.status}>"


class Award(Model):
    """Micro-Mentor of the Month of one organization (``month`` is "YYYY-MM")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    month: Mapped[str] = mapped_column(String(7))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(default=0.0)
    # What counted, as shown to organizers: [{"what": ..., "count": n, "points": p}]
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    citation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AwardStatus] = mapped_column(
        StrEnumType(AwardStatus, 10), default=AwardStatus.DRAFT
    )
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        UniqueConstraint("org_id", "month"),
        CheckConstraint(f"status IN {AWARD_STATUSES!r}", name="status"),
        CheckConstraint("month LIKE '____-__'", name="month"),
    )

    @staticmethod
    def state_values(
        status: AwardStatus, by: User | None, now: datetime
    ) -> dict[str, Any]:
        """What moving to ``status`` writes: publishing records who confirmed it and
        when; a draft has neither."""
        if status == AwardStatus.PUBLISHED:
            return {
                "status": status,
                "published_at": now,
                "confirmed_by_id": by.id if by is not None else None,
            }
        return {"status": status, "published_at": None, "confirmed_by_id": None}

    def update_state(
        self, status: AwardStatus, by: User | None = None, now: datetime | None = None
    ) -> None:
        """Move to ``status`` (see ``state_values``)."""
        for key, value in self.state_values(status, by, now or clock.now()).items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<Award {self.org_id} {self.month} user={self.user_id} {self.status}>"
