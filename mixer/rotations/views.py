"""Rotations pages: the organizer's plan, the projector, each attendee's phone, PDFs.

All live under ``/events/<id>/rotations``. Organizers of the event plan and run the
room from the plan page, whose controls (next round, pause, resume) drive the
projector: a page without site navigation, made for a big screen, that follows the
room by polling ``.../state.json`` (``static/js/projector.js``). A registered
attendee sees their own table at ``.../me``, which follows the rounds by polling
``.../me.json`` (``static/js/rotations.js``). The schedule and table-card PDFs
of a big plan are drawn by the job worker behind the shared printouts progress
page (``mixer.rotations.pdf``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from mixer.accounts.browser import NO_STORE
from mixer.accounts.forms import choice_list
from mixer.badges.qr import qr_path
from mixer.connections.services import notes_about
from mixer.errors import refusals
from mixer.events.access import can_manage, member_event
from mixer.events.models import Event, Registration
from mixer.events.queries import registration_for
from mixer.extensions import db
from mixer.printouts.services import cached, job_of
from mixer.printouts.services import schedule as schedule_printout
from mixer.printouts.web import job_status, progress_page, send_pdf
from mixer.rotations import pdf, running, services
from mixer.rotations.forms import ActionForm, LeftForm, NoteForm, PlanForm, RoundForm
from mixer.rotations.models import RotationPlan
from mixer.urls import absolute_url
from mixer.web import query_int

bp = Blueprint("rotations", __name__, url_prefix="/events/<int:event_id>/rotations")


# ---------------------------------------------------------------------------
# Access


def _event(event_id: int) -> Event:
    """The mixer, for members of its organization; other kinds of event 404."""
    event = member_event(event_id)
    if event.kind != "mentor_mixer":
        abort(404, description=_("Only Mentor Mixers have rotations."))
    return event


def _managed(event_id: int) -> Event:
    """The mixer, for its organizers: outsiders 404, other members 403."""
    event = _event(event_id)
    if not can_manage(event, current_user):
        abort(403, description=_("Only the event's organizers can run the rotations."))
    return event


def _attendee(event_id: int) -> tuple[Event, Registration]:
    """The mixer and the signed-in person's registration (registered only)."""
    event = _event(event_id)
    reg = registration_for(event, current_user)
    if reg is None or not reg.holds_seat:
        abort(404, description=_("You are not registered for this mixer."))
    return event, reg


# ---------------------------------------------------------------------------
# Organizer: plan and run


def _plan_page(event: Event, form: PlanForm, status: int = 200):
    plan = services.plan_for(event)
    present, checked_in = services.headcount(event)
    left_form = LeftForm()
    if present <= LeftForm.LIST_LIMIT:
        people = services.attendance(event)[0]
        left_form.registration.choices = choice_list((r.id, r.name) for r in people)
    shown, data, regs = 0, None, {}
    if plan:
        # One round's tables at a time (a 1,500-person plan is 4,500 rows): the
        # round on now, else the next (round 1 before the start).
        current = min(max(plan.current_round, 1), plan.rounds)
        shown = query_int("round", current, high=plan.rounds)
        data = services.plan_data(plan, only_round=shown)
        ids = {m for r in data["rounds"] for t in r["tables"] for m in t["members"]}
        ids |= {m for r in data["rounds"] for m in r["byes"]}
        ids |= {
            b["id"] for b in (data["quality"].get("earlier") or {}).get("because", ())
        }
        regs = services.names(ids)
    return (
        render_template(
            "rotations/plan.html",
            event=event,
            form=form,
            plan=plan,
            data=data,
            shown=shown,
            regs=regs,
            byes=services.byes_histogram(plan) if plan else [],
            present=present,
            checked_in=checked_in,
            action_form=ActionForm(),
            round_form=RoundForm(expected=plan.current_round if plan else 0),
            room=running.room_state(plan) if plan else None,
            left_form=left_form,
        ),
        status,
    )


@bp.route("", methods=["GET", "POST"])
def plan(event_id: int):
    """Plan every round and read the quality report."""
    event = _managed(event_id)
    form = PlanForm(rounds=event.rounds or 6, minutes=event.minutes_per_round or 7)
    if request.method == "GET" and (stored := services.plan_for(event)):
        form = PlanForm(obj=stored, formdata=None)
    if not form.validate_on_submit():
        return _plan_page(event, form, 400 if form.errors else 200)
    with refusals(form, show_missing=True):
        services.create_plan(event, form.settings())
        db.session.commit()
        flash(_("The rounds are planned."), "success")
        return redirect(url_for(".plan", event_id=event.id))
    # Refused: the settings again with the reason (400, even when rounds were held).
    return _plan_page(event, form, 400)


