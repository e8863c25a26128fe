"""Raising API errors in the one shape ``mixer.web`` renders.

Every API error body is ``{"error": {"code", "message", "fields"}}``. A service's
refusal is a ``mixer.errors.DomainError``, which ``mixer.web`` answers in that shape
with no help from the view; a view that refuses on its own (a lookup by id) raises
``NotFound`` or calls :func:`api_abort`, which ``mixer.web._http_error`` renders.
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


def one_or_404(stmt: Select, message: str) -> Any:
    """The single object ``stmt`` finds, or a 404 saying ``message``.

    Callers filter ``stmt`` by ``g.org``: another organization's object is then
    indistinguishable from one that does not exist.
    """
    obj = db.session.scalar(stmt)
    if obj is None:
        api_abort(404, message, code="not_found")
    return obj
