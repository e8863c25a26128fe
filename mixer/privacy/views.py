"""Pages of data rights: my data (download, erase), an admin erasing a member,
and the organization's retention setting."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from mixer import clock
from mixer.accounts.browser import no_store
from mixer.errors import refusals
from mixer.extensions import db
from mixer.orgs.access import org_required
from mixer.orgs.models import Membership
from mixer.privacy import erasure, export, retention
from mixer.privacy.forms import EraseAccountForm, EraseMemberForm, RetentionForm

bp = Blueprint("privacy", __name__)


def _render_my_data(form: EraseAccountForm, status: int = 200):
    """The "your data" page with the erase form as given."""
    page = render_template(
        "privacy/my_data.html",
        form=form,
        has_password=bool(current_user.password_hash),
        fresh_minutes=erasure.FRESH_SIGN_IN,
    )
    return page, status


@bp.get("/profile/data")
@login_required
def my_data():
    """What Mixer holds about me: download it, or erase my account."""
    return _render_my_data(EraseAccountForm(formdata=None))


@bp.get("/profile/data/export.zip")
@login_required
@no_store
def download():
    """Everything Mixer holds about me, as one zip (``data.json`` and files)."""
    archive = export.export_zip(current_user)
    name = f"mixer-data-{clock.now():%Y-%m-%d}.zip"
    return Response(
        export.chunks(archive),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/profile/data/erase")
@login_required
def erase_account():
    """Erase my account everywhere, once I proved again that it is me."""
    form = EraseAccountForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            erasure.check_reauthenticated(current_user, form.password.data)
            erasure.erase_account(current_user._get_current_object())
            db.session.commit()
            logout_user()
            flash(_("Your account and personal data are erased. Goodbye."), "info")
            return redirect(url_for("main.index"))
    return _render_my_data(form, refused.status(422))


def _membership_or_404(membership_id: int) -> Membership:
    """A membership of this organization (404 for any other)."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.id == membership_id, Membership.org_id == g.org.id
        )
    )
    if membership is None:
        abort(404)
    return membership


@bp.route("/o/<slug>/members/<int:membership_id>/erase", methods=["GET", "POST"])
@org_required("admin")
def erase_member(membership_id: int):
    """An admin erases a member's data in this organization (after a yes)."""
    membership = _membership_or_404(membership_id)
    form = EraseMemberForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            erasure.erase_member(membership, current_user._get_current_object())
            db.session.commit()
            flash(
                _(
                    "The member's data in %(org)s is erased and they are no "
                    "longer a member.",
                    org=g.org.name,
                ),
                "success",
            )
            return redirect(url_for("orgs.members", slug=g.org.slug))
    page = render_template("privacy/erase_member.html", form=form, member=membership)
    return page, refused.status(422 if form.is_submitted() else 200)


@bp.route("/o/<slug>/settings/privacy", methods=["GET", "POST"])
@org_required("admin")
def settings():
    """How long the organization keeps personal details after its events."""
    current = retention.settings_of(g.org)
    form = RetentionForm(data={"months": current.retention_months})
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            retention.set_retention(g.org, form.months.data)
            db.session.commit()
            flash(_("The privacy settings are saved."), "success")
            return redirect(url_for("privacy.settings", slug=g.org.slug))
    page = render_template(
        "privacy/settings.html",
        form=form,
        current=current,
    )
    return page, refused.status(422 if form.is_submitted() else 200)
