"""The front door: landing page, health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from mixer.extensions import db
from mixer.observability import health

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Send members to their organization; show everyone else what Mixer is."""
    if current_user.is_authenticated and current_user.memberships:
        if len(current_user.memberships) == 1:
            org = current_user.memberships[0].org
            return redirect(url_for("orgs.home", slug=org.slug))
        return render_template(
            "main/choose_org.html", memberships=current_user.memberships
        )
    return render_template("main/index.html")


@bp.get("/healthz")
def healthz():
    """Report database reachability as JSON for load balancers; with ``?deep=1``
    every dependency, as ``/readyz`` does."""
    if request.args.get("deep") not in (None, "", "0"):
        answer, code = health.readiness()
        return jsonify(answer), code
    try:
        db.session.execute(text("SELECT 1"))
        database = {"status": "ok", "backend": db.engine.dialect.name}
        status, code = "ok", 200
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        database = {"status": "error", "error": type(exc).__name__}
        status, code = "error", 503
    return jsonify({"status": status, "database": database}), code
