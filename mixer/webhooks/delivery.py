"""One attempt of a delivery (the ``webhooks.deliver`` job), its retries, and
switching off an endpoint that has failed for a day.

Retries wait ``BACKOFF`` (5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 6 h, 8 h),
each stretched by up to a tenth at random so that deliveries that failed
together do not come back together: ten attempts over about a day. The attempt
runs in the job's transaction: a worker that dies after the POST and before the
commit leaves the job to be claimed again, and the receiver may get the same
``webhook-id`` twice (at least once, as for mail).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from mixer import clock
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.concurrency import changed_rows
from mixer.extensions import db
from mixer.i18n import recipient_locale
from mixer.mail.services import queue_mail
from mixer.orgs.models import Membership, Organization
from mixer.urls import absolute_url
from mixer.webhooks.models import PING, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from mixer.webhooks.sending import Answer, post, sign
from mixer.webhooks.services import schedule_attempt

log = logging.getLogger(__name__)

BACKOFF = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 6 * 3600, 8 * 3600)
)
MAX_ATTEMPTS = len(BACKOFF) + 1
JITTER = 10  # at most this percentage added to each wait
SWITCH_OFF_AFTER = timedelta(hours=24)  # of failures and no success


def wait_after(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts, with jitter."""
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    extra = secrets.randbelow(int(base.total_seconds() * 1000 * JITTER / 100) + 1)
    return base + timedelta(milliseconds=extra)


def attempt(delivery_id: int, due: str) -> dict[str, Any]:
    """Make the attempt that was due at ``due``, if it still is; what happened."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if (
        delivery is None
        or delivery.status != DeliveryStatus.PENDING
        or delivery.next_attempt_at is None
        or clock.stamp(delivery.next_attempt_at) != due
    ):
        return {"skipped": 1}  # redelivered since, done, or its endpoint removed
    endpoint = delivery.endpoint
    if not endpoint.enabled and delivery.event_type != PING:
        _finish(delivery, DeliveryStatus.FAILED, "Not sent: the endpoint is off.")
        return {"off": 1}
    now = clock.now()
    timestamp = int(now.timestamp())
    answer = post(
        endpoint.url,
        delivery.body,
        {
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                endpoint.secret, delivery.message_id, timestamp, delivery.body
            ),
        },
    )
    _record(delivery, endpoint, answer)
    return {"status": answer.status or 0, "delivered": int(answer.ok)}


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, error: str) -> None:
    """End the delivery (no more attempts)."""
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.last_error = error
    db.session.flush()


def _record(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, answer: Answer
) -> None:
    """Write the attempt into the log; retry, finish, or switch the endpoint off."""
    now = clock.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = answer.status
    if answer.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
        if delivery.event_type != PING:
            endpoint.failing_since = None
        db.session.flush()
        return
    log.info(
        "webhook %s to endpoint %s failed: %s",
        delivery.message_id,
        endpoint.id,
        answer.error,
    )
    if delivery.event_type == PING:  # tried once: the admin is looking
        _finish(delivery, DeliveryStatus.FAILED, answer.error or "Failed.")
        return
    delivery.last_error = answer.error
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, DeliveryStatus.FAILED, answer.error or "Failed.")
    else:
        schedule_attempt(delivery, now + wait_after(delivery.attempts))
    if now - endpoint.failing_since >= SWITCH_OFF_AFTER:
        switch_off(endpoint)


def switch_off(endpoint: WebhookEndpoint) -> bool:
    """Switch off an endpoint that has failed for a day and e-mail the admins once.

    A compare-and-set: of two workers finding it at once, one switches it off.
    """
    since = endpoint.failing_since or clock.now()
    reason = (
        f"Mixer switched it off: every delivery failed from "
        f"{since:%d %b %Y, %H:%M} UTC for a day."
    )
    won = changed_rows(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.enabled)
        .values(enabled=False, disabled_reason=reason)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(endpoint)
    if won != 1:
        return False
    org = db.session.get_one(Organization, endpoint.org_id)
    record(
        org.id,
        "webhook.endpoint_switched_off",
        f"Switched off the webhook endpoint {endpoint.url} after a day of failures",
        subject=("webhook_endpoint", endpoint.id),
        details={"url": endpoint.url, "failing_since": since.isoformat()},
    )
    link = absolute_url("webhooks.show", slug=org.slug, endpoint_id=endpoint.id)
    last_error = _last_error(endpoint)
    for admin in _admins(org.id):
        queue_mail(
            admin.email,
            _l("Webhook switched off: %(url)s", url=endpoint.url),
            "notice",
            {
                "paragraphs": [
                    _l(
                        "Mixer could not deliver to the webhook endpoint %(url)s of "
                        "%(org)s for a day, so it switched the endpoint off. The "
                        "last error was: %(error)s.",
                        url=endpoint.url,
                        org=org.name,
                        error=last_error,
                    )
                    if last_error
                    else _l(
                        "Mixer could not deliver to the webhook endpoint %(url)s of "
                        "%(org)s for a day, so it switched the endpoint off. The "
                        "last error was: unknown.",
                        url=endpoint.url,
                        org=org.name,
                    ),
                    _l(
                        "Nothing more is sent to it until an admin switches it on "
                        "again. Deliveries that failed can be sent again from its "
                        "page."
                    ),
                ],
                "action_url": link,
                "action_label": _l("Open the endpoint"),
                "reason": _l(
                    "You get this e-mail as an admin of %(org)s.", org=org.name
                ),
            },
            user=admin,
            org=org,
            kind="webhook_switched_off",
            dedupe_key=f"webhook-off:{endpoint.id}:{clock.stamp(since)}:{admin.id}",
            locale=recipient_locale(admin, org),
        )
    return True


def _last_error(endpoint: WebhookEndpoint) -> str | None:
    """The newest error in the endpoint's log."""
    return db.session.scalar(
        select(WebhookDelivery.last_error)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.last_error.is_not(None),
        )
        .order_by(WebhookDelivery.last_attempt_at.desc())
        .limit(1)
    )


def _admins(org_id: int) -> list[User]:
    """The organization's admins with active accounts."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.org_id == org_id,
                Membership.role == "admin",
                User.is_active_account,
            )
            .order_by(User.id)
        )
    )
