"""The rotations API: shapes, refusals with suggestions, organizations kept apart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.rotations.models import RotationPlan
from tests.helpers import bearer


@pytest.fixture
def headers(organizer, org, token_for):
    return bearer(token_for(organizer, org))


@pytest.fixture
def mixer_event(org, make_event, make_registration):
    event = make_event(
        org, kind="mentor_mixer", rounds=6, minutes_per_round=7, capacity=40
    )
    for i in range(12):
        make_registration(
            event,
            role="mentor" if i % 2 == 0 else "mentee",
            department=("Finance", "Sales", "Legal")[i % 3],
            offers=["negotiation"] if i % 2 == 0 else [],
            seeks=["negotiation"] if i % 2 else [],
        )
    return event


def _url(event, tail: str = "") -> str:
    return f"/api/v1/events/{event.id}/rotations{tail}"


def test_post_plans_and_get_returns_it(client, headers, mixer_event):
    body = {"rounds": 4, "minutes": 6, "mode": "mentor_mentee", "group_size": 2}
    resp = client.post(_url(mixer_event), json=body | {"seed": 2}, headers=headers)
    assert resp.status_code == 201, resp.json
    data = resp.json
    assert [r["round"] for r in data["rounds"]] == [1, 2, 3, 4]
    first = data["rounds"][0]
    assert {"table", "members"} <= set(first["tables"][0])
    assert first["byes"] == []
    assert sum(len(t["members"]) for t in first["tables"]) == 12
    quality = data["quality"]
    assert quality["repeats"] == 0
    assert quality["cross_department_share"] >= 0.75
    assert quality["mean_interest_match"] > 0
    assert quality["max_byes"] == 0
    assert data["current_round"] == 0 and data["settings"]["minutes"] == 6

    got = client.get(_url(mixer_event), headers=headers)
    assert got.status_code == 200
    assert got.json["rounds"] == data["rounds"]


def test_defaults_come_from_the_event(client, headers, mixer_event):
    resp = client.post(_url(mixer_event), json={}, headers=headers)
    assert resp.status_code == 201, resp.json
    assert len(resp.json["rounds"]) == 6
    assert resp.json["settings"] == {
        "rounds": 6,
        "minutes": 7,
        "mode": "mentor_mentee",
        "group_size": 2,
        "seed": 0,
        "min_level_gap": None,
        "lookback_months": 12,
        "location_preference": "any",
    }


@pytest.mark.parametrize(
    ("body", "field", "words", "status"),
    [
        ({"rounds": 0}, "rounds", "greater than or equal to 1", 400),
        ({"rounds": 51}, "rounds", "less than or equal to 50", 400),
        ({"rounds": 9}, "rounds", "most is 6", 409),
        ({"rounds": 3, "group_size": 5}, "group_size", "2", 400),
        ({"rounds": 3, "mode": "speed"}, "mode", "mentor_mentee", 400),
        ({"rounds": 3, "seed": 2**31}, "seed", "2147483647", 400),
    ],
)
def test_bad_input_is_a_400_and_a_room_too_small_a_409_saying_what_would_work(
    client, headers, mixer_event, body, field, words, status
):
    """Settings out of the document's bounds are 400s; settings this room cannot
    meet are 409s (the state of things refuses)."""
    resp = client.post(_url(mixer_event), json=body, headers=headers)
    assert resp.status_code == status, resp.json
    error = resp.json["error"]
    assert error["code"] == ("invalid_input" if status == 400 else "conflict")
    assert field in error["fields"]
    assert words in error["message"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 0


def test_not_a_mixer_and_an_empty_room_are_409s(
    client, headers, org, make_event, make_registration
):
    lunch = make_event(org)
    resp = client.post(_url(lunch), json={"rounds": 3}, headers=headers)
    assert resp.status_code == 409
    assert "not a Mentor Mixer" in resp.json["error"]["message"]
    assert "Plan rotations for a Mentor Mixer" in resp.json["error"]["message"]
    empty = make_event(org, kind="mentor_mixer", rounds=3, minutes_per_round=5)
    resp = client.post(_url(empty), json={}, headers=headers)
    assert resp.status_code == 409
    assert resp.json["error"]["fields"] == {
        "attendees": [resp.json["error"]["message"]]
    }
    assert "at least two" in resp.json["error"]["message"]


def test_replan_keeps_the_held_rounds(client, headers, mixer_event):
    from mixer.rotations import running

    client.post(_url(mixer_event), json={"rounds": 4}, headers=headers)
    running.start_next_round(mixer_event)
    db.session.commit()
    before = client.get(_url(mixer_event), headers=headers).json
    # Two people arrive; the rest are not checked in, so only they are "present"
    # — too few for the plan: the refusal says so.
    regs = sorted({m for t in before["rounds"][0]["tables"] for m in t["members"]})
    from mixer.events.models import Registration

    for reg_id in regs[:8]:
        db.session.get(Registration, reg_id).checked_in_at = clock.now()
    db.session.commit()
    resp = client.post(_url(mixer_event, "/replan"), headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["rounds"][0] == before["rounds"][0]
    assert resp.json["current_round"] == 1
    for later in resp.json["rounds"][1:]:
        seated = {m for t in later["tables"] for m in t["members"]}
        assert seated | set(later["byes"]) == set(regs[:8])


def test_other_organizations_get_404_and_members_403(
    client, mixer_event, make_org, make_user, token_for, org
):
    other = make_org(slug="other", name="Other")
    outsider = make_user(other, role="organizer")
    outside = bearer(token_for(outsider, other))
    assert client.post(_url(mixer_event), json={}, headers=outside).status_code == 404
    assert client.get(_url(mixer_event), headers=outside).status_code == 404
    resp = client.post(_url(mixer_event, "/replan"), headers=outside)
    assert resp.status_code == 404
    member = make_user(org)
    resp = client.post(
        _url(mixer_event), json={}, headers=bearer(token_for(member, org))
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 0


def test_get_before_planning_is_a_404_that_says_how(client, headers, mixer_event):
    resp = client.get(_url(mixer_event), headers=headers)
    assert resp.status_code == 404
    assert "POST" in resp.json["error"]["message"]
