"""Bearer-token authentication: every refusal is a 401 JSON error with a challenge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from mixer import clock
from mixer.accounts.models import ApiToken
from mixer.accounts.services import revoke_api_token
from mixer.extensions import db
from mixer.orgs.models import ROLES, Membership
from mixer.orgs.services import remove_member
from tests.api.conftest import assert_error
from tests.helpers import PASSWORD


def _who(client, headers):
    return client.get("/api/v1/", headers=headers)


def test_valid_token_says_who_i_am(client, make_org, make_user, token_for):
    org = make_org(slug="acme", name="Acme")
    user = make_user(org, role="organizer", name="Ada Lovelace")
    secret = token_for(user, org, name="CRM sync")

    resp = _who(client, {"Authorization": f"Bearer {secret}"})

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["organization"] == {"id": org.id, "slug": "acme", "name": "Acme"}
    assert body["user"]["name"] == "Ada Lovelace"
    assert body["user"]["email"] == user.email
    assert body["user"]["role"] == "organizer"
    assert body["user"]["member_id"] == user.membership_in(org).id
    assert body["token"]["name"] == "CRM sync"
    assert secret not in resp.get_data(as_text=True)


def test_scheme_is_case_insensitive_and_spaces_are_tolerated(
    client, make_org, make_user, token_for
):
    org = make_org()
    secret = token_for(make_user(org), org)
    assert _who(client, {"Authorization": f"bearer   {secret} "}).status_code == 200


def test_missing_header_is_401_with_challenge(client):
    error = assert_error(_who(client, {}), 401, "unauthorized")
    assert "Authorization: Bearer" in error["message"]
    resp = _who(client, {})
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" not in resp.headers["WWW-Authenticate"]


def test_wrong_scheme_is_401(client, make_org, make_user, token_for):
    org = make_org()
    secret = token_for(make_user(org), org)
    for header in (f"Basic {secret}", f"Token {secret}", "Bearer", "Bearer   "):
        resp = _who(client, {"Authorization": header})
        error = assert_error(resp, 401, "unauthorized")
        assert "Bearer" in error["message"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client, make_org, make_user, token_for):
    org = make_org()
    secret = token_for(make_user(org), org)
    resp = _who(client, {"Authorization": f"Bearer {secret}x"})
    error = assert_error(resp, 401, "unauthorized")
    assert "not valid" in error["message"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_revoked_token_is_401(client, make_org, make_user, token_for):
    org = make_org()
    user = make_user(org)
    secret = token_for(user, org)
    assert _who(client, {"Authorization": f"Bearer {secret}"}).status_code == 200

    revoke_api_token(db.session.scalar(select(ApiToken)))
    db.session.commit()

    error = assert_error(_who(client, {"Authorization": f"Bearer {secret}"}), 401)
    assert "revoked" in error["message"]


def test_token_of_a_removed_member_is_401(client, make_org, make_user, token_for):
    org = make_org()
    make_user(org, role="admin")
    leaver = make_user(org)
    secret = token_for(leaver, org)
    headers = {"Authorization": f"Bearer {secret}"}
    assert _who(client, headers).status_code == 200

    remove_member(
        db.session.scalar(select(Membership).where(Membership.user_id == leaver.id))
    )
    db.session.commit()

    assert_error(_who(client, headers), 401, "unauthorized")


def test_token_without_membership_is_401_even_if_not_revoked(
    client, make_org, make_user, token_for
):
    """Belt and braces: a membership gone by any path ends the token's power."""
    org = make_org()
    leaver = make_user(org)
    secret = token_for(leaver, org)
    db.session.execute(delete(Membership).where(Membership.user_id == leaver.id))
    db.session.commit()

    resp = _who(client, {"Authorization": f"Bearer {secret}"})
    error = assert_error(resp, 401, "unauthorized")
    assert "no longer an active member" in error["message"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_token_of_a_deactivated_account_is_401(client, make_org, make_user, token_for):
    org = make_org()
    user = make_user(org)
    secret = token_for(user, org)
    user.is_active_account = False
    db.session.commit()
    assert_error(_who(client, {"Authorization": f"Bearer {secret}"}), 401)


def test_role_below_the_view_is_403(client, probe, make_org, make_user, token_for):
    org = make_org(name="Acme")
    member = token_for(make_user(org, role="organizer"), org)
    admin = token_for(make_user(org, role="admin"), org)

    resp = client.get(
        "/api/v1/probe/admin-only", headers={"Authorization": f"Bearer {member}"}
    )
    error = assert_error(resp, 403, "forbidden")
    assert "admin role in Acme" in error["message"]
    assert "organizer" in error["message"]
    ok = client.get(
        "/api/v1/probe/admin-only", headers={"Authorization": f"Bearer {admin}"}
    )
    assert ok.get_json() == {"ok": True}


def test_authentication_comes_before_input_validation(client, probe):
    resp = client.post("/api/v1/probe/things", data="not json")
    assert_error(resp, 401)


def test_session_cookies_do_not_authenticate_the_api(client, auth, make_org, make_user):
    org = make_org()
    user = make_user(org, password=PASSWORD)
    assert auth.login(user.email).status_code == 302
    assert_error(client.get("/api/v1/"), 401)


def test_last_used_is_persisted_at_most_once_a_minute(
    client, make_org, make_user, token_for
):
    org = make_org()
    secret = token_for(make_user(org), org)
    headers = {"Authorization": f"Bearer {secret}"}
    start = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    clock.freeze(start)

    def last_used():
        db.session.expire_all()
        return db.session.scalar(select(ApiToken)).last_used_at

    assert last_used() is None
    assert _who(client, headers).status_code == 200  # a GET: nothing else commits
    assert last_used() == start

    clock.advance(timedelta(seconds=30))
    _who(client, headers)
    assert last_used() == start  # within the minute: no write

    clock.advance(timedelta(seconds=31))
    _who(client, headers)
    assert last_used() == start + timedelta(seconds=61)


def test_a_failed_request_still_records_use(client, make_org, make_user, token_for):
    org = make_org()
    secret = token_for(make_user(org), org)
    resp = client.get(
        "/api/v1/members/999999", headers={"Authorization": f"Bearer {secret}"}
    )
    assert_error(resp, 404)
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_every_api_operation_requires_a_token(app):
    """A guard for later features: no /api/v1 operation forgets token_required."""
    public = {"api-docs.openapi_json", "api_docs.docs"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in public:
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "api_role", None), f"{rule.rule} has no token_required"
        # token_required cannot check the role's name itself (accounts sits below
        # orgs, where roles are defined): every role asked for must be a real one.
        assert view.api_role in ROLES, f"{rule.rule} asks for {view.api_role!r}"
        checked += 1
    assert checked >= 7
