"""Events test helpers: a frozen clock at a known Monday, an organization with an
organizer, and readers for what the services wrote."""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import func, select

from mixer.events.models import Registration
from mixer.extensions import db
from tests.helpers import NOW, bearer  # noqa: F401  (re-exported for events tests)


def count_rows(model) -> int:
    """How many rows ``model`` has, read afresh."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def calendar_in(msg) -> Calendar:
    """The calendar attached to an e-mail."""
    [part] = [
        p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    return Calendar.from_ical(part.get_payload(decode=True))


def statuses(event) -> list[tuple[str, str, int | None]]:
    """(e-mail, status, waitlist position) of an event's registrations, by id."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Registration.email, Registration.status, Registration.waitlist_position)
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
    )
    return [tuple(r) for r in rows]
