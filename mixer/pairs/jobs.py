"""Job handlers of the pairs feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.jobs.services import handler
from mixer.pairs import schedule


@handler(schedule.TICK)
def tick(payload: dict[str, Any]) -> dict[str, int]:
    """A pair's clock: reminders, questions, misses, the end of term."""
    return schedule.tick(payload["pair_id"])
