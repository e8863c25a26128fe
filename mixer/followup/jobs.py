"""Job handlers of the followup feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.followup import services
from mixer.jobs.services import handler


@handler(services.JOB_KIND)
def prompts(payload: dict[str, Any]) -> dict[str, int]:
    """After the event (or when an organizer closes it): one prompt per attendee."""
    return services.send_prompts(
        payload["event_id"], payload["due"], job_id=payload.get("_job_id")
    )
