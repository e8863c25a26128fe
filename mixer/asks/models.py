"""Asking for a micro-mentor on a topic, without an event.

A member writes a ``MentorRequest``; Mixer ranks people who offer the topic
(other departments first) as ``MentorSuggestion`` rows; the people asked accept or
decline, and the first acceptance becomes a pair (``mixer.pairs``). Declines stay
private: the requester never learns who said no.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization

REQUEST_STATUSES = ("open", "matched", "closed")
SUGGESTION_STATUSES = ("suggested", "asked", "accepted", "declined", "withdrawn")


class MentorRequest(Model):
    """A member asking for a micro-mentor on a topic, without an event."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the requester passed it on to the organizers (once per ask).
    organizers_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    requester: Mapped[User] = relationship()
    suggestions: Mapped[list[MentorSuggestion]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="MentorSuggestion.rank",
    )

    __table_args__ = (
        CheckConstraint(f"status IN {REQUEST_STATUSES!r}", name="status"),
    )

    def __repr__(self) -> str:
        return f"<MentorRequest {self.id} {self.topic!r} {self.status}>"


class MentorSuggestion(Model):
    """A person Mixer suggested for a request, and their answer when asked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("mentor_request.id", ondelete="CASCADE")
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="suggested")
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[MentorRequest] = relationship(back_populates="suggestions")
    candidate: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("request_id", "candidate_id"),
        CheckConstraint(f"status IN {SUGGESTION_STATUSES!r}", name="status"),
    )

    def __repr__(self) -> str:
        return (
            f"<MentorSuggestion request={self.request_id} "
            f"{self.candidate_id} {self.status}>"
        )
