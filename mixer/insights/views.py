"""Insights pages: the programme dashboard, report PDFs and exports.

Everything lives under ``/o/<slug>/insights`` behind ``org_required("organizer")``:
outsiders get 404, members 403. Members see none of these figures.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("insights", __name__)


# ---------------------------------------------------------------------------
# The dashboard (``/o/<slug>/insights``)


# ---------------------------------------------------------------------------
# Exports (CSV and XLSX)


# ---------------------------------------------------------------------------
# Report PDFs
