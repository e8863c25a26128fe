"""Who may open an event's pages: every feature's event views go through here.

Anonymous visitors are sent to sign in; people outside the event's organization get
404 (nothing about another tenant leaks); members who may not manage it get 403.
"""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from mixer.events.models import Event
from mixer.events.services import can_manage
from mixer.extensions import db, login_manager


def member_event(event_id: int) -> Event:
    """The event, for signed-in members of its organization; frames the page."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    event = db.session.get(Event, event_id)
    membership = current_user.membership_in(event.org) if event is not None else None
    if membership is None:
        abort(404)
    g.org, g.membership = event.org, membership
    return event


def managed_event(
    event_id: int, refusal: str = "Only the event's organizers can do that."
) -> Event:
    """The event, for the people who may manage it: outsiders 404, members 403."""
    event = member_event(event_id)
    if not can_manage(event, current_user):
        abort(403, description=refusal)
    return event
