"""The job that makes one attempt of a webhook delivery."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.webhooks import delivery
from mixer.webhooks.services import DELIVER_JOB


@handler(DELIVER_JOB)
def deliver(payload: dict[str, Any]) -> dict[str, Any]:
    """POST the delivery once; a failure schedules the next attempt itself."""
    return delivery.attempt(int(payload["delivery_id"]), str(payload["due"]))
