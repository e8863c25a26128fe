"""Input that no field can hold, refused once at the edge of every request.

Some text cannot be stored or even parsed, whatever the form or schema says: a NUL
character (PostgreSQL refuses it in text), a lone UTF-16 surrogate (``"\\ud800"``
in JSON cannot be encoded as UTF-8), an integer longer than Python converts
(4,300 digits), JSON nested deeper than the parser's recursion limit, and JSON's
``NaN`` / ``Infinity`` / ``1e999``. Rather than teach every view about them, a
``before_request`` hook looks at the query string, the form, path
arguments, header values and the JSON body once, and refuses the request with a
400 naming the field (:class:`HostileInput`, a ``DomainError``: JSON for API
clients, the error page for a browser). Nothing has been read from or written to
the database at that point. A value the database itself refuses (a number beyond
its integer range, a text longer than its column: ``DataError``, or Python's
``OverflowError``) is answered with the same 400 after a rollback.

``docs/hardening.md`` lists these limits.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError

from mixer.errors import DomainError
from mixer.extensions import db

# Deeper JSON than any of our schemas nests (an event with its agenda is 3 levels).
MAX_JSON_DEPTH = 32
# Python refuses to convert longer digit strings (sys.get_int_max_str_digits).
MAX_INT_DIGITS = 4300

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LONG_NUMBER = re.compile(rf"\s*[+-]?\d{{{MAX_INT_DIGITS + 1},}}\s*")
_JSON_TYPES = re.compile(r"application/(.+\+)?json", re.IGNORECASE)


class HostileInput(DomainError):
    """Input that cannot be stored or parsed; always a 400 naming the field."""


def init_app(app: Flask) -> None:
    """Check every request before its view runs; answer the database's refusal
    of a value (out of range, too long) as the same 400."""
    app.before_request(check_request)
    app.register_error_handler(DataError, _unstorable)
    app.register_error_handler(OverflowError, _unstorable)


def _unstorable(exc: Exception) -> ResponseReturnValue:
    """The net under the forms' own bounds: a number beyond the column's range
    (PostgreSQL's 32-bit integers, SQLite's 64-bit ones) or a text longer than
    its column. The transaction is rolled back: nothing was saved."""
    db.session.rollback()
    refusal = HostileInput(
        "A value is too large (or too long) to be stored; nothing was saved."
    )
    return current_app.handle_user_exception(refusal)


def check_request() -> None:
    """Refuse unstorable text, unconvertible numbers and pathological JSON."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, name)
    for name, value in request.headers.items():
        if "\x00" in name or "\x00" in value:
            raise HostileInput("A request header contains a NUL character.")
    for name, value in request.args.items(multi=True):
        check_text(name, name)
        check_text(value, name)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    for name, value in request.form.items(multi=True):
        check_text(name, name)
        check_text(value, name)
    for name in request.files:  # file names are cleaned where they are stored
        check_text(name, name)
    if _JSON_TYPES.fullmatch(request.mimetype or ""):
        check_json(request.get_data(cache=True))


def check_text(value: str, field: str, *, numbers: bool = True) -> None:
    """Refuse a NUL, a lone surrogate, or (``numbers``: an untyped value from a
    query string or form, which a view may convert) a number too long to convert."""
    bad = _UNSTORABLE.search(value)
    if bad:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        raise HostileInput(
            f"{_label(field)} contains {what} "
            f"(U+{ord(bad.group()):04X}), which cannot be stored; nothing was saved.",
            field=field,
        )
    if numbers and len(value) > MAX_INT_DIGITS and _LONG_NUMBER.fullmatch(value):
        raise HostileInput(
            f"{_label(field)} is a number with more than {MAX_INT_DIGITS} digits; "
            "nothing was saved.",
            field=field,
        )


def check_json(body: bytes) -> None:
    """Parse the body as the views will, and refuse what they could not handle."""
    if not body.strip():
        return
    try:
        data = json.loads(
            body, parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError as exc:
        raise HostileInput(
            f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        # Malformed JSON, NaN/Infinity, or an integer beyond the digit limit: the
        # API parser's answer (mixer.api.parser), before any view parses it.
        raise HostileInput(
            f"The request body is not valid JSON: {exc}.", code="invalid_json"
        ) from exc
    _walk(data)


def _walk(data: Any) -> None:
    """Check every key and string without recursion (the depth is the input's)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):  # a JSON string is text: digits are fine in it
            check_text(item, path or "body", numbers=False)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise HostileInput(
                f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
            )
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, value in pairs:
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                check_text(key, child, numbers=False)
            stack.append((value, child, depth + 1))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def _label(field: str) -> str:
    return f"The field {field!r}" if field and field != "body" else "The input"
