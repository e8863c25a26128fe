"""The worker loop behind ``mixer worker``: run due jobs, then deliver mail."""

from __future__ import annotations

import logging
import signal
import time

from flask import Flask

from mixer.jobs.services import run_due
from mixer.mail.services import deliver_due

log = logging.getLogger(__name__)


def run_once() -> dict[str, int]:
    """Do everything that is due now; jobs first, since they may queue mail."""
    totals: dict[str, int] = {}
    while True:
        jobs = run_due()
        mail = deliver_due()
        for key, value in {
            **{f"jobs_{k}": v for k, v in jobs.items()},
            **{f"mail_{k}": v for k, v in mail.items()},
        }.items():
            totals[key] = totals.get(key, 0) + value
        if not any(jobs.values()) and not any(mail.values()):
            return totals


def run_forever(app: Flask) -> None:
    """Poll until SIGTERM or SIGINT; finishes the current batch before stopping."""
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    interval = float(app.config["WORKER_POLL_SECONDS"])
    log.info("worker started; polling every %.1f s", interval)
    while not stopping:
        with app.app_context():
            try:
                run_once()
            except Exception:  # keep the loop alive through a database hiccup
                log.exception("worker batch failed")
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
