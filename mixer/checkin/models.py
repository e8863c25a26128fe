"""Check-in records: the scans a client already sent (the check-in itself is
``Registration.checked_in_at``; the connections people make are
``mixer.connections``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model


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
