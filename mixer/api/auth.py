"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, request

from mixer import clock
from mixer.accounts.services import token_for_secret
from mixer.orgs.access import membership_for


def token_required(role: str = "member") -> Callable:
    """Check `Authorization: Bearer`; set g.org, g.membership and g.user."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            header = request.headers.get("Authorization", "")
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                abort(
                    401,
                    description="Send an API token as 'Authorization: Bearer <token>'.",
                )
            token = token_for_secret(secret.strip())
            if token is None:
                abort(
                    401, description="This API token is not valid or has been revoked."
                )
            membership = membership_for(token.user, token.org_id)
            if membership is None or not token.user.is_active:
                abort(
                    401,
                    description="The token's owner has left its organization.",
                )
            if not membership.has_role(role):
                abort(
                    403, description=f"This needs the {role} role in {token.org.name}."
                )
            now = clock.now()
            if (
                token.last_used_at is None
                or (now - token.last_used_at).total_seconds() > 60
            ):
                token.last_used_at = now  # written at most once a minute per token
            g.api_token, g.org, g.membership, g.user = (
                token,
                token.org,
                membership,
                token.user,
            )
            return view(*args, **kwargs)

        return wrapped

    return decorator
