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

from mixer.checkin import services
from mixer.checkin.forms import CheckinForm, ConnectionNoteForm
from mixer.checkin.models import ScanOutcome
from mixer.checkin.services import Audience, CheckinError
from mixer.connections.services import note_of, save_note
from mixer.errors import refusals
from mixer.events.access import managed_event
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


@bp.get("/events/<int:event_id>/scan")
def scan(event_id: int):
    """The organizer's phone page: camera scanning, recent scans, manual check-in."""
    event = managed_event(event_id)
    return render_template(
        "checkin/scan.html",
        event=event,
        counts=services.checked_in_count(event),
        recent=services.recent_checkins(event),
    )


@bp.post("/events/<int:event_id>/scan/checkins")
@json_view
def scan_check_in(event_id: int):
    """Check in from the scan page: a scanned ``url`` or a ``registration_id``."""
    event = managed_event(event_id)
    data = request.get_json(silent=True) or {}
    reg = _scanned(event, data)
    result = services.check_in(reg, nonce=data.get("nonce") or None)
    # Built before the commit: nothing read after it can turn a success into a 500.
    answer = result.as_dict() | services.checked_in_count(event)
    db.session.commit()
    return jsonify(answer)


def _scanned(event: Event, data: dict[str, Any]) -> Registration:
    """The registration a scan-page request names, checked for check-in."""
    if data.get("registration_id") is not None:
        try:
            reg = services.registration_in(event, int(data["registration_id"]))
        except (TypeError, ValueError):
            reg = None
        if reg is None:
            raise CheckinError("Not registered for this event.", status=404)
        services.check_can_enter(reg)
        return reg
    return services.resolve_scan(
        event.org_id, data.get("url") or data.get("token"), event.id
    )


@bp.delete("/events/<int:event_id>/scan/checkins/<int:registration_id>")
@json_view
def scan_undo(event_id: int, registration_id: int):
    """Undo a check-in from the scan page."""
    event = managed_event(event_id)
    reg = services.registration_in(event, registration_id)
    if reg is None:
        raise CheckinError("Not registered for this event.", status=404)
    undone = services.undo_check_in(reg)
    answer = {"undone": undone, "registration_id": reg.id, "name": reg.name}
    answer |= services.checked_in_count(event)
    db.session.commit()
    return jsonify(answer)


@bp.get("/events/<int:event_id>/scan/search")
def scan_search(event_id: int):
    """Registered people matching ``q``, for the manual check-in list."""
    event = managed_event(event_id)
    query = (request.args.get("q") or "").strip()
    people = services.find_attendees(event, query) if len(query) >= 2 else []
    return jsonify(
        results=[
            {
                "registration_id": reg.id,
                "name": reg.name,
                "department": reg.department or "",
                "checked_in_at": reg.checked_in_at.isoformat()
                if reg.checked_in_at
                else None,
            }
            for reg in people
        ]
    )


@bp.get("/events/<int:event_id>/checkins/count")
def live_count(event_id: int):
    """The live checked-in counter's data (polled by the dashboard)."""
    event = managed_event(event_id)
    return jsonify(services.checked_in_count(event))


@bp.get("/events/<int:event_id>/scan/sw.js")
def scan_service_worker(event_id: int):
    """The scan page's service worker (a static script), allowed to control the
    scan page's own path: the page then opens and scans with no connection."""
    response = current_app.send_static_file("js/scan-sw.js")
    response.headers["Service-Worker-Allowed"] = url_for(
        "checkin.scan", event_id=event_id
    )
    response.headers["Cache-Control"] = "no-cache"  # a new version is seen at once
    return response
