"""Organization pages: home, settings, members admin, departments, invitations."""

from __future__ import annotations

from datetime import date

from babel import dates
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from mixer import clock
from mixer.accounts import browser
from mixer.errors import refusals
from mixer.extensions import db, limiter
from mixer.i18n import current_locale
from mixer.orgs import details, importing, services
from mixer.orgs.access import org_required
from mixer.orgs.forms import (
    ROLE_PAIRS,
    AcceptInvitationForm,
    ConfirmForm,
    DepartmentForm,
    ImportForm,
    InviteForm,
    MemberForm,
    OrgLanguageForm,
    OrgSettingsForm,
    RoleForm,
)
from mixer.orgs.models import ROLE_LABELS, ROLE_NAMES
from mixer.web import query_page

bp = Blueprint("orgs", __name__)

PER_PAGE = 25


@bp.app_template_global()
def today() -> date:
    """Today's date (UTC), from the app's clock."""
    return clock.now().date()


@bp.app_template_filter("org_role")
def org_role(role: str, label: bool = False) -> str:
    """A membership's role in the page's language: "admin" in a sentence, or
    "Admin" as a ``label``."""
    names = ROLE_LABELS if label else ROLE_NAMES
    name = names.get(role)
    return str(name) if name is not None else role


@bp.app_template_filter("org_date")
def org_date(value: date, short: bool = False) -> str:
    """A day in the page's language: "6 December 2026" ("6 Dec 2026" when
    ``short``); German "6. Dezember 2026"."""
    language = current_locale()
    if language == "en":
        return f"{value.day} {value:%b %Y}" if short else f"{value.day} {value:%B %Y}"
    skeleton = "yMMMd" if short else "yMMMMd"
    return dates.format_skeleton(skeleton, value, locale=language)


@bp.get("/o/<slug>/")
@org_required()
def home():
    """The organization's home page: charter, upcoming events, quick links."""
    return render_template("orgs/home.html")


@bp.route("/o/<slug>/settings", methods=["GET", "POST"])
@org_required("admin")
def settings():
    """Edit the organization's name, kind and mentoring charter."""
    form = OrgSettingsForm(obj=g.org)
    if form.validate_on_submit():
        with refusals(form):
            services.update_organization(
                g.org, form.name.data, form.kind.data, form.charter.data
            )
            db.session.commit()
            flash(_("The organization's settings are saved."), "success")
            return redirect(url_for("orgs.settings", slug=g.org.slug))
    status = 422 if request.method == "POST" else 200
    return _render_settings(status, form=form)


def _render_settings(status: int, **forms):
    """The settings page with any bound (failed) form and fresh others."""
    forms.setdefault("language_form", OrgLanguageForm(obj=g.org, formdata=None))
    return render_template("orgs/settings.html", **forms), status


@bp.post("/o/<slug>/settings/language")
@org_required("admin")
def language():
    """Set the organization's default language (recorded in the audit trail)."""
    form = OrgLanguageForm()
    if not form.validate_on_submit():
        return _render_settings(
            422, form=OrgSettingsForm(obj=g.org, formdata=None), language_form=form
        )
    with refusals(form):
        services.set_default_locale(g.org, form.default_locale.data)
        db.session.commit()
        flash(_("The organization's language is saved."), "success")
    return redirect(url_for("orgs.settings", slug=g.org.slug, _anchor="language"))


def _listing() -> dict:
    """Search terms and page of the members table, from the query string."""
    return {
        "q": (request.args.get("q") or "").strip()[:100],
        "page": query_page(),
    }


def _kept_listing() -> dict:
    """The search and page worth keeping in a link (not empty, not page 1)."""
    return {k: v for k, v in _listing().items() if v and v != 1}


def _back(anchor: str | None = None):
    """Back to the members page, keeping the search and page."""
    return redirect(
        url_for("orgs.members", slug=g.org.slug, _anchor=anchor, **_kept_listing())
    )


