"""Check-in records: the scans a client already sent (the check-in itself is
``Registration.checked_in_at``; the connections people make are
``mixer.connections``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.accounts.models import User


class ScanOutcome(StrEnum):
    """What one scan did: checked the person in, or found them checked in."""

    CHECKED_IN = "checked_in"
    ALREADY_CHECKED_IN = "already_checked_in"


class CheckinNonce(Model):
    """A scan a client already sent, by its random nonce: a replay changes nothing.

    The scan page queues scans while offline and may send one twice (a flaky
    connection, a retry after an undo); the unique nonce makes the second a no-op
    that returns the first answer.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    # The answer first given.
    status: Mapped[ScanOutcome] = mapped_column(StrEnumType(ScanOutcome, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<CheckinNonce {self.nonce!r} reg={self.registration_id} {self.status}>"


class DoorHelper(Model):
    """A member who may scan one event's badges at the door without managing it
    (mirrors the event's organizers, ``event_organizer``, with who added them)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<DoorHelper event={self.event_id} user={self.user_id}>"


class DoorLink(Model):
    """A revocable link that opens one event's scan page without an account.

    The link is a signed token naming this row and its random ``key``; it works
    while the row is not revoked and until the event's end plus a few hours.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DoorLink {self.id} event={self.event_id} {self.label!r}>"


class CheckinRecord(Model):
    """Who checked a registration in: a person, or a door link (the check-in
    itself is ``Registration.checked_in_at``; an undo deletes the record)."""

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    door_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("door_link.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User | None] = relationship()
    door_link: Mapped[DoorLink | None] = relationship()

    def __repr__(self) -> str:
        return (
            f"<CheckinRecord reg={self.registration_id} user={self.user_id} "
            f"link={self.door_link_id}>"
        )
