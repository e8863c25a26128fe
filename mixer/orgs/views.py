"""Organization pages: home (charter, upcoming events), members admin, invitations."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from mixer.orgs.access import org_required

bp = Blueprint("orgs", __name__)


@bp.get("/o/<slug>/")
@org_required()
def home():
    """The organization's home page."""
    return render_template("orgs/home.html")


@bp.get("/o/<slug>/members")
@org_required("admin")
def members():
    """TODO(helper)."""
    abort(501)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """TODO(helper)."""
    abort(501)
