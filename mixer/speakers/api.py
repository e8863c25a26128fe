"""API: session material of the token's organization's events.

Uploading needs a speaker role token *and* being a speaker of that event (or an
organizer of it); another organization's events and material do not exist (404).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, request
from flask_smorest.fields import Upload
from sqlalchemy import select

from mixer.accounts.api_auth import token_required
from mixer.api import Id, Schema, api_abort, blueprint
from mixer.events.access import org_event
from mixer.events.models import Event
from mixer.extensions import db
from mixer.speakers import material, services, visibility
from mixer.speakers.models import AVAILABILITIES, VISIBILITIES, Material

blp = blueprint("speakers_api", __name__, "Speakers' session material.")


class MaterialFormSchema(Schema):
    """Optional fields sent with the file."""

    session_id = Id(metadata={"description": "Default: the event's first session."})
    visibility = ma.fields.String(
        validate=ma.validate.OneOf(VISIBILITIES),
        metadata={"description": "Default `attendees`."},
    )
    available = ma.fields.String(
        validate=ma.validate.OneOf(AVAILABILITIES),
        metadata={"description": "`anytime` (default) or `after` the session."},
    )
    title = ma.fields.String(validate=ma.validate.Length(max=200))


class MaterialUploadSchema(MaterialFormSchema):
    """The multipart body: the file and the optional fields.

    webargs reads only the file from this location; the other fields are read
    from the form with :class:`MaterialFormSchema` in the view (flask-smorest
    cannot document form and files in one body otherwise).
    """

    file = Upload(
        required=True,
        metadata={
            "minLength": 1,
            "description": "PDF, PPTX, DOCX, XLSX, PNG, JPEG, GIF, WebP, Markdown or "
            "plain text, told by its bytes (another type is a 415); not empty.",
        },
    )


class MaterialSchema(Schema):
    """One item of material."""

    id = ma.fields.Integer()
    session_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "`file` or `link`."})
    title = ma.fields.String()
    version = ma.fields.Integer()
    filename = ma.fields.String(allow_none=True)
    content_type = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    visibility = ma.fields.String()
    available = ma.fields.String()
    hidden = ma.fields.Boolean()
    # (a lambda: the field named visibility above hides the module in this body)
    download_url = ma.fields.Function(lambda item: visibility.download_url(item))
    created_at = ma.fields.DateTime()


def _event(event_id: int) -> Event:
    return org_event(
        g.org_id, event_id, drafts=lambda event: services.can_upload(event, g.user)
    )


@blp.route("/events/<int:event_id>/materials", methods=["POST"])
@token_required("speaker")
@blp.arguments(MaterialUploadSchema, location="files")
@blp.response(201, MaterialSchema)
def upload_material(files: dict[str, Any], event_id: int):
    """Upload a file for a session (speakers of the event and its organizers)."""
    event = _event(event_id)
    try:
        form = MaterialFormSchema().load(request.form.to_dict())
    except ma.ValidationError as exc:
        fields = {k: list(v) for k, v in exc.normalized_messages().items()}
        api_abort(
            400,
            "Invalid input. "
            + " ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()),
            code="invalid_input",
            fields=fields,
        )
    upload = files["file"]
    item = material.upload_material(
        event,
        g.user,
        upload.stream,
        upload.filename,
        title=form.get("title"),
        session_id=form.get("session_id"),
        visibility=form.get("visibility"),
        available=form.get("available"),
    )
    db.session.commit()
    return item


@blp.route("/events/<int:event_id>/materials")
@token_required()
@blp.response(200, MaterialSchema(many=True))
def list_materials(event_id: int):
    """The event's material the token's owner may see, every version."""
    event = _event(event_id)
    return visibility.materials(event, visibility.Viewer(event, g.user))


@blp.route("/materials/<int:material_id>", methods=["DELETE"])
@token_required("speaker")
@blp.response(200)
def delete_material(material_id: int):
    """Delete an item you added (organizers: any item); returns what was deleted."""
    item = db.session.scalar(
        select(Material)
        .join(Event, Event.id == Material.event_id)
        .where(Material.id == material_id, Event.org_id == g.org_id)
    )
    if item is None:
        api_abort(404, f"No material {material_id}.", code="not_found")
    body = MaterialSchema().dump(item)
    material.delete_material(item, g.user)
    db.session.commit()
    return body
