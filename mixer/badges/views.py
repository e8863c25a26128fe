"""Badge pages: an attendee's own badge PDF and the organizer's batch download.

A batch of up to ``INLINE_LIMIT`` badges is drawn during the request; a bigger one
goes to the job worker and the organizer watches a progress page that polls
``batch_status`` and downloads the cached PDF when it is ready.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from mixer.accounts.browser import NO_STORE
from mixer.badges import services
from mixer.events.access import can_manage, managed_event
from mixer.events.links import download_key_valid
from mixer.events.models import Registration
from mixer.extensions import db, login_manager
from mixer.jobs.models import JobStatus
from mixer.web import query_int

bp = Blueprint("badges", __name__)
PDF = "application/pdf"


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
    return _send(pdf, f"badge-{reg.event_id}-{reg.id}.pdf")


def _send(data: bytes | Path, name: str):
    """Send a PDF; a cached file is read whole (a few MB) so no handle lingers."""
    if isinstance(data, Path):
        data = data.read_bytes()
    response = send_file(BytesIO(data), mimetype=PDF, download_name=name, max_age=0)
    response.headers["Cache-Control"] = NO_STORE  # names, also sent by signed link
    return response


@bp.get("/events/<int:event_id>/badges.pdf")
def batch(event_id: int):
    """Every registered person's badge in one PDF (drawn by the worker if big)."""
    event = managed_event(event_id)
    found = services.batch_for(event, request.args.get("layout"))
    if found.ready:
        return _send(found.path, found.filename)
    if len(found.badges) <= services.INLINE_LIMIT:
        path = services.render_batch(found)
        return _send(path, found.filename)
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
    return render_template(
        "checkin/badge_batch.html",
        event=event,
        job=job,
        layout=job.payload["layout"],
    )


@bp.get("/events/<int:event_id>/badges/jobs/<int:job_id>")
def batch_status(event_id: int, job_id: int):
    """JSON for the progress page: status, percent done, download URL when ready."""
    event = managed_event(event_id)
    job = services.batch_job(event, job_id)
    if job is None:
        abort(404)
    layout = job.payload["layout"]
    return jsonify(
        status=job.status,
        progress=job.progress,
        error="Drawing the badges failed; try again."
        if job.status == JobStatus.FAILED
        else None,
        download_url=url_for("badges.batch", event_id=event.id, layout=layout),
    )
