"""Testimonials (moderated before anyone sees them) and monthly awards."""

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

TESTIMONIAL_STATUSES = ("pending", "approved", "hidden")
TESTIMONIAL_SOURCES = ("prompt", "pair")
AWARD_STATUSES = ("draft", "published")


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
    source: Mapped[str] = mapped_column(String(10), default="prompt")
    # Where it came from ("prompt:12", "pair:4:7"): one testimonial per source.
    source_key: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
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
    status: Mapped[str] = mapped_column(String(10), default="draft")
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

    def __repr__(self) -> str:
        return f"<Award {self.org_id} {self.month} user={self.user_id} {self.status}>"
