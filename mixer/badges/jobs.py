"""Job handlers of badges (run by ``mixer worker``): big badge sheets."""

from __future__ import annotations

from typing import Any

from mixer.badges import services as badges
from mixer.badges.render import BadgeError
from mixer.events.models import Event
from mixer.extensions import db
from mixer.jobs.models import HEAVY_QUEUE
from mixer.jobs.services import PermanentJobError, handler, set_progress
from mixer.printouts.services import progress_reporter


@handler(badges.BATCH_JOB, queue=HEAVY_QUEUE)
def badge_batch(payload: dict[str, Any]) -> dict[str, Any]:
    """Draw an event's badge batch into the cache, reporting progress."""
    event = db.session.get(Event, payload["event_id"])
    if event is None:
        raise PermanentJobError("The event no longer exists.")
    try:
        batch = badges.batch_for(event, payload["layout"])
    except BadgeError as exc:  # nothing to draw, or an unknown layout: never will be
        raise PermanentJobError(str(exc)) from exc
    if not batch.ready:
        progress = progress_reporter(payload["_job_id"], set_progress)
        badges.render_batch(batch, progress, processes=None)  # a pool of processes
    return {"badges": len(batch.badges), "fingerprint": batch.fingerprint}
