"""Scheduling and running jobs.

A feature registers a handler with ``@handler("feature.what")`` in
``mixer/<feature>/jobs.py`` (imported by ``create_app``), on the "default"
queue or, for long work that would hold a worker for many seconds (badge
sheets, rotation printouts), ``@handler("feature.what", queue="heavy")``: a
job carries its kind's queue, and ``mixer worker --queues`` picks which queues
a worker serves (see ``mixer.worker``). A feature schedules work
with ``schedule(...)`` in the transaction of the change that needs it. A handler
takes the payload dict (plus ``_job_id``) and runs inside the worker's
transaction: its database writes (and the mail it queues) are committed together
with the job's "done", or rolled back when it raises. Handlers must be
idempotent: a job may run again after a crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from mixer import clock
from mixer.concurrency import changed_rows, insert_once
from mixer.errors import DomainError, NotFound
from mixer.extensions import db
from mixer.jobs import queue
from mixer.jobs.models import DEFAULT_QUEUE, JOB_QUEUES, Job, JobStatus

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}
QUEUE_OF: dict[str, str] = {}  # kind -> the queue its jobs go on
# A claim's lease, renewed by a heartbeat while the worker runs the batch (and by
# set_progress); a crashed worker's jobs are due again after this.
LEASE = queue.DEFAULT_LEASE
DEFAULT_BATCH = 5  # JOB_BATCH_SIZE: a crash holds back at most this many


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job fails at once."""


def handler(kind: str, *, queue: str = DEFAULT_QUEUE) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``, on ``queue``.

    ``queue`` is "default" or "heavy" (work that takes a worker many seconds:
    it waits behind mail and ordinary jobs, and may have workers of its own).
    """
    if queue not in JOB_QUEUES:
        raise ValueError(
            f"job kind {kind!r}: queue must be one of {', '.join(JOB_QUEUES)}, "
            f"not {queue!r}"
        )

    def register(fn: Handler) -> Handler:
        known = HANDLERS.get(kind)
        if known is not None and known.__qualname__ != fn.__qualname__:
            raise ValueError(f"job kind {kind!r} already handled by {known!r}")
        HANDLERS[kind] = fn
        QUEUE_OF[kind] = queue
        return fn

    return register


def schedule(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    org_id: int | None = None,
) -> Job | None:
    """Add a job to run at ``run_at`` (default: now).

    With ``dedupe_key`` the job exists once: scheduling the key again returns
    None and changes nothing, unless the earlier job was cancelled, in which case
    it is revived with the new time and payload.
    """
    if kind not in HANDLERS:
        raise ValueError(f"no job handler registered for {kind!r}")
    payload = dict(payload or {})
    try:
        json.dumps(payload)
    except TypeError as exc:
        raise ValueError(f"job payload must be JSON: {exc}") from exc
    values = {
        "kind": kind,
        "queue": QUEUE_OF[kind],
        "payload": payload,
        "run_at": run_at or clock.now(),
        "dedupe_key": dedupe_key,
        "org_id": org_id,
    }
    if dedupe_key is None:
        job = Job(**values)
        db.session.add(job)
        db.session.flush()
        return job
    new_id = insert_once(Job, values)
    if new_id is not None:
        return db.session.get(Job, new_id)
    revived = changed_rows(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == JobStatus.CANCELLED)
        .values(
            status=JobStatus.PENDING,
            attempts=0,
            progress=0,
            last_error=None,
            result=None,
            finished_at=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if revived != 1:
        return None
    job = db.session.scalars(select(Job).where(Job.dedupe_key == dedupe_key)).one()
    db.session.refresh(job)
    return job


def reschedule(
    dedupe_key: str, run_at: datetime, payload: dict[str, Any] | None = None
) -> Job | None:
    """Move a pending job (e.g. a reminder when the event moves); the job or None.

    Jobs already running or finished keep their time: the caller sees the status.
    """
    values: dict[str, Any] = {"run_at": run_at}
    if payload is not None:
        values["payload"] = dict(payload)
    db.session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == JobStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    job = db.session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
    if job is not None:
        db.session.refresh(job)
    return job


def cancel(dedupe_key: str) -> bool:
    """Cancel a pending job by its key (e.g. the reminder of a cancelled event)."""
    result = changed_rows(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.CANCELLED, finished_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result == 1


def set_progress(job_id: int, percent: int) -> None:
    """Record a running job's progress (0–100) and renew its lease.

    The update commits on its own connection, so pages see it while the job's
    transaction is still open. On SQLite, once the job has written anything it
    holds the only write lock; the update then joins the job's transaction.
    """
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
        .values(
            progress=max(0, min(100, int(percent))),
            locked_until=clock.now() + queue.lease_length(),
        )
        .execution_options(synchronize_session=False)
    )
    if db.session.get_bind().dialect.name == "sqlite" and _holds_sqlite_write_lock():
        db.session.execute(stmt)
        return
    with db.engine.begin() as conn:
        conn.execute(stmt)


def _holds_sqlite_write_lock() -> bool:
    if not db.session().in_transaction():
        return False
    raw = db.session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))


def run_due(
    limit: int | None = None, queues: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Run jobs that are due; returns counts of done, retried and failed jobs.

    ``queues`` limits the claim to jobs on those queues (default: any queue);
    the worker claims one queue at a time, in its order (``mixer.worker``).
    """
    cfg = current_app.config
    counts = {"done": 0, "retry": 0, "failed": 0}
    lease = queue.lease_length()
    token, ids = queue.claim(
        Job,
        ready=JobStatus.PENDING,
        active=JobStatus.RUNNING,
        due_column=Job.run_at,
        limit=limit or int(cfg.get("JOB_BATCH_SIZE", DEFAULT_BATCH)),
        lease=lease,
        scope=Job.queue.in_(queues) if queues is not None else None,
    )
    if not ids:
        return counts
    max_attempts = int(cfg["JOB_MAX_ATTEMPTS"])
    with queue.Heartbeat(Job, token, lease):
        for jid in ids:
            outcome = _run_one(jid, token, max_attempts)
            if outcome in counts:
                counts[outcome] += 1
    return counts


