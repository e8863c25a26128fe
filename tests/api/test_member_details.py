"""PATCH /members/{id}: manager, location and languages (admins), and one's own
mentoring capacity and "not before" date; the member endpoints show them."""

from __future__ import annotations

import pytest

from mixer.extensions import db
from mixer.orgs.models import Membership
from tests.api.conftest import assert_error


@pytest.fixture
def acme(make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    people = {
        "admin": make_user(org, role="admin", name="Ada Admin"),
        "organizer": make_user(org, role="organizer", name="Olu Organizer"),
        "bo": make_user(org, name="Bo"),
        "cy": make_user(org, name="Cy"),
    }
    return org, {k: u.membership_in(org) for k, u in people.items()}


def fresh(membership_id: int) -> Membership:
    db.session.expire_all()
    return db.session.get(Membership, membership_id)


def test_admin_sets_manager_location_languages(acme, api_as):
    org, m = acme
    api = api_as(m["admin"].user, org)
    resp = api.patch(
        f"/api/v1/members/{m['bo'].id}",
        json={
            "manager_id": m["cy"].id,
            "location": "  Leeds ",
            "languages": ["English", " urdu ", "english"],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["manager_id"] == m["cy"].id
    assert body["manager"] == {"id": m["cy"].id, "name": "Cy"}
    assert (body["location"], body["languages"]) == ("Leeds", ["english", "urdu"])
    assert body["mentoring_capacity"] == 3 and body["available_from"] is None
    listed = {
        item["id"]: item
        for item in api_as(m["bo"].user, org).get("/api/v1/members").get_json()["items"]
    }
    assert listed[m["bo"].id]["manager"] == {"id": m["cy"].id, "name": "Cy"}
    assert listed[m["cy"].id]["manager"] is None
    # null clears; fields not sent stay as they are.
    resp = api.patch(f"/api/v1/members/{m['bo'].id}", json={"manager_id": None})
    assert resp.get_json()["manager_id"] is None
    bo = fresh(m["bo"].id)
    assert (bo.manager_id, bo.location, bo.languages) == (
        None,
        "Leeds",
        ["english", "urdu"],
    )


def test_refusals_name_their_fields(acme, api_as, make_org, make_user):
    org, m = acme
    api = api_as(m["admin"].user, org)
    url = f"/api/v1/members/{m['bo'].id}"
    error = assert_error(api.patch(url, json={"manager_id": m["bo"].id}), 400)
    assert error["fields"] == {"manager_id": ["A member cannot be their own manager."]}
    other = make_org(slug="other")
    outsider = make_user(other).membership_in(other)
    error = assert_error(api.patch(url, json={"manager_id": outsider.id}), 400)
    assert error["fields"] == {
        "manager_id": [f"No member {outsider.id} in this organization."]
    }
    # A loop: Cy's manager is Bo, so Bo's cannot be Cy.
    assert (
        api.patch(
            f"/api/v1/members/{m['cy'].id}", json={"manager_id": m["bo"].id}
        ).status_code
        == 200
    )
    error = assert_error(api.patch(url, json={"manager_id": m["cy"].id}), 400)
    assert "circle" in error["fields"]["manager_id"][0]
    # Schema limits, several at once.
    error = assert_error(
        api.patch(
            url,
            json={
                "location": "x" * 81,
                "languages": [f"l{n}" for n in range(11)],
                "mentoring_capacity": 21,
                "available_from": "soon",
            },
        ),
        400,
    )
    assert set(error["fields"]) == {
        "location",
        "languages",
        "mentoring_capacity",
        "available_from",
    }
    error = assert_error(api.patch(url, json={"languages": ["x" * 41]}), 400)
    assert "languages.0" in error["fields"]
    error = assert_error(api.patch(url, json={"boss": 1}), 400)
    assert "boss" in error["fields"]
    assert fresh(m["bo"].id).manager_id is None
    assert_error(api.patch("/api/v1/members/999999", json={}), 404, "not_found")


def test_a_member_sets_only_their_own_mentoring(acme, api_as):
    org, m = acme
    bo_api = api_as(m["bo"].user, org)
    own = f"/api/v1/members/{m['bo'].id}"
    resp = bo_api.patch(
        own, json={"mentoring_capacity": 0, "available_from": "2027-03-01"}
    )
    assert resp.status_code == 200
    assert resp.get_json()["mentoring_capacity"] == 0
    assert resp.get_json()["available_from"] == "2027-03-01"
    bo = fresh(m["bo"].id)
    assert (bo.mentoring_capacity, str(bo.available_from)) == (0, "2027-03-01")
    resp = bo_api.patch(own, json={"available_from": None})
    assert resp.get_json()["available_from"] is None
    assert fresh(m["bo"].id).mentoring_capacity == 0  # not sent, not changed

    error = assert_error(bo_api.patch(own, json={"location": "Oslo"}), 403)
    assert error["fields"] == {"location": ["Only an admin may change location."]}
    error = assert_error(
        bo_api.patch(f"/api/v1/members/{m['cy'].id}", json={"mentoring_capacity": 5}),
        403,
    )
    assert "mentoring_capacity" in error["fields"]
    # An organizer is not an admin either.
    org_api = api_as(m["organizer"].user, org)
    assert_error(org_api.patch(own, json={"manager_id": m["cy"].id}), 403)
    assert fresh(m["cy"].id).mentoring_capacity == 3
    assert fresh(m["bo"].id).manager_id is None
    # Admins may set anyone's (an HR sync, say).
    admin_api = api_as(m["admin"].user, org)
    resp = admin_api.patch(
        f"/api/v1/members/{m['cy'].id}", json={"mentoring_capacity": 5}
    )
    assert resp.get_json()["mentoring_capacity"] == 5


def test_the_document_describes_the_patch(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    patch = spec["paths"]["/api/v1/members/{member_id}"]["patch"]
    ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["properties"]["languages"]["maxItems"] == 10
    assert body["properties"]["mentoring_capacity"]["maximum"] == 20
    assert body["properties"]["location"]["maxLength"] == 80
    member = spec["components"]["schemas"]["Member"]["properties"]
    assert {"manager_id", "manager", "location", "languages"} <= set(member)
    assert {"mentoring_capacity", "available_from"} <= set(member)
