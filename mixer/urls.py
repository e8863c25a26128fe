"""Absolute links for e-mails, QR codes, calendars and API bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link based on ``BASE_URL`` (for e-mails and QR codes)."""
    # Built from the URL map, so it also works in the worker (no request context).
    base = current_app.config["BASE_URL"]
    adapter = current_app.url_map.bind(
        "localhost", script_name=urlsplit(base).path or "/"
    )
    path = adapter.build(endpoint, values)
    return urlunsplit(urlsplit(base)._replace(path=path))
