"""Scheduling and running jobs.

A feature registers a handler with ``@handler("feature.what")`` and schedules work
with ``schedule(...)``. Handlers take the payload dict, run inside the worker's
transaction and must be idempotent: a job may run again after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict[str, Any]], Any]] = {}
LEASE = timedelta(minutes=15)


def handler(kind: str) -> Callable:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Callable[[dict[str, Any]], Any]) -> Callable:
        HANDLERS[kind] = fn
        return fn

    return register


def schedule(
    kind: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> Job | None:
    """Add a job; with ``dedupe_key`` a second schedule of the same key does nothing."""
    if kind not in HANDLERS:
        raise ValueError(f"no job handler registered for {kind!r}")
    job = Job(
        kind=kind,
        payload=payload or {},
        run_at=run_at or clock.now(),
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        db.session.add(job)
        db.session.flush()
        return job
    if db.session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)):
        return None
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:
        return None
    return job


def reschedule(dedupe_key: str, run_at: datetime) -> Job | None:
    """Move a pending job (e.g. a reminder when the event moves)."""
    job = db.session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
    if job is not None and job.status == "pending":
        job.run_at = run_at
        db.session.flush()
    return job


def cancel(dedupe_key: str) -> None:
    """Cancel a pending job by its key (e.g. the reminder of a cancelled event)."""
    db.session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == "pending")
        .values(status="cancelled", finished_at=clock.now())
    )


def set_progress(job_id: int, percent: int) -> None:
    """Record a long job's progress in its own short transaction, so pages see it."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(progress=max(0, min(100, percent)))
        )


def _claim_jobs(limit: int) -> list[int]:
    now = clock.now()
    due = or_(
        (Job.status == "pending") & (Job.run_at <= now),
        (Job.status == "running") & (Job.locked_until < now),
    )
    candidates = db.session.scalars(
        select(Job.id)
        .where(due)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for jid in candidates:
        res = db.session.execute(
            update(Job)
            .where(Job.id == jid, due)
            .values(status="running", locked_until=now + LEASE)
        )
        if res.rowcount == 1:
            claimed.append(jid)
    db.session.commit()
    return claimed


def run_due(limit: int = 50) -> dict[str, int]:
    """Run jobs that are due; returns counts of done, retried and failed jobs."""
    from mixer.mail.services import backoff

    counts = {"done": 0, "retry": 0, "failed": 0}
    for jid in _claim_jobs(limit):
        job = db.session.get(Job, jid)
        fn = HANDLERS.get(job.kind)
        try:
            if fn is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            result = fn(dict(job.payload or {}, _job_id=job.id))
        except Exception as exc:  # noqa: BLE001 - recorded and retried
            db.session.rollback()
            log.exception("job %s (%s) failed", jid, job.kind if job else "?")
            job = db.session.get(Job, jid)
            job.attempts += 1
            job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            job.locked_until = None
            if job.attempts >= current_app.config["JOB_MAX_ATTEMPTS"]:
                job.status = "failed"
                job.finished_at = clock.now()
                counts["failed"] += 1
            else:
                job.status = "pending"
                job.run_at = clock.now() + backoff(job.attempts)
                counts["retry"] += 1
        else:
            job.status = "done"
            job.attempts += 1
            job.progress = 100
            job.result = result if isinstance(result, dict) else None
            job.finished_at = clock.now()
            job.locked_until = None
            counts["done"] += 1
        db.session.commit()
    return counts
