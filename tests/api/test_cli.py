"""`mixer create-token EMAIL --org SLUG` prints only a token that works."""

from __future__ import annotations

from sqlalchemy import select

from mixer.accounts.models import ApiToken
from mixer.extensions import db


def test_create_token_prints_a_working_token(runner, client, make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    user = make_user(org, role="organizer", password=None)

    result = runner.invoke(
        args=["create-token", user.email, "--org", "acme", "--name", "ci"]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1  # only the token: scripts can capture it
    secret = lines[0].strip()
    assert secret.startswith("mxr_") and " " not in secret
    resp = client.get("/api/v1/", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["organization"]["slug"] == "acme"
    assert body["user"]["email"] == user.email
    assert body["token"]["name"] == "ci"
    db.session.expire_all()
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != secret and secret not in stored.token_hash  # hashed


def test_create_token_refuses_a_non_member(runner, make_org, make_user):
    make_org(slug="acme")
    other = make_org(slug="other")
    outsider = make_user(other, password=None)
    result = runner.invoke(args=["create-token", outsider.email, "--org", "acme"])
    assert result.exit_code != 0
    assert "mxr_" not in result.output
    assert db.session.scalar(select(ApiToken)) is None
