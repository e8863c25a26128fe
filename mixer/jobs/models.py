"""Scheduled jobs: when, what, payload, status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model


class JobStatus(StrEnum):
    """pending: waiting for ``run_at``; running: claimed by a worker until
    ``locked_until``; done, failed and cancelled are final (``requeue`` and
    scheduling a cancelled key again make one pending)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


JOB_STATUSES = tuple(s.value for s in JobStatus)

# The queues a worker can serve (``mixer worker --queues``), in the order a worker
# serving several claims from them: e-mail (the outbox), then ordinary jobs, then
# heavy ones (badge sheets, rotation printouts). Jobs are on "default" or "heavy";
# "mail" is the outbox table (``mixer.mail.models.OutboxMessage``).
MAIL_QUEUE, DEFAULT_QUEUE, HEAVY_QUEUE = "mail", "default", "heavy"
QUEUES = (MAIL_QUEUE, DEFAULT_QUEUE, HEAVY_QUEUE)
JOB_QUEUES = (DEFAULT_QUEUE, HEAVY_QUEUE)


class Job(Model):
    """A unit of deferred work run by ``mixer worker``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organization the work belongs to, so its admins see it when it fails.
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(80))
    # Which workers run it: the queue its kind was registered with (``handler``).
    queue: Mapped[str] = mapped_column(
        String(10), default=DEFAULT_QUEUE, server_default=DEFAULT_QUEUE
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A job scheduled twice under one key exists once (e.g. "reminder:event:12").
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[JobStatus] = mapped_column(
        StrEnumType(JobStatus, 10), default=JobStatus.PENDING
    )
    # Counted when a worker claims the job (see OutboxMessage.attempts).
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[int] = mapped_column(default=0)  # 0–100 for long tasks
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        CheckConstraint(f"queue IN {JOB_QUEUES!r}", name="queue"),
        # The claim: one queue's due rows, oldest first (mixer.jobs.queue.claim).
        Index("ix_job_queue_due", "queue", "status", "run_at"),
    )

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"
