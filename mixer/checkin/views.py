"""Check-in pages: the badge URL ``/c/<token>``, the organizer's scan page and the
small JSON endpoints the scan page and the dashboard's live counter call.

JSON endpoints use the signed-in session and the CSRF token (``X-CSRFToken``
header), like the rest of the site; the bearer-token API is ``mixer.checkin.api``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user

from mixer.checkin import door as door_rules
from mixer.checkin import services
from mixer.checkin.access import (
    door_event,
    may_undo,
    require_manager,
    start_door_session,
)
from mixer.checkin.forms import CheckinForm, ConnectionNoteForm
from mixer.checkin.models import ScanOutcome
from mixer.checkin.services import Audience, CheckinError
from mixer.connections.services import note_of, save_note
from mixer.errors import refusals
from mixer.events.models import Event, Registration
from mixer.extensions import db, limiter
from mixer.web import json_view

bp = Blueprint("checkin", __name__)


def _badge_link_limit() -> str:
    return current_app.config["BADGE_LINK_RATE_LIMIT"]


@bp.get("/c/<token>")
# Far above what a door scans (a few badges a second), far below guessing speed.
@limiter.limit(_badge_link_limit, key_func=get_remote_address)
def badge(token: str):
    """What a badge's QR code opens: check-in, a met-you card, or an explanation."""
    visit = services.visit_badge(token, current_user)
    db.session.commit()
    form = ConnectionNoteForm()
    if visit.connection is not None and visit.mine is not None:  # an attendee
        form.body.data = note_of(visit.connection, visit.mine.id)
    return render_template(
        "checkin/badge.html",
        visit=visit,
        token=token,
        form=form,
        checkin_form=CheckinForm(),
    )


def _organizer_visit(token: str) -> Registration:
    """The badge's registration, for the event's organizers (others 404)."""
    visit = services.visit_badge(token, current_user)
    if visit.audience != Audience.ORGANIZER or visit.registration is None:
        abort(404)
    return visit.registration


@bp.post("/c/<token>/check-in")
def badge_check_in(token: str):
    """The organizer's one tap: check the badge's owner in."""
    reg = _organizer_visit(token)
    if not CheckinForm().validate_on_submit():
        abort(400, description="The form expired; please try again.")
    with refusals():
        result = services.check_in(reg)
        name = result.registration.name  # read before the commit
        db.session.commit()
        if result.status == ScanOutcome.CHECKED_IN:
            flash(f"Checked in: {name}", "success")
    return redirect(url_for("checkin.badge", token=token))


@bp.post("/c/<token>/undo")
def badge_undo(token: str):
    """Undo a mistaken check-in from the badge page."""
    reg = _organizer_visit(token)
    if not CheckinForm().validate_on_submit():
        abort(400, description="The form expired; please try again.")
    services.undo_check_in(reg)
    name = reg.name  # read before the commit
    db.session.commit()
    flash(f"Check-in undone: {name}", "info")
    return redirect(url_for("checkin.badge", token=token))


@bp.post("/c/<token>/note")
def badge_note(token: str):
    """Save the scanner's private "we talked" note about the badge's owner."""
    visit = services.visit_badge(token, current_user)
    connection, mine = visit.connection, visit.mine
    if visit.audience != Audience.ATTENDEE or connection is None or mine is None:
        abort(404)
    form = ConnectionNoteForm()
    if not form.validate_on_submit():
        db.session.rollback()
        checkin_form = CheckinForm()
        return render_template(
            "checkin/badge.html",
            visit=visit,
            token=token,
            form=form,
            checkin_form=checkin_form,
        ), 400
    save_note(connection, mine.id, form.body.data or "")
    db.session.commit()
    flash("Note saved. Only you can see it.", "success")
    return redirect(url_for("checkin.badge", token=token))


@bp.get("/door/<token>")
@limiter.limit(_badge_link_limit, key_func=get_remote_address)
def door(token: str):
    """A door link: this browser may scan the link's event until it ends."""
    link = door_rules.read_link(token)
    start_door_session(link)
    return redirect(url_for("checkin.scan", event_id=link.event_id))


@bp.get("/events/<int:event_id>/scan")
def scan(event_id: int):
    """The door's phone page: camera scanning, recent scans, manual check-in
    (organizers, door helpers and door sessions)."""
    access = door_event(event_id)
    event = access.event
    recent = services.recent_checkins(event)
    return render_template(
        "checkin/scan.html",
        event=event,
        counts=services.checked_in_count(event),
        recent=recent,
        recent_by=door_rules.who_checked_in(recent),
        door=not access.manager,  # a door helper or door session: no management
        door_label=access.link.label if access.link else None,
        can_give_seat=access.manager,
    )


