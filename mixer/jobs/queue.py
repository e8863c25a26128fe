"""Table-backed queues: the claim and finish steps the outbox and the job table
share (writing a row once is ``mixer.concurrency.insert_once``).

A worker *claims* due rows with one ``UPDATE ... WHERE id IN (SELECT ... FOR
UPDATE SKIP LOCKED LIMIT n) RETURNING id`` that also re-checks that each row is
still due (compare-and-set). On PostgreSQL two workers therefore never pick the
same row and never wait on each other's locked rows; on SQLite, which has one
writer at a time, the re-check alone keeps claims apart. A claim writes a random
token and a short lease (``locked_until``, ``WORKER_LEASE_SECONDS``): every later
change to the row says ``WHERE claimed_by = token``, so a worker that lost its lease
(it stalled, another worker took the row over) cannot overwrite the newer owner's
result. While a worker works through its claim, a ``Heartbeat`` thread renews the
lease; a worker that dies stops renewing, and its rows are due again once the
lease has run out (about a minute).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, update

from mixer import clock
from mixer.concurrency import changed_rows
from mixer.extensions import db

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
DEFAULT_LEASE = timedelta(seconds=60)  # WORKER_LEASE_SECONDS


def lease_length() -> timedelta:
    """How long a claim holds its rows unless renewed (``WORKER_LEASE_SECONDS``)."""
    seconds = current_app.config.get("WORKER_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else DEFAULT_LEASE


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed tries: 30 s, doubling, at most 1 h."""
    factor = 2 ** min(max(attempts - 1, 0), 16)
    return min(BACKOFF_BASE * factor, BACKOFF_CAP)


def due_clause(
    model: Any, *, ready: str, active: str, due_column: Any, now: datetime
) -> ColumnElement[bool]:
    """Rows ready and due, or claimed by a worker whose lease has run out."""
    return or_(
        (model.status == ready) & (due_column <= now),
        (model.status == active) & (model.locked_until < now),
    )


def claim(
    model: Any,
    *,
    ready: str,
    active: str,
    due_column: Any,
    limit: int,
    lease: timedelta,
    scope: ColumnElement[bool] | None = None,
) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due rows for this worker and commit the claim.

    ``scope`` narrows the rows further (the job queues a worker serves:
    ``Job.queue.in_(...)``). Returns the claim token and the claimed ids, oldest
    due first.
    """
    token = secrets.token_hex(16)
    now = clock.now()
    due = due_clause(model, ready=ready, active=active, due_column=due_column, now=now)
    if scope is not None:
        due = scope & due
    pick = (
        select(model.id)
        .where(due)
        .order_by(due_column, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it
        .cte("pick")
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Evaluated once. As a plain IN (subquery) PostgreSQL may re-run the
        # locking subquery for every row of a nested loop; each run passes over
        # the rows this statement already updated, so one claim took them all.
        pick = pick.prefix_with("MATERIALIZED")
    stmt = (
        update(model)
        .where(model.id.in_(select(pick.c.id)), due)
        .values(
            status=active,
            claimed_by=token,
            locked_until=now + lease,
            attempts=model.attempts + 1,
        )
        .returning(model.id, due_column)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(stmt).all()
    db.session.commit()
    return token, [row[0] for row in sorted(rows, key=lambda r: (r[1], r[0]))]


def finish(model: Any, row_id: int, token: str, **values: Any) -> bool:
    """Change a claimed row and release the claim; False if the claim was lost."""
    result = changed_rows(
        update(model)
        .where(model.id == row_id, model.claimed_by == token)
        .values(claimed_by=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result == 1


def release(
    model: Any,
    ids: list[int],
    token: str,
    *,
    ready: str,
    due_column: Any,
    at: datetime | None = None,
) -> int:
    """Hand claimed rows back untried (their attempt is not counted)."""
    if not ids:
        return 0
    values: dict[str, Any] = {
        "status": ready,
        "claimed_by": None,
        "locked_until": None,
        "attempts": model.attempts - 1,
    }
    if at is not None:
        values[due_column.key] = at
    result = changed_rows(
        update(model)
        .where(model.id.in_(ids), model.claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result


class Heartbeat:
    """Renews the lease of one claim from a thread of its own while the worker works.

    ``with Heartbeat(OutboxMessage, token, lease): ...`` renews every quarter
    lease (``UPDATE ... SET locked_until = now + lease WHERE claimed_by = token``,
    committed on a connection of its own), so sending is never held up by it and
    a live worker keeps its rows however long a slow server takes. A worker that
    dies stops renewing: its rows are due again after at most one lease.
    ``fresh`` is False once renewing has failed for half a lease (the database
    is unreachable): the worker should then hand back what it has not started.
    """

    def __init__(self, model: Any, token: str, lease: timedelta) -> None:
        self.model, self.token, self.lease = model, token, lease
        self.every = lease.total_seconds() / 4
        self.renewed = time.monotonic()  # the claim itself set the lease just now
        self._engine = db.engine  # bound in the caller's application context
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{token[:8]}", daemon=True
        )

    @property
    def fresh(self) -> bool:
        """Renewed within the last half lease."""
        return time.monotonic() - self.renewed < self.lease.total_seconds() / 2

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> int:
        """Extend the lease of every row still in this claim; how many."""
        stmt = (
            update(self.model)
            .where(self.model.claimed_by == self.token)
            .values(locked_until=clock.now() + self.lease)
        )
        with self._engine.begin() as conn:
            count = conn.execute(stmt).rowcount
        self.renewed = time.monotonic()
        return count

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.renew()
            except Exception:  # the database is away; the lease may still hold
                log.warning("could not renew claim %s", self.token, exc_info=True)
