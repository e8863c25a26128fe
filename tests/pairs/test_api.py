"""GET /api/v1/pairs and /api/v1/pairs/<id>: the token's organization only."""

from __future__ import annotations

from datetime import UTC, datetime

from mixer import clock
from mixer.extensions import db
from mixer.pairs import answers
from mixer.pairs.lifecycle import create_pair
from tests.helpers import bearer


def test_pairs_api(world, client, token_for, make_org, make_user):
    pair = create_pair(
        world.org, world.mentor, world.mentee, kind="mentoring", mentor=world.mentor
    )
    carol = make_user(world.org, email="carol@acme.example.org", name="Carol Diaz")
    peers = create_pair(world.org, world.mentee, carol, kind="peer", topic="SQL")
    clock.freeze(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    answers.log_meeting(pair, world.mentor, "met", note="private words")
    other_org = make_org(slug="other")
    x, y = make_user(other_org), make_user(other_org)
    foreign = create_pair(other_org, x, y, kind="peer")
    db.session.commit()
    headers = bearer(token_for(world.organizer, world.org))

    response = client.get("/api/v1/pairs?per_page=1", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["pages"], len(body["items"])) == (2, 2, 1)
    assert 'rel="next"' in response.headers["Link"]
    everything = client.get("/api/v1/pairs", headers=headers).get_json()["items"]
    assert [p["id"] for p in everything] == [peers.id, pair.id]  # newest first
    listed = everything[1]
    assert listed == {
        "id": pair.id,
        "kind": "mentoring",
        "status": "active",
        "source": "event",
        "topic": None,
        "event_id": None,
        "renewed_from_id": None,
        "people": [
            {"id": world.mentor.id, "name": "Ada Lovelace", "role": "mentor"},
            {"id": world.mentee.id, "name": "Bo Chen", "role": "mentee"},
        ],
        "cadence_days": 14,
        "checkin_minutes": 5,
        "started_at": "2026-03-02T09:00:00+00:00",
        "term_ends_at": "2026-05-31T09:00:00+00:00",
        "ended_at": None,
        "next_checkin_at": "2026-03-18T12:30:00+00:00",
        "checkins_held": 1,
        "checkins_missed": 0,
        "url": f"http://mixer.test/pairs/{pair.id}",
    }
    assert everything[0]["people"][1]["role"] == "peer"

    detail = client.get(f"/api/v1/pairs/{pair.id}", headers=headers).get_json()
    assert detail["checkins"] == [
        {
            "number": 1,
            "due_at": "2026-03-04T12:30:00+00:00",
            "status": "met",
            "reported_at": "2026-03-04T13:00:00+00:00",
        },
        {
            "number": 2,
            "due_at": "2026-03-18T12:30:00+00:00",
            "status": "scheduled",
            "reported_at": None,
        },
    ]
    assert "private words" not in str(detail) and "@" not in str(detail["people"])

    # Another organization's pair does not exist for this token.
    response = client.get(f"/api/v1/pairs/{foreign.id}", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    # Members may not list the organization's pairs.
    member = bearer(token_for(world.mentee, world.org))
    assert client.get("/api/v1/pairs", headers=member).status_code == 403
    assert client.get("/api/v1/pairs").status_code == 401


def test_spec_documents_the_pairs_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/pairs", "/api/v1/pairs/{pair_id}"} <= set(spec["paths"])
    props = spec["components"]["schemas"]["PairDetail"]["properties"]
    assert {"people", "checkins", "checkins_held", "next_checkin_at"} <= set(props)
