"""Webhook endpoints and the deliveries made to them."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

# What an endpoint can subscribe to, with the words admins read (lazy: in the
# page's language when shown; the keys are the payloads' names, never translated).
EVENT_TYPES: dict[str, Any] = {
    "registration.created": _l("Someone registered for an event"),
    "registration.cancelled": _l("A registration was cancelled"),
    "checkin.created": _l("Someone was checked in at the door"),
    "event.closed": _l("An event is over (closed by an organizer or its end passed)"),
    "pair.created": _l("Two members were paired"),
    "pair.ended": _l("A pair closed or its term ended"),
}
PING = "webhook.ping"  # the "send a test ping" button's type; never subscribed
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SHOWN_PREFIX = 12  # characters of the secret shown after it was first shown


class DeliveryStatus(StrEnum):
    """pending: waiting for its next attempt; delivered: the endpoint answered
    2xx; failed: out of attempts, or its endpoint was switched off."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


DELIVERY_STATUSES = tuple(s.value for s in DeliveryStatus)


class WebhookEndpoint(Model):
    """An HTTPS address of an organization's system that hears chosen events."""

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Signs every delivery (Standard Webhooks "whsec_" + base64 key). Shown to the
    # admin once, when made or rotated; afterwards only its first characters.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why Mixer switched it off (a day of failures); None when an admin did.
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # The first failed attempt since the last success: a day of it switches off.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def secret_hint(self) -> str:
        """The start of the secret, enough to tell which one a receiver holds."""
        return self.secret[:SHOWN_PREFIX] + "…"

    def hears(self, event_type: str) -> bool:
        """Whether a delivery of ``event_type`` goes to this endpoint now."""
        return self.enabled and event_type in (self.event_types or [])

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} org={self.org_id} {self.url}>"


class WebhookDelivery(Model):
    """One message to one endpoint, with the log of its attempts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    # The ``webhook-id`` header and the body's ``id``: the same on every attempt,
    # so a receiver that got it twice can tell.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON that is signed and sent
    status: Mapped[DeliveryStatus] = mapped_column(
        StrEnumType(DeliveryStatus, 10), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)  # since made or redelivered
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")

    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        # The endpoint's page: its deliveries, latest first.
        Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at"),
    )

    @property
    def payload(self) -> dict[str, Any]:
        """The body as data (for pages and tests)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.message_id} {self.event_type} {self.status}>"
