"""The outbox: every e-mail is a row written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model


class MessageStatus(StrEnum):
    """queued: waiting for its first or next attempt (``attempts > 0``: retrying);
    sending: claimed by a worker until ``locked_until``; sent and failed are
    final (an admin may queue a failed one again)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


MAIL_STATUSES = tuple(s.value for s in MessageStatus)


class OutboxMessage(Model):
    """One e-mail, fully rendered (RFC 5322 bytes), waiting for or past delivery."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(60), default="general")
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # Set for mail that must never go out twice (reminders, prompts).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        StrEnumType(MessageStatus, 10), default=MessageStatus.QUEUED
    )
    # Counted when a worker claims the message, so a message that kills the
    # worker every time still ends "failed" instead of looping forever.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The claim: which worker run holds the message, and until when (the lease).
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"status IN {MAIL_STATUSES!r}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    @property
    def is_retrying(self) -> bool:
        """Queued again after a failed attempt."""
        return self.status == MessageStatus.QUEUED and self.attempts > 0

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status} to={self.to_addr}>"
