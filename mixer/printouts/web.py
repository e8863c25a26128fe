"""The web side of printouts (``mixer.printouts.services``): sending a PDF, the progress
page of one being drawn by the worker, and the JSON that page polls."""

from __future__ import annotations

from io import BytesIO

from flask import Response, jsonify, render_template, send_file

from mixer.accounts.browser import NO_STORE
from mixer.events.models import Event
from mixer.jobs.models import Job, JobStatus

PDF = "application/pdf"


def send_pdf(data: bytes, name: str) -> Response:
    """Send a PDF to show in the browser (saved as ``name``), never stored by it:
    it holds names, and some are sent by signed link. A cached one is read whole
    from the store (a few MB, ``printouts.cached``) so no handle lingers and a
    newer drawing may replace it meanwhile."""
    response = send_file(BytesIO(data), mimetype=PDF, download_name=name, max_age=0)
    response.headers["Cache-Control"] = NO_STORE
    return response


def progress_page(
    event: Event,
    job: Job,
    *,
    title: str,
    label: str,
    working: str,
    note: str,
    status_url: str,
    download_url: str,
    back_url: str,
    back_label: str,
) -> str:
    """The page with a progress bar that follows ``job`` and then downloads."""
    return render_template(
        "printouts/progress.html",
        event=event,
        job=job,
        title=title,
        label=label,
        working=working,
        note=note,
        status_url=status_url,
        download_url=download_url,
        back_url=back_url,
        back_label=back_label,
    )


def job_status(job: Job, *, download_url: str, error: str) -> Response:
    """JSON for the progress page: status, percent done, the download URL, and
    ``error`` when the job failed."""
    return jsonify(
        status=job.status,
        progress=job.progress,
        error=error if job.status == JobStatus.FAILED else None,
        download_url=download_url,
    )
