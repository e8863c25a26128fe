"""Events pages (issue 3; TODO(events helper))."""

from __future__ import annotations

from flask import Blueprint, render_template

from mixer.orgs.access import org_required

bp = Blueprint("events", __name__)


@bp.get("/o/<slug>/events/")
@org_required()
def index():
    """Upcoming events of the organization."""
    return render_template("events/index.html")
