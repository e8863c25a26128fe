"""API: events and registrations of the token's organization.

Another organization's events and registrations do not exist for a token (404).
Writes need the organizer role; registrations made with an organizer's token are
confirmed at once (no e-mail confirmation step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from mixer.accounts.api_auth import token_required
from mixer.api import blueprint
from mixer.errors import NotFound
from mixer.events import lifecycle, registration
from mixer.events.access import org_event
from mixer.events.models import Event, EventStatus, Registration, RegistrationSource
from mixer.events.rules import AgendaItem
from mixer.events.schemas import (
    CancellationSchema,
    EventInputSchema,
    EventPatchSchema,
    EventQuerySchema,
    EventSchema,
    EventSchemaContext,
    RegistrationInputSchema,
    RegistrationQuerySchema,
    RegistrationSchema,
)
from mixer.extensions import db

blp = blueprint("events_api", __name__, "Events and registrations.")


def _event(event_id: int) -> Event:
    """An event of the token's organization (drafts only for organizers), or 404."""
    return org_event(
        g.org_id,
        event_id,
        drafts=g.membership.has_role("organizer"),
        options=(undefer(Event.registered_count), undefer(Event.waitlisted_count)),
    )


def _for_reader(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serialise the events ``view`` returns for the token's holder: organizers
    see share links (``EventSchemaContext``). Goes above ``blp.response``, so the
    context holds while the answer is written."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        organizer = g.membership.has_role("organizer")
        with EventSchemaContext({"organizer": organizer}):
            return view(*args, **kwargs)

    return wrapper


def _agenda(items: list[dict[str, Any]] | None) -> list[AgendaItem] | None:
    if items is None:
        return None
    return [AgendaItem(i["starts_at"], i["title"], i.get("speaker")) for i in items]


def _fresh(event: Event) -> Event:
    """Re-read the event with its counts after a change."""
    db.session.expire(event)
    return _event(event.id)


@blp.route("/events", methods=["POST"])
@token_required("organizer")
@_for_reader
@blp.arguments(EventInputSchema)
@blp.response(201, EventSchema)
@blp.alt_response(409, response="CONFLICT")
def create_event(data: dict[str, Any]):
    """Create an event (a draft unless `status` is `published`)."""
    agenda = _agenda(data.pop("agenda", None))
    event = lifecycle.create_event(g.org, g.user, agenda=agenda, **data)
    db.session.commit()
    return _fresh(event)


@blp.route("/events", methods=["GET"])
@token_required()
@_for_reader
@blp.arguments(EventQuerySchema, location="query", as_kwargs=True)
@blp.paginated(EventSchema)
def list_events(when: str = "all", kind: str | None = None, status=None):
    """The organization's events, soonest first (drafts for organizers only)."""
    stmt = (
        select(Event)
        .where(Event.org_id == g.org_id)
        .options(
            undefer(Event.registered_count),
            undefer(Event.waitlisted_count),
            selectinload(Event.sessions),
            selectinload(Event.organizers),
        )
    )
    if not g.membership.has_role("organizer"):
        stmt = stmt.where(Event.status != EventStatus.DRAFT)
    if when == "upcoming":
        stmt = stmt.where(~Event.is_past)
    elif when == "past":
        stmt = stmt.where(Event.is_past)
    if kind:
        stmt = stmt.where(Event.kind == kind)
    if status:
        stmt = stmt.where(Event.status == status)
    return stmt.order_by(Event.starts_at, Event.id)


@blp.route("/events/<int:event_id>", methods=["GET"])
@token_required()
@_for_reader
@blp.response(200, EventSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_event(event_id: int):
    """One event."""
    return _event(event_id)


@blp.route("/events/<int:event_id>", methods=["PATCH"])
@token_required("organizer")
@_for_reader
@blp.arguments(EventPatchSchema(partial=True))
@blp.response(200, EventSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update_event(data: dict[str, Any], event_id: int):
    """Change an event. New times or places are e-mailed to everyone registered;
    a higher capacity promotes waitlisted people; `status` publishes or cancels."""
    event = _event(event_id)
    agenda = _agenda(data.pop("agenda", None))
    status = data.pop("status", None)
    reason = data.pop("cancel_reason", None)
    if status == EventStatus.CANCELLED:
        if data or agenda is not None:
            lifecycle.update_event(event, g.user, agenda=agenda, **data)
        lifecycle.cancel_event(event, reason)
    else:
        lifecycle.update_event(event, g.user, agenda=agenda, status=status, **data)
    db.session.commit()
    return _fresh(event)


@blp.route("/events/<int:event_id>/registrations", methods=["POST"])
@token_required("organizer")
@blp.arguments(RegistrationInputSchema)
@blp.response(201, RegistrationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def register(data: dict[str, Any], event_id: int):
    """Register someone: `registered` while seats last, then `waitlisted` with a
    position. E-mails them a confirmation with a calendar invitation."""
    event = _event(event_id)
    reg = registration.register(event, source=RegistrationSource.API, **data)
    db.session.commit()
    return reg


@blp.route("/events/<int:event_id>/registrations", methods=["GET"])
@token_required("organizer")
@blp.arguments(RegistrationQuerySchema, location="query", as_kwargs=True)
@blp.paginated(RegistrationSchema)
def registrations(event_id: int, status: str | None = None):
    """An event's registrations: seats first, then the waitlist in order."""
    event = _event(event_id)
    stmt = select(Registration).where(Registration.event_id == event.id)
    if status:
        stmt = stmt.where(Registration.status == status)
    # Everyone not waitlisted first (by id), then the waitlist in order.
    return stmt.order_by(
        Registration.waitlist_position.is_not(None),
        Registration.waitlist_position,
        Registration.id,
    )


@blp.route("/registrations/<int:registration_id>", methods=["DELETE"])
@token_required("organizer")
@blp.response(200, CancellationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel_registration(registration_id: int):
    """Cancel a registration; a freed seat goes to the first on the waitlist,
    who is e-mailed. Cancelling twice is harmless."""
    reg = db.session.scalar(
        select(Registration)
        .join(Event)
        .where(Registration.id == registration_id, Event.org_id == g.org_id)
    )
    if reg is None:
        raise NotFound(f"No registration {registration_id} in this organization.")
    promoted = registration.cancel_registration(reg, by=g.user)
    db.session.commit()
    return Cancellation(reg, promoted)


@dataclass
class Cancellation:
    """What ``DELETE /registrations/<id>`` answers: the cancelled registration
    (its fields are read through) and the people its seat went to."""

    registration: Registration
    promoted: list[Registration]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registration, name)
