"""Job handlers of the followup feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.followup import answers, services
from mixer.jobs.services import handler


@handler(services.JOB_KIND)
def prompts(payload: dict[str, Any]) -> dict[str, int]:
    """After the event (or when an organizer closes it): one prompt per attendee."""
    return services.send_prompts(
        payload["event_id"], payload["due"], job_id=payload.get("_job_id")
    )


@handler(services.REMINDER_JOB)
def reminders(payload: dict[str, Any]) -> dict[str, int]:
    """Some days after the prompts: one reminder to each attendee who has not
    answered (once, ever)."""
    return services.send_reminders(payload["event_id"])


@handler(answers.HELD_JOB)
def held(payload: dict[str, Any]) -> dict[str, int]:
    """A place opened or a "not before" date came: form the pairs it held back."""
    return {"pairs": len(answers.form_held_pairs(payload["org_id"]))}
