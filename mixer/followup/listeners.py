"""What follow-up does when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import clock, signals
from mixer.events.models import Event
from mixer.followup import answers, services
from mixer.orgs.models import Membership
from mixer.pairs.models import Pair


@signals.event_scheduled.connect
def _schedule_prompts(event: Event, **_: Any) -> None:
    """The prompts go a while after the event's end, and move with it."""
    services.schedule_prompts(event)


@signals.event_cancelled.connect
def _cancel_prompts(event: Event, **_: Any) -> None:
    """A cancelled event prompts nobody."""
    services.cancel_prompts(event)


@signals.pair_ended.connect
def _place_opened(pair: Pair, **_: Any) -> None:
    """A pair ended: a mutual choice that waited for the mentor's place may form."""
    answers.form_held_later(pair.org_id, f"pair:{pair.id}")


@signals.availability_changed.connect
def _availability_changed(membership: Membership, **_: Any) -> None:
    """New capacity or "not before" date: held mutual choices may form now."""
    answers.form_held_later(
        membership.org_id, f"member:{membership.id}:{clock.stamp(clock.now())}"
    )
