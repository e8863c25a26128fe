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
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, NoReturn

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy import or_, update

from mixer import clock
from mixer.accounts.models import ApiToken
from mixer.accounts.services import caller_for_secret, role_covers
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


def authenticate(role: str) -> None:
    """Check the request's token and role; say who calls in ``g``.

    One query reads the token, its owner's standing and role in the token's
    organization (:func:`mixer.accounts.services.caller_for_secret`). The ids
    are put on ``g`` at once (``g.org_id``, ``g.user_id``, ``g.api_token_id``);
    the objects (``g.org``, ``g.user``, ``g.membership``, ``g.api_token``) are
    loaded by primary key when a view first reads them, so a check-in, which
    needs only the ids, loads none.
    """
    caller = caller_for_secret(_bearer_secret())
    if caller is None:
        _unauthorized(
            "This API token is not valid or has been revoked.", invalid_token=True
        )
    if caller.role is None or not caller.user_active:
        _unauthorized(
            "This API token's owner is no longer an active member of its organization.",
            invalid_token=True,
        )
    _touch(caller.token_id, caller.last_used_at)  # counts as used even if refused
    if not role_covers(caller.role, role):
        api_abort(
            403,
            f"This needs the {role} role in {caller.org_name}; "
            f"your role is {caller.role}.",
            code="forbidden",
        )
    g.api_token_id, g.org_id, g.user_id = caller.token_id, caller.org_id, caller.user_id
    g.defer(**caller.loaders())


def _touch(token_id: int, last: datetime | None) -> None:
    """Record use at most once a minute, committed now so GETs persist it too.

    Nothing else is pending in the session at this point (only a read), so the
    commit writes just this; doing it before the view keeps the record even when
    the view fails, and never commits a view's half-done work. The condition in
    the UPDATE makes simultaneous requests write it once.
    """
    now = clock.now()
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    session = db.session()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def rate_key() -> str:
    """Rate-limit bucket: the presented token (hashed), else the client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


_api_limit = limiter.shared_limit(_rate_limit, scope="api", key_func=rate_key)


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
