"""Asking for a micro-mentor on a topic, without an event.

A member writes an ``Ask``; Mixer ranks people who offer the topic (other
departments first) as ``AskSuggestion`` rows; the people asked accept or decline,
and the first acceptance becomes a pair (``mixer.pairs``). Declines stay private:
the person asking never learns who said no.

The rules of one record live here: where an ask or a suggestion may go next
(``update_state``), whether a person asked is still waited for, and when their
answer time runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User
    from mixer.orgs.models import Organization

ANSWER_DAYS = 14  # how long an ask waits for an answer (and its links work)


class AskStatus(StrEnum):
    """Where an ask stands: open → matched (someone accepted) or closed (withdrawn)."""

    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"


class SuggestionStatus(StrEnum):
    """One suggested person: suggested → asked → accepted / declined, or withdrawn.

    ``withdrawn`` covers three endings, told apart by the ask: someone else
    accepted (ask matched), the person asking withdrew (ask closed), or nobody
    answered in time (ask still open, ``answered_at`` empty).
    """

    SUGGESTED = "suggested"
    ASKED = "asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


ASK_STATUSES = tuple(s.value for s in AskStatus)
SUGGESTION_STATUSES = tuple(s.value for s in SuggestionStatus)
# Still in play: not asked yet, or asked and not answered.
IN_PLAY = (SuggestionStatus.SUGGESTED, SuggestionStatus.ASKED)

_ASK_MOVES = {AskStatus.OPEN: (AskStatus.MATCHED, AskStatus.CLOSED)}
_SUGGESTION_MOVES = {
    SuggestionStatus.SUGGESTED: (SuggestionStatus.ASKED, SuggestionStatus.WITHDRAWN),
    SuggestionStatus.ASKED: (
        SuggestionStatus.ACCEPTED,
        SuggestionStatus.DECLINED,
        SuggestionStatus.WITHDRAWN,
    ),
}


class Ask(Model):
    """A member asking for a micro-mentor on a topic, without an event."""

    # The table keeps the feature's first name (no migration for a rename).
    __tablename__ = "mentor_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AskStatus] = mapped_column(
        StrEnumType(AskStatus, 10), default=AskStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person asking passed it on to the organizers (once per ask).
    organizers_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    requester: Mapped[User] = relationship()
    suggestions: Mapped[list[AskSuggestion]] = relationship(
        back_populates="ask",
        cascade="all, delete-orphan",
        order_by="AskSuggestion.rank",
    )

    __table_args__ = (CheckConstraint(f"status IN {ASK_STATUSES!r}", name="status"),)

    @property
    def is_open(self) -> bool:
        """Neither matched nor withdrawn."""
        return self.status == AskStatus.OPEN

    @property
    def suggested(self) -> list[AskSuggestion]:
        """The stored suggestions not asked yet, in rank order."""
        return sorted(
            (s for s in self.suggestions if s.status == SuggestionStatus.SUGGESTED),
            key=lambda s: s.rank,
        )

    @property
    def asked(self) -> list[AskSuggestion]:
        """Everyone this ask went to, in the order they were asked."""
        return sorted(
            (s for s in self.suggestions if s.asked_at is not None),
            key=lambda s: (s.asked_at, s.rank, s.id),
        )

    @property
    def is_waiting(self) -> bool:
        """Whether someone asked has not answered yet."""
        return any(s.status == SuggestionStatus.ASKED for s in self.suggestions)

    def update_state(self, status: AskStatus, at: datetime) -> None:
        """Match or close an open ask at ``at`` (the one way its status changes)."""
        if status not in _ASK_MOVES.get(self.status, ()):
            raise ValueError(f"{self!r} cannot become {status}")
        self.status, self.closed_at = status, at

    def __repr__(self) -> str:
        return f"<Ask {self.id} {self.topic!r} {self.status}>"


class AskSuggestion(Model):
    """A person Mixer suggested for an ask, and their answer when asked."""

    # The table keeps the feature's first name (no migration for a rename).
    __tablename__ = "mentor_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(
        "request_id", ForeignKey("mentor_request.id", ondelete="CASCADE")
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[SuggestionStatus] = mapped_column(
        StrEnumType(SuggestionStatus, 10), default=SuggestionStatus.SUGGESTED
    )
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ask: Mapped[Ask] = relationship(back_populates="suggestions")
    candidate: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("request_id", "candidate_id"),
        CheckConstraint(f"status IN {SUGGESTION_STATUSES!r}", name="status"),
    )

    @property
    def expires_at(self) -> datetime | None:
        """When the person asked can no longer answer (None before they are asked)."""
        if self.asked_at is None:
            return None
        return self.asked_at + timedelta(days=ANSWER_DAYS)

    @property
    def has_lapsed(self) -> bool:
        """Whether the answer time ran out (also before the lapse job has run)."""
        expires = self.expires_at
        return expires is not None and expires <= clock.now()

    @property
    def is_waited_for(self) -> bool:
        """Asked, not answered, and still in time."""
        return self.status == SuggestionStatus.ASKED and not self.has_lapsed

    def update_state(self, status: SuggestionStatus, at: datetime) -> None:
        """Move the suggestion on (the one way its status changes).

        Asking stamps ``asked_at``; an answer stamps ``answered_at``; a withdrawal
        stamps nothing (nobody answered).
        """
        if status not in _SUGGESTION_MOVES.get(self.status, ()):
            raise ValueError(f"{self!r} cannot become {status}")
        self.status = status
        if status == SuggestionStatus.ASKED:
            self.asked_at = at
        elif status in (SuggestionStatus.ACCEPTED, SuggestionStatus.DECLINED):
            self.answered_at = at

    def __repr__(self) -> str:
        return f"<AskSuggestion ask={self.ask_id} {self.candidate_id} {self.status}>"
