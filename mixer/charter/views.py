"""The mentoring charter's pages: read it, acknowledge it, and (admins) write it.

Members who have not read the current charter are asked on the next
organization page they open (``charter_prompt``, included by ``base.html``),
until they press "I have read it".
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mixer.charter import services
from mixer.charter.forms import AckForm, CharterForm
from mixer.errors import refusals
from mixer.extensions import db
from mixer.orgs.access import org_required

bp = Blueprint("charter", __name__)

# Pages that show the charter themselves, or where a prompt would be in the way.
NO_PROMPT = {"orgs.home", "charter.show", "charter.edit"}


@bp.app_template_global()
def charter_prompt() -> bool:
    """Whether this page should ask the signed-in member to read the charter."""
    membership = g.get("membership")
    org = g.get("org")
    if membership is None or org is None or request.endpoint in NO_PROMPT:
        return False
    if getattr(membership, "org_id", None) != getattr(org, "id", None):
        return False
    return services.needs_ack(membership)


@bp.app_template_global()
def charter_unread(membership) -> bool:
    """Whether ``membership`` has yet to read the current charter."""
    return services.needs_ack(membership)


@bp.app_template_global()
def charter_ack_form() -> AckForm:
    """A fresh "I have read it" form that comes back to this page."""
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return AckForm(formdata=None, next=here or url_for("orgs.home", slug=g.org.slug))


def _safe_next(target: str | None) -> str:
    """Back to a page of this organization only, else the charter page."""
    prefix = f"/o/{g.org.slug}/"
    if (
        target
        and target.startswith(prefix)
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return url_for(".show", slug=g.org.slug)


@bp.get("/o/<slug>/charter")
@org_required()
def show():
    """The charter; "I have read it"; for admins, who has read it."""
    admin = g.membership.has_role("admin")
    return render_template(
        "charter/show.html",
        unread=services.needs_ack(g.membership),
        acks=services.acknowledgements(g.org) if admin else None,
        version=services.current_version(g.org.id),
        ack_form=AckForm(formdata=None, next=url_for(".show", slug=g.org.slug)),
    )


@bp.post("/o/<slug>/charter/ack")
@org_required()
def ack():
    """Record that the member read the current charter, then go back."""
    form = AckForm()
    if form.validate_on_submit():
        services.acknowledge(g.membership)
        db.session.commit()
        flash(_("Thank you for reading the charter."), "success")
    return redirect(_safe_next(form.next.data))


@bp.route("/o/<slug>/charter/edit", methods=["GET", "POST"])
@org_required("admin")
def edit():
    """Write the charter (Markdown); optionally ask everyone to read it again."""
    form = CharterForm(obj=g.org)
    if form.validate_on_submit():
        with refusals(form):
            services.save_charter(g.org, form.charter.data, form.ask_again.data)
            db.session.commit()
            flash(_("The charter is saved."), "success")
            return redirect(url_for(".show", slug=g.org.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("charter/edit.html", form=form), status