def _render_members(status: int = 200, **forms):
    """The members page with any bound (failed) forms and fresh others."""
    listing = _listing()
    forms.setdefault("invite_form", InviteForm(prefix="invite", formdata=None))
    forms.setdefault("department_form", DepartmentForm(prefix="dept", formdata=None))
    forms.setdefault("import_form", ImportForm(formdata=None))
    forms["invite_form"].level.label.text = g.org.level_label
    page = render_template(
        "orgs/members.html",
        pagination=services.search_members(
            g.org, listing["q"], listing["page"], PER_PAGE
        ),
        q=listing["q"],
        level_label=g.org.level_label,
        invitations=services.pending_invitations(g.org),
        department_counts=services.department_counts(g.org),
        role_pairs=ROLE_PAIRS,
        confirm_form=ConfirmForm(formdata=None),
        **forms,
    )
    return page, status


@bp.get("/o/<slug>/members")
@org_required("organizer")
def members():
    """The searchable members table (organizers read it: managers, places,
    mentoring capacity); for admins also invitations, departments, import."""
    return _render_members()


def _membership_or_404(membership_id: int):
    membership = services.get_membership(g.org, membership_id)
    if membership is None:
        abort(404)
    return membership


@bp.post("/o/<slug>/members/<int:membership_id>/role")
@org_required("admin")
def change_role(membership_id: int):
    """Give a member another role (the last admin keeps theirs)."""
    membership = _membership_or_404(membership_id)
    form = RoleForm()
    if form.validate_on_submit():
        with refusals():
            services.set_member_role(membership, form.role.data, g.membership)
            db.session.commit()
            role = ROLE_NAMES.get(form.role.data, form.role.data)
            flash(
                _("%(name)s is now %(role)s.", name=membership.user.name, role=role),
                "success",
            )
    else:
        flash(_("Choose one of the listed roles."), "error")
    if not g.membership.has_role("admin"):  # they demoted themselves
        return redirect(url_for("orgs.home", slug=g.org.slug))
    return _back()


@bp.route("/o/<slug>/members/<int:membership_id>/edit", methods=["GET", "POST"])
@org_required("admin")
def edit_member(membership_id: int):
    """Change a member's department (existing or new), level, role, manager,
    location and languages."""
    membership = _membership_or_404(membership_id)
    form = MemberForm(
        data={
            "department": membership.department.name if membership.department else "",
            "level": "" if membership.level is None else str(membership.level),
            "role": membership.role,
            "manager": membership.manager.user.email if membership.manager else "",
            "location": membership.location or "",
            "languages": ", ".join(membership.languages or []),
        }
    )
    form.level.label.text = g.org.level_label
    manager_choices = details.manager_choices(g.org)
    if manager_choices:
        form.manager.render_kw = {**form.manager.render_kw, "list": "manager-choices"}
    if form.validate_on_submit():
        name = membership.user.name
        with refusals(form):
            services.edit_member(
                membership,
                form.department.data,
                form.level.data,
                form.role.data,
                g.membership,
                manager=form.manager.data,
                location=form.location.data,
                languages=form.languages.data,
            )
            db.session.commit()
            flash(_("%(name)s’s details are saved.", name=name), "success")
            if not g.membership.has_role("admin"):  # they stepped down themselves
                return redirect(url_for("orgs.home", slug=g.org.slug))
            return _back(anchor=f"member-{membership.id}")
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "orgs/member_edit.html",
        form=form,
        member=membership,
        listing=_kept_listing(),
        manager_choices=manager_choices,
        locations=details.locations(g.org),
        reports=details.direct_reports(membership),
    )
    return page, status


@bp.post("/o/<slug>/members/<int:membership_id>/remove")
@org_required("admin")
def remove_member(membership_id: int):
    """Take a person out of the organization."""
    membership = _membership_or_404(membership_id)
    name, is_me = membership.user.name, membership.user_id == current_user.id
    if ConfirmForm().validate_on_submit():
        with refusals():
            services.remove_member(membership)
            db.session.commit()
            flash(
                _(
                    "%(name)s is no longer a member of %(org)s.",
                    name=name,
                    org=g.org.name,
                ),
                "success",
            )
            if is_me:
                return redirect(url_for("main.index"))
    return _back()


