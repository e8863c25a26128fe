"""The readable API docs page (Swagger UI, vendored from npm, under our CSP)."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import render_template, url_for

# Not an API operation, so a plain blueprint: it stays out of the OpenAPI document.
docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.get("/docs")
def docs():
    """The API reference, rendered by the vendored Swagger UI.

    It runs under the site-wide CSP unchanged: scripts from ``/static`` only.
    """
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
