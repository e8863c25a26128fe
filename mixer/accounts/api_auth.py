"""Bearer-token authentication and role checks for the API.

Every API view is decorated, directly below ``@blp.route``::

    @blp.route("/things/<int:thing_id>")
    @token_required("organizer")
    @blp.response(200, ThingSchema)
    def thing(thing_id): ...

so that authentication runs before input is parsed. The decorator also documents
the bearer security requirement and the 401/403 answers in the OpenAPI document,
and applies the per-token API rate limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any, NoReturn

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from mixer import clock
from mixer.accounts.models import ApiToken
from mixer.accounts.services import token_for_secret
from mixer.api.errors import api_abort
from mixer.extensions import db, limiter

REALM = 'Bearer realm="Mixer API"'
LAST_USED_RESOLUTION = timedelta(minutes=1)
DEFAULT_RATE_LIMIT = "600 per minute"
DEFAULT_FAILURE_LIMIT = "30 per minute"


def _unauthorized(message: str, invalid_token: bool = False) -> NoReturn:
    # RFC 6750: the challenge names the scheme, and says when a token was sent
    # but not accepted.
    challenge = REALM + (', error="invalid_token"' if invalid_token else "")
    api_abort(
        401, message, code="unauthorized", headers={"WWW-Authenticate": challenge}
    )


def _bearer_secret() -> str:
    """The secret from ``Authorization: Bearer <secret>``, or a 401."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        _unauthorized(
            "This needs an API token: send 'Authorization: Bearer <token>'. "
            "Create one on your profile page or with 'mixer create-token'."
        )
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        _unauthorized(
            f"Use the Bearer scheme: 'Authorization: Bearer <token>' (got {scheme!r})."
        )
    return secret.strip()


def authenticate(role: str) -> tuple[ApiToken, Any]:
    """Check the request's token and role; put token, org, membership, user on g.

    The membership is reached through the token's person (``User.membership_in``)
    and its role checked with ``Membership.has_role``, so accounts needs nothing
    from orgs but the ORM relationship between their models.
    """
    token = token_for_secret(_bearer_secret())
    if token is None:
        _unauthorized(
            "This API token is not valid or has been revoked.", invalid_token=True
        )
    membership = token.user.membership_in(token.org)
    if membership is None or not token.user.is_active:
        _unauthorized(
            "This API token's owner is no longer an active member of its organization.",
            invalid_token=True,
        )
    _touch(token)  # authenticated: it counts as used even if the role falls short
    if not membership.has_role(role):
        api_abort(
            403,
            f"This needs the {role} role in {token.org.name}; "
            f"your role is {membership.role}.",
            code="forbidden",
        )
    g.api_token, g.org, g.membership, g.user = (
        token,
        token.org,
        membership,
        token.user,
    )
    return token, membership


def _touch(token: ApiToken) -> None:
    """Record use at most once a minute, committed now so GETs persist it too.

    Nothing else is pending in the session at this point (only reads), so the
    commit writes just this; doing it before the view keeps the record even when
    the view fails, and never commits a view's half-done work. The objects
    already loaded (token, owner, membership, organization) are kept through this
    commit, so nothing is read again; the condition in the UPDATE makes
    simultaneous requests write it once.
    """
    now = clock.now()
    last = token.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    session = db.session()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used_at", now)
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _rate_key() -> str:
    """Rate-limit bucket: the presented token (hashed), else the client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


_api_limit = limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_key)


def _failure_limit() -> str:
    return current_app.config.get("API_AUTH_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT)


def _failure_key() -> str:
    return "api-auth-failures:" + get_remote_address()


# Guessing tokens: each refused token counts against its client address (the
# per-token limit above gives every invented token an allowance of its own). Once
# the address has used up its failures, every API request from it is a 429 until
# the window moves on, valid token or not, so that a guess cannot be confirmed.
_failure_limit_per_address = limiter.shared_limit(
    _failure_limit,
    scope="api-auth-failures",
    key_func=_failure_key,
    deduct_when=lambda response: response.status_code == 401,
)


def token_required(role: str = "member") -> Callable:
    """Require a live bearer token whose owner has at least ``role`` in its org
    (one of ``mixer.orgs.models.ROLES``; ``Membership.has_role`` checks it)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            authenticate(role)
            return view(*args, **kwargs)

        doc = deepcopy(getattr(wrapped, "_apidoc", {}))
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
        if role != "member":
            responses.setdefault(403, []).append("FORBIDDEN")
        manual = doc.setdefault("manual_doc", {})
        manual["security"] = [{"bearerAuth": []}]
        if role != "member":
            note = f"Needs the **{role}** role (or higher)."
            manual["description"] = (
                manual.get("description", "") + "\n\n" + note
            ).strip()
        wrapped._apidoc = doc  # type: ignore[attr-defined]
        wrapped.api_role = role  # type: ignore[attr-defined]
        return _failure_limit_per_address(_api_limit(wrapped))

    return decorator
