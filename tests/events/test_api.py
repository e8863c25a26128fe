"""The events API: create, list, change, register, cancel; bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.events import lifecycle
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.jobs.services import run_due

from .conftest import NOW, bearer


@pytest.fixture
def headers(organizer, org, token_for):
    return bearer(token_for(organizer, org))


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


NEW = {
    "kind": "lunch_and_learn",
    "title": "Negotiation over lunch",
    "starts_at": "2026-03-05T12:00:00+01:00",
    "ends_at": "2026-03-05T13:00:00+01:00",
    "timezone": "Europe/Paris",
    "capacity": 10,
}


def test_create_get_list_and_patch(client, headers, frozen, outbox):
    resp = client.post(
        "/api/v1/events",
        json={**NEW, "venue": "Room 4.12", "status": "published", "topic": "Raises"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["id"] > 0
    assert body["status"] == "published"
    assert body["starts_at"] == "2026-03-05T11:00:00+00:00"
    assert body["local_starts_at"] == "2026-03-05T12:00:00+01:00"
    assert body["venue"] == "Room 4.12"
    assert (body["registered"], body["waitlisted"]) == (0, 0)
    assert [s["title"] for s in body["sessions"]] == ["Raises"]
    assert body["url"] == f"http://mixer.test/events/{body['id']}"

    got = client.get(f"/api/v1/events/{body['id']}", headers=headers).get_json()
    assert got["title"] == NEW["title"]
    listed = client.get("/api/v1/events?when=upcoming", headers=headers).get_json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert listed["total"] == 1

    resp = client.patch(
        f"/api/v1/events/{body['id']}",
        json={"capacity": 25, "venue": "Room 1.01"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["capacity"] == 25
    assert resp.get_json()["sequence"] == 1  # the place changed


def test_register_returns_status_position_and_badge_url(
    client, headers, make_event, org, outbox
):
    event = make_event(org, capacity=1)
    url = f"/api/v1/events/{event.id}/registrations"
    first = client.post(
        url,
        json={
            "name": "Ana Lima",
            "email": "ana@example.org",
            "department": "Finance",
            "role": "mentor",
            "offers": ["Negotiation", "python"],
            "seeks": ["public speaking"],
            "dietary": "vegan",
        },
        headers=headers,
    )
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["status"] == "registered"
    assert body["waitlist_position"] is None
    assert body["badge_url"].startswith(
        f"http://mixer.test/events/{event.id}/badge/{body['id']}?key="
    )
    assert body["offers"] == ["negotiation", "python"]
    second = client.post(
        url, json={"name": "Bo", "email": "bo@example.org"}, headers=headers
    ).get_json()
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    # No e-mail confirmation step for an organizer's token: the mail is the receipt.
    assert outbox("ana@example.org")[0]["Subject"].startswith("You're registered")

    listed = client.get(url, headers=headers).get_json()
    assert [(r["email"], r["status"]) for r in listed["items"]] == [
        ("ana@example.org", "registered"),
        ("bo@example.org", "waitlisted"),
    ]

    resp = client.delete(f"/api/v1/registrations/{body['id']}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    cancelled = resp.get_json()
    assert cancelled["status"] == "cancelled"
    assert [p["email"] for p in cancelled["promoted"]] == ["bo@example.org"]
    assert outbox("bo@example.org")[-1]["Subject"].startswith("A seat opened up")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2026-03-05T11:00:00+01:00"}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"kind": "rave"}, "kind"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"title": "x" * 10_000}, "title"),
        ({"starts_at": "2026-03-05T12:00:00"}, "starts_at"),  # no offset
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_event_input_is_400_naming_the_field(client, headers, change, field):
    resp = client.post("/api/v1/events", json={**NEW, **change}, headers=headers)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert field in error["fields"], error
    assert field in error["message"]
    assert _count(Event) == 0


def test_bad_registrations_are_refused_and_nothing_written(
    client, headers, make_event, org, frozen
):
    event = make_event(org)
    url = f"/api/v1/events/{event.id}/registrations"
    resp = client.post(
        url, json={"name": "Ana", "email": "ana@@example"}, headers=headers
    )
    assert resp.status_code == 400
    assert "email" in resp.get_json()["error"]["fields"]
    resp = client.post(
        url,
        json={"name": "Ana", "email": "ana@example.org", "role": "boss"},
        headers=headers,
    )
    assert resp.status_code == 400 and "role" in resp.get_json()["error"]["fields"]

    ok = client.post(
        url, json={"name": "Ana", "email": "ana@example.org"}, headers=headers
    )
    assert ok.status_code == 201
    twice = client.post(
        url, json={"name": "Ana", "email": "ANA@example.org"}, headers=headers
    )
    assert twice.status_code == 409
    assert "already registered" in twice.get_json()["error"]["fields"]["email"][0]

    cancelled = make_event(org)
    lifecycle.cancel_event(cancelled)
    db.session.commit()
    past = make_event(
        org,
        starts_at=NOW - timedelta(days=3),
        ends_at=NOW - timedelta(days=3, hours=-1),
    )
    for closed, words in [(cancelled, "cancelled"), (past, "over")]:
        resp = client.post(
            f"/api/v1/events/{closed.id}/registrations",
            json={"name": "Bo", "email": "bo@example.org"},
            headers=headers,
        )
        assert resp.status_code == 409
        error = resp.get_json()["error"]
        assert words in error["fields"]["event"][0]
        assert error["code"] == "conflict"
    assert _count(Registration) == 1


def test_patch_publishes_cancels_and_refuses_bad_changes(
    client, headers, make_event, org, make_registration, outbox, frozen
):
    event = make_event(org, status="draft", starts_at=NOW + timedelta(days=5))
    url = f"/api/v1/events/{event.id}"
    resp = client.patch(url, json={"status": "published"}, headers=headers)
    assert resp.get_json()["status"] == "published"
    resp = client.patch(
        url, json={"ends_at": "2020-01-01T00:00:00+00:00"}, headers=headers
    )
    assert resp.status_code == 400
    assert "ends_at" in resp.get_json()["error"]["fields"]
    resp = client.patch(url, json={"kind": "workshop"}, headers=headers)
    assert resp.status_code == 400 and "kind" in resp.get_json()["error"]["fields"]

    db.session.expire_all()
    make_registration(event, email="ana@example.org")
    resp = client.patch(
        url, json={"status": "cancelled", "cancel_reason": "Snow"}, headers=headers
    )
    assert resp.get_json()["status"] == "cancelled"
    run_due()
    assert outbox("ana@example.org")[-1]["Subject"].startswith("Cancelled")
    resp = client.patch(url, json={"status": "published"}, headers=headers)
    assert resp.status_code == 409
    assert "status" in resp.get_json()["error"]["fields"]


def test_members_read_but_do_not_write_and_see_no_drafts(
    client, org, make_user, token_for, make_event
):
    member = make_user(org, password=None)
    headers = bearer(token_for(member, org))
    published = make_event(org)
    draft = make_event(org, status="draft")
    listed = client.get("/api/v1/events", headers=headers).get_json()
    assert [e["id"] for e in listed["items"]] == [published.id]
    assert client.get(f"/api/v1/events/{draft.id}", headers=headers).status_code == 404
    resp = client.post("/api/v1/events", json=NEW, headers=headers)
    assert resp.status_code == 403
    resp = client.post(
        f"/api/v1/events/{published.id}/registrations",
        json={"name": "Ana", "email": "ana@example.org"},
        headers=headers,
    )
    assert resp.status_code == 403


def test_another_organizations_events_do_not_exist(
    client, headers, make_org, make_user, make_event, make_registration
):
    other = make_org(slug="other")
    event = make_event(other)
    reg = make_registration(event)
    assert client.get(f"/api/v1/events/{event.id}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/events/{event.id}", json={"capacity": 3}, headers=headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/events/{event.id}/registrations",
            json={"name": "X", "email": "x@example.org"},
            headers=headers,
        ).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/registrations/{reg.id}", headers=headers).status_code
        == 404
    )
    listed = client.get("/api/v1/events", headers=headers).get_json()
    assert listed["items"] == []
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == "registered"


def test_workshop_agenda_through_the_api(client, headers):
    resp = client.post(
        "/api/v1/events",
        json={
            **NEW,
            "kind": "workshop",
            "ends_at": "2026-03-05T17:00:00+01:00",
            "agenda": [
                {"starts_at": "2026-03-05T14:00:00+01:00", "title": "Role play"},
                {
                    "starts_at": "2026-03-05T12:00:00+01:00",
                    "title": "Welcome",
                    "speaker": "Dee",
                },
            ],
            "exercises": "Practise saying no.",
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    sessions = resp.get_json()["sessions"]
    assert [(s["title"], s["speaker"]) for s in sessions] == [
        ("Welcome", "Dee"),
        ("Role play", None),
    ]
    assert sessions[0]["starts_at"] == datetime(2026, 3, 5, 11, tzinfo=UTC).isoformat()


def test_openapi_documents_the_events_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/events/{event_id}/registrations",
        "/api/v1/registrations/{registration_id}",
    ):
        assert path in spec["paths"], sorted(spec["paths"])


def test_registration_after_start_is_open_to_organizers_until_the_end(
    client, headers, make_event, org, frozen
):
    event = make_event(org, starts_at=NOW + timedelta(minutes=30))
    clock.advance(timedelta(hours=1))  # started, not ended
    resp = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "Walk In", "email": "walkin@example.org"},
        headers=headers,
    )
    assert resp.status_code == 201
