"""The job that fetches one person's calendar feed."""

from __future__ import annotations

from typing import Any

from mixer.freebusy import feeds
from mixer.jobs.services import handler


@handler(feeds.REFRESH)
def refresh(payload: dict[str, Any]) -> dict[str, int]:
    """Fetch the feed, keep its busy intervals, plan the next refresh."""
    return feeds.refresh(int(payload["user_id"]))
