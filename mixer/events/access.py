"""Who may see and manage an event: the rules, and the loaders every feature's
event pages go through.

Anonymous visitors are sent to sign in; people outside the event's organization get
404 (nothing about another tenant leaks); members who may not manage it get 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.interfaces import LoaderOption

from mixer.errors import NotFound
from mixer.events.models import Event, EventStatus, Visibility
from mixer.extensions import db, login_manager


def can_manage(event: Event, user: Any) -> bool:
    """Organizers of the organization, and people named organizers of the event."""
    if not getattr(user, "is_authenticated", False):
        return False
    membership = user.membership_in(event.org)
    if membership is None:
        return False
    return membership.has_role("organizer") or any(
        o.id == user.id for o in event.organizers
    )


def visible_to(event: Event, user: Any, key: str | None = None) -> str | None:
    """How a person may see ``event``: "manager", "member", "guest" or None."""
    if can_manage(event, user):
        return "manager"
    member = getattr(user, "is_authenticated", False) and user.membership_in(event.org)
    if event.status == EventStatus.DRAFT:
        return None
    if member:
        return "member"
    if (
        event.visibility == Visibility.LINK
        and key
        and secrets.compare_digest(key, event.share_key)
    ):
        return "guest"
    return None


def org_event(
    org_id: int,
    event_id: int,
    *,
    drafts: bool | Callable[[Event], bool] = True,
    options: Sequence[LoaderOption] = (),
) -> Event:
    """The event ``event_id`` of organization ``org_id`` (the API's loader).

    ``NotFound`` for another organization's event, so it cannot be told from one
    that does not exist, and for a draft unless ``drafts`` allows it (a yes/no,
    or a rule given the event: organizers, the event's speakers…).
    """
    event = db.session.scalar(
        select(Event)
        .where(Event.id == event_id, Event.org_id == org_id)
        .options(*options)
    )
    if event is not None and event.status == EventStatus.DRAFT:
        allowed = drafts(event) if callable(drafts) else drafts
        if not allowed:
            event = None
    if event is None:
        raise NotFound(f"No event {event_id} in this organization.")
    return event


def member_event(event_id: int) -> Event:
    """The event, for signed-in members of its organization; frames the page."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    event = db.session.get(Event, event_id)
    membership = current_user.membership_in(event.org) if event is not None else None
    if event is None or membership is None:
        abort(404)
    g.org, g.membership = event.org, membership
    return event


def managed_event(event_id: int, refusal: str | None = None) -> Event:
    """The event, for the people who may manage it: outsiders 404, members 403
    (``refusal``, else "Only the event's organizers can do that." in the page's
    language)."""
    event = member_event(event_id)
    if not can_manage(event, current_user):
        abort(403, description=refusal or _("Only the event's organizers can do that."))
    return event
