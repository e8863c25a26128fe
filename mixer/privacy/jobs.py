"""Job handlers of privacy (run by ``mixer worker``): the daily retention run."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.privacy import retention


@handler(retention.RETENTION_JOB)
def retention_run(payload: dict[str, Any]) -> dict[str, Any]:
    """Remove the personal details of events past their retention, a batch."""
    return retention.run_retention()
