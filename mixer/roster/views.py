"""Check-in list pages, under ``/o/<slug>/roster`` (schools only).

``org_required`` answers 404 to outsiders; a non-school organization answers
404 saying why (``require_school``); members who keep no lists get 403. Lists,
students on them and notes are found through the keeper's own membership, so
anyone else's answer 404.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from mixer import clock
from mixer.accounts.browser import no_store
from mixer.accounts.forms import choice_list
from mixer.errors import NotFound, refusals
from mixer.extensions import db
from mixer.orgs.access import org_required
from mixer.orgs.forms import ConfirmForm
from mixer.orgs.models import Membership
from mixer.pairs.lifecycle import zone_for
from mixer.roster import services
from mixer.roster.forms import (
    AddDepartmentForm,
    AddStudentForm,
    CheckinForm,
    ListForm,
    MentorForm,
)
from mixer.slots.services import has_open_offer

bp = Blueprint("roster", __name__)


@bp.app_template_global()
def roster_mentors(membership: Membership) -> list[Membership]:
    """Who keeps this member on a check-in list (schools only; for org home)."""
    if membership.org.kind != "school":
        return []
    return services.mentors_of(membership)


@bp.app_template_global()
def may_keep_roster(membership: Membership) -> bool:
    """Whether this member keeps check-in lists (for a link on org home)."""
    return services.may_keep_lists(membership)


@bp.app_template_global()
def slots_link(slug: str, mentor: Membership) -> str | None:
    """The page of a mentor's open five-minute slots, to book one (None while
    the mentor offers none: the link would lead to an empty page)."""
    if not has_open_offer(mentor.org_id, mentor.user_id):
        return None
    return url_for("slots.find", slug=slug, person=mentor.user_id)


def _require_school() -> None:
    """A page of its own, 404, saying why, outside schools (the general 404 page
    says nothing, so that it never reveals what exists)."""
    try:
        services.require_school(g.org)
    except NotFound as exc:
        page = render_template("roster/not_school.html", message=exc.message)
        abort(make_response(page, 404))


def _keeper() -> Membership:
    """The signed-in keeper in a school (404 elsewhere, 403 for non-keepers)."""
    _require_school()
    services.require_keeper(g.membership)
    return g.membership


def _department_form() -> AddDepartmentForm:
    form = AddDepartmentForm()
    form.department.choices = choice_list((d.id, d.name) for d in g.org.departments)
    return form


@bp.get("/o/<slug>/roster")
@org_required()
@no_store
def index():
    """Whom the keeper has not checked in with lately, longest first."""
    keeper = _keeper()
    lists = services.lists_of(keeper)
    return render_template(
        "roster/index.html",
        lists=lists,
        ordered={rl.id: services.by_longest_wait(rl.entries) for rl in lists},
        now=clock.now(),
        list_form=ListForm(formdata=None),
        checkin_form=CheckinForm(formdata=None),
    )


@bp.post("/o/<slug>/roster/lists")
@org_required()
def create_list():
    """Start a new check-in list."""
    keeper = _keeper()
    form = ListForm()
    if form.validate_on_submit():
        with refusals(form):
            roster_list = services.create_list(
                keeper, form.name.data, form.cadence.data
            )
            db.session.commit()
            flash(_("The list is ready: add students to it."), "success")
            return redirect(
                url_for(".edit_list", slug=g.org.slug, list_id=roster_list.id)
            )
    return render_template("roster/new.html", list_form=form), 422


@bp.route("/o/<slug>/roster/lists/<int:list_id>", methods=["GET", "POST"])
@org_required()
def edit_list(list_id: int):
    """A list's name and cadence, its students, and finding more to add."""
    roster_list = services.get_list(_keeper(), list_id)
    form = ListForm(obj=roster_list)
    if form.validate_on_submit():
        with refusals(form):
            services.update_list(roster_list, form.name.data, form.cadence.data)
            db.session.commit()
            flash(_("The list is saved."), "success")
            return redirect(url_for(".edit_list", slug=g.org.slug, list_id=list_id))
    q = (request.args.get("q") or "").strip()[:100]
    department_id = request.args.get("department", type=int)
    return render_template(
        "roster/edit.html",
        roster_list=roster_list,
        form=form,
        q=q,
        department_id=department_id,
        found=services.find_students(roster_list, q, department_id),
        department_form=_department_form(),
        add_form=AddStudentForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    ), (422 if request.method == "POST" else 200)


