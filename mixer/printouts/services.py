"""Printouts: PDFs kept in the instance folder under what they print, drawn by the
job worker when they are big.

A feature describes one of its PDFs as a :class:`Printout`: the event it belongs
to, a variant ("a4-8" for a badge layout, "schedule" for a rotation plan), and a
fingerprint of everything printed on it. The file is kept at
``instance/<area>/event-<id>/<variant>-<fingerprint>.pdf``, so a change to what is
printed gives a new name and a stale PDF is never served; :func:`store` writes a
drawing atomically and drops the older versions of that variant. A PDF too big to
draw during a request is drawn by a job (:func:`schedule`, one job per
fingerprint) whose handler reports its progress through :func:`progress_reporter`;
``mixer.printouts.web`` has the page that watches it. Used by badge batches
(``mixer.badges``) and rotation schedules and table cards (``mixer.rotations``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus


def cache_folder(area: str, event_id: int) -> Path:
    """Where an event's printouts of one area are kept (the instance folder)."""
    return Path(current_app.instance_path) / area / f"event-{event_id}"


@dataclass(frozen=True)
class Printout:
    """One PDF of an event: what it prints (by fingerprint) and where it is kept."""

    area: str  # the feature's folder under the instance folder: "badges"
    event_id: int
    org_id: int
    variant: str  # the kind of PDF within the area: a layout, "schedule"
    fingerprint: str  # a hash of everything printed (hex)
    filename: str  # the name the download is saved under
    job_kind: str  # the job that draws it

    @property
    def folder(self) -> Path:
        """The folder of the event's printouts of this area."""
        return cache_folder(self.area, self.event_id)

    @property
    def path(self) -> Path:
        """The cached PDF's file (it may not exist yet)."""
        return self.folder / f"{self.variant}-{self.fingerprint}.pdf"

    @property
    def ready(self) -> bool:
        """Whether the PDF for exactly this content is cached."""
        return self.path.is_file()

    @property
    def dedupe_key(self) -> str:
        """The job key: one job per event, variant and content."""
        return f"{self.area}:{self.event_id}:{self.variant}:{self.fingerprint[:40]}"


def cached(printout: Printout) -> bytes | None:
    """The cached PDF's bytes, or None (also when a newer drawing removed it just
    now: the caller then goes on as if it had never been drawn)."""
    try:
        return printout.path.read_bytes()
    except FileNotFoundError:
        return None


def store(printout: Printout, pdf: bytes) -> Path:
    """Keep a drawn PDF (written atomically) and drop older versions of its variant."""
    folder = printout.folder
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    os.replace(tmp, printout.path)
    for old in folder.glob(f"{printout.variant}-*.pdf"):
        if old != printout.path:
            old.unlink(missing_ok=True)
    return printout.path


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
