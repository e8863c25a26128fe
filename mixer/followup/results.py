"""What organizers see after an event: prompts sent and answered, the ratings, the
comments and reflections without names, and the pairs formed (never who chose
whom)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from flask_babel import gettext as _
from sqlalchemy import func, select

from mixer.events.models import Event
from mixer.extensions import db
from mixer.followup.models import EventFollowup, FollowupPrompt
from mixer.followup.services import attendee_count, closable, followup_for
from mixer.pairs.models import Pair


@dataclass
class Results:
    """What organizers see after an event (never who chose whom)."""

    followup: EventFollowup | None
    attendees: int
    sent: int
    answered: int
    ratings: list[tuple[int, int]]  # (stars, people), 5 down to 1
    average: float | None
    comments: list[str]
    reflections: list[str]
    pairs: int
    close_refusal: str | None

    @property
    def rated(self) -> int:
        """How many people gave a rating."""
        return sum(n for _, n in self.ratings)

    @property
    def most(self) -> int:
        """The largest bar (for scaling the picture)."""
        return max((n for _, n in self.ratings), default=0)


def results(event: Event) -> Results:
    """Prompts sent and answered, the ratings, comments, reflections, pairs formed."""
    prompts = list(
        db.session.scalars(
            select(FollowupPrompt)
            .where(FollowupPrompt.event_id == event.id)
            .order_by(FollowupPrompt.answered_at.desc(), FollowupPrompt.id)
        )
    )
    answered = [p for p in prompts if p.is_answered]
    counts = dict.fromkeys(range(5, 0, -1), 0)
    for p in answered:
        if p.rating:
            counts[p.rating] += 1
    rated = [p.rating for p in answered if p.rating]
    followup = followup_for(event)
    refusal = closable(event)
    if refusal is None and followup is not None and followup.is_done:
        refusal = _("Follow-up prompts have been sent.")
    pairs = db.session.scalar(
        select(func.count(Pair.id)).where(
            Pair.event_id == event.id, Pair.source == "event"
        )
    )
    return Results(
        followup=followup,
        attendees=attendee_count(event),
        sent=len(prompts),
        answered=len(answered),
        ratings=list(counts.items()),
        average=round(mean(rated), 1) if rated else None,
        comments=[p.comment for p in answered if p.comment],
        reflections=[p.reflection for p in answered if p.reflection],
        pairs=pairs or 0,
        close_refusal=refusal,
    )
