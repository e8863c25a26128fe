"""Job handlers of the events feature (run by ``mixer worker``).

Imported by ``create_app`` so that the handlers are registered wherever the app
is built (web process, worker, tests). ``mixer.events.lifecycle`` schedules them.
"""

from __future__ import annotations

from typing import Any

from mixer.events import notifications
from mixer.jobs.services import handler


@handler("events.reminder")
def reminder(payload: dict[str, Any]) -> dict[str, int]:
    """The day-before reminder to everyone registered."""
    return notifications.send_reminders(payload["event_id"], payload["starts_at"])


@handler(notifications.NOTIFY_JOB)
def notify(payload: dict[str, Any]) -> dict[str, int]:
    """Tell everyone signed up that the event was cancelled or changed."""
    return notifications.notify_registrants(
        payload["event_id"],
        payload["what"],
        payload["sequence"],
        payload.get("changed") or [],
    )


@handler("events.finish")
def finish(payload: dict[str, Any]) -> dict[str, int]:
    """Mark the event ended when its end has passed."""
    return notifications.finish_event(payload["event_id"], payload["ends_at"])
