"""Ids and numbers outside the databases' range are refused at the edge: a 404
for an id in a path, the first page for an odd ``?page=``, a 400 naming the field
in the API; never a database error (PostgreSQL refuses to compare an INTEGER
column with 2147483648)."""

from __future__ import annotations

import pytest

from mixer.urls import MAX_ID
from tests.helpers import PASSWORD, bearer, csrf_from

BEYOND = ["2147483648", "99999999999999999999", "0", "00", "007", "1" * 5000]


@pytest.fixture
def acme(org, organizer, make_event, make_registration):
    event = make_event(org, organizer, title="Range lunch")
    return event, make_registration(event, name="Rae Range")


@pytest.mark.parametrize("raw", BEYOND)
def test_path_ids_beyond_the_range_are_404_for_everyone(client, auth, acme, raw):
    event, reg = acme
    for path in (
        f"/events/{raw}",
        f"/events/{event.id}/badge/{raw}",
        f"/pairs/{raw}",
        f"/api/v1/events/{raw}",
    ):
        assert client.get(path).status_code == 404, path
    auth.login("person1@acme.example.org", PASSWORD)
    assert client.get(f"/events/{raw}").status_code == 404
    assert client.get(f"/events/{event.id}/attendees/{raw}/remove").status_code in (
        404,
        405,
    )
    assert client.post(f"/events/{event.id}/attendees/{raw}/remove").status_code == 404


def test_the_largest_id_is_a_route_and_the_converter_documents_its_range(
    client, acme, app
):
    assert client.get(f"/api/v1/events/{MAX_ID}").status_code == 401  # routed
    spec = client.get("/api/v1/openapi.json").get_json()
    path = spec["paths"]["/api/v1/events/{event_id}"]
    (param,) = path.get("parameters") or path["get"]["parameters"]
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    with app.test_request_context():
        from flask import url_for

        assert url_for("events.show", event_id=MAX_ID) == f"/events/{MAX_ID}"


@pytest.mark.parametrize("raw", ["-1", "0", "2147483648", "10000000000000", "x"])
def test_odd_page_numbers_show_the_first_page(client, auth, acme, raw, make_user, org):
    event, reg = acme
    auth.login(make_user(org, role="admin").email, PASSWORD)
    resp = client.get(f"/events/{event.id}/attendees?page={raw}")
    assert resp.status_code == 200
    assert "Rae Range" in resp.get_data(as_text=True)
    for path in ("/o/acme/members", "/o/acme/pairs", "/o/acme/testimonials"):
        assert client.get(f"{path}?page={raw}").status_code == 200, path
    assert client.get(f"/events/{event.id}/badges/progress?job={raw}").status_code in (
        404,
    )


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/members?department=2147483648", "department"),
        ("/api/v1/members?department=0", "department"),
        ("/api/v1/events?page=2147483648", "page"),
        ("/api/v1/members?per_page=101", "per_page"),
    ],
)
def test_api_query_numbers_out_of_range_are_400s_naming_them(
    client, org, organizer, token_for, url, field
):
    resp = client.get(url, headers=bearer(token_for(organizer, org)))
    assert resp.status_code == 400
    assert list(resp.get_json()["error"]["fields"]) == [field]


def test_api_body_ids_out_of_range_are_400s_naming_them(
    client, org, organizer, token_for, acme
):
    event, reg = acme
    headers = bearer(token_for(organizer, org))
    resp = client.post(
        "/api/v1/checkins",
        json={"token": reg.badge_token, "event_id": MAX_ID + 1},
        headers=headers,
    )
    assert resp.status_code == 400
    assert list(resp.get_json()["error"]["fields"]) == ["event_id"]
    assert reg.checked_in_at is None
    resp = client.post(
        f"/api/v1/events/{event.id}/materials",
        data={"session_id": str(MAX_ID + 1)},
        headers=headers,
    )
    assert resp.status_code == 400


def test_form_ids_beyond_the_range_are_the_fields_errors(client, auth, acme, organizer):
    """Ids picked without a fixed list of choices (a member to make a speaker, the
    organizers of an event) are checked before any query."""
    event, reg = acme
    auth.login(organizer.email, PASSWORD)
    page = client.get(f"/events/{event.id}/speakers").get_data(as_text=True)
    resp = client.post(
        f"/events/{event.id}/speakers/add",
        data={
            "csrf_token": csrf_from(page),
            "member": str(MAX_ID + 1),
            "session_id": str(event.sessions[0].id),
        },
    )
    assert resp.status_code == 422
    assert "Choose from the list." in resp.get_data(as_text=True)
