"""The foundation's endpoints: organization, departments, members, tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mixer.accounts.models import ApiToken
from mixer.extensions import db
from tests.api.conftest import assert_error


@pytest.fixture
def acme(make_org, make_user):
    org = make_org(slug="acme", name="Acme", kind="school", charter="# We mentor")
    people = {
        "admin": make_user(org, role="admin", name="Ada Admin", department="Office"),
        "organizer": make_user(org, role="organizer", name="Olu Organizer"),
        "speaker": make_user(org, role="speaker", name="Sam Speaker"),
        "member": make_user(
            org,
            name="Mia Member",
            email="mia@acme.example.org",
            department="Year 9",
            level=9,
            offers="algebra, chess",
            seeks=["Public speaking"],
        ),
    }
    return org, people


def test_org(client, acme, api_as):
    org, people = acme
    body = api_as(people["member"], org).get("/api/v1/org").get_json()
    assert body["name"] == "Acme"
    assert body["slug"] == "acme"
    assert body["kind"] == "school"
    assert body["charter"] == "# We mentor"
    assert body["created_at"].endswith("+00:00")


def test_departments_with_member_counts(acme, api_as, make_user):
    org, people = acme
    make_user(org, department="Year 9")
    body = api_as(people["member"], org).get("/api/v1/departments").get_json()
    assert [(d["name"], d["member_count"]) for d in body["items"]] == [
        ("Office", 1),
        ("Year 9", 2),
    ]
    assert body["total"] == 2


def test_member_detail(acme, api_as):
    org, people = acme
    mia = people["member"].membership_in(org)
    body = api_as(people["organizer"], org).get(f"/api/v1/members/{mia.id}").get_json()
    assert body == {
        "id": mia.id,
        "user_id": people["member"].id,
        "name": "Mia Member",
        "pronouns": None,
        "email": "mia@acme.example.org",
        "role": "member",
        "department": {"id": mia.department_id, "name": "Year 9"},
        "level": 9,
        "offers": ["algebra", "chess"],
        "seeks": ["public speaking"],
        "manager_id": None,
        "manager": None,
        "location": None,
        "languages": [],
        "mentoring_capacity": 3,
        "available_from": None,
        "joined_at": body["joined_at"],
    }


@pytest.mark.parametrize(
    "role, sees",
    [("admin", True), ("organizer", True), ("speaker", False), ("member", False)],
)
def test_emails_only_for_organizers_and_admins(acme, api_as, role, sees):
    org, people = acme
    client = api_as(people[role], org)
    items = client.get("/api/v1/members").get_json()["items"]
    emails = [m["email"] for m in items]
    if sees:
        assert "mia@acme.example.org" in emails and None not in emails
    else:
        assert emails == [None] * len(items)
    mia = people["member"].membership_in(org).id
    detail = client.get(f"/api/v1/members/{mia}").get_data(as_text=True)
    assert ("mia@acme.example.org" in detail) is sees


def test_search_by_name_and_by_email_for_organizers_only(acme, api_as):
    org, people = acme
    organizer = api_as(people["organizer"], org)
    member = api_as(people["member"], org)
    assert [
        m["name"] for m in member.get("/api/v1/members?q=MIA").get_json()["items"]
    ] == ["Mia Member"]
    by_email = "/api/v1/members?q=mia@acme"
    assert [m["name"] for m in organizer.get(by_email).get_json()["items"]] == [
        "Mia Member"
    ]
    # members cannot probe for addresses
    assert member.get(by_email).get_json()["items"] == []
    # LIKE wildcards are plain characters
    assert member.get("/api/v1/members?q=%25").get_json()["items"] == []
    assert member.get("/api/v1/members?q=_").get_json()["items"] == []


def test_filter_by_department_and_role(acme, api_as):
    org, people = acme
    client = api_as(people["member"], org)
    dept = people["member"].membership_in(org).department_id
    items = client.get(f"/api/v1/members?department={dept}").get_json()["items"]
    assert [m["name"] for m in items] == ["Mia Member"]
    items = client.get("/api/v1/members?role=speaker").get_json()["items"]
    assert [m["name"] for m in items] == ["Sam Speaker"]
    error = assert_error(client.get("/api/v1/members?role=boss"), 400)
    assert list(error["fields"]) == ["role"]
    error = assert_error(client.get("/api/v1/members?q=" + "x" * 101), 400)
    assert list(error["fields"]) == ["q"]


def test_tokens_list_own_without_secrets(acme, token_for, client):
    org, people = acme
    first = token_for(people["member"], org, name="laptop")
    second = token_for(people["member"], org, name="CI")
    token_for(people["admin"], org, name="someone else's")
    resp = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {second}"})
    text = resp.get_data(as_text=True)
    assert first not in text and second not in text
    assert "token_hash" not in text
    items = resp.get_json()["items"]
    assert [(t["name"], t["current"]) for t in items] == [
        ("CI", True),
        ("laptop", False),
    ]
    assert items[0]["prefix"] == second[:10]
    assert items[0]["revoked_at"] is None
    assert items[0]["last_used_at"] is not None


def test_revoke_own_token(acme, token_for, client):
    org, people = acme
    keep = token_for(people["member"], org, name="keep")
    drop = token_for(people["member"], org, name="drop")
    drop_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "drop"))
    headers = {"Authorization": f"Bearer {keep}"}

    resp = client.delete(f"/api/v1/tokens/{drop_id}", headers=headers)
    assert resp.status_code == 204 and resp.get_data() == b""
    assert_error(
        client.get("/api/v1/", headers={"Authorization": f"Bearer {drop}"}), 401
    )
    assert client.get("/api/v1/", headers=headers).status_code == 200
    # revoking again is harmless; the list shows when it happened
    assert (
        client.delete(f"/api/v1/tokens/{drop_id}", headers=headers).status_code == 204
    )
    listed = {
        t["name"]: t
        for t in client.get("/api/v1/tokens", headers=headers).get_json()["items"]
    }
    assert listed["drop"]["revoked_at"] is not None


def test_revoke_the_token_in_use(acme, token_for, client):
    org, people = acme
    secret = token_for(people["member"], org)
    token_id = db.session.scalar(select(ApiToken.id))
    headers = {"Authorization": f"Bearer {secret}"}
    assert (
        client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    )
    assert_error(client.get("/api/v1/", headers=headers), 401)


def test_cannot_touch_a_colleagues_token(acme, token_for, client):
    org, people = acme
    mine = token_for(people["member"], org)
    token_for(people["admin"], org, name="admin's")
    theirs = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "admin's"))
    headers = {"Authorization": f"Bearer {mine}"}
    assert_error(client.delete(f"/api/v1/tokens/{theirs}", headers=headers), 404)
    db.session.expire_all()
    assert db.session.get(ApiToken, theirs).revoked_at is None


def test_rename_token(acme, token_for, client):
    org, people = acme
    secret = token_for(people["member"], org, name="old")
    token_id = db.session.scalar(select(ApiToken.id))
    headers = {"Authorization": f"Bearer {secret}"}
    resp = client.patch(
        f"/api/v1/tokens/{token_id}", json={"name": "  CRM sync  "}, headers=headers
    )
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "CRM sync"
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).name == "CRM sync"
    for bad in ("", "   ", "x" * 81):
        resp = client.patch(
            f"/api/v1/tokens/{token_id}", json={"name": bad}, headers=headers
        )
        assert list(assert_error(resp, 400)["fields"]) == ["name"]
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).name == "CRM sync"
