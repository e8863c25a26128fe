"""What privacy keeps: each organization's retention setting, and which events
have had their personal details removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model

# Months after an event's end that its personal details are kept, by default,
# and the largest setting (ten years); 0 keeps them until someone erases them.
DEFAULT_RETENTION_MONTHS = 24
RETENTION_MONTHS_MAX = 120


class PrivacySettings(Model):
    """An organization's privacy settings (no row: the defaults)."""

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    retention_months: Mapped[int] = mapped_column(
        default=DEFAULT_RETENTION_MONTHS,
        server_default=str(DEFAULT_RETENTION_MONTHS),
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    __table_args__ = (
        CheckConstraint(
            f"retention_months >= 0 AND retention_months <= {RETENTION_MONTHS_MAX}",
            name="retention_months",
        ),
    )

    def __repr__(self) -> str:
        return f"<PrivacySettings org={self.org_id} {self.retention_months} months>"


class EventRetention(Model):
    """An event whose personal details the retention job removed (once: the
    primary key lets one worker claim it, ``insert_once``)."""

    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<EventRetention event={self.event_id} at {self.applied_at}>"
