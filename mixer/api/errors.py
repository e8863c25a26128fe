"""Raising API errors in the one shape ``mixer.web`` renders.

Every API error body is ``{"error": {"code", "message", "fields"}}``. Views raise
them with :func:`api_abort` (or :func:`invalid` for a service's ``ValueError`` that
names a field); ``mixer.web._http_error`` turns the exception into JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from sqlalchemy import Select
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import abort as _werkzeug_abort

from mixer.extensions import db


def api_abort(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> NoReturn:
    """Stop the request with ``status`` and an error the client can act on."""
    try:
        _werkzeug_abort(status, description=message)
    except HTTPException as exc:
        # The same attribute webargs uses, so one handler reads both.
        exc.data = {  # type: ignore[attr-defined]
            "code": code,
            "fields": {k: list(v) for k, v in (fields or {}).items()},
            "headers": dict(headers or {}),
        }
        raise


def invalid(exc: ValueError, status: int = 400, code: str | None = None) -> NoReturn:
    """Answer a service's refusal (``OrgError``, ``AccountError``...) as ``status``.

    The exception's ``field`` attribute, when set, names the offending input.
    """
    field = getattr(exc, "field", None)
    message = str(exc)
    api_abort(
        status,
        message,
        code=code or ("invalid_input" if status == 400 else None),
        fields={field: [message]} if field else None,
    )


def one_or_404(stmt: Select, message: str) -> Any:
    """The single object ``stmt`` finds, or a 404 saying ``message``.

    Callers filter ``stmt`` by ``g.org``: another organization's object is then
    indistinguishable from one that does not exist.
    """
    obj = db.session.scalar(stmt)
    if obj is None:
        api_abort(404, message, code="not_found")
    return obj
