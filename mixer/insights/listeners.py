"""What insights does when other features change things (``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.insights.cache import forget
from mixer.orgs.models import Membership


@signals.member_leaving.connect
def _forget_snapshots(membership: Membership, **_: Any) -> None:
    """A person leaving an organization (or erased from it) may be named in its
    stored figures (top mentors, testimonials): they are counted again from
    what remains, not served from before."""
    forget(membership.org_id)


@signals.testimonial_unpublished.connect
def _forget_quoted_words(org_id: int, **_: Any) -> None:
    """Stored figures quote recent approved testimonials: words no longer public
    must not be served from a snapshot (counted again at the next view)."""
    forget(org_id)
