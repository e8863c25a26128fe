"""What recognition does when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.accounts.models import User
from mixer.pairs.models import Pair
from mixer.recognition.models import TestimonialSource
from mixer.recognition.testimonials import submit_testimonial


@signals.pair_feedback_given.connect
def _file_testimonial(
    pair: Pair, *, user: User, testimonial: str, consent: bool, **_: Any
) -> None:
    """Words shared with consent at the end of a pair's term go to moderation."""
    if not (testimonial and consent):
        return
    submit_testimonial(
        pair.org_id,
        body=testimonial,
        author_name=user.name,
        author_id=user.id,
        source=TestimonialSource.PAIR,
        source_key=f"pair:{pair.id}:{user.id}",
        event_id=pair.event_id,
        pair_id=pair.id,
    )
