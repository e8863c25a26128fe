"""Job handlers of the speakers feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.speakers.material_mail import MAIL_JOB, send_material_mail


@handler(MAIL_JOB)
def material_mail(payload: dict[str, Any]) -> dict[str, int]:
    """After the event: one e-mail per attendee with links to the material."""
    return send_material_mail(payload["event_id"], payload["ends_at"])
