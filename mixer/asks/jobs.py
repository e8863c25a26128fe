"""Job handlers of the asks feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.asks import services
from mixer.jobs.services import handler


@handler(services.EXPIRE_JOB)
def expire_ask(payload: dict[str, Any]) -> dict[str, bool]:
    """An ask nobody answered in time lapses; the requester hears if none is left."""
    return {"lapsed": services.expire(payload["suggestion_id"])}
