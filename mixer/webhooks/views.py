"""An organization's webhook endpoints: list, add, edit, log, test, redeliver.

Admins only (``/o/<slug>/settings/webhooks``). A new or rotated secret is shown
in the answer to the POST that made it, once, and never again: redirecting would
mean keeping it somewhere between the two requests.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mixer.errors import refusals
from mixer.extensions import db
from mixer.orgs.access import org_required
from mixer.web import query_page
from mixer.webhooks import services
from mixer.webhooks.forms import ButtonForm, EndpointEditForm, EndpointForm
from mixer.webhooks.models import EVENT_TYPES

bp = Blueprint("webhooks", __name__)


@bp.route("/o/<slug>/settings/webhooks", methods=["GET", "POST"])
@org_required("admin")
def index():
    """The organization's endpoints and the form to add one."""
    form = EndpointForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            endpoint, secret = services.create_endpoint(
                g.org,
                form.url.data,
                form.event_types.data,
                description=form.description.data,
                by=current_user,
            )
            db.session.commit()
            return render_template(
                "webhooks/secret.html", endpoint=endpoint, secret=secret, new=True
            )
    return render_template(
        "webhooks/index.html",
        form=form,
        endpoints=services.endpoints_of(g.org.id),
        event_types=EVENT_TYPES,
    ), refused.status(422 if form.errors else 200)


@bp.route("/o/<slug>/settings/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@org_required("admin")
def show(endpoint_id: int):
    """One endpoint: its settings, buttons and the log of its deliveries."""
    endpoint = services.endpoint_of(g.org.id, endpoint_id)
    form = EndpointEditForm(obj=endpoint)
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            changed = services.update_endpoint(
                endpoint,
                url=form.url.data,
                event_types=form.event_types.data,
                description=form.description.data,
                enabled=form.enabled.data,
                by=current_user,
            )
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".show", slug=g.org.slug, endpoint_id=endpoint.id))
    return render_template(
        "webhooks/show.html",
        endpoint=endpoint,
        form=form,
        buttons=ButtonForm(),
        page=services.deliveries_page(endpoint, query_page()),
    ), refused.status(422 if form.errors else 200)


@bp.post("/o/<slug>/settings/webhooks/<int:endpoint_id>/secret")
@org_required("admin")
def rotate(endpoint_id: int):
    """Make a new signing secret and show it, once."""
    endpoint = _checked(endpoint_id)
    secret = services.rotate_secret(endpoint, by=current_user)
    db.session.commit()
    return render_template(
        "webhooks/secret.html", endpoint=endpoint, secret=secret, new=False
    )


@bp.post("/o/<slug>/settings/webhooks/<int:endpoint_id>/ping")
@org_required("admin")
def ping(endpoint_id: int):
    """Queue a test message to the endpoint."""
    endpoint = _checked(endpoint_id)
    services.ping(endpoint)
    db.session.commit()
    flash(_("A test ping is on its way; its answer shows in the log below."), "success")
    return redirect(url_for(".show", slug=g.org.slug, endpoint_id=endpoint.id))


@bp.post("/o/<slug>/settings/webhooks/<int:endpoint_id>/delete")
@org_required("admin")
def delete(endpoint_id: int):
    """Remove the endpoint and its log."""
    endpoint = _checked(endpoint_id)
    services.delete_endpoint(endpoint, by=current_user)
    db.session.commit()
    flash(_("The endpoint is removed; nothing more is sent to it."), "success")
    return redirect(url_for(".index", slug=g.org.slug))


@bp.post(
    "/o/<slug>/settings/webhooks/<int:endpoint_id>"
    "/deliveries/<int:delivery_id>/redeliver"
)
@org_required("admin")
def redeliver(endpoint_id: int, delivery_id: int):
    """Send one delivery again now."""
    endpoint = _checked(endpoint_id)
    with refusals(category="warning"):
        delivery = services.redeliver(endpoint, delivery_id)
        db.session.commit()
        flash(_("Sending %(type)s again now.", type=delivery.event_type), "success")
    return redirect(url_for(".show", slug=g.org.slug, endpoint_id=endpoint.id))


def _checked(endpoint_id: int):
    """The org's endpoint for a button: 404 for others', 400 without CSRF."""
    endpoint = services.endpoint_of(g.org.id, endpoint_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return endpoint
