"""What slots do when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from mixer import signals
from mixer.orgs.models import Membership
from mixer.slots.services import withdraw_member


@signals.member_leaving.connect
def _leave_slots(membership: Membership, **_: Any) -> None:
    """A person who leaves an organization takes their offers down, and their
    upcoming bookings there, as host or guest, are cancelled (both are told)."""
    withdraw_member(membership.org_id, membership.user_id)
