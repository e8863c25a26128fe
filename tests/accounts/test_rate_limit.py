"""Sign-in is rate limited per IP, and link mail per address (limits switched on)."""

from __future__ import annotations

import pytest

from mixer.accounts.models import User
from mixer.extensions import db
from tests.helpers import csrf_from


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_too_many_sign_in_attempts_get_a_friendly_429(client, make_org, make_user):
    user = make_user(make_org(), email="ada@example.org")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"email": user.email, "password": "wrong password", "csrf_token": token}
    statuses = [client.post("/login", data=data).status_code for _ in range(10)]
    assert statuses == [422] * 10
    resp = client.post("/login", data=data)
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert "Too many attempts" in html and "try again" in html
    assert "<h1>429" in html  # our page, not a bare error
    # Even the right password waits until the minute is over.
    ok = client.post("/login", data={**data, "password": "correct horse battery"})
    assert ok.status_code == 429
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is None


def test_link_mail_is_limited_per_address(client, make_org, make_user, outbox):
    user = make_user(make_org(), email="ada@example.org")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"email": user.email, "action": "link", "csrf_token": token}
    statuses = [client.post("/login", data=data).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(outbox(user.email)) == 5
    # Another address from the same IP is still served.
    other = {**data, "email": "someone@example.org"}
    assert client.post("/login", data=other).status_code == 302
