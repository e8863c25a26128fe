"""Job handlers of the slots feature (run by ``mixer worker``)."""

from __future__ import annotations

from typing import Any

from mixer.clock import stamp
from mixer.extensions import db
from mixer.jobs.services import handler
from mixer.slots import notifications
from mixer.slots.models import SlotBooking
from mixer.slots.services import AFTER_JOB, REMIND_JOB


def _current(payload: dict[str, Any]) -> SlotBooking | None:
    """The booking, if still live at the start the job was planned for."""
    booking = db.session.get(SlotBooking, payload["booking_id"])
    if booking is None or not booking.is_live:
        return None
    if stamp(booking.starts_at) != payload["starts_at"]:
        return None  # moved: the move planned its own jobs
    return booking


@handler(REMIND_JOB)
def remind(payload: dict[str, Any]) -> dict[str, int]:
    """The reminder to both, once (the mail's dedupe key), whoever runs it."""
    booking = _current(payload)
    return {"sent": notifications.send_reminders(booking) if booking else 0}


@handler(AFTER_JOB)
def after(payload: dict[str, Any]) -> dict[str, bool]:
    """ "Did it help?" to the guest once the slot is over."""
    booking = _current(payload)
    if booking is None:
        return {"sent": False}
    return {"sent": notifications.send_helped_question(booking)}
