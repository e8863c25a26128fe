"""What events do when something happens elsewhere (see ``mixer.signals``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mixer import signals
from mixer.events.models import ACTIVE_STATUSES, Registration
from mixer.extensions import db


@signals.sign_in_for_stranger.connect
def _guest_name(address: str, **_: Any) -> str | None:
    """The name of a guest registered (or waitlisted) under ``address``, from
    their latest registration; None when there is none."""
    return db.session.scalar(
        select(Registration.name)
        .where(
            func.lower(Registration.email) == address,
            Registration.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Registration.created_at.desc(), Registration.id.desc())
        .limit(1)
    )
