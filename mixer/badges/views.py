"""Badge pages: an attendee's own badge PDF and the organizer's batch download.

A batch of up to ``INLINE_LIMIT`` badges is drawn during the request; a bigger one
goes to the job worker and the organizer watches a progress page that polls
``batch_status`` and downloads the cached PDF when it is ready (the shared
printouts page, ``mixer.printouts.web``).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mixer.badges import services
from mixer.events.access import can_manage, managed_event
from mixer.events.links import download_key_valid
from mixer.events.models import Registration
from mixer.extensions import db, login_manager
from mixer.printouts.web import job_status, progress_page, send_pdf
from mixer.web import query_int

bp = Blueprint("badges", __name__)


def _own_registration(event_id: int, registration_id: int) -> Registration:
    """The registration, for its owner (signed in or with the key) or organizers."""
    reg = db.session.get(Registration, registration_id)
    if reg is not None and reg.event_id != event_id:
        reg = None
    if reg is not None and download_key_valid(reg, request.args.get("key")):
        return reg
    if not current_user.is_authenticated:  # whether it exists or not: no probing
        abort(login_manager.unauthorized())
    if reg is None:
        abort(404)
    mine = reg.user_id == current_user.id or reg.email == current_user.email
    if not (mine or can_manage(reg.event, current_user)):
        abort(404)
    return reg


@bp.get("/events/<int:event_id>/badge/<int:registration_id>")
def attendee_badge(event_id: int, registration_id: int):
    """One attendee's printable badge (4 × 3 in)."""
    reg = _own_registration(event_id, registration_id)
    pdf = services.attendee_badge_pdf(reg)
    return send_pdf(pdf, f"badge-{reg.event_id}-{reg.id}.pdf")


@bp.get("/events/<int:event_id>/badges.pdf")
def batch(event_id: int):
    """Every registered person's badge in one PDF (drawn by the worker if big)."""
    event = managed_event(event_id)
    found = services.batch_for(event, request.args.get("layout"))
    if (pdf := services.cached_batch(found)) is not None:
        return send_pdf(pdf, found.filename)
    if len(found.badges) <= services.INLINE_LIMIT:
        return send_pdf(services.render_batch(found), found.filename)
    job = services.schedule_batch(found)
    db.session.commit()
    return redirect(
        url_for(
            "badges.batch_progress",
            event_id=event.id,
            job=job.id,
            layout=found.layout,
        )
    )


@bp.get("/events/<int:event_id>/badges/progress")
def batch_progress(event_id: int):
    """The progress bar of a batch being drawn by the worker."""
    event = managed_event(event_id)
    job = services.batch_job(event, query_int("job", 0))
    if job is None:
        abort(404)
    layout = job.payload["layout"]
    return progress_page(
        event,
        job,
        title=_("Badges"),
        label=_("Drawing the badges (%(layout)s)…", layout=layout),
        working=_("Drawing the badges…"),
        note=_("This takes about half a minute per 500 badges."),
        status_url=url_for("badges.batch_status", event_id=event.id, job_id=job.id),
        download_url=url_for("badges.batch", event_id=event.id, layout=layout),
        back_url=url_for("events.dashboard", event_id=event.id),
        back_label=_("Back to the dashboard"),
    )


@bp.get("/events/<int:event_id>/badges/jobs/<int:job_id>")
def batch_status(event_id: int, job_id: int):
    """JSON for the progress page: status, percent done, download URL when ready."""
    event = managed_event(event_id)
    job = services.batch_job(event, job_id)
    if job is None:
        abort(404)
    layout = job.payload["layout"]
    return job_status(
        job,
        download_url=url_for("badges.batch", event_id=event.id, layout=layout),
        error=_("Drawing the badges failed; try again."),
    )
