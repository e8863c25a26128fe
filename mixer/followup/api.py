"""API: close an event now and queue its follow-up prompts.

Another organization's events do not exist for a token (404); closing needs the
organizer role (403); an event that cannot be closed is a 409 with the reason.
"""

from __future__ import annotations

import marshmallow as ma
from flask import g
from sqlalchemy import select

from mixer.accounts.api_auth import token_required
from mixer.api import Schema, blueprint
from mixer.errors import NotFound
from mixer.events.models import Event
from mixer.extensions import db
from mixer.followup import services

blp = blueprint("followup_api", __name__, "Follow-up after events.")


class ClosingSchema(Schema):
    """What closing an event did."""

    event_id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True, metadata={"description": "The event's status: `ended`."}
    )
    prompts_queued = ma.fields.Integer(
        required=True,
        metadata={
            "description": "People checked in whom the prompt is e-mailed to "
            "(one e-mail each; not members who turned prompts off)."
        },
    )
    followup_due_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "When the prompts go (UTC): now, when closed."},
    )
    prompts_sent_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When the worker sent them; null until then."},
    )
    already_closed = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "True when the event had been closed (or its prompts "
            "sent) before: nothing was sent again."
        },
    )


@blp.route("/events/<int:event_id>/close", methods=["POST"])
@token_required("organizer")
@blp.response(200, ClosingSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def close_event(event_id: int):
    """End the event now and queue one follow-up prompt for each person checked
    in. Closing again changes nothing (`already_closed`); a draft, a cancelled
    event or one that has not started is a 409."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id, Event.org_id == g.org_id)
    )
    if event is None:
        raise NotFound(f"No event {event_id} in this organization.")
    closing = services.close_event(event, g.user)
    db.session.commit()
    return {
        "event_id": closing.event.id,
        "status": closing.event.status,
        "prompts_queued": closing.attendees,
        "followup_due_at": closing.followup.due_at,
        "prompts_sent_at": closing.followup.sent_at,
        "already_closed": closing.already_closed,
    }
