"""Worker heartbeats: each ``mixer worker`` process writes when it was last seen.

``mixer worker`` starts a :class:`Beacon` beside its loop; it records
``host:pid`` and the time in ``worker_seen`` every ``WORKER_BEAT_SECONDS``
(30 s) on its own connection, so a long job (a badge sheet) does not silence it.
``/readyz`` wants one seen within ``READY_WORKER_SECONDS``; ``/metrics`` shows
each one's last time. Rows older than a day are deleted by the beacons.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, func, insert, select, update

from mixer import clock
from mixer.extensions import db
from mixer.observability.models import WorkerSeen

log = logging.getLogger(__name__)

FORGET_AFTER = timedelta(days=1)


def worker_name() -> str:
    """This process as the table names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def record_seen(name: str | None = None, now: datetime | None = None) -> None:
    """Say that worker ``name`` (this process) is alive, on a connection of its
    own (committed at once, whatever the session is doing)."""
    name = name or worker_name()
    now = now or clock.now()
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(WorkerSeen).where(WorkerSeen.name == name).values(last_seen=now)
        ).rowcount
        if not changed:  # only this process writes its own name: no race
            conn.execute(insert(WorkerSeen).values(name=name, last_seen=now))
        conn.execute(
            delete(WorkerSeen).where(WorkerSeen.last_seen < now - FORGET_AFTER)
        )


def last_seen() -> datetime | None:
    """The latest time any worker was seen, or None."""
    return db.session.scalar(select(func.max(WorkerSeen.last_seen)))


def seen_since(since: datetime) -> list[WorkerSeen]:
    """Workers seen at or after ``since``, latest first."""
    return list(
        db.session.scalars(
            select(WorkerSeen)
            .where(WorkerSeen.last_seen >= since)
            .order_by(WorkerSeen.last_seen.desc())
        )
    )


class Beacon:
    """A daemon thread recording this worker as seen, now and every ``interval``
    seconds, until :meth:`stop`. A failed write (the database away, SQLite's
    write lock held past its timeout) is logged and tried again next time."""

    def __init__(self, app: Flask, interval: float | None = None) -> None:
        self.app = app
        self.interval = float(interval or app.config.get("WORKER_BEAT_SECONDS", 30))
        self.name = worker_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="worker-beacon", daemon=True
        )

    def start(self) -> Beacon:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self.app.app_context():
                try:
                    record_seen(self.name)
                except Exception:  # noqa: BLE001 - never let the beacon kill the worker
                    log.warning("could not record worker %s as seen", self.name)
                finally:
                    db.session.remove()
            if self._stop.wait(self.interval):
                return
