"""The follow-up prompt after an event, and each attendee's choices in it.

One ``FollowupPrompt`` per checked-in registration of an event; one
``FollowupChoice`` per person the attendee met (a ``Connection``). Choices are
private: only a mutual, compatible pair of choices has a visible effect (a pair).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.events.models import Event, Registration


class Choice(StrEnum):
    """What I want with someone I met: ``mentor`` = keep in touch as *my* mentor."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    PEER = "peer"
    NOT_NOW = "not_now"


CHOICES = tuple(c.value for c in Choice)
# My choice → the choice the other person must make for a pair to form.
COMPATIBLE = {
    Choice.MENTOR: Choice.MENTEE,
    Choice.MENTEE: Choice.MENTOR,
    Choice.PEER: Choice.PEER,
}


NOTE_MAX = 500  # characters of the organizer's note on the prompts


class EventFollowup(Model):
    """The follow-up round of one event: when prompts are due and when they went."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), unique=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    prompt_count: Mapped[int] = mapped_column(default=0)
    # The organizer's own words, shown in the prompt e-mail and on its page.
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event] = relationship()

    @property
    def is_done(self) -> bool:
        """The prompts went, or an organizer closed the event: nothing more to send."""
        return self.sent_at is not None or self.closed_by_id is not None

    def __repr__(self) -> str:
        return f"<EventFollowup event={self.event_id} sent={self.sent_at}>"


class FollowupPrompt(Model):
    """One attendee's follow-up prompt for one event (e-mailed and in the app)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    reflection: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the one reminder went (set by a conditional UPDATE: once, ever).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration] = relationship()
    user: Mapped[User | None] = relationship()
    choices: Mapped[list[FollowupChoice]] = relationship(
        back_populates="prompt", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )

    @hybrid_property
    def is_answered(self) -> bool:
        """The attendee saved their answers at least once (Python and SQL)."""
        return self.answered_at is not None

    @is_answered.inplace.expression
    @classmethod
    def _is_answered_expression(cls) -> ColumnElement[bool]:
        return cls.answered_at.is_not(None)

    def __repr__(self) -> str:
        return (
            f"<FollowupPrompt {self.id} event={self.event_id} "
            f"reg={self.registration_id}>"
        )


class FollowupChoice(Model):
    """What one attendee wants with one person they met."""

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(
        ForeignKey("followup_prompt.id", ondelete="CASCADE")
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[Choice] = mapped_column(StrEnumType(Choice, 10))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    prompt: Mapped[FollowupPrompt] = relationship(back_populates="choices")
    other: Mapped[Registration] = relationship()

    __table_args__ = (
        UniqueConstraint("prompt_id", "other_id"),
        CheckConstraint(f"choice IN {CHOICES!r}", name="choice"),
    )

    def __repr__(self) -> str:
        return (
            f"<FollowupChoice prompt={self.prompt_id} other={self.other_id} "
            f"{self.choice}>"
        )
