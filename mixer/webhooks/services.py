"""Endpoints (what admins do) and emitting deliveries (what features cause).

``emit(org_id, event_type, data)`` runs in the transaction of the change: it
adds one ``WebhookDelivery`` per endpoint that hears the type, and schedules the
job that delivers it, so both commit with the change or not at all. Which types
anybody hears at all is cached per process for ``WEBHOOK_CACHE_SECONDS`` (5), so
a check-in costs no extra statement while no endpoint anywhere hears check-ins;
this process forgets the cache whenever it changes an endpoint, other processes
within those seconds.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select

from mixer import clock
from mixer.audit.services import record
from mixer.concurrency import changed_rows
from mixer.errors import NotFound
from mixer.extensions import db
from mixer.jobs.models import Job, JobStatus
from mixer.jobs.services import requeue, schedule
from mixer.orgs.models import Organization
from mixer.webhooks import payloads
from mixer.webhooks.models import (
    EVENT_TYPES,
    PING,
    SECRET_PREFIX,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from mixer.webhooks.sending import WebhookError, check_url

DELIVER_JOB = "webhooks.deliver"
PER_PAGE = 25  # deliveries on an endpoint's page


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _clean_types(event_types: list[str]) -> list[str]:
    """The chosen event types in their documented order; at least one."""
    chosen = [t for t in EVENT_TYPES if t in set(event_types or [])]
    unknown = set(event_types or []) - set(EVENT_TYPES)
    if unknown:
        raise WebhookError(
            _("Unknown event type: %(types)s.", types=", ".join(sorted(unknown))),
            field="event_types",
        )
    if not chosen:
        raise WebhookError(_("Choose at least one event."), field="event_types")
    return chosen


def _clean_description(text: str | None) -> str | None:
    """A short label, trimmed; None when empty."""
    text = (text or "").strip()
    if len(text) > 200:
        raise WebhookError(
            _("Keep the description to 200 characters."), field="description"
        )
    return text or None


def endpoints_of(org_id: int) -> list[WebhookEndpoint]:
    """The organization's endpoints, oldest first."""
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def endpoint_of(org_id: int, endpoint_id: int) -> WebhookEndpoint:
    """The organization's endpoint; NotFound for any other."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.org_id != org_id:
        raise NotFound(_("There is no such webhook endpoint here."))
    return endpoint


def create_endpoint(
    org: Organization,
    url: str,
    event_types: list[str],
    *,
    description: str | None = None,
    by: Any = None,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its secret (to show once, never again)."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        org_id=org.id,
        url=check_url(url),
        event_types=_clean_types(event_types),
        description=_clean_description(description),
        secret=secret,
        enabled=True,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(endpoint)
    db.session.flush()
    record(
        org.id,
        "webhook.endpoint_added",
        f"Added the webhook endpoint {endpoint.url}",
        subject=("webhook_endpoint", endpoint.id),
        details={"url": endpoint.url, "event_types": endpoint.event_types},
        actor=by,
    )
    forget_subscriptions()
    return endpoint, secret


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    enabled: bool,
    by: Any = None,
) -> dict[str, Any]:
    """Change an endpoint; returns what changed (old and new values).

    Switching it back on forgets its failures, so it gets a fresh day.
    """
    values = {
        "url": check_url(url) if url != endpoint.url else url,
        "event_types": _clean_types(event_types),
        "description": _clean_description(description),
        "enabled": bool(enabled),
    }
    changed = {
        key: [getattr(endpoint, key), value]
        for key, value in values.items()
        if getattr(endpoint, key) != value
    }
    if not changed:
        return changed
    for key, value in values.items():
        setattr(endpoint, key, value)
    if "enabled" in changed:
        endpoint.failing_since = None
        endpoint.disabled_reason = None
    db.session.flush()
    words = ", ".join(changed)
    record(
        endpoint.org_id,
        "webhook.endpoint_changed",
        f"Changed the webhook endpoint {endpoint.url} ({words})",
        subject=("webhook_endpoint", endpoint.id),
        details={"changed": changed},
        actor=by,
    )
    forget_subscriptions()
    return changed


def rotate_secret(endpoint: WebhookEndpoint, by: Any = None) -> str:
    """Give the endpoint a new secret (the old one stops at once); returns it."""
    secret = new_secret()
    endpoint.secret = secret
    db.session.flush()
    record(
        endpoint.org_id,
        "webhook.secret_rotated",
        f"Made a new signing secret for the webhook endpoint {endpoint.url}",
        subject=("webhook_endpoint", endpoint.id),
        details={"secret_starts": endpoint.secret_hint},
        actor=by,
    )
    return secret


def delete_endpoint(endpoint: WebhookEndpoint, by: Any = None) -> None:
    """Remove the endpoint and its delivery log (waiting deliveries are dropped)."""
    record(
        endpoint.org_id,
        "webhook.endpoint_removed",
        f"Removed the webhook endpoint {endpoint.url}",
        subject=("webhook_endpoint", endpoint.id),
        details={"url": endpoint.url, "event_types": endpoint.event_types},
        actor=by,
    )
    db.session.delete(endpoint)
    db.session.flush()
    forget_subscriptions()


def deliveries_page(endpoint: WebhookEndpoint, page: int) -> Pagination:
    """One page of the endpoint's deliveries, latest first."""
    return db.paginate(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )


