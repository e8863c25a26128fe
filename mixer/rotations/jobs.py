"""Job handlers of rotations (run by ``mixer worker``): big schedules, table cards."""

from __future__ import annotations

from typing import Any

from mixer.events.models import Event
from mixer.extensions import db
from mixer.jobs.models import HEAVY_QUEUE
from mixer.jobs.services import PermanentJobError, handler
from mixer.printouts.services import progress_reporter
from mixer.rotations import pdf, services


@handler(pdf.PRINTOUT_JOB, queue=HEAVY_QUEUE)
def rotation_printout(payload: dict[str, Any]) -> dict[str, Any]:
    """Draw a plan's schedule or table cards into the cache, reporting progress.

    It draws the plan as it is when the job runs: if it changed since the job was
    scheduled, the download asks for (and finds) the newer drawing.
    """
    event = db.session.get(Event, payload["event_id"])
    plan = services.plan_for(event) if event is not None else None
    if event is None or plan is None:
        raise PermanentJobError("The mixer or its plan no longer exists.")
    kind = payload.get("kind")
    if kind not in pdf.KINDS:
        raise PermanentJobError(f"Unknown rotation printout {kind!r}.")
    found = pdf.drawing(event, plan, kind)
    if not found.printout.ready:
        pdf.draw(found, progress_reporter(payload["_job_id"]))
    return {
        "kind": kind,
        "people": found.people,
        "fingerprint": found.printout.fingerprint,
    }