@bp.post("/replan")
def replan(event_id: int):
    """Re-plan the rounds not yet held for the people present now."""
    event = _managed(event_id)
    if ActionForm().validate_on_submit():
        with refusals(show_missing=True):
            services.replan_remaining(event)
            db.session.commit()
            flash(_("The remaining rounds are re-planned."), "success")
    return redirect(url_for(".plan", event_id=event.id))


@bp.post("/left")
def left(event_id: int):
    """Mark someone as gone, so re-plans leave them out."""
    event = _managed(event_id)
    form = LeftForm()
    if not form.validate_on_submit():
        return redirect(url_for(".plan", event_id=event.id))
    chosen = form.registration.data
    if form.who.data:
        found = services.find_present(event, form.who.data)
        if len(found) == 1:
            chosen = found[0].id
        elif not found:
            flash(
                _(
                    "Nobody planned for is called or has the e-mail “%(who)s”. "
                    "Check the spelling, or use their e-mail.",
                    who=form.who.data,
                ),
                "error",
            )
        else:
            names = ", ".join(f"{r.name} ({r.email})" for r in found[:5])
            if len(found) > 5:
                names = _("%(names)s and %(num)s more", names=names, num=len(found) - 5)
            flash(
                _(
                    "%(count)s people match “%(who)s”: %(names)s. "
                    "Type the e-mail of the one who left.",
                    count=len(found),
                    who=form.who.data,
                    names=names,
                ),
                "error",
            )
            chosen = None
    if chosen:
        with refusals(show_missing=True):
            services.mark_left(event, [chosen])
            db.session.commit()
            flash(_("Marked as gone: re-plan to seat the others."), "success")
    return redirect(url_for(".plan", event_id=event.id))


def _room(event: Event, plan: RotationPlan) -> dict[str, Any]:
    """The room's state with the projector's tables drawn (its live part)."""
    room = running.room_state(plan)
    number = plan.current_round or 1  # before round 1: where round 1 will sit
    room["html"] = render_template(
        "rotations/_projector_tables.html",
        room=room,
        number=number,
        tables=running.tables_of(plan, number),
        regs=services.names_of(plan),
    )
    # Changes whenever the drawn tables do (a re-plan before the round starts too).
    room["version"] = hashlib.sha256(room["html"].encode()).hexdigest()[:16]
    return room


@bp.get("/projector")
def projector(event_id: int):
    """The big screen: round, countdown, every table and the QR of "my table".

    No controls and no site navigation: the organizer drives it from the plan page.
    """
    event = _managed(event_id)
    plan = services.plan_for(event)
    if plan is None:
        flash(_("Plan the rounds first."), "error")
        return redirect(url_for(".plan", event_id=event.id))
    me_url = absolute_url("rotations.me", event_id=event.id)
    return render_template(
        "rotations/projector.html",
        event=event,
        room=_room(event, plan),
        me_url=me_url,
        qr=qr_path(me_url),
    )


@bp.get("/state.json")
def state(event_id: int):
    """Where the room is and the projector's tables, polled by the projector."""
    event = _managed(event_id)
    plan = services.plan_for(event) or abort(404)
    resp = jsonify(_room(event, plan))
    resp.headers["Cache-Control"] = NO_STORE  # names of the people at each table
    return resp


def _control(event: Event, action: Callable[[Event], object]) -> ResponseReturnValue:
    """Run one of the organizer's controls, then back to the plan's controls."""
    if RoundForm().validate_on_submit():
        with refusals(show_missing=True):
            action(event)
            db.session.commit()
    return redirect(url_for(".plan", event_id=event.id, _anchor="run-h"))


@bp.post("/next")
def next_round(event_id: int):
    """Start the next round: its tables become connections and its clock starts."""
    event = _managed(event_id)
    expected = RoundForm().expected.data or ""
    seen = int(expected) if expected.isdigit() else None
    return _control(event, lambda e: running.start_next_round(e, seen))


@bp.post("/pause")
def pause(event_id: int):
    """Stop the round's clock (the projector and phones show it paused)."""
    return _control(_managed(event_id), running.pause_round)


@bp.post("/resume")
def resume(event_id: int):
    """Restart a paused round's clock where it stopped."""
    return _control(_managed(event_id), running.resume_round)


