"""What the features tell us (``mixer.signals``), turned into deliveries.

Each receiver runs in the sender's transaction, so a delivery commits with the
change that caused it or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mixer import signals
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.pairs.models import Pair
from mixer.webhooks import payloads
from mixer.webhooks.services import emit, heard_types


def _registration_data(reg: Registration) -> dict[str, Any]:
    """``data`` of the registration.* and checkin.* types."""
    return {
        "registration": payloads.registration(reg),
        "event": payloads.event(reg.event),
    }


@signals.registration_created.connect
def _registration_created(reg: Registration, **_: Any) -> None:
    """registration.created"""
    emit(reg.event.org_id, "registration.created", lambda: _registration_data(reg))


@signals.registration_cancelled.connect
def _registration_cancelled(reg: Registration, **_: Any) -> None:
    """registration.cancelled"""
    emit(reg.event.org_id, "registration.cancelled", lambda: _registration_data(reg))


@signals.checked_in.connect
def _checked_in(registration_id: int, **_: Any) -> None:
    """checkin.created (nothing is read while no endpoint hears check-ins: the
    door's statements stay as few as they are)."""
    if "checkin.created" not in heard_types():
        return
    org_id = db.session.scalar(
        select(Event.org_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(Registration.id == registration_id)
    )
    if org_id is None:
        return

    def data() -> dict[str, Any]:
        reg = db.session.get_one(Registration, registration_id)
        db.session.refresh(reg)  # the check-in was an UPDATE the session did not see
        return _registration_data(reg)

    emit(org_id, "checkin.created", data)


@signals.event_closed.connect
def _event_closed(event: Event, closed_by: str = "organizer", **_: Any) -> None:
    """event.closed"""
    emit(
        event.org_id,
        "event.closed",
        lambda: {"event": payloads.event(event), "closed_by": closed_by},
    )


@signals.pair_created.connect
def _pair_created(pair: Pair, **_: Any) -> None:
    """pair.created"""
    emit(pair.org_id, "pair.created", lambda: {"pair": payloads.pair(pair)})


@signals.pair_ended.connect
def _pair_ended(pair: Pair, **_: Any) -> None:
    """pair.ended"""
    emit(pair.org_id, "pair.ended", lambda: {"pair": payloads.pair(pair)})
