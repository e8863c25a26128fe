"""The audit trail's one table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import UTCDateTime
from mixer.extensions import Model


class AuditEntry(Model):
    """One administrative action: who, when, what (and on what), from where."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    # The account that acted (None: Mixer itself, a job, or an erased account).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    actor_name: Mapped[str] = mapped_column(String(120))  # as it was then
    action: Mapped[str] = mapped_column(String(60))  # "member.role_changed"
    subject_type: Mapped[str | None] = mapped_column(String(40))  # "membership"
    subject_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500))  # what people read
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        Index("ix_audit_entry_org_created", "org_id", "created_at", "id"),
        Index("ix_audit_entry_org_action", "org_id", "action", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} org={self.org_id} by={self.actor_id}>"