@bp.get("/schedule.pdf")
def schedule_pdf(event_id: int):
    """The full schedule, every round and table, as a PDF (big: by the worker)."""
    return _printout(event_id, pdf.SCHEDULE)


@bp.get("/cards.pdf")
def cards_pdf(event_id: int):
    """One card per table number, to stand on the tables (big: by the worker)."""
    return _printout(event_id, pdf.CARDS)


def _printout(event_id: int, kind: str) -> ResponseReturnValue:
    """The cached PDF; else drawn now when small, else a job and its progress page."""
    event = _managed(event_id)
    plan = services.plan_for(event) or abort(404)
    found = pdf.drawing(event, plan, kind)
    printout = found.printout
    if (data := cached(printout)) is not None:
        return send_pdf(data, printout.filename)
    if found.inline:
        return send_pdf(pdf.draw(found), printout.filename)
    job = schedule_printout(printout, {"kind": kind})
    db.session.commit()
    return redirect(
        url_for(".printout_progress", event_id=event.id, printout_id=job.id)
    )


PRINTOUT_NAMES = {pdf.SCHEDULE: _l("Rotation schedule"), pdf.CARDS: _l("Table cards")}
PRINTOUT_DRAWING = {
    pdf.SCHEDULE: _l("Drawing the rotation schedule…"),
    pdf.CARDS: _l("Drawing the table cards…"),
}


@bp.get("/printouts/<int:printout_id>")
def printout_progress(event_id: int, printout_id: int):
    """The progress bar of a schedule or table cards being drawn by the worker."""
    event = _managed(event_id)
    job = job_of(event.id, printout_id, pdf.PRINTOUT_JOB) or abort(404)
    kind = job.payload["kind"]
    return progress_page(
        event,
        job,
        title=str(PRINTOUT_NAMES[kind]),
        label=str(PRINTOUT_DRAWING[kind]),
        working=_("Drawing…"),
        note=_("A big mixer takes up to a minute."),
        status_url=url_for(".printout_status", event_id=event.id, printout_id=job.id),
        download_url=url_for(f".{kind}_pdf", event_id=event.id),
        back_url=url_for(".plan", event_id=event.id),
        back_label=_("Back to the rotations"),
    )


@bp.get("/printouts/<int:printout_id>.json")
def printout_status(event_id: int, printout_id: int):
    """JSON for the progress page: status, percent done, download URL when ready."""
    event = _managed(event_id)
    job = job_of(event.id, printout_id, pdf.PRINTOUT_JOB) or abort(404)
    return job_status(
        job,
        download_url=url_for(f".{job.payload['kind']}_pdf", event_id=event.id),
        error=_("Drawing the PDF failed; try again."),
    )


# ---------------------------------------------------------------------------
# Attendee: my table


def _me_fragment(reg: Registration) -> tuple[str, str]:
    """The phone view's live part and a key that changes when it should redraw."""
    view = running.current_view_for(reg)
    partner_ids = [p["id"] for p in view["with"]]
    html = render_template(
        "rotations/_me.html",
        view=view,
        notes=notes_about(reg, partner_ids),
        event_id=reg.event_id,
    )
    paused = "paused" if view["paused"] else "on"
    return html, f"{view['state']}:{view['round']}:{view['table']}:{paused}"


@bp.get("/me")
def me(event_id: int):
    """The attendee's phone: this round's table and who sits there."""
    event, reg = _attendee(event_id)
    html, key = _me_fragment(reg)
    return render_template(
        "rotations/me.html",
        event=event,
        live=Markup(html),  # noqa: S704  (rendered by our autoescaping template)
        key=key,
    )


@bp.get("/me.json")
def me_json(event_id: int):
    """The phone view's live part, polled every few seconds."""
    reg = _attendee(event_id)[1]
    html, key = _me_fragment(reg)
    return jsonify(key=key, html=html)


@bp.post("/me/note")
def note(event_id: int):
    """Save the attendee's "we talked" note about a tablemate."""
    reg = _attendee(event_id)[1]
    form = NoteForm()
    partner = form.partner.data or ""
    if form.validate_on_submit() and partner.isdigit():
        with refusals(show_missing=True):
            running.note_for_partner(reg, int(partner), form.body.data or "")
            db.session.commit()
            flash(_("Note saved."), "success")
    else:
        flash(_("The note could not be saved; try again."), "error")
    return redirect(url_for(".me", event_id=event_id))
