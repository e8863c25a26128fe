"""Admin view of the outbox: delivery counts, failures, retries, failed jobs."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

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
    return _retry(
        lambda: retry_message(g.org.id, message_id),
        lambda row: _(
            "Retrying %(to)s now; the worker picks it up within seconds.",
            to=row.to_addr,
        ),
    )


@bp.post("/o/<slug>/admin/outbox/retry-failed")
@org_required("admin")
def retry_all():
    """Queue every failed message of the org for delivery now."""
    if not RetryForm().validate_on_submit():
        abort(400)
    count = retry_failed(g.org.id)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d failed message queued again.",
            "%(num)d failed messages queued again.",
            count,
        ),
        "success",
    )
    return redirect(url_for("outbox.show", slug=g.org.slug))


@bp.post("/o/<slug>/admin/jobs/<int:job_id>/retry")
@org_required("admin")
def retry_job_now(job_id: int):
    """Run one failed job again now."""
    return _retry(
        lambda: retry_job(g.org.id, job_id),
        lambda row: _(
            "Retrying the job “%(kind)s” now; the worker picks it up within seconds.",
            kind=row.kind,
        ),
    )


def _retry(action: Callable, done: Callable):
    """Shared body of the retry buttons: CSRF, a flash; others' rows are 404."""
    if not RetryForm().validate_on_submit():
        abort(400)
    with refusals(category="warning"):  # "sent already" is no mistake of theirs
        row = action()
        db.session.commit()
        flash(done(row), "success")
    return redirect(url_for("outbox.show", slug=g.org.slug))
