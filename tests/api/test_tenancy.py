"""Tenant isolation: a token of org A never sees org B's objects (404, not listed)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mixer.accounts.models import ApiToken
from mixer.extensions import db
from tests.api.conftest import assert_error


@pytest.fixture
def two_orgs(make_org, make_user, token_for, client):
    """Org A (an admin with a token) and org B (members, a department, a token)."""
    a = make_org(slug="alpha", name="Alpha")
    b = make_org(slug="beta", name="Beta")
    admin_a = make_user(a, role="admin", name="Alice Alpha", department="Sales")
    b_people = [
        make_user(b, role="admin", name="Bob Beta", department="Research"),
        make_user(b, name="Bea Beta", department="Research"),
    ]
    # someone in both orgs: visible in A only as A's membership
    both = make_user(a, name="Carol Common", email="carol@example.org")
    make_user(b, name="Carol Common", email="carol@example.org", role="organizer")
    secret_a = token_for(admin_a, a)
    token_for(b_people[0], b)
    return {
        "a": a,
        "b": b,
        "both": both,
        "headers": {"Authorization": f"Bearer {secret_a}"},
        "b_members": [p.membership_in(b) for p in b_people] + [both.membership_in(b)],
        "b_department": b_people[0].membership_in(b).department,
        "b_token": db.session.scalar(select(ApiToken).where(ApiToken.org_id == b.id)),
    }


def test_members_of_another_org_are_404(client, two_orgs):
    for membership in two_orgs["b_members"]:
        resp = client.get(
            f"/api/v1/members/{membership.id}", headers=two_orgs["headers"]
        )
        error = assert_error(resp, 404, "not_found")
        assert "Beta" not in error["message"]
        assert membership.user.email not in resp.get_data(as_text=True)


def test_lists_never_show_another_orgs_members(client, two_orgs):
    resp = client.get("/api/v1/members?per_page=100", headers=two_orgs["headers"])
    body = resp.get_json()
    assert sorted(m["name"] for m in body["items"]) == ["Alice Alpha", "Carol Common"]
    assert body["total"] == 2
    carol = next(m for m in body["items"] if m["name"] == "Carol Common")
    assert carol["id"] == two_orgs["both"].membership_in(two_orgs["a"]).id
    assert carol["role"] == "member"  # her role in A, not in B
    # searching for B's people finds nothing
    for q in ("Beta", "bob", "example.org"):
        found = client.get(f"/api/v1/members?q={q}", headers=two_orgs["headers"])
        assert all("Beta" not in m["name"] for m in found.get_json()["items"])


def test_departments_of_another_org(client, two_orgs):
    resp = client.get("/api/v1/departments", headers=two_orgs["headers"])
    assert [d["name"] for d in resp.get_json()["items"]] == ["Sales"]
    dept_b = two_orgs["b_department"].id
    error = assert_error(
        client.get(f"/api/v1/members?department={dept_b}", headers=two_orgs["headers"]),
        404,
        "not_found",
    )
    assert list(error["fields"]) == ["department"]
    # an id no database can hold is refused before any query
    error = assert_error(
        client.get(
            "/api/v1/members?department=2147483648", headers=two_orgs["headers"]
        ),
        400,
        "invalid_input",
    )
    assert list(error["fields"]) == ["department"]


def test_tokens_of_another_org_are_404_and_unlisted(client, two_orgs):
    token_b = two_orgs["b_token"]
    headers = two_orgs["headers"]
    listed = client.get("/api/v1/tokens", headers=headers).get_json()["items"]
    assert token_b.id not in [t["id"] for t in listed]
    assert_error(client.delete(f"/api/v1/tokens/{token_b.id}", headers=headers), 404)
    assert_error(
        client.patch(
            f"/api/v1/tokens/{token_b.id}", json={"name": "x"}, headers=headers
        ),
        404,
    )
    db.session.expire_all()
    assert db.session.get(ApiToken, token_b.id).revoked_at is None


def test_org_endpoint_is_the_tokens_org(client, two_orgs):
    body = client.get("/api/v1/org", headers=two_orgs["headers"]).get_json()
    assert body["slug"] == "alpha"


def test_same_person_token_in_b_sees_only_b(client, two_orgs, token_for):
    both, b = two_orgs["both"], two_orgs["b"]
    headers = {"Authorization": f"Bearer {token_for(both, b)}"}
    root = client.get("/api/v1/", headers=headers).get_json()
    assert root["organization"]["slug"] == "beta"
    assert root["user"]["role"] == "organizer"
    names = [
        m["name"]
        for m in client.get("/api/v1/members", headers=headers).get_json()["items"]
    ]
    assert "Alice Alpha" not in names
    own_in_a = both.membership_in(two_orgs["a"]).id
    assert_error(client.get(f"/api/v1/members/{own_in_a}", headers=headers), 404)
