"""The job that fetches one person's calendar feed (on the heavy queue: a slow
calendar server holds a worker up to the timeout, and a big feed takes seconds
to read)."""

from __future__ import annotations

from typing import Any

from mixer.freebusy import feeds
from mixer.jobs.services import handler


@handler(feeds.REFRESH, queue="heavy")  # a fetch may take its 10 s timeout
def refresh(payload: dict[str, Any]) -> dict[str, int]:
    """Fetch the feed, keep its busy intervals, plan the next refresh."""
    return feeds.refresh(int(payload["user_id"]))
