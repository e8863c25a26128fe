"""Readiness: can this process serve, with everything it leans on?

``/healthz`` checks the database only (cheap, for load balancers every few
seconds). ``/readyz`` and ``/healthz?deep=1`` also check the rate-limit store
(Redis, when ``RATELIMIT_STORAGE_URI`` names one), where files are kept (the
instance folder or the object store of ``STORAGE_URL``), and
that a job worker was seen within ``READY_WORKER_SECONDS``. Each check returns
None when fine, or a short reason; the answer names every failing part.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from flask import current_app
from sqlalchemy import text

from mixer import clock, storage
from mixer.extensions import db, limiter
from mixer.observability import workers

Check = Callable[[], str | None]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "valkey://", "valkeys://")
TIMEOUT = 2.0  # seconds a dependency may take to answer


def database() -> str | None:
    """The database answers ``SELECT 1``."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        return type(exc).__name__
    return None


def rate_limit_store() -> str | None:
    """Redis (or another shared store) for rate limits answers; skipped when the
    counters are in memory."""
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if uri.startswith("memory://"):
        return None
    try:
        if uri.startswith(REDIS_SCHEMES):
            url = uri.replace("valkey", "redis", 1)
            client = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
            )
            try:
                client.ping()
            finally:
                client.close()
            return None
        return None if limiter.storage.check() else "does not answer"
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"[:200]


def file_storage() -> str | None:
    """The store where files are kept answers (``mixer.storage``: the instance
    folder is writable, or the bucket of ``STORAGE_URL`` answers a HEAD)."""
    try:
        storage.get_store().check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def worker() -> str | None:
    """A job worker was seen lately (``READY_WORKER_SECONDS``; 0 skips this)."""
    seconds = float(current_app.config["READY_WORKER_SECONDS"])
    if seconds <= 0:
        return None
    last = workers.last_seen()
    if last is None:
        return "no job worker has ever been seen"
    if clock.now() - last > timedelta(seconds=seconds):
        return f"no job worker seen for {seconds:.0f} s (last: {last.isoformat()})"
    return None


# Name → check, in the order they run (another check may be added by name).
CHECKS: dict[str, Check] = {
    "database": database,
    "redis": rate_limit_store,
    "storage": file_storage,
    "worker": worker,
}


def readiness() -> tuple[dict[str, Any], int]:
    """Run every check: the JSON answer and its status (200, or 503)."""
    results: dict[str, Any] = {}
    failing: list[str] = []
    for name, check in CHECKS.items():
        problem: str | None
        if name == "worker" and "database" in failing:
            problem = "cannot tell: the database is unavailable"
        else:
            problem = check()
        if problem is None:
            results[name] = {"status": "ok"}
        else:
            results[name] = {"status": "error", "error": problem}
            failing.append(name)
    db.session.rollback()  # the checks only read: end their transaction
    status = "error" if failing else "ok"
    return {"status": status, "failing": failing, "checks": results}, (
        503 if failing else 200
    )
