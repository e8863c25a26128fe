"""The audit trail page of an organization (``/o/<slug>/audit``, admins only).

It only reads: there is no way to change or delete an entry.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from mixer.audit import services
from mixer.audit.forms import AuditFilterForm
from mixer.orgs.access import org_required
from mixer.web import query_page

bp = Blueprint("audit", __name__)


@bp.get("/o/<slug>/audit")
@org_required("admin")
def index():
    """The organization's audit trail, newest first, filtered and 50 a page."""
    form = AuditFilterForm(request.args, actors=services.actors(g.org.id))
    if not form.validate():
        # What was typed stays in the form, each mistake under its field.
        return render_template("audit/index.html", form=form, entries=None), 400
    entries = services.entries(g.org.id, **form.criteria(), page=query_page())
    return render_template(
        "audit/index.html",
        form=form,
        entries=entries,
        params=form.params(),
        label=services.label,
        subject_label=services.subject_label,
    )
