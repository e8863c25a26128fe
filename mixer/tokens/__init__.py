"""Signed, expiring, single-purpose tokens for links in e-mails and on badges.

Each purpose has its own salt, so a token made for one purpose never works for
another. Single-use tokens carry a random ``jti`` that is recorded when spent;
a purpose whose links may be used again (the follow-up prompt) reads with
``reusable=True``, which ignores a ``jti`` spent by an older, single-use link.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)

from mixer import clock
from mixer.concurrency import insert_once
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.tokens.models import UsedToken


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


def read(
    purpose: str,
    token: str,
    max_age: int | None = None,
    *,
    title: str | None = None,
    reusable: bool = False,
) -> dict[str, Any]:
    """Return the data of a valid token or raise ``LinkError``.

    ``title`` heads the page a person sees for a link that cannot be used ("This
    sign-in link cannot be used"); the general one says "This link …".
    ``reusable`` skips the "already used" check (links that work until they
    expire, however often they are used).
    """
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise _problem("expired", _("This link has expired."), title) from exc
    except BadSignature as exc:
        raise _problem(
            "invalid",
            _("This link is not valid. Check that it was copied whole."),
            title,
        ) from exc
    if not isinstance(data, dict):
        raise _problem("invalid", _("This link is not valid."), title)
    jti = data.get("jti")
    if jti and not reusable and db.session.get(UsedToken, jti) is not None:
        raise _problem("used", _("This link has already been used."), title)
    return data


def spend(purpose: str, data: dict[str, Any], *, title: str | None = None) -> None:
    """Mark a single-use token as used; a second spend (even racing) fails."""
    jti = data.get("jti")
    if not jti:
        return
    if (
        insert_once(UsedToken, {"jti": jti, "purpose": purpose}, unique=("jti",))
        is None
    ):
        raise _problem("used", _("This link has already been used."), title)


def _problem(reason: str, message: str, title: str | None) -> LinkError:
    if title:
        return LinkError(reason, message, title=title)
    return LinkError(reason, message)
