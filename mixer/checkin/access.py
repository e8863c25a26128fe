"""Who is at the door of an event: its managers, its door helpers, or a phone
that opened one of its door links (a door session, no account).

The scan page and its JSON endpoints load their event through :func:`door_event`;
every other event page keeps ``mixer.events.access.managed_event``, so a door
helper or a door session gets 403/404 (or the sign-in page) there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, g, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from mixer.checkin import door
from mixer.checkin.models import DoorLink
from mixer.events.access import can_manage, managed_event
from mixer.events.models import Event
from mixer.extensions import db, login_manager

# The Flask session entry of a door session: {"l": door link id, "k": its key}.
DOOR_SESSION = "door"


@dataclass
class DoorAccess:
    """The person (or door link) at an event's door, and what they may do."""

    event: Event
    manager: bool
    user_id: int | None = None
    link: DoorLink | None = None

    @property
    def link_id(self) -> int | None:
        """The door link of a door session, else None."""
        return self.link.id if self.link is not None else None

    @property
    def by(self) -> dict[str, int | None]:
        """Keyword arguments naming who checks people in."""
        return {"by_user_id": self.user_id, "by_link_id": self.link_id}


def door_event(event_id: int) -> DoorAccess:
    """The event, for its managers, its door helpers and its door sessions.

    Others as on every event page: outsiders 404, members 403, anonymous to
    sign in; a door session of another event 403.
    """
    # The organization in the same query: the membership check needs it.
    event = db.session.get(Event, event_id, options=[joinedload(Event.org)])
    if event is not None and current_user.is_authenticated:
        membership = current_user.membership_in(event.org)
        if membership is not None:
            g.org, g.membership = event.org, membership
            if can_manage(event, current_user):
                return DoorAccess(event, True, user_id=current_user.id)
            if door.is_helper(event, current_user):
                return DoorAccess(event, False, user_id=current_user.id)
    data = session.get(DOOR_SESSION)
    link = door.session_link(data, event_id) if event is not None else None
    if event is not None and link is not None:
        return DoorAccess(event, False, link=link)
    if current_user.is_authenticated:
        managed_event(event_id)  # 404 outside the organization, 403 inside
    if data:
        abort(403, description=_("This door link does not open this event."))
    abort(login_manager.unauthorized())


def start_door_session(link: DoorLink) -> None:
    """Remember the door link in this browser's session (one event only)."""
    session[DOOR_SESSION] = {"l": link.id, "k": link.key}


def require_manager(access: DoorAccess, what: str) -> None:
    """403 for door helpers and door sessions; ``what`` is the whole refusal."""
    if not access.manager:
        abort(403, description=what)


def may_undo(access: DoorAccess, record: Any) -> bool:
    """Organizers undo any check-in; door helpers and links only their own."""
    return access.manager or door.made_by(record, access.user_id, access.link_id)