@bp.post("/o/<slug>/invitations")
@org_required("admin")
def invite():
    """Invite a person by e-mail."""
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        with refusals(form):
            invitation = services.invite_member(
                g.org,
                form.email.data,
                role=form.role.data,
                name=form.name.data,
                department=form.department.data,
                level=form.level.data,
                invited_by=current_user,
            )
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return _back()
    return _render_members(422, invite_form=form)


def _invitation_or_404(invitation_id: int):
    invitation = services.get_invitation(g.org, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


@bp.post("/o/<slug>/invitations/<int:invitation_id>/resend")
@org_required("admin")
def resend_invitation(invitation_id: int):
    """E-mail an open invitation again with a fresh expiry."""
    invitation = _invitation_or_404(invitation_id)
    if ConfirmForm().validate_on_submit():
        with refusals():
            services.resend_invitation(invitation, current_user)
            db.session.commit()
            flash(
                _("Invitation sent again to %(email)s.", email=invitation.email),
                "success",
            )
    return _back()


@bp.post("/o/<slug>/invitations/<int:invitation_id>/revoke")
@org_required("admin")
def revoke_invitation(invitation_id: int):
    """Withdraw an invitation: its links stop working."""
    invitation = _invitation_or_404(invitation_id)
    if ConfirmForm().validate_on_submit():
        with refusals():
            services.revoke_invitation(invitation)
            db.session.commit()
            flash(
                _("The invitation to %(email)s is withdrawn.", email=invitation.email),
                "success",
            )
    return _back()


@bp.post("/o/<slug>/departments")
@org_required("admin")
def add_department():
    """Add a department or group."""
    form = DepartmentForm(prefix="dept")
    if form.validate_on_submit():
        with refusals(form):
            dept = services.add_department(g.org, form.name.data)
            db.session.commit()
            flash(_("Department “%(name)s” added.", name=dept.name), "success")
            return redirect(
                url_for("orgs.members", slug=g.org.slug, _anchor="departments")
            )
    return _render_members(422, department_form=form)


@bp.post("/o/<slug>/departments/<int:dept_id>")
@org_required("admin")
def rename_department(dept_id: int):
    """Rename a department; its members move with it."""
    dept = services.get_department(g.org, dept_id)
    if dept is None:
        abort(404)
    form = DepartmentForm(prefix=f"dept{dept.id}")
    if form.validate_on_submit():
        with refusals():
            services.rename_department(dept, form.name.data)
            db.session.commit()
            flash(_("Department renamed to “%(name)s”.", name=dept.name), "success")
    else:
        flash(" ".join(form.name.errors) or _("Give the department a name."), "error")
    return redirect(url_for("orgs.members", slug=g.org.slug, _anchor="departments"))


@bp.post("/o/<slug>/members/import")
@org_required("admin")
def import_members():
    """Import members from a CSV file and show what happened to each row."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_members(422, import_form=form)
    report = importing.import_members_csv(g.org, form.file.data.read())
    db.session.commit()
    return render_template("orgs/import_report.html", report=report)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def accept_invitation(token: str):
    """Join an organization through an e-mailed invitation."""
    invitation, _email = services.read_invitation(token)
    existing = services.invited_user(invitation)
    form = AcceptInvitationForm(name=invitation.name) if existing is None else None
    form = form or ConfirmForm()
    if form.validate_on_submit():
        fields = getattr(form, "_fields", {})
        with refusals(form):
            membership = services.accept_invitation(
                token,
                name=fields["name"].data if "name" in fields else None,
                password=fields["password"].data if "password" in fields else None,
            )
            browser.log_in(membership.user)
            db.session.commit()
            flash(_("Welcome to %(org)s!", org=membership.org.name), "success")
            return redirect(url_for("orgs.home", slug=membership.org.slug))
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "orgs/accept_invitation.html",
        form=form,
        invitation=invitation,
        existing=existing,
    )
    return page, status
