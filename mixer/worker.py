"""The worker loop behind ``mixer worker``: run due jobs, then deliver mail.

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
from mixer.jobs.services import prune_finished, run_due
from mixer.mail.services import deliver_due, make_transport, prune_sent
from mixer.observability.workers import Beacon

log = logging.getLogger(__name__)

MAX_ROUNDS = 1000  # a job that keeps scheduling itself for "now" cannot spin us
PRUNE_EVERY = 3600.0  # seconds


def run_once(
    max_rounds: int = MAX_ROUNDS, stop: threading.Event | None = None
) -> dict[str, int]:
    """Do everything that is due now; jobs first, since they may queue mail."""
    totals = {
        "jobs_done": 0,
        "jobs_retry": 0,
        "jobs_failed": 0,
        "mail_sent": 0,
        "mail_retry": 0,
        "mail_failed": 0,
    }
    for _ in range(max_rounds):
        jobs = run_due()
        mail = deliver_due()
        for prefix, counts in (("jobs", jobs), ("mail", mail)):
            for key, value in counts.items():
                totals[f"{prefix}_{key}"] += value
        if not any(jobs.values()) and not any(mail.values()):
            break
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
    """Forget sent mail, finished jobs and ended sign-ins older than
    ``OUTBOX_KEEP_DAYS``."""
    days = int(current_app.config.get("OUTBOX_KEEP_DAYS", 30))
    if days <= 0:
        return
    mail = prune_sent(timedelta(days=days))
    jobs = prune_finished(timedelta(days=days))
    ended = sign_ins.prune(timedelta(days=days))
    db.session.commit()
    if mail or jobs or ended:
        log.info(
            "pruned %d sent messages, %d finished jobs and %d ended sign-ins",
            mail,
            jobs,
            ended,
        )


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Poll until SIGTERM or SIGINT (or ``stop`` is set); finishes the batch first.

    A second signal stops at once; what was claimed is retried after its lease.
    """
    stop = stop or threading.Event()
    restore = _install_signal_handlers(stop)
    interval = float(app.config["WORKER_POLL_SECONDS"])
    log.info("worker started; polling every %.1f s", interval)
    last_prune = float("-inf")
    beacon = Beacon(app).start()  # "seen" every WORKER_BEAT_SECONDS, even mid-job
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    totals = run_once(stop=stop)
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
