"""Insights pages: the programme dashboard, report PDFs and exports.

Everything lives under ``/o/<slug>/insights`` behind ``org_required("organizer")``:
outsiders get 404, members 403. Members see none of these figures.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for

from mixer.insights import charts
from mixer.insights.dashboard import dashboard as programme_dashboard
from mixer.insights.figures import rate
from mixer.insights.forms import FilterForm
from mixer.orgs.access import org_required

bp = Blueprint("insights", __name__)


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
    return render_template(
        "insights/dashboard.html",
        form=form,
        flt=flt,
        data=programme_dashboard(g.org, flt),
        params=form.params(),
        charts=charts,
        rate=rate,
        export_url=export_url,
    )


def export_url(dataset: str, fmt: str, params: dict[str, Any]) -> str | None:
    """The link to one export for the page's filter (None until exports exist)."""
    if "insights.export" not in current_app.view_functions:
        return None
    return url_for(
        "insights.export", slug=g.org.slug, dataset=dataset, fmt=fmt, **params
    )


# ---------------------------------------------------------------------------
# Exports (CSV and XLSX)


# ---------------------------------------------------------------------------
# Report PDFs
