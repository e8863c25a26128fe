"""A person's calendar feed (its address sealed) and the busy intervals read
from it. Titles, places and descriptions are never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model


class FreeBusyFeed(Model):
    """One person's private iCalendar feed: where it is (encrypted) and how its
    last fetch went. At most one per person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )
    # The address is a secret (whoever has it reads the calendar): Fernet-sealed
    # with a key derived from SECRET_KEY; only ``host`` is ever shown.
    url_sealed: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last try
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last success
    # What went wrong at the last try (a word from ``feeds.PROBLEMS``) and a
    # detail that names no secret (an HTTP status, a host); None when it worked.
    error: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(String(300))
    busy_count: Mapped[int] = mapped_column(default=0)  # intervals last stored

    def __repr__(self) -> str:
        return f"<FreeBusyFeed user={self.user_id} host={self.host!r}>"


class BusyInterval(Model):
    """A stretch of time someone's calendar says they are busy (UTC)."""

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="busy_interval_order"),
        Index("ix_busy_interval_user_starts", "user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<BusyInterval user={self.user_id} {self.starts_at}–{self.ends_at}>"
