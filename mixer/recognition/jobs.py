"""Job handlers of the recognition feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.recognition import awards


@handler(awards.DRAFT_JOB)
def draft_ready(payload: dict[str, Any]) -> dict[str, int]:
    """On the 1st: tell organizers last month's candidates are ready to review."""
    return awards.send_draft_ready(payload["org_id"], payload["month"])
