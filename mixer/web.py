"""Request-wide behaviour: security headers, sign-in, error pages, template helpers."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.ctx import _AppCtxGlobals
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from jinja2 import Template
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions
from wtforms.validators import ValidationError

from mixer import clock, hostile
from mixer.errors import DomainError, LinkError
from mixer.extensions import db, login_manager, talisman
from mixer.formatting import format_number, localtime, render_markdown
from mixer.urls import MAX_ID

# The highest page number a list page reads from ``?page=`` (its OFFSET stays
# far inside every database's integer range).
MAX_PAGE = 1_000_000

# Our own pages load scripts and styles only from ourselves; inline scripts need the
# per-request nonce that Talisman puts in ``csp_nonce()``. 'wasm-unsafe-eval' lets a
# page compile WebAssembly (the scan page's ZXing QR decoder, fetched from 'self')
# and nothing else: eval and new Function stay refused.
CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "style-src": ["'self'"],
    "script-src": ["'self'", "'wasm-unsafe-eval'"],
    "connect-src": ["'self'"],
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


class RequestGlobals(_AppCtxGlobals):
    """Flask's ``g``, where a value may be left as a loader run on first use.

    ``g.defer(org=lambda: ...)`` costs nothing until a view reads ``g.org``; the
    loaded value is then kept like any other. The API's authentication uses it:
    the check-in reads only ids (``g.org_id``), other views the objects.
    """

    def defer(self, **loaders: Callable[[], Any]) -> None:
        pending = self.__dict__.setdefault("_deferred", {})
        for name, loader in loaders.items():
            self.__dict__.pop(name, None)
            pending[name] = loader

    def _load(self, name: str) -> bool:
        loader = self.__dict__.get("_deferred", {}).pop(name, None)
        if loader is None:
            return False
        self.__dict__[name] = loader()
        return True

    def __getattr__(self, name: str) -> Any:  # only when not yet in __dict__
        if name.startswith("__") or not self._load(name):
            raise AttributeError(name)
        return self.__dict__[name]

    def get(self, name: str, default: Any | None = None) -> Any:
        self._load(name)
        return super().get(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__ or item in self.__dict__.get("_deferred", {})


@functools.cache
def _content_version(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """A short hash of a static file's content (None when there is no such
    file): ``url_for('static', ...)`` adds it as ``?v=``, so a proxy may cache a
    versioned URL for good (deploy/nginx) and an upgrade changes the URL of
    every file it changes. Hashed once per file and change (size, mtime)."""
    folder = app.static_folder
    if folder is None:
        return None
    path = os.path.join(folder, filename)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _content_version(path, stat.st_mtime_ns, stat.st_size)


def _add_static_version(endpoint: str | None, values: dict[str, Any]) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = static_version(current_app, values["filename"])
        if version is not None:
            values["v"] = version


def init_app(app: Flask) -> None:
    """Attach security headers, the user loader, error handlers and filters."""
    app.app_ctx_globals_class = RequestGlobals
    app.url_defaults(_add_static_version)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"camera": "(self)", "geolocation": "()"},
    )
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    # Flask-Login flashes the message through this: text in the page's language
    # (a lazy string cannot go into the session).
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"

    for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(500, _server_error)
    app.register_error_handler(DomainError, _domain_error)
    for lost in DATABASE_LOST:
        app.register_error_handler(lost, _database_unavailable)

    hostile.init_app(app)  # NUL, surrogates, huge numbers, deep JSON: a 400

    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.globals["now_utc"] = clock.now


def json_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that always answers JSON (the scan page's endpoints): its
    refusals and errors are JSON too, whatever the request's headers say. Put it
    right under the route decorator."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.json_view = True
        return view(*args, **kwargs)

    return wrapped


def query_int(name: str, default: int, *, low: int = 1, high: int = MAX_ID) -> int:
    """An integer from the query string: ``default`` when it is missing, not a
    number or outside ``low``..``high`` (an id that cannot exist, a page no
    database can count to), so odd links never reach the database."""
    value = request.args.get(name, type=int)
    if value is None or not low <= value <= high:
        return default
    return value


def ids_in_range(form: Any, field: Any) -> None:
    """WTForms validator for ids chosen without a fixed list of choices: each id
    (one, or a list) is 1 to MAX_ID, so an odd one is the field's error, not a
    database error."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in values):
        raise ValidationError(_("Choose from the list."))


def query_page() -> int:
    """The ``?page=`` of a list page: 1 unless a page number from 1 to MAX_PAGE."""
    return query_int("page", 1, high=MAX_PAGE)


