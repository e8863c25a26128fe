"""Prometheus metrics: what ``/metrics`` answers (``docs/operations.md`` lists them).

Two kinds, so that every gunicorn process answers for the whole deployment:

- *Counted where they happen* (requests, their latency, check-ins,
  registrations): prometheus-client counters and histograms in this process.
  With several gunicorn processes set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
  folder, emptied at every start): each process writes its values there and a
  scrape adds up every process's files (prometheus-client's multiprocess mode).
- *Read at scrape time* (outbox and job backlogs, worker heartbeats): gauges
  computed from the database by :class:`DatabaseCollector`, so any process
  (or host) gives the same complete answer.

Check-ins and registrations are counted from the features' signals
(``mixer.signals.checked_in``, ``registration_created``), once their
transaction commits: a rolled-back check-in is not counted.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mixer import clock, signals
from mixer.extensions import db
from mixer.jobs.models import Job, JobStatus
from mixer.mail.models import MessageStatus, OutboxMessage
from mixer.observability.models import WorkerSeen

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()  # this process's own counters (not the global one)

HTTP_REQUESTS = Counter(
    "mixer_http_requests",
    "HTTP requests answered, by Flask endpoint, method and status class.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "mixer_http_request_duration_seconds",
    "Time from the request's arrival in Flask to its response, by endpoint.",
    ["endpoint", "method"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CHECKINS = Counter(
    "mixer_checkins",
    "People checked in (repeats, replays and refusals are not counted).",
    registry=REGISTRY,
)
REGISTRATIONS = Counter(
    "mixer_registrations",
    "Event sign-ups, by source (member, organizer, api, guest) and the status "
    "they got (registered, waitlisted, pending for a guest until confirmed).",
    ["source", "status"],
    registry=REGISTRY,
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(endpoint: str | None, method: str, status: int, seconds: float):
    """Count one answered request (labels bounded: the endpoint names the route,
    not the URL; unknown methods are "other"; statuses are classes)."""
    endpoint = endpoint or "none"  # 404s and 405s match no route
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(endpoint, method, f"{status // 100}xx").inc()
    HTTP_LATENCY.labels(endpoint, method).observe(seconds)


# -- check-ins and registrations, counted after commit ------------------------

_PENDING = "mixer.observability.pending"


def _after_commit(action: Callable[[], None]) -> None:
    db.session().info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _apply_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@signals.checked_in.connect
def _count_checkin(_registration_id: int, **_: Any) -> None:
    _after_commit(CHECKINS.inc)


@signals.registration_created.connect
def _count_registration(registration: Any, **_: Any) -> None:
    child = REGISTRATIONS.labels(
        str(registration.source.value), str(registration.status.value)
    )
    _after_commit(child.inc)


# -- gauges read from the database at scrape time ------------------------------


class DatabaseCollector(Collector):
    """Backlogs and heartbeats, read with three small queries per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "mixer_database_up", "1 when the scrape could read the database."
        )
        now = clock.now()
        try:
            families = [*_outbox(now), *_jobs(now), *_workers(now)]
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


def _outbox(now: datetime) -> list[GaugeMetricFamily]:
    backlog = GaugeMetricFamily(
        "mixer_outbox_backlog",
        "E-mail not yet delivered: queued (waiting or retrying) and sending.",
        labels=["status"],
    )
    oldest = GaugeMetricFamily(
        "mixer_outbox_oldest_age_seconds",
        "Age of the oldest undelivered message (0 when none is waiting).",
    )
    rows = db.session.execute(
        select(
            OutboxMessage.status,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
        .group_by(OutboxMessage.status)
    ).all()
    counts = {str(status): (n, first) for status, n, first in rows}
    firsts = [first for _, first in counts.values() if first is not None]
    for status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        backlog.add_metric([status.value], counts.get(status.value, (0, None))[0])
    oldest.add_metric([], _age(now, min(firsts) if firsts else None))
    return [backlog, oldest]


def _jobs(now: datetime) -> list[GaugeMetricFamily]:
    backlog = GaugeMetricFamily(
        "mixer_jobs_backlog",
        "Jobs due and not finished: due (pending, run time reached) or running, "
        "by queue and kind.",
        labels=["queue", "kind", "state"],
    )
    oldest = GaugeMetricFamily(
        "mixer_jobs_oldest_due_age_seconds",
        "How long the longest-waiting due job has been due, by queue.",
        labels=["queue"],
    )
    rows = db.session.execute(
        select(Job.queue, Job.kind, Job.status, func.count(), func.min(Job.run_at))
        .where(
            or_(
                (Job.status == JobStatus.PENDING) & (Job.run_at <= now),
                Job.status == JobStatus.RUNNING,
            )
        )
        .group_by(Job.queue, Job.kind, Job.status)
    ).all()
    waiting: dict[str, datetime] = {}
    for name, kind, status, n, first in rows:
        state = "due" if status == JobStatus.PENDING else "running"
        backlog.add_metric([name, kind, state], n)
        if state == "due" and first is not None:
            waiting[name] = min(first, waiting.get(name, first))
    for name, first in sorted(waiting.items()):
        oldest.add_metric([name], _age(now, first))
    return [backlog, oldest]


def _workers(now: datetime) -> list[GaugeMetricFamily]:
    seen = GaugeMetricFamily(
        "mixer_worker_last_seen_timestamp_seconds",
        "When each job worker (host:pid) was last seen, as a Unix time.",
        labels=["worker"],
    )
    alive = GaugeMetricFamily(
        "mixer_workers_alive",
        "Job workers seen within READY_WORKER_SECONDS.",
    )
    window = timedelta(seconds=ready_worker_seconds())
    count = 0
    for name, last in db.session.execute(
        select(WorkerSeen.name, WorkerSeen.last_seen).order_by(WorkerSeen.name)
    ):
        seen.add_metric([name], last.timestamp())
        count += now - last <= window
    alive.add_metric([], count)
    return [seen, alive]


def ready_worker_seconds() -> float:
    """How recently a worker must have been seen to count as alive."""
    return float(current_app.config["READY_WORKER_SECONDS"])


# -- the answer, and who may have it ------------------------------------------


def exposition() -> tuple[bytes, str]:
    """The text ``/metrics`` answers and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    read = CollectorRegistry()
    read.register(DatabaseCollector())
    return generate_latest(counted) + generate_latest(read), CONTENT_TYPE_LATEST


def parse_allow(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``METRICS_ALLOW`` (a list, or a string separated by commas or spaces) as
    networks; a bare address is a network of one. A bad entry stops the start."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    try:
        return [ipaddress.ip_network(str(item), strict=False) for item in items or ()]
    except ValueError as exc:
        raise RuntimeError(f"METRICS_ALLOW: {exc}") from exc


def init_access(app: Flask) -> None:
    """Read the metrics settings once, at start."""
    app.extensions["metrics_allow"] = parse_allow(app.config.get("METRICS_ALLOW"))


def refusal() -> tuple[int, str] | None:
    """Why this request may not read ``/metrics`` (a status and a reason), or None.

    Off (404) unless ``METRICS_TOKEN`` or ``METRICS_ALLOW`` is set; with both,
    both must hold.
    """
    token = current_app.config.get("METRICS_TOKEN") or ""
    networks = current_app.extensions.get("metrics_allow") or []
    if not token and not networks:
        return 404, "not found"
    if networks:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return 403, "address not allowed"
        if not any(address in network for network in networks):
            return 403, "address not allowed"
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), str(token).encode()
        ):
            return 401, "bearer token required"
    return None
