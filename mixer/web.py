"""Request-wide behaviour: security headers, sign-in, error pages, template helpers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from mixer.extensions import db, login_manager, talisman

# Our own pages load scripts and styles only from ourselves; inline scripts need the
# per-request nonce that Talisman puts in ``csp_nonce()``.
CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def init_app(app: Flask) -> None:
    """Attach security headers, the user loader, error handlers and filters."""
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
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)

    for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429):
        app.register_error_handler(code, _http_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(500, _server_error)

    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals["now_utc"] = _now


def _load_user(user_id: str):
    from mixer.accounts.models import User

    return db.session.get(User, int(user_id))


def wants_json() -> bool:
    """API requests (and clients that ask for JSON) get JSON errors."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    """The single shape of every API error."""
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def _http_error(exc: HTTPException):
    if wants_json():
        code = (exc.name or "error").lower().replace(" ", "_")
        fields = _webargs_fields(exc)
        message = exc.description or exc.name
        if fields:
            code = "invalid_input"
            message = "Invalid input: " + "; ".join(
                f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()
            )
        return json_error(exc.code or 500, code, message, fields)
    return render_template("errors/error.html", error=exc), exc.code


def _webargs_fields(exc: HTTPException) -> dict[str, list[str]]:
    """Flatten webargs' ``{"json": {"field": [...]}}`` into ``{"field": [...]}``."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict[str, list[str]] = {}
    for location in messages.values():
        if isinstance(location, dict):
            for name, msgs in location.items():
                fields[str(name)] = _flat(msgs)
    return fields


def _flat(msgs) -> list[str]:
    if isinstance(msgs, dict):
        return [f"{k}: {' '.join(_flat(v))}" for k, v in msgs.items()]
    if isinstance(msgs, list | tuple):
        return [
            str(m) if not isinstance(m, dict | list) else " ".join(_flat(m))
            for m in msgs
        ]
    return [str(msgs)]


def _csrf_error(exc: CSRFError):
    if wants_json():
        return json_error(400, "csrf_failed", exc.description)
    return render_template("errors/csrf.html", error=exc), 400


def _server_error(exc):
    # A failed request must not leave a half-written transaction for the next one.
    db.session.rollback()
    if wants_json():
        return json_error(500, "internal_error", "Something went wrong on our side.")
    return render_template("errors/500.html"), 500


def _now():
    from mixer import clock

    return clock.now()


def localtime(
    value: datetime | None, tz: str | None = None, fmt: str = "%a %d %b %Y, %H:%M"
) -> str:
    """Format an aware datetime in ``tz`` (an IANA name), defaulting to UTC."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def render_markdown(text: str | None) -> Markup:
    """Markdown to sanitized HTML (no scripts, no inline handlers, safe links)."""
    import nh3
    from markdown_it import MarkdownIt

    html = (
        MarkdownIt("commonmark", {"linkify": False}).enable("table").render(text or "")
    )
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S704


def current_org_id() -> int | None:
    """The organization the current request works in, if any."""
    org = getattr(g, "org", None)
    return org.id if org is not None else None