def wants_json() -> bool:
    """API requests, JSON views, requests that send JSON, and clients that prefer
    JSON to HTML get JSON errors."""
    if request.path == "/api" or request.path.startswith("/api/") or request.is_json:
        return True
    if g.get("json_view"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_error(
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
):
    """The single shape of every API error."""
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status, headers or {}


# Werkzeug's own descriptions of an error page, in the page's language; a
# description a view gave (``abort(403, description=...)``) is shown as given.
DEFAULT_DESCRIPTIONS = {
    400: _l("The browser sent a request that this server could not understand."),
    401: _l("You need to sign in to see this page."),
    405: _l("The method is not allowed for the requested URL."),
    409: _l("The request conflicts with the current state of this page."),
    415: _l("The server does not support the media type sent."),
    422: _l("The request was well-formed but could not be followed."),
}


def _http_error(exc: HTTPException):
    if not wants_json():
        default = DEFAULT_DESCRIPTIONS.get(exc.code or 0)
        if default is not None and exc.description == type(exc).description:
            exc.description = str(default)
        return render_template("errors/error.html", error=exc), exc.code
    if exc.response is not None:  # abort(Response): the view chose the answer
        return exc.response
    status = exc.code or 500
    # ``data`` comes from mixer.api.errors.api_abort (code, fields, headers) or
    # from webargs (messages: {location: {field: [...]}}).
    data = getattr(exc, "data", None) or {}
    code = data.get("code") or (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "Error"
    fields = dict(data.get("fields") or {})
    if data.get("messages") is not None:
        general, fields = _webargs_fields(exc)
        code = data.get("code") or "invalid_input"
        message = (
            _("Invalid input.")
            + " "
            + " ".join(
                general + [f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()]
            )
        )
    elif status == 405 and isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        message = _(
            "%(method)s is not allowed here; use %(methods)s.",
            method=request.method,
            methods=", ".join(sorted(exc.valid_methods)),
        )
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit:
            megabytes = format(limit / 1024 / 1024, "g")
            message = _(
                "The request body is larger than the limit of %(mb)s MB; "
                "nothing was stored.",
                mb=megabytes,
            )
    elif status == 429:
        message = _(
            "Too many requests (limit: %(limit)s). Try again later.",
            limit=exc.description,
        )
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return json_error(status, code, message, fields, headers)


def _webargs_fields(exc: HTTPException) -> tuple[list[str], dict[str, list[str]]]:
    """Split webargs' ``{"json": {"field": [...]}}`` into general and per-field.

    Schema-level messages (``_schema``) are general; nested fields get dotted
    names (``venue.room``, ``offers.0``) so a client can put each next to its input.
    """
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    general: list[str] = []
    fields: dict[str, list[str]] = {}
    for location in messages.values():
        for name, msgs in _flat(location).items():
            if name:
                fields.setdefault(name, []).extend(msgs)
            else:
                general.extend(msgs)
    return general, fields


def _flat(msgs, name: str = "") -> dict[str, list[str]]:
    """``{"a": {"b": ["x"]}, "_schema": ["y"]}`` → ``{"a.b": ["x"], "": ["y"]}``."""
    if isinstance(msgs, dict):
        out: dict[str, list[str]] = {}
        for key, value in msgs.items():
            child = name if key == "_schema" else f"{name}.{key}" if name else str(key)
            for sub, texts in _flat(value, child).items():
                out.setdefault(sub, []).extend(texts)
        return out
    if isinstance(msgs, list | tuple):
        out = {}
        for item in msgs:
            for sub, texts in _flat(item, name).items():
                out.setdefault(sub, []).extend(texts)
        return out
    return {name: [str(msgs)]}


def _csrf_error(exc: CSRFError):
    if wants_json():
        return json_error(400, "csrf_failed", exc.description)
    return render_template("errors/csrf.html", error=exc), 400


def _server_error(exc):
    original = getattr(exc, "original_exception", None)
    if isinstance(original, DATABASE_LOST):  # raised by an error page or a hook
        return _database_unavailable(original)
    # A failed request must not leave a half-written transaction for the next one.
    db.session.rollback()
    if wants_json():
        return json_error(500, "internal_error", _("Something went wrong on our side."))
    return render_template("errors/500.html"), 500


def _domain_error(exc: DomainError):
    """The one answer to a refusal nobody showed on a form: roll back, then JSON
    for API clients, the link-problem page for a link, else the error page."""
    db.session.rollback()
    if wants_json():
        return json_error(exc.status, exc.code, exc.message, exc.fields)
    if isinstance(exc, LinkError):
        return link_problem(exc)
    page = default_exceptions.get(exc.status, HTTPException)(description=exc.message)
    page.code = exc.status
    return render_template("errors/error.html", error=page), exc.status


def link_problem(exc: LinkError):
    """A clear page for an expired (410), used (410), broken (400) or someone
    else's (403) link, titled ``exc.title``. Nothing was changed.

    The page is the link's feature's own ``<blueprint>/link_problem.html`` when
    there is one (it extends ``errors/link_problem.html``, overrides
    ``explanation`` and ``actions``, and may read ids such as ``pair_id`` from
    ``request.view_args``), else the general one.
    """
    templates: list[str | Template] = []
    if request.blueprint:
        templates.append(f"{request.blueprint}/link_problem.html")
    templates.append("errors/link_problem.html")
    page = render_template(
        templates,
        title=exc.title,
        reason=exc.reason,
        message=exc.message,
        # Where to go instead, when the refusal knows (single sign-on).
        action_url=getattr(exc, "url", None),
        action_label=getattr(exc, "action", None),
    )
    return page, exc.status


# --- the database went away: 503 and Retry-After, never 500 -------------------

# A dropped connection (a restarted or failed-over server, a killed backend), a
# refused one, or no connection free in the pool: worth trying again shortly.
DATABASE_LOST = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
DATABASE_RETRY_AFTER = 2  # seconds


def _database_unavailable(exc: Exception):
    """Answer 503 with ``Retry-After`` (JSON, or a page that reads nothing from
    the database) and drop the session, so the next request starts on a fresh
    connection (``pool_pre_ping`` throws out the pool's dead ones)."""
    current_app.logger.warning("database unavailable: %s", exc)
    try:
        db.session.rollback()
    except sa_exc.DBAPIError:  # the connection is gone; forget it
        pass
    db.session.remove()
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    message = _("The database is briefly unavailable. Please try again in a moment.")
    if wants_json():
        return json_error(503, "database_unavailable", message, headers=headers)
    return render_template("errors/503.html", message=message), 503, headers
