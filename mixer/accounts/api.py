"""API: who the token belongs to (the root), and the caller's own API tokens (list,
rename, revoke); secrets are never shown."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from sqlalchemy import Select, select

from mixer.accounts.api_auth import token_required
from mixer.accounts.models import ApiToken
from mixer.accounts.services import revoke_api_token
from mixer.api import Schema, blueprint
from mixer.api.errors import one_or_404
from mixer.api.schemas import NONBLANK, TrimmedString
from mixer.extensions import db

blp = blueprint("accounts_api", __name__, "Your API tokens.")
# The root keeps its own section of the API document.
root_blp = blueprint("api", __name__, "Who the token belongs to.")


class TokenSchema(Schema):
    """One of your API tokens (its secret is shown once, when created, never here)."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"example": "CRM sync"})
    prefix = ma.fields.String(
        required=True,
        metadata={
            "description": "First characters of the secret, to recognise it.",
            "example": "mxr_3fA9qZ",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "To the minute."}
    )
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    current = ma.fields.Method(
        "is_current",
        metadata={
            "type": "boolean",
            "description": "Whether this token made the request.",
        },
    )

    def is_current(self, token: ApiToken) -> bool:
        return token.id == g.api_token_id


class TokenUpdateSchema(Schema):
    """What can change on a token."""

    name = TrimmedString(
        required=True,
        validate=ma.validate.Length(min=1, max=80),
        metadata={"pattern": NONBLANK, "description": "Not only spaces."},
    )


def own_tokens() -> Select:
    """The caller's tokens in the token's organization, newest first."""
    return (
        select(ApiToken)
        .where(ApiToken.user_id == g.user_id, ApiToken.org_id == g.org_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def _own_token(token_id: int) -> ApiToken:
    return one_or_404(
        own_tokens().where(ApiToken.id == token_id),
        f"You have no API token {token_id} in this organization.",
    )


@blp.route("/tokens")
@token_required()
@blp.paginated(TokenSchema)
def tokens():
    """Your API tokens in this organization, revoked ones included."""
    return own_tokens()


@blp.route("/tokens/<int:token_id>", methods=["PATCH"])
@token_required()
@blp.arguments(TokenUpdateSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(404, response="NOT_FOUND")
def rename_token(changes: dict, token_id: int):
    """Rename one of your tokens."""
    token = _own_token(token_id)
    token.name = changes["name"]
    db.session.commit()
    return token


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@token_required()
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def revoke_token(token_id: int):
    """Revoke one of your tokens (it stops working at once; revoking twice is fine)."""
    revoke_api_token(_own_token(token_id))
    db.session.commit()
    return ""


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


@root_blp.route("/")
@token_required()
@root_blp.response(200, RootSchema)
def root():
    """Who am I: the token's organization, person and role."""
    return {
        "version": "v1",
        "organization": g.org,
        "user": {
            "id": g.user_id,
            "member_id": g.membership.id,
            "name": g.user.name,
            "email": g.user.email,
            "role": g.membership.role,
        },
        "token": g.api_token,
    }
