"""What follow-up does when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.events.models import Event
from mixer.followup import services


@signals.event_scheduled.connect
def _schedule_prompts(event: Event, **_: Any) -> None:
    """The prompts go a while after the event's end, and move with it."""
    services.schedule_prompts(event)


@signals.event_cancelled.connect
def _cancel_prompts(event: Event, **_: Any) -> None:
    """A cancelled event prompts nobody."""
    services.cancel_prompts(event)
