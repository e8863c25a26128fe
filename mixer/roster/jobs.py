"""Job handlers of the check-in lists (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.roster import nudges
from mixer.roster.services import NUDGE


@handler(NUDGE)
def nudge(payload: dict[str, Any]) -> dict[str, str]:
    """One student's overdue check-in: a gentle e-mail to their keeper."""
    return {"result": nudges.send_nudge(payload)}
