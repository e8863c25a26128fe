"""Signed, expiring, single-purpose tokens for links in e-mails and on badges.

Each purpose has its own salt, so a token made for one purpose never works for
another. Single-use tokens carry a random ``jti`` that is recorded when spent.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from sqlalchemy.exc import IntegrityError

from mixer import clock
from mixer.extensions import db


class TokenError(Exception):
    """A link that cannot be used; ``str(exc)`` is safe to show to the person."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "invalid", "expired" or "used"


class _ClockSigner(TimestampSigner):
    """Timestamps from ``mixer.clock``, so tests can let links expire."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"mixer.{purpose}", signer=_ClockSigner
    )


def make(purpose: str, data: dict[str, Any], single_use: bool = False) -> str:
    """Sign ``data`` for ``purpose``; single-use tokens get a fresh ``jti``."""
    payload = dict(data)
    if single_use:
        payload["jti"] = secrets.token_urlsafe(16)
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    """Return the data of a valid token or raise ``TokenError``."""
    from mixer.accounts.models import UsedToken

    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("expired", "This link has expired.") from exc
    except BadSignature as exc:
        raise TokenError(
            "invalid", "This link is not valid. Check that it was copied whole."
        ) from exc
    if not isinstance(data, dict):
        raise TokenError("invalid", "This link is not valid.")
    jti = data.get("jti")
    if jti and db.session.get(UsedToken, jti) is not None:
        raise TokenError("used", "This link has already been used.")
    return data


def spend(purpose: str, data: dict[str, Any]) -> None:
    """Mark a single-use token as used; a second spend (even racing) fails."""
    from mixer.accounts.models import UsedToken

    jti = data.get("jti")
    if not jti:
        return
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(jti=jti, purpose=purpose))
    except IntegrityError as exc:
        raise TokenError("used", "This link has already been used.") from exc