@bp.post("/o/<slug>/roster/lists/<int:list_id>/students")
@org_required()
def add_students(list_id: int):
    """Put one member, or a whole class, on the list."""
    roster_list = services.get_list(_keeper(), list_id)
    by_class = "department" in request.form
    form = _department_form() if by_class else AddStudentForm()
    if form.validate_on_submit():
        with refusals():
            if by_class:
                added = services.add_department(roster_list, form.department.data)
            else:
                added = services.add_students(roster_list, [form.member.data])
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d student added to the list.",
                    "%(num)d students added to the list.",
                    added,
                ),
                "success",
            )
    q = request.args.get("q") or None
    return redirect(url_for(".edit_list", slug=g.org.slug, list_id=list_id, q=q))


@bp.post("/o/<slug>/roster/lists/<int:list_id>/delete")
@org_required()
def delete_list(list_id: int):
    """Delete a list, with its check-ins and notes."""
    roster_list = services.get_list(_keeper(), list_id)
    if ConfirmForm().validate_on_submit():
        services.delete_list(roster_list)
        db.session.commit()
        flash(_("The list and its notes are deleted."), "success")
    return redirect(url_for(".index", slug=g.org.slug))


@bp.post("/o/<slug>/roster/entries/<int:entry_id>/remove")
@org_required()
def remove_student(entry_id: int):
    """Take a student off a list (their check-ins and notes there go too)."""
    entry = services.get_entry(_keeper(), entry_id)
    list_id = entry.list_id
    if ConfirmForm().validate_on_submit():
        services.remove_student(entry)
        db.session.commit()
        flash(_("Taken off the list."), "success")
    return redirect(url_for(".edit_list", slug=g.org.slug, list_id=list_id))


@bp.post("/o/<slug>/roster/entries/<int:entry_id>/checkin")
@org_required()
def check_in(entry_id: int):
    """One tap: checked in now, with an optional private note (JSON for scripts)."""
    keeper = _keeper()
    form = CheckinForm()
    if not form.validate_on_submit():
        raise services.RosterError(
            " ".join(e for errors in form.errors.values() for e in errors)
            or _("The form expired: please try again."),
            "note",
        )
    checkin = services.check_in(keeper, entry_id, form.note.data)
    db.session.commit()
    name = checkin.entry.student.user.name
    message = _("Checked in with %(name)s.", name=name)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"message": message, "entry_id": entry_id, "state": "ok"})
    flash(message, "success")
    return redirect(url_for(".index", slug=g.org.slug, _anchor=f"entry-{entry_id}"))


@bp.get("/o/<slug>/roster/entries/<int:entry_id>")
@org_required()
@no_store
def student(entry_id: int):
    """One student's check-ins with the keeper, with the keeper's own notes."""
    entry = services.get_entry(_keeper(), entry_id)
    return render_template(
        "roster/student.html",
        entry=entry,
        checkins=services.history(entry),
        tz=zone_for(g.org, None, None),
        now=clock.now(),
        checkin_form=CheckinForm(formdata=None),
    )


@bp.route("/o/<slug>/roster/mentors", methods=["GET", "POST"])
@org_required("admin")
def mentors():
    """Admins name the student mentors who may keep check-in lists."""
    _require_school()
    form = MentorForm()
    if form.validate_on_submit():
        member = db.session.get(Membership, form.member.data)
        if member is None or member.org_id != g.org.id:
            raise NotFound(_("That member is not in this organization."))
        services.set_student_mentor(g.org, member, form.on.data == "1")
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".mentors", slug=g.org.slug))
    q = (request.args.get("q") or "").strip()[:100]
    return render_template(
        "roster/mentors.html",
        mentors=services.student_mentors(g.org),
        found=services.find_members(g.org, q),
        q=q,
        form=MentorForm(formdata=None),
    )
