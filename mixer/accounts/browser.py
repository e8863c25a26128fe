"""The browser side of signing in: Flask-Login's user loader, signing in and out
through a sign-in record (``mixer.accounts.sign_ins``), noting its use, and
``Cache-Control: no-store`` on whatever is sent to a signed-in person."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from mixer.accounts import services, sign_ins
from mixer.accounts.models import SignIn, User
from mixer.extensions import db, login_manager

NO_STORE = "no-store"


def init_app(app: Flask) -> None:
    """Check and note the sign-in before each request; no-store after it."""
    app.before_request(_check_sign_in)
    app.after_request(_no_store_when_signed_in)


@login_manager.user_loader
def _load_user(value: str) -> User | None:
    """The signed-in person of a session or remember cookie (every request)."""
    return sign_ins.user_for(value)


def log_in(user: User, remember: bool = False, sso: bool = False) -> SignIn:
    """Sign ``user`` in in this browser with a new sign-in record (the caller
    commits); the session cookie, and with ``remember`` the remember cookie,
    carry its secret. Unless the person came through their organization's single
    sign-on (``sso``), an organization that switched passwords off refuses it
    (``services.PasswordsOff``)."""
    if not sso:
        services.check_password_sign_in(user)
    sign_in = sign_ins.start(
        user,
        remember=remember,
        user_agent=request.headers.get("User-Agent", ""),
        ip=request.remote_addr,
        sso=sso,
    )
    login_user(user, remember=remember)
    return sign_in


def log_out() -> None:
    """End this browser's sign-in and forget it (the caller commits)."""
    sign_in = getattr(current_user, "current_sign_in", None)
    if sign_in is not None:
        sign_ins.revoke(sign_in)
    logout_user()


def log_out_everywhere() -> int:
    """End every sign-in of the signed-in person, this one included."""
    ended = sign_ins.revoke_all(current_user)
    logout_user()
    return ended


def _credentials_sent() -> bool:
    """The request carries a session, a remember cookie or an Authorization header
    (valid or not: what matters is that the answer may be personal)."""
    cfg = current_app.config
    if "Authorization" in request.headers:
        return True
    if cfg.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return True
    if cfg["SESSION_COOKIE_NAME"] not in request.cookies:
        return False  # not reading ``session`` keeps ``Vary: Cookie`` off
    return "_user_id" in session


def _is_static() -> bool:
    return (request.endpoint or "").rpartition(".")[2] == "static"


def _check_sign_in() -> None:
    """Forget a sign-in that has ended; note the use of a live one (a write at
    most every few minutes, before the view writes anything)."""
    if _is_static() or not _credentials_sent() or "Authorization" in request.headers:
        return
    user = current_user._get_current_object()
    if not user.is_authenticated:
        if "_user_id" in session:  # revoked, expired or idle: drop both cookies
            logout_user()
        return
    if user.current_sign_in is not None and sign_ins.touch(
        user.current_sign_in, request.remote_addr
    ):
        db.session.commit()


def _no_store_when_signed_in(response: Response) -> Response:
    """Nothing sent to a signed-in person or an API client is kept by a browser
    or proxy cache (static files excepted)."""
    if not _is_static() and _credentials_sent():
        response.headers["Cache-Control"] = NO_STORE
    return response


def no_store(view: Callable[..., ResponseReturnValue]) -> Callable[..., Response]:
    """Mark a download of personal data ``Cache-Control: no-store`` whoever asks
    (some are reached by a signed link, without a session)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = NO_STORE
        return response

    return wrapped
