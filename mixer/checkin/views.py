"""Check-in pages: the badge URL ``/c/<token>``, the organizer's scan page and the
small JSON endpoints the scan page and the dashboard's live counter call.

JSON endpoints use the signed-in session and the CSRF token (``X-CSRFToken``
header), like the rest of the site; the bearer-token API is ``mixer.checkin.api``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from mixer.badges.qr import qr_svg
from mixer.checkin import door as door_rules
from mixer.checkin import services
from mixer.checkin.access import (
    DoorAccess,
    door_event,
    may_undo,
    require_manager,
    start_door_session,
)
from mixer.checkin.forms import (
    BadgeSignInForm,
    CheckinForm,
    ConnectionNoteForm,
    DoorHelperForm,
    DoorLinkForm,
)
from mixer.checkin.models import ScanOutcome
from mixer.checkin.script_text import scan_messages
from mixer.checkin.services import Audience, CheckinError, CheckinResult
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
        sign_in_form=BadgeSignInForm(),
    )


def _sign_in_address() -> str:
    return "addr:" + (request.form.get("email") or "").strip().lower()


@bp.post("/c/<token>/sign-in")
@limiter.limit(_badge_link_limit, key_func=get_remote_address)
# Per address, as the sign-in page: nobody floods someone's inbox from here.
@limiter.limit("5 per 15 minutes", key_func=_sign_in_address)
def badge_sign_in(token: str):
    """A signed-out visitor asks for a sign-in link that brings them back here."""
    form = BadgeSignInForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
        return redirect(url_for("checkin.badge", token=token))
    services.send_badge_sign_in(token, form.email.data or "")
    db.session.commit()
    flash(
        _(
            "If that address has a Mixer account or a place at this event, a "
            "sign-in link is on its way. It brings you back to this badge."
        ),
        "info",
    )
    return redirect(url_for("checkin.badge", token=token))


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
        abort(400, description=_("The form expired; please try again."))
    with refusals():
        result = services.check_in(reg)
        name = result.name  # read before the commit
        db.session.commit()
        if result.status == ScanOutcome.CHECKED_IN:
            flash(_("Checked in: %(name)s", name=name), "success")
    return redirect(url_for("checkin.badge", token=token))


@bp.post("/c/<token>/undo")
def badge_undo(token: str):
    """Undo a mistaken check-in from the badge page."""
    reg = _organizer_visit(token)
    if not CheckinForm().validate_on_submit():
        abort(400, description=_("The form expired; please try again."))
    services.undo_check_in(reg)
    name = reg.name  # read before the commit
    db.session.commit()
    flash(_("Check-in undone: %(name)s", name=name), "info")
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
    flash(_("Note saved. Only you can see it."), "success")
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
    records = door_rules.records_of(recent)  # one query for both below
    mine = {
        reg_id
        for reg_id, record in records.items()
        if door_rules.made_by(record, access.user_id, access.link_id)
    }
    # Who made the others' check-ins ("by Ada"); one's own go unsigned, as the
    # rows the page adds itself after a scan.
    others = {
        reg_id: door_rules.who_text(record)
        for reg_id, record in records.items()
        if reg_id not in mine
    }
    return render_template(
        "checkin/scan.html",
        event=event,
        counts=services.checked_in_count(event),
        recent=recent,
        recent_by=others,
        door=not access.manager,  # a door helper or door session: no management
        # The recent check-ins this viewer may undo (None: every one, organizers).
        undoable=None if access.manager else mine,
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
    result = _scanned(event, data, access)
    # Built before the commit: nothing read after it can turn a success into a 500.
    answer = result.as_dict() | services.checked_in_count(event)
    db.session.commit()
    return jsonify(answer)


def _scanned(event: Event, data: dict[str, Any], access: DoorAccess) -> CheckinResult:
    """Check in whom a scan-page request names: a ``registration_id`` (by hand)
    or a scanned ``url`` (one conditional UPDATE on the badge token)."""
    nonce = data.get("nonce") or None
    if data.get("registration_id") is not None:
        reg = _registration(event, data["registration_id"])
        services.check_can_enter(reg)
        return services.check_in(reg, nonce=nonce, **access.by)
    scanned = data.get("url") or data.get("token")
    return services.check_in_badge(
        event.org_id, scanned, event.id, nonce=nonce, **access.by
    )


def _registration(event: Event, registration_id: Any) -> Registration:
    """A registration of ``event`` by id (CheckinError 404 when none)."""
    try:
        reg = services.registration_in(event, int(registration_id))
    except (TypeError, ValueError, OverflowError):
        reg = None
    if reg is None:
        raise CheckinError(_("Not registered for this event."), status=404)
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
            _("You can undo only the check-ins you made; ask an organizer."),
            status=403,
        )
    undone = services.undo_check_in(reg, by_link=access.link)
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
    require_manager(access, _("Only the event's organizers can give seats."))
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


# ---------------------------------------------------------------------------
# The dashboard's door section: door helpers and door links (organizers)


@bp.app_template_global()
def door_panel(event: Event) -> dict[str, Any]:
    """What the event dashboard shows about the door: helpers, links (with their
    QR codes), the latest check-ins and who made them."""
    helper_form = DoorHelperForm()
    helper_form.user_id.choices = [
        (user.id, user.name) for user in door_rules.helper_candidates(event)
    ]
    recent = services.recent_checkins(event)
    links = []
    for link in door_rules.links(event):
        url = door_rules.link_url(link)
        qr = base64.b64encode(qr_svg(url).encode()).decode()
        links.append(
            {"link": link, "url": url, "qr": f"data:image/svg+xml;base64,{qr}"}
        )
    return {
        "helpers": door_rules.helpers(event),
        "helper_form": helper_form,
        "link_form": DoorLinkForm(),
        "links": links,
        "recent": recent,
        "recent_by": door_rules.who_checked_in(recent),
        "until": door_rules.door_until(event),
    }


SVG_DATA = "data:image/svg+xml;base64,"


def _to_door(event_id: int):
    return redirect(url_for("events.dashboard", event_id=event_id, _anchor="door"))


@bp.post("/events/<int:event_id>/door/helpers")
def add_door_helper(event_id: int):
    """Make a member a door helper of the event."""
    event = managed_event(event_id)
    form = DoorHelperForm()
    if form.validate_on_submit():
        with refusals():
            helper = door_rules.add_helper(event, form.user_id.data, current_user)
            name = helper.user.name
            db.session.commit()
            flash(
                _("%(name)s can now scan badges at this event's door.", name=name),
                "success",
            )
    else:
        flash(_("The form expired; please try again."), "error")
    return _to_door(event.id)


@bp.post("/events/<int:event_id>/door/helpers/<int:helper_id>/remove")
def remove_door_helper(event_id: int, helper_id: int):
    """Take the door-helper role away."""
    event = managed_event(event_id)
    if CheckinForm().validate_on_submit():
        name = door_rules.remove_helper(event, helper_id)
        db.session.commit()
        flash(_("%(name)s is no longer a door helper.", name=name), "info")
    return _to_door(event.id)


@bp.post("/events/<int:event_id>/door/links")
def add_door_link(event_id: int):
    """A new door link (a QR code on the dashboard)."""
    event = managed_event(event_id)
    form = DoorLinkForm()
    if form.validate_on_submit():
        with refusals():
            door_rules.create_link(event, form.label.data, current_user)
            db.session.commit()
            flash(
                _("Door link made: open its QR code on the volunteer's phone."),
                "success",
            )
    else:
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
    return _to_door(event.id)


@bp.post("/events/<int:event_id>/door/links/<int:link_id>/revoke")
def revoke_door_link(event_id: int, link_id: int):
    """Stop a door link now (phones using it are refused at their next request)."""
    event = managed_event(event_id)
    if CheckinForm().validate_on_submit():
        link = door_rules.link_of(event, link_id)
        door_rules.revoke_link(link)
        label = link.label
        db.session.commit()
        flash(_("Door link “%(label)s” revoked.", label=label), "info")
    return _to_door(event.id)


@bp.post("/events/<int:event_id>/door/links/<int:link_id>/reissue")
def reissue_door_link(event_id: int, link_id: int):
    """Revoke a door link and make a new one with the same name."""
    event = managed_event(event_id)
    if CheckinForm().validate_on_submit():
        with refusals():
            link = door_rules.reissue_link(
                door_rules.link_of(event, link_id), current_user
            )
            label = link.label
            db.session.commit()
            flash(
                _(
                    "New door link “%(label)s”: the old one no longer works.",
                    label=label,
                ),
                "success",
            )
    return _to_door(event.id)


@bp.get("/events/<int:event_id>/scan/sw.js")
def scan_service_worker(event_id: int):
    """The scan page's service worker (a static script), allowed to control the
    scan page's own path: the page then opens and scans with no connection."""
    script = Path(current_app.static_folder or "static", "js", "scan-sw.js")
    response = Response(script.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for(
        "checkin.scan", event_id=event_id
    )
    response.headers["Cache-Control"] = "no-cache"  # a new version is seen at once
    return response


bp.add_app_template_global(scan_messages)