def _run_one(jid: int, token: str, max_attempts: int) -> str:
    """Run one claimed job; "done", "retry", "failed" or "lost"."""
    job = db.session.get(Job, jid)
    if job is None or job.claimed_by != token:
        return "lost"
    kind, attempts = job.kind, job.attempts
    if attempts > max_attempts:
        # Only a claim that never finished (the worker died) gets here.
        queue.finish(
            Job,
            jid,
            token,
            status=JobStatus.FAILED,
            attempts=max_attempts,
            finished_at=clock.now(),
            last_error=(job.last_error or "")
            + "\nGave up: the worker stopped while running it.",
        )
        db.session.commit()
        return "failed"
    try:
        fn = HANDLERS.get(kind)
        if fn is None:  # e.g. a worker still running older code
            raise LookupError(f"no handler for job kind {kind!r}")
        result = fn({**(job.payload or {}), "_job_id": jid})
        if not queue.finish(
            Job,
            jid,
            token,
            status=JobStatus.DONE,
            progress=100,
            result=result if isinstance(result, dict) else None,
            finished_at=clock.now(),
        ):
            # Our lease ran out and another worker took the job over: undo ours.
            db.session.rollback()
            log.error("job %s (%s) outlived its lease; its changes undone", jid, kind)
            return "lost"
        db.session.commit()
        return "done"
    except Exception as exc:  # noqa: BLE001 - recorded on the job and retried
        db.session.rollback()
        log.exception("job %s (%s) failed", jid, kind)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, PermanentJobError) or attempts >= max_attempts:
            values: dict[str, Any] = {
                "status": JobStatus.FAILED,
                "finished_at": clock.now(),
            }
            outcome = "failed"
        else:
            values = {
                "status": JobStatus.PENDING,
                "run_at": clock.now() + queue.backoff(attempts),
            }
            outcome = "retry"
        finished = queue.finish(Job, jid, token, last_error=error, **values)
        db.session.commit()
        return outcome if finished else "lost"


def failed_jobs(org_id: int, limit: int = 50) -> list[Job]:
    """The organization's failed jobs, latest first."""
    return list(
        db.session.scalars(
            select(Job)
            .where(Job.org_id == org_id, Job.status == JobStatus.FAILED)
            .order_by(Job.finished_at.desc(), Job.id.desc())
            .limit(limit)
        )
    )


def retry_job(org_id: int, job_id: int) -> Job:
    """Run a failed job of the organization again now, with a full set of attempts.

    ``NotFound`` when the organization has no such job; ``DomainError`` (409) when
    it has not failed.
    """
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.org_id == org_id))
    if job is None:
        raise NotFound(f"There is no job {job_id} here.")
    if not requeue(job, statuses=(JobStatus.FAILED,)):
        raise DomainError(f"That job is {job.status}, not failed.", status=409)
    return job


def requeue(
    job: Job,
    statuses: tuple[JobStatus, ...] = (
        JobStatus.DONE,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    ),
) -> bool:
    """Make a finished job pending and due now, with a full set of attempts.

    Only when its status is one of ``statuses`` (compare-and-set: a job a worker
    is running is left alone); False otherwise.
    """
    result = changed_rows(
        update(Job)
        .where(Job.id == job.id, Job.status.in_(statuses))
        .values(
            status=JobStatus.PENDING,
            attempts=0,
            progress=0,
            run_at=clock.now(),
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(job)
    return result == 1


def prune_finished(older_than: timedelta) -> int:
    """Delete done and cancelled jobs finished longer than ``older_than`` ago."""
    result = changed_rows(
        delete(Job)
        .where(
            Job.status.in_((JobStatus.DONE, JobStatus.CANCELLED)),
            Job.finished_at < clock.now() - older_than,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result
