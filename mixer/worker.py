"""The worker loop behind ``mixer worker``: deliver mail and run due jobs.

Work comes in three queues (``mixer.jobs.models.QUEUES``): ``mail`` (the
outbox), ``default`` (ordinary jobs) and ``heavy`` (badge sheets, rotation
printouts: jobs that hold a worker for many seconds). A worker serves the
queues it was given (``mixer worker --queues mail,default``; all of them
without the flag) by strict priority: each round claims one batch from the
first of its queues, in the order mail, default, heavy, that has work due, then
starts over from the top. So mail always goes before jobs, and a heavy job is
only claimed when nothing else is due, one at a time, leaving the rest of the
heavy queue to other workers. A worker in the middle of a heavy job sends no
mail until it is done: give mail a worker of its own (``--queues mail,default``
beside a ``--queues heavy`` one) when sign-in links must never wait behind a
badge sheet.

Any number of workers may run side by side on PostgreSQL (claims skip each
other's locked rows); on SQLite one is enough (more are safe, just not faster).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

from mixer.accounts import sign_ins
from mixer.extensions import db
from mixer.insights import cache as insights_cache
from mixer.jobs.models import HEAVY_QUEUE, MAIL_QUEUE, QUEUES
from mixer.jobs.services import prune_finished, run_due
from mixer.mail.services import deliver_due, make_transport, prune_sent
from mixer.observability.workers import Beacon
from mixer.privacy import retention
from mixer.webhooks.services import prune_deliveries

log = logging.getLogger(__name__)

MAX_ROUNDS = 1000  # a job that keeps scheduling itself for "now" cannot spin us
PRUNE_EVERY = 3600.0  # seconds
HEAVY_BATCH = 1  # heavy jobs are claimed one at a time, so others can take the rest


def parse_queues(text: str | None) -> tuple[str, ...]:
    """The queues named in ``--queues`` ("mail,default"), in priority order.

    None or "" means all of them. ValueError names an unknown queue.
    """
    if not text:
        return QUEUES
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(QUEUES))
    if unknown:
        raise ValueError(
            f"unknown queue{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)}; "
            f"the queues are {', '.join(QUEUES)}"
        )
    if not names:
        raise ValueError(f"no queue named; the queues are {', '.join(QUEUES)}")
    return tuple(q for q in QUEUES if q in names)


def work_queue(name: str) -> tuple[str, dict[str, int]]:
    """Claim and do one batch of ``name``; ("mail" or "jobs", its counts)."""
    if name == MAIL_QUEUE:
        return "mail", deliver_due()
    limit = HEAVY_BATCH if name == HEAVY_QUEUE else None
    return "jobs", run_due(limit=limit, queues=(name,))


def run_once(
    max_rounds: int = MAX_ROUNDS,
    stop: threading.Event | None = None,
    queues: tuple[str, ...] = QUEUES,
) -> dict[str, int]:
    """Do everything that is due now on ``queues``, by strict priority.

    Each round does one batch of the first queue (in the order of ``QUEUES``:
    mail, default, heavy) that has work due, then starts over, so mail a job
    queued goes out before the next job runs.
    """
    totals = {
        "jobs_done": 0,
        "jobs_retry": 0,
        "jobs_failed": 0,
        "mail_sent": 0,
        "mail_retry": 0,
        "mail_failed": 0,
    }
    ordered = [q for q in QUEUES if q in queues]
    for _ in range(max_rounds):
        for name in ordered:
            prefix, counts = work_queue(name)
            for key, value in counts.items():
                totals[f"{prefix}_{key}"] += value
            if any(counts.values()):
                break  # back to the first queue
        else:
            break  # nothing due on any queue
        if stop is not None and stop.is_set():
            break
    else:
        log.warning("still work due after %d rounds; leaving it for later", max_rounds)
    return totals


def describe(totals: dict[str, int]) -> str:
    """One line for people: what a run did."""
    return (
        f"jobs: {totals['jobs_done']} done, {totals['jobs_retry']} to retry, "
        f"{totals['jobs_failed']} failed; "
        f"mail: {totals['mail_sent']} sent, {totals['mail_retry']} to retry, "
        f"{totals['mail_failed']} failed"
    )


def check_config() -> None:
    """Fail at start, not at the first message, when MAIL_URL is malformed."""
    make_transport().close()


def prune() -> None:
    """Forget sent mail, finished jobs, ended sign-ins and webhook deliveries older than
    ``OUTBOX_KEEP_DAYS``; make sure the daily retention run is planned."""
    retention.ensure_scheduled()  # once a day by its key; the run plans the next
    insights_cache.ensure_scheduled()  # every INSIGHTS_CACHE_MINUTES, likewise
    db.session.commit()
    days = int(current_app.config.get("OUTBOX_KEEP_DAYS", 30))
    if days <= 0:
        return
    mail = prune_sent(timedelta(days=days))
    jobs = prune_finished(timedelta(days=days))
    ended = sign_ins.prune(timedelta(days=days))
    hooks = prune_deliveries(timedelta(days=days))
    db.session.commit()
    if hooks:
        log.info("pruned %d finished webhook deliveries", hooks)
    if mail or jobs or ended:
        log.info(
            "pruned %d sent messages, %d finished jobs and %d ended sign-ins",
            mail,
            jobs,
            ended,
        )


def run_forever(
    app: Flask,
    stop: threading.Event | None = None,
    queues: tuple[str, ...] = QUEUES,
) -> None:
    """Poll ``queues`` until SIGTERM or SIGINT (or ``stop`` is set); finishes
    the batch first.

    A second signal stops at once; what was claimed is retried after its lease.
    """
    stop = stop or threading.Event()
    restore = _install_signal_handlers(stop)
    interval = float(app.config["WORKER_POLL_SECONDS"])
    log.info(
        "worker started on queues %s; polling every %.1f s", ",".join(queues), interval
    )
    last_prune = float("-inf")
    beacon = Beacon(app).start()  # "seen" every WORKER_BEAT_SECONDS, even mid-job
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    totals = run_once(stop=stop, queues=queues)
                    if any(totals.values()):
                        log.info(describe(totals))
                    if time.monotonic() - last_prune > PRUNE_EVERY:
                        prune()
                        last_prune = time.monotonic()
                except Exception:  # keep the loop alive through a database hiccup
                    log.exception("worker round failed; trying again shortly")
                    db.session.rollback()
            stop.wait(interval)
    finally:
        beacon.stop()
        restore()
    log.info("worker stopped")


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may handle signals

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        log.info("signal %d: finishing the current round, then stopping", signum)
        stop.set()

    previous = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
    }

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
