"""What pairs do when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.orgs.models import Membership
from mixer.pairs.lifecycle import close_pairs_of
from mixer.pairs.queries import open_pairs_among


@signals.member_leaving.connect
def _close_pairs(membership: Membership, **_: Any) -> None:
    """A person who leaves an organization leaves its pairs too (both are told)."""
    close_pairs_of(membership.org_id, membership.user_id)


@signals.planning_ties.connect
def _open_pairs(org_id: int, users: list[int], **_: Any) -> set[tuple[int, int]]:
    """A mixer is being planned: people in an open pair sit apart."""
    return open_pairs_among(org_id, users)
