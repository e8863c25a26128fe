"""Admin view of the outbox: delivery counts, failures, retries, failed jobs."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from mixer.errors import refusals
from mixer.extensions import db
from mixer.jobs.services import retry_job
from mixer.mail.services import outbox_overview, retry_failed, retry_message
from mixer.orgs.access import org_required
from mixer.outbox.forms import RetryForm

bp = Blueprint("outbox", __name__)


@bp.get("/o/<slug>/admin/outbox")
@org_required("admin")
def show():
    """Counts by status, failed and retrying messages and failed jobs of the org."""
    return render_template(
        "outbox/show.html", overview=outbox_overview(g.org.id), form=RetryForm()
    )


@bp.post("/o/<slug>/admin/outbox/<int:message_id>/retry")
@org_required("admin")
def retry(message_id: int):
    """Queue one failed or retrying message for delivery now."""
    return _retry(lambda: retry_message(g.org.id, message_id), "{0.to_addr}")


@bp.post("/o/<slug>/admin/outbox/retry-failed")
@org_required("admin")
def retry_all():
    """Queue every failed message of the org for delivery now."""
    if not RetryForm().validate_on_submit():
        abort(400)
    count = retry_failed(g.org.id)
    db.session.commit()
    flash(f"{count} failed message{'' if count == 1 else 's'} queued again.", "success")
    return redirect(url_for("outbox.show", slug=g.org.slug))


@bp.post("/o/<slug>/admin/jobs/<int:job_id>/retry")
@org_required("admin")
def retry_job_now(job_id: int):
    """Run one failed job again now."""
    return _retry(lambda: retry_job(g.org.id, job_id), "the job “{0.kind}”")


def _retry(action: Callable, what: str):
    """Shared body of the retry buttons: CSRF, a flash; others' rows are 404."""
    if not RetryForm().validate_on_submit():
        abort(400)
    with refusals(category="warning"):  # "sent already" is no mistake of theirs
        row = action()
        db.session.commit()
        flash(
            f"Retrying {what.format(row)} now; the worker picks it up within seconds.",
            "success",
        )
    return redirect(url_for("outbox.show", slug=g.org.slug))
