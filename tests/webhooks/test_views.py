"""The admin pages: CSRF, the secret shown once, who may see them, the audit."""

from __future__ import annotations

import re

from sqlalchemy import select

from mixer.audit.models import AuditEntry
from mixer.extensions import db
from mixer.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.helpers import csrf_from
from tests.webhooks.conftest import verify, work

BASE = "/o/acme/settings/webhooks"


def _secret_on(html: str) -> str:
    return re.search(r'id="secret" [^>]*value="(whsec_[^"]+)"', html).group(1)


def test_an_admin_adds_tests_rotates_and_removes_an_endpoint(
    frozen, local, receiver, app, client, auth, org, make_org, make_user
):
    admin = make_user(org, role="admin", name="Ada Admin")
    member = make_user(org, name="Mo Member")
    outsider = make_user(make_org(slug="elsewhere"), role="admin")
    auth.login(admin.email)
    page = client.get(BASE)
    assert page.status_code == 200 and "No endpoints yet." in page.get_data(True)
    form = {
        "url": receiver.url,
        "description": "CRM",
        "event_types": ["registration.created", "pair.created"],
    }

    refused = client.post(BASE, data=form)  # no CSRF token: nothing is made
    assert refused.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None

    token = csrf_from(page.get_data(True))
    bad = client.post(BASE, data={**form, "url": "ftp://x", "csrf_token": token})
    assert bad.status_code == 400 and "must start with https://" in bad.get_data(True)

    made = client.post(BASE, data={**form, "csrf_token": token})
    assert made.status_code == 200
    html = made.get_data(True)
    secret = _secret_on(html)
    assert "shown only this once" in html
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.secret == secret and endpoint.created_by_id == admin.id
    assert endpoint.event_types == ["registration.created", "pair.created"]

    show = f"{BASE}/{endpoint.id}"
    later = client.get(show).get_data(True)
    assert secret not in later and secret[:12] in later  # only its first characters
    assert secret not in client.get(BASE).get_data(True)

    token = csrf_from(later)
    client.post(f"{show}/ping", data={"csrf_token": token})
    work()
    [ping] = receiver.seen
    assert ping.json["type"] == "webhook.ping" and verify(
        secret, ping.headers, ping.body
    )
    assert "webhook.ping" in client.get(show).get_data(True)

    rotated = client.post(f"{show}/secret", data={"csrf_token": token})
    new_secret = _secret_on(rotated.get_data(True))
    assert new_secret != secret
    assert client.post(f"{show}/secret").status_code == 400  # CSRF here too
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).secret == new_secret

    delivery = db.session.scalar(select(WebhookDelivery))
    again = client.post(
        f"{show}/deliveries/{delivery.id}/redeliver", data={"csrf_token": token}
    )
    assert again.status_code == 302
    work()
    assert len(receiver.seen) == 2 and verify(
        new_secret, receiver.seen[1].headers, receiver.seen[1].body
    )
    assert receiver.seen[1].headers["webhook-id"] == ping.headers["webhook-id"]

    edited = client.post(
        show,
        data={
            "url": receiver.url,
            "description": "CRM",
            "event_types": ["pair.ended"],
            "csrf_token": token,
        },  # "enabled" unticked: switched off
    )
    assert edited.status_code == 302
    db.session.expire_all()
    changed = db.session.get(WebhookEndpoint, endpoint.id)
    assert changed.enabled is False and changed.event_types == ["pair.ended"]

    # Members are refused; another organization's admin does not see it at all.
    auth.logout()
    auth.login(member.email)
    assert client.get(BASE).status_code == 403
    assert client.get(show).status_code == 403
    auth.logout()
    auth.login(outsider.email)
    assert client.get(show).status_code == 404
    assert client.get(BASE).status_code == 404
    assert (
        client.get(f"/o/elsewhere/settings/webhooks/{endpoint.id}").status_code == 404
    )
    auth.logout()

    auth.login(admin.email)
    token = csrf_from(client.get(show).get_data(True))
    assert client.post(f"{show}/delete", data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(WebhookEndpoint)) is None
    assert db.session.scalar(select(WebhookDelivery)) is None

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "webhook.endpoint_added",
        "webhook.secret_rotated",
        "webhook.endpoint_changed",
        "webhook.endpoint_removed",
    ]
    assert {e.actor_id for e in entries} == {admin.id}
    assert entries[2].details["changed"]["enabled"] == [True, False]
    for entry in entries:  # never the secret, old or new
        text = f"{entry.summary} {entry.details}"
        assert secret not in text and new_secret not in text
