"""API: check people in by badge (token or scanned URL) and undo a check-in.

Badges of another organization do not exist for a token (404); nothing is written
when a scan is refused.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask_babel import gettext as _

from mixer.accounts.api_auth import token_required
from mixer.api import Id, Schema, api_abort, blueprint
from mixer.checkin import services
from mixer.checkin.services import NONCE_RE
from mixer.extensions import db

blp = blueprint("checkin_api", __name__, "Check-in at the door.")


class CheckinInputSchema(Schema):
    """A scan: the badge's token or the whole URL its QR code holds."""

    OPENAPI = {"anyOf": [{"required": ["token"]}, {"required": ["url"]}]}

    token = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The badge token (the part after `/c/`)."},
    )
    url = ma.fields.String(
        validate=ma.validate.Length(min=1, max=2000),
        metadata={"description": "The scanned URL, `BASE_URL/c/<token>`."},
    )
    event_id = Id(
        metadata={
            "description": "The event at the door: a badge of another event is "
            "refused with 409."
        }
    )
    nonce = ma.fields.String(
        # The service checks the same rule (NONCE_RE); stated here for the document.
        validate=ma.validate.Regexp(
            f"^{NONCE_RE.pattern}$", error="Use 8 to 64 letters, digits or - _ . :"
        ),
        metadata={
            "description": "A random id of this scan chosen by the client (8 to 64 "
            "letters, digits or `-_.:`); sending it again (an offline queue "
            "replaying) changes nothing and returns the first answer."
        },
    )

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("token") and not data.get("url"):
            raise ma.ValidationError("Send the badge's `token` or the scanned `url`.")


class CheckinSchema(Schema):
    """The answer to a scan."""

    status = ma.fields.String(
        required=True,
        metadata={"description": "`checked_in` or `already_checked_in`."},
    )
    registration_id = ma.fields.Integer(required=True)
    event_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    checked_in_at = ma.fields.String(
        required=True, metadata={"description": "When (UTC, ISO 8601)."}
    )
    replayed = ma.fields.Boolean(
        metadata={"description": "True when this nonce was sent before."}
    )
    registration_status = ma.fields.String(
        metadata={
            "description": "The registration's status: `registered` (the only one "
            "checked in; refusals say why others are not)."
        }
    )


class UndoSchema(Schema):
    """The answer to an undo."""

    registration_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    undone = ma.fields.Boolean(
        required=True,
        metadata={"description": "False when the person was not checked in."},
    )


@blp.route("/checkins", methods=["POST"])
@token_required("organizer")
@blp.arguments(CheckinInputSchema)
@blp.response(200, CheckinSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def check_in(data: dict[str, Any]):
    """Check in the badge's owner. 404 for an unknown badge (or another
    organization's); 409 for a badge of another event (when `event_id` is given)
    or a cancelled, waitlisted or unconfirmed registration."""
    result = services.check_in_badge(
        g.org_id,
        data.get("url") or data.get("token"),
        data.get("event_id"),
        nonce=data.get("nonce"),
        by_user_id=g.user_id,
    )
    answer = result.as_dict()  # nothing is read after the commit: no 500 after it
    db.session.commit()
    return answer


@blp.route("/checkins/<int:registration_id>", methods=["DELETE"])
@token_required("organizer")
@blp.response(200, UndoSchema)
@blp.alt_response(404, response="NOT_FOUND")
def undo(registration_id: int):
    """Undo a check-in (a mistaken scan). Undoing twice is harmless."""
    reg = services.registration_in_org(g.org_id, registration_id)
    if reg is None:
        api_abort(
            404,
            _(
                "No registration %(id)s in this organization.",
                id=registration_id,
            ),
        )
    undone = services.undo_check_in(reg)
    answer = {"registration_id": reg.id, "name": reg.name, "undone": undone}
    db.session.commit()
    return answer
