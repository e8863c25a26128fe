"""Who may use an event's door tools (scan page, badges, live count)."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from mixer.events import services as events
from mixer.events.models import Event
from mixer.extensions import db, login_manager


def managed_event(event_id: int) -> Event:
    """The event, for people who may manage it: outsiders 404, members 403."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    membership = current_user.membership_in(event.org)
    if membership is None:
        abort(404)
    if not events.can_manage(event, current_user):
        abort(403, description="Only the event's organizers can do that.")
    g.org, g.membership = event.org, membership
    return event
