"""Insights pages: the programme dashboard, report PDFs and exports.

Everything lives under ``/o/<slug>/insights`` behind ``org_required("organizer")``:
outsiders get 404, members 403. Members see none of these figures.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from mixer.audit.services import record
from mixer.extensions import db, limiter
from mixer.formatting import local_text
from mixer.insights import cache, charts, exports, reports
from mixer.insights.figures import rate
from mixer.insights.forms import FilterForm
from mixer.insights.params import parse_filter
from mixer.orgs.access import org_required

bp = Blueprint("insights", __name__)


def _refresh_limit() -> str:
    return current_app.config.get("INSIGHTS_REFRESH_LIMIT", "6 per minute")


def _refresh_key() -> str:
    """One allowance per person and organization."""
    return f"insights-refresh:{current_user.get_id()}:{g.org.id}"


# ---------------------------------------------------------------------------
# The dashboard (``/o/<slug>/insights``)


@bp.route("/o/<slug>/insights")
@org_required("organizer")
def dashboard():
    """The programme dashboard for the filter in the query string."""
    form = FilterForm(request.args, org=g.org)
    if not form.validate():
        # What was typed stays in the form, each mistake under its field.
        return render_template("insights/dashboard.html", form=form, data=None), 400
    flt = form.to_filter()
    snap = cache.snapshot(g.org, flt)  # stored figures, or counted now
    db.session.commit()  # the snapshot, its "read at" and a refresh job
    return render_template(
        "insights/dashboard.html",
        form=form,
        flt=flt,
        data=snap.figures,
        snap=snap,
        params=form.params(),
        charts=charts,
        rate=rate,
        export_url=export_url,
    )


@bp.post("/o/<slug>/insights/refresh")
@org_required("organizer")
@limiter.limit(_refresh_limit, key_func=_refresh_key)
def refresh():
    """Count the figures of the filter in the form again now ("Refresh now")."""
    form = FilterForm(request.form, org=g.org)  # CSRFProtect checked the POST
    if not form.validate():
        # Only a hand-made request gets here: the page's own form is valid.
        abort(400)
    cache.refresh(g.org, form.to_filter())
    db.session.commit()
    flash(_("The figures are counted again: they are as of now."), "success")
    return redirect(url_for("insights.dashboard", slug=g.org.slug, **form.params()))


@bp.app_template_filter("insights_day")
def day_text(day: date) -> str:
    """ "6 Dec 2026" in the page's language (German "6. Dez. 2026")."""
    return local_text(datetime.combine(day, time.min), "%-d %b %Y")


@bp.app_template_filter("insights_month")
def month_text(month: str) -> str:
    """ "March 2026" for "2026-03", in the page's language."""
    return charts.month_name(month)


bp.add_app_template_filter(reports.one_decimal, "insights_rating")


def export_url(dataset: str, fmt: str, params: dict[str, Any]) -> str:
    """The link to one export (``export`` below) for the page's filter."""
    return url_for(
        "insights.export", slug=g.org.slug, dataset=dataset, fmt=fmt, **params
    )


# ---------------------------------------------------------------------------
# Exports (CSV and XLSX)

_DATASET = f"<any({', '.join(exports.DATASETS)}):dataset>"
_FORMAT = f"<any({', '.join(exports.CONTENT_TYPES)}):fmt>"


@bp.get(f"/o/<slug>/insights/export/{_DATASET}.{_FORMAT}")
@org_required("organizer")
def export(dataset: str, fmt: str) -> Response:
    """One dataset as a CSV or XLSX download, narrowed by the query string."""
    insight_filter = parse_filter(g.org, request.args)  # 400 with a message
    name = exports.file_name(g.org, dataset, fmt, insight_filter)
    _record_download("export.insights", f"Downloaded {name}", dataset=dataset)
    if fmt == "csv":
        body = stream_with_context(exports.csv_chunks(g.org, dataset, insight_filter))
        response = Response(body, content_type=exports.CONTENT_TYPES[fmt])
    else:
        file = exports.xlsx_file(g.org, dataset, insight_filter)
        response = Response(exports.file_chunks(file), content_type=exports.XLSX_TYPE)
        response.call_on_close(file.close)  # deleted even if never read
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------
# Report PDFs


@bp.get("/o/<slug>/insights/report.pdf")
@org_required("organizer")
def programme_report() -> Response:
    """The programme report for the filter in the query string."""
    report = reports.programme_report(g.org, parse_filter(g.org, request.args))
    return _pdf(report)


@bp.get("/o/<slug>/insights/events/<int:event_id>/report.pdf")
@org_required("organizer")
def event_report(event_id: int) -> Response:
    """One held event's report on one page (409 before it has taken place)."""
    report = reports.event_report(g.org, event_id)
    return _pdf(report)


def _pdf(report: reports.EventReport | reports.ProgrammeReport) -> Response:
    """The report's PDF shown inline (the browser's viewer), never cached."""
    name = reports.file_name(report, g.org.slug)
    pdf = reports.render_report_pdf(report)
    _record_download("export.report", f"Opened the report {name}")
    response = Response(pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _record_download(action: str, summary: str, **facts: Any) -> None:
    """Record a download in the audit trail now (the file has no service to
    record it, and it may be streamed after the request's last commit)."""
    record(
        g.org.id,
        action,
        summary,
        subject=("organization", g.org.id),
        details={**facts, "filter": request.args.to_dict()},
    )
    db.session.commit()
    # A streamed file reads the organization after this commit, perhaps after
    # the session has ended: load it again now.
    db.session.refresh(g.org)