@bp.post("/events/<int:event_id>/scan/checkins")
@json_view
def scan_check_in(event_id: int):
    """Check in from the scan page: a scanned ``url`` or a ``registration_id``."""
    access = door_event(event_id)
    event = access.event
    data = request.get_json(silent=True) or {}
    reg = _scanned(event, data)
    result = services.check_in(reg, nonce=data.get("nonce") or None, **access.by)
    # Built before the commit: nothing read after it can turn a success into a 500.
    answer = result.as_dict() | services.checked_in_count(event)
    db.session.commit()
    return jsonify(answer)


def _scanned(event: Event, data: dict[str, Any]) -> Registration:
    """The registration a scan-page request names, checked for check-in."""
    if data.get("registration_id") is not None:
        reg = _registration(event, data["registration_id"])
        services.check_can_enter(reg)
        return reg
    return services.resolve_scan(
        event.org_id, data.get("url") or data.get("token"), event.id
    )


def _registration(event: Event, registration_id: Any) -> Registration:
    """A registration of ``event`` by id (CheckinError 404 when none)."""
    try:
        reg = services.registration_in(event, int(registration_id))
    except (TypeError, ValueError, OverflowError):
        reg = None
    if reg is None:
        raise CheckinError("Not registered for this event.", status=404)
    return reg


@bp.delete("/events/<int:event_id>/scan/checkins/<int:registration_id>")
@json_view
def scan_undo(event_id: int, registration_id: int):
    """Undo a check-in from the scan page (door helpers: only their own)."""
    access = door_event(event_id)
    event = access.event
    reg = _registration(event, registration_id)
    if not may_undo(access, door_rules.record_of(reg)):
        raise CheckinError(
            "You can undo only the check-ins you made; ask an organizer.", status=403
        )
    undone = services.undo_check_in(reg)
    answer = {"undone": undone, "registration_id": reg.id, "name": reg.name}
    answer |= services.checked_in_count(event)
    db.session.commit()
    return jsonify(answer)


@bp.get("/events/<int:event_id>/scan/search")
def scan_search(event_id: int):
    """People of every status matching ``q``, for the manual check-in list."""
    access = door_event(event_id)
    query = (request.args.get("q") or "").strip()
    people = services.find_people(access.event, query) if len(query) >= 2 else []
    return jsonify(
        results=[services.search_entry(reg, access.manager) for reg in people],
        can_give_seat=access.manager,
    )


@bp.post("/events/<int:event_id>/scan/registrations/<int:registration_id>/seat")
@json_view
def scan_seat(event_id: int, registration_id: int):
    """Give a waitlisted or unconfirmed person a seat and check them in."""
    access = door_event(event_id)
    require_manager(access, "give seats")
    data = request.get_json(silent=True) or {}
    reg = _registration(access.event, registration_id)
    result = services.give_seat_and_check_in(
        reg,
        data.get("nonce") or None,
        over_capacity=data.get("over_capacity") is True,
        by_user_id=access.user_id,
    )
    answer = result.as_dict() | services.checked_in_count(access.event)
    db.session.commit()
    return jsonify(answer)


@bp.post("/events/<int:event_id>/scan/walk-ins")
@json_view
def scan_walk_in(event_id: int):
    """Register a walk-in and check them in at once; answers with the badge link."""
    access = door_event(event_id)
    data = request.get_json(silent=True) or {}
    result, badge_url = services.walk_in(
        access.event,
        data,
        over_capacity=access.manager and data.get("over_capacity") is True,
        **access.by,
    )
    answer = result.as_dict() | services.checked_in_count(access.event)
    answer["badge_url"] = badge_url
    db.session.commit()
    return jsonify(answer), 201


@bp.get("/events/<int:event_id>/scan/roster")
def scan_roster(event_id: int):
    """The door roster the scan page keeps for offline scans (never cached)."""
    access = door_event(event_id)
    response = jsonify(services.door_roster(access.event))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<int:event_id>/checkins/count")
def live_count(event_id: int):
    """The live checked-in counter's data (polled by the dashboard and the door)."""
    access = door_event(event_id)
    return jsonify(services.checked_in_count(access.event))
