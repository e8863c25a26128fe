"""Sign-in (password and magic link), sign-out, password reset, profile."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """TODO(helper): sign in."""
    abort(501)


@bp.post("/logout")
def logout():
    """TODO(helper)."""
    abort(501)


@bp.get("/login/magic/<token>")
def magic(token: str):
    """TODO(helper)."""
    abort(501)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """TODO(helper)."""
    abort(501)


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """TODO(helper)."""
    abort(501)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """TODO(helper)."""
    abort(501)
