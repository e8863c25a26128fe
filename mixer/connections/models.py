"""*Connections*: two registrations of one event that met, and the notes on them.

A connection is undirected and stored once per pair (``a_id < b_id``). It is made by
a rotation round that seated the two together, by one scanning the other's badge,
or by a "we talked" note; the follow-up prompts read connections to ask people whom
they want to keep in touch with.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.events.models import Event, Registration


class ConnectionSource(StrEnum):
    """How two people first met: seated together in a rotation round, one scanned
    the other's badge, one wrote a "we talked" note, or an organizer said so."""

    ROTATION = "rotation"
    SCAN = "scan"
    NOTE = "note"
    MANUAL = "manual"


CONNECTION_SOURCES = tuple(s.value for s in ConnectionSource)


class Connection(Model):
    """Two people who met at an event (by registration, so guests count too)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    a_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    b_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    # How they first met; later sources do not overwrite it.
    source: Mapped[ConnectionSource] = mapped_column(StrEnumType(ConnectionSource, 10))
    round_number: Mapped[int | None]  # the rotation round, when source is "rotation"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event] = relationship()
    a: Mapped[Registration] = relationship(foreign_keys=[a_id])
    b: Mapped[Registration] = relationship(foreign_keys=[b_id])
    notes: Mapped[list[ConnectionNote]] = relationship(
        back_populates="connection", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("event_id", "a_id", "b_id"),
        CheckConstraint("a_id < b_id", name="ordered_pair"),
        CheckConstraint(f"source IN {CONNECTION_SOURCES!r}", name="source"),
    )

    def other(self, registration_id: int) -> int:
        """The registration id on the other side of the pair."""
        return self.b_id if registration_id == self.a_id else self.a_id

    def __repr__(self) -> str:
        return (
            f"<Connection event={self.event_id} {self.a_id}–{self.b_id} {self.source}>"
        )


class ConnectionNote(Model):
    """A private "we talked" note one side of a connection wrote for themselves."""

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connection.id", ondelete="CASCADE")
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    connection: Mapped[Connection] = relationship(back_populates="notes")

    __table_args__ = (
        UniqueConstraint("connection_id", "author_id"),
        Index("ix_connection_note_author", "author_id"),
    )

    def __repr__(self) -> str:
        return f"<ConnectionNote connection={self.connection_id} by={self.author_id}>"
