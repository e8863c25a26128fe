"""Absolute links for e-mails, QR codes, calendars and API bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from werkzeug.routing import IntegerConverter, Map

# The largest value of the databases' INTEGER columns (every id is one): an id
# beyond it cannot exist, and PostgreSQL refuses to even compare with it.
MAX_ID = 2**31 - 1


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link based on ``BASE_URL`` (for e-mails and QR codes)."""
    # Built from the URL map, so it also works in the worker (no request context).
    base = current_app.config["BASE_URL"]
    adapter = current_app.url_map.bind(
        "localhost", script_name=urlsplit(base).path or "/"
    )
    path = adapter.build(endpoint, values)
    return urlunsplit(urlsplit(base)._replace(path=path))


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id from 1 to ``MAX_ID`` written without
    leading zeros. Anything else matches no route, so it is a 404 (an id that
    cannot exist), never a database error."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
