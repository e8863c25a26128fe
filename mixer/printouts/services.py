"""Printouts: PDFs kept in Mixer's store under what they print, drawn by the job
worker when they are big.

A feature describes one of its PDFs as a :class:`Printout`: the event it belongs
to, a variant ("a4-8" for a badge layout, "schedule" for a rotation plan), and a
fingerprint of everything printed on it. The file is kept under the key
``<area>/event-<id>/<variant>-<fingerprint>.pdf`` of the app's store
(:mod:`mixer.storage`: the instance folder, or object storage every web host and
worker shares), so a change to what is printed gives a new name and a stale PDF is
never served; :func:`store` writes a drawing atomically and drops the older
versions of that variant. A PDF too big to
draw during a request is drawn by a job (:func:`schedule`, one job per
fingerprint) whose handler reports its progress through :func:`progress_reporter`;
``mixer.printouts.web`` has the page that watches it. Used by badge batches
(``mixer.badges``) and rotation schedules and table cards (``mixer.rotations``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus
from mixer.storage import NotFound, get_store


def cache_folder(area: str, event_id: int) -> str:
    """The store folder (a key prefix) of an event's printouts of one area."""
    return f"{area}/event-{event_id}"


@dataclass(frozen=True)
class Printout:
    """One PDF of an event: what it prints (by fingerprint) and where it is kept."""

    area: str  # the feature's folder in the store: "badges"
    event_id: int
    org_id: int
    variant: str  # the kind of PDF within the area: a layout, "schedule"
    fingerprint: str  # a hash of everything printed (hex)
    filename: str  # the name the download is saved under
    job_kind: str  # the job that draws it

    @property
    def folder(self) -> str:
        """The store folder of the event's printouts of this area."""
        return cache_folder(self.area, self.event_id)

    @property
    def key(self) -> str:
        """The cached PDF's store key (it may not exist yet)."""
        return f"{self.folder}/{self.variant}-{self.fingerprint}.pdf"

    @property
    def path(self) -> Path | None:
        """The cached PDF's local file with the local store (None with S3)."""
        return get_store().path(self.key)

    @property
    def ready(self) -> bool:
        """Whether the PDF for exactly this content is cached."""
        return get_store().exists(self.key)

    @property
    def dedupe_key(self) -> str:
        """The job key: one job per event, variant and content."""
        return f"{self.area}:{self.event_id}:{self.variant}:{self.fingerprint[:40]}"


def cached(printout: Printout) -> bytes | None:
    """The cached PDF's bytes, or None (also when a newer drawing removed it just
    now: the caller then goes on as if it had never been drawn)."""
    try:
        return get_store().read(printout.key)
    except NotFound:
        return None


def store(printout: Printout, pdf: bytes) -> bytes:
    """Keep a drawn PDF (written atomically) and drop older versions of its
    variant; returns ``pdf``."""
    files = get_store()
    files.write(printout.key, pdf)
    older = f"{printout.folder}/{printout.variant}-"
    for key in files.list(printout.folder):
        if key.startswith(older) and key.endswith(".pdf") and key != printout.key:
            files.delete(key)
    return pdf


def discard(printout: Printout) -> None:
    """Remove the cached PDF (it is drawn again when next asked for)."""
    get_store().delete(printout.key)


def schedule(printout: Printout, payload: dict[str, Any]) -> Job:
    """The job drawing ``printout`` (scheduled once; re-run when its file is gone).

    The payload gets ``event_id`` and ``fingerprint``; the handler draws what the
    event prints when it runs.
    """
    payload = {
        **payload,
        "event_id": printout.event_id,
        "fingerprint": printout.fingerprint,
    }
    key = printout.dedupe_key
    job = jobs.schedule(
        printout.job_kind, payload, dedupe_key=key, org_id=printout.org_id
    )
    if job is not None:
        return job
    job = db.session.scalars(select(Job).where(Job.dedupe_key == key)).one()
    if not printout.ready:
        # Drawn before but the file was removed, or it failed: draw it again.
        jobs.requeue(job, statuses=(JobStatus.DONE, JobStatus.FAILED))
    return job


def job_of(event_id: int, job_id: int, kind: str) -> Job | None:
    """A printout job of ``kind`` for the event by id (for its progress page)."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.kind == kind))
    if job is None or (job.payload or {}).get("event_id") != event_id:
        return None
    return job


def progress_reporter(
    job_id: int,
    record: Callable[[int, int], None] | None = None,
    step: int = 2,
) -> Callable[[float], None]:
    """A ``progress(fraction)`` callback that records the job's percent done
    (``record``, default :func:`mixer.jobs.services.set_progress`) every ``step``
    percent, up to 99 (100 is "done", set by the worker)."""
    record = record or jobs.set_progress
    reported = -1

    def progress(fraction: float) -> None:
        nonlocal reported
        percent = min(99, int(fraction * 100))
        if percent >= reported + step:
            reported = percent
            record(job_id, percent)

    return progress