# ---------------------------------------------------------------------------
# Deliveries: made in the change's transaction, delivered by the job


def message_id() -> str:
    """A fresh idempotency id (``webhook-id``)."""
    return "msg_" + secrets.token_urlsafe(18)


def schedule_attempt(delivery: WebhookDelivery, at: datetime) -> None:
    """Make the delivery's next attempt due at ``at`` and schedule its job.

    The job carries the time: one that finds the delivery moved on (it was
    redelivered, or already tried) does nothing, so at most one acts.
    """
    delivery.next_attempt_at = at
    db.session.flush()
    due = clock.stamp(at)
    key = f"webhook:{delivery.id}:{due}"
    job = schedule(
        DELIVER_JOB,
        {"delivery_id": delivery.id, "due": due},
        run_at=at,
        dedupe_key=key,
        org_id=delivery.endpoint.org_id,
    )
    if job is None:  # redelivered within the second of an earlier attempt
        job = db.session.scalars(select(Job).where(Job.dedupe_key == key)).one()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            requeue(job)


def _add_delivery(
    endpoint: WebhookEndpoint, event_type: str, org: Organization, data: dict
) -> WebhookDelivery:
    """One delivery of one message to one endpoint, due now."""
    mid = message_id()
    now = clock.now()
    body = json.dumps(
        {
            "id": mid,
            "type": event_type,
            "created_at": payloads.when(now),
            "organization": payloads.organization(org),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    delivery = WebhookDelivery(
        endpoint=endpoint,
        message_id=mid,
        event_type=event_type,
        body=body,
        status=DeliveryStatus.PENDING,
        created_at=now,
    )
    db.session.add(delivery)
    schedule_attempt(delivery, now)
    return delivery


def emit(
    org_id: int, event_type: str, data: Callable[[], dict[str, Any]]
) -> list[WebhookDelivery]:
    """Queue a delivery of ``event_type`` to each endpoint of the org hearing it.

    ``data`` builds the body's ``data`` (only called when somebody listens).
    """
    if event_type not in heard_types():
        return []
    endpoints = [
        e
        for e in db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.enabled)
            .order_by(WebhookEndpoint.id)
        )
        if e.hears(event_type)
    ]
    if not endpoints:
        return []
    org = db.session.get_one(Organization, org_id)
    body = data()
    return [_add_delivery(e, event_type, org, body) for e in endpoints]


def ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a test message to the endpoint (even when it is switched off); it is
    tried once, and its answer shows in the log."""
    return _add_delivery(
        endpoint,
        PING,
        db.session.get_one(Organization, endpoint.org_id),
        {"endpoint_id": endpoint.id, "url": endpoint.url},
    )


def redeliver(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now, with a fresh set of attempts (same ``webhook-id``).

    NotFound for another endpoint's; WebhookError (409) while the endpoint is off.
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(_("There is no such delivery here."))
    if not endpoint.enabled and delivery.event_type != PING:
        raise WebhookError(
            _("The endpoint is switched off: switch it on first."), status=409
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.delivered_at = None
    schedule_attempt(delivery, clock.now())
    return delivery


def prune_deliveries(older_than: timedelta) -> int:
    """Forget delivered and failed deliveries made longer than ``older_than`` ago
    (the worker, with ``OUTBOX_KEEP_DAYS``); waiting ones are kept."""
    result = changed_rows(
        delete(WebhookDelivery)
        .where(
            WebhookDelivery.status != DeliveryStatus.PENDING,
            WebhookDelivery.created_at < clock.now() - older_than,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result


# ---------------------------------------------------------------------------
# Who hears what, cached per process


_lock = threading.Lock()
_cache: dict[str, Any] = {"at": None, "types": frozenset()}


def heard_types() -> frozenset[str]:
    """The event types any enabled endpoint of any organization hears."""
    ttl = float(current_app.config.get("WEBHOOK_CACHE_SECONDS", 5))
    with _lock:
        at = _cache["at"]
        if at is not None and time.monotonic() - at < ttl:
            return _cache["types"]
    rows = db.session.scalars(
        select(WebhookEndpoint.event_types).where(WebhookEndpoint.enabled)
    ).all()
    types = frozenset(t for row in rows for t in row or [])
    with _lock:
        _cache["at"], _cache["types"] = time.monotonic(), types
    return types


def forget_subscriptions() -> None:
    """Read who hears what afresh next time (an endpoint changed)."""
    with _lock:
        _cache["at"] = None
