"""What pairs do when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.orgs.models import Membership
from mixer.pairs.lifecycle import close_pairs_of


@signals.member_leaving.connect
def _close_pairs(membership: Membership, **_: Any) -> None:
    """A person who leaves an organization leaves its pairs too (both are told)."""
    close_pairs_of(membership.org_id, membership.user_id)
