"""API root (who am I) and the readable API docs page."""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import g, render_template, url_for

from mixer.api.auth import token_required
from mixer.api.blueprint import blueprint
from mixer.api.schemas import Schema

blp = blueprint("api", __name__, "Who the token belongs to.")

# Not an API operation, so a plain blueprint: it stays out of the OpenAPI document.
docs_bp = FlaskBlueprint("api_docs", __name__)


class OrgRefSchema(Schema):
    """An organization, briefly."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class MeSchema(Schema):
    """The person behind the token."""

    id = ma.fields.Integer(required=True, metadata={"description": "User id."})
    member_id = ma.fields.Integer(
        required=True,
        metadata={"description": "Membership id (as in `/members/{member_id}`)."},
    )
    name = ma.fields.String(required=True)
    email = ma.fields.Email(required=True)
    role = ma.fields.String(
        required=True,
        metadata={"enum": ["admin", "organizer", "speaker", "member"]},
    )


class TokenRefSchema(Schema):
    """The token making this request."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(
        required=True, metadata={"description": "First characters of the secret."}
    )


class RootSchema(Schema):
    """Who am I: the token's organization, person and token."""

    version = ma.fields.String(required=True, metadata={"example": "v1"})
    organization = ma.fields.Nested(OrgRefSchema, required=True)
    user = ma.fields.Nested(MeSchema, required=True)
    token = ma.fields.Nested(TokenRefSchema, required=True)


@blp.route("/")
@token_required()
@blp.response(200, RootSchema)
def root():
    """Who am I: the token's organization, person and role."""
    return {
        "version": "v1",
        "organization": g.org,
        "user": {
            "id": g.user.id,
            "member_id": g.membership.id,
            "name": g.user.name,
            "email": g.user.email,
            "role": g.membership.role,
        },
        "token": g.api_token,
    }


@docs_bp.get("/docs")
def docs():
    """The API reference, rendered by the vendored Swagger UI.

    It runs under the site-wide CSP unchanged: scripts from ``/static`` only.
    """
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
