"""The projector and its controls on the server: the room's state, pausing the
round's clock, and the state JSON only organizers may read (never cached)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.rotations import running, services
from mixer.rotations.models import RotationPlan
from mixer.rotations.services import RotationError, Settings
from tests.helpers import csrf_from


@pytest.fixture
def member(org, make_user):
    return make_user(org, name="Mia Member")


@pytest.fixture
def planned(frozen, mixer_event, room):
    regs = room(12, checked_in=12)
    plan = services.create_plan(mixer_event, Settings(rounds=2, minutes=7))
    db.session.commit()
    return plan, regs


def test_pausing_stops_the_clock_and_resuming_keeps_the_round_long(
    mixer_event, planned
):
    plan, regs = planned
    with pytest.raises(RotationError, match="Start round 1 first") as refused:
        running.pause_round(mixer_event)
    assert refused.value.status == 409
    assert running.room_state(plan)["state"] == "not_started"

    running.start_next_round(mixer_event)
    clock.advance(timedelta(minutes=2))
    running.pause_round(mixer_event)
    running.pause_round(mixer_event)  # twice: still the first pause
    db.session.commit()
    assert plan.paused_at == clock.now()
    clock.advance(timedelta(minutes=10))  # longer than the round: it is not over
    state = running.room_state(plan)
    assert state["state"] == "paused" and state["seconds_left"] == 5 * 60
    phone = running.current_view_for(regs[0])
    assert phone["paused"] is True and phone["seconds_left"] == 5 * 60

    running.resume_round(mixer_event)
    db.session.commit()
    assert plan.paused_at is None
    assert plan.round_ends_at == clock.now() + timedelta(minutes=5)
    clock.advance(timedelta(seconds=30))
    assert running.room_state(plan)["seconds_left"] == 4 * 60 + 30

    running.pause_round(mixer_event)
    running.start_next_round(mixer_event)  # a new round starts its clock afresh
    db.session.commit()
    state = running.room_state(plan)
    assert (state["round"], state["paused"], state["seconds_left"]) == (2, False, 420)
    assert state["label"] == "Round 2 of 2"

    clock.advance(timedelta(minutes=7))
    state = running.room_state(plan)
    assert state["state"] == "finished" and state["seconds_left"] == 0
    with pytest.raises(RotationError, match="Start the next round"):
        running.pause_round(mixer_event)


def test_state_json_follows_the_room_for_organizers_only(
    client, auth, organizer, member, mixer_event, planned, make_org, make_user
):
    url = f"/events/{mixer_event.id}/rotations/state.json"
    auth.login(organizer.email)
    resp = client.get(url)
    assert resp.headers["Cache-Control"] == "no-store"
    data = resp.json
    assert data["state"] == "not_started" and data["key"] == "0:on"
    assert data["seconds_left"] is None and data["label"] == "Round 1 starts soon"
    assert data["html"].count("data-table=") == 6
    assert "Person 00" in data["html"]
    # A re-plan before round 1 redraws the projector's tables (a new version).
    _, regs = planned
    services.mark_left(mixer_event, [regs[0].id, regs[1].id])
    services.replan_remaining(mixer_event)
    db.session.commit()
    replanned = client.get(url).json
    assert replanned["version"] != data["version"] and replanned["key"] == "0:on"
    assert replanned["html"].count("data-table=") == 5
    assert "Person 00" not in replanned["html"]

    control = client.get(f"/events/{mixer_event.id}/rotations").text
    client.post(
        f"/events/{mixer_event.id}/rotations/next",
        data={"csrf_token": csrf_from(control), "expected": "0"},
    )
    resp = client.post(
        f"/events/{mixer_event.id}/rotations/pause",
        data={"csrf_token": csrf_from(control)},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#run-h")
    data = client.get(url).json
    assert (data["key"], data["state"], data["paused"]) == ("1:on", "paused", True)
    assert data["seconds_left"] == 420 and "Tables · round 1" in data["html"]
    control = client.get(f"/events/{mixer_event.id}/rotations").text
    assert "paused</strong> with 7:00 left" in control
    assert "Resume the clock" in control
    client.post(
        f"/events/{mixer_event.id}/rotations/resume",
        data={"csrf_token": csrf_from(control)},
    )
    db.session.expire_all()
    assert db.session.scalar(select(RotationPlan.paused_at)) is None
    assert client.get(url).json["state"] == "running"
    auth.logout()

    assert client.get(url).status_code == 302  # signed out: to the sign-in page
    auth.login(member.email)
    resp = client.get(url)
    assert resp.status_code == 403 and "Person 00" not in resp.text
    resp = client.post(
        f"/events/{mixer_event.id}/rotations/pause",
        data={"csrf_token": csrf_from(client.get("/profile").text)},
    )
    assert resp.status_code == 403
    auth.logout()
    stranger = make_user(make_org(slug="other"), role="organizer")
    auth.login(stranger.email)
    assert client.get(url).status_code == 404


def test_state_json_before_any_plan_is_404(client, auth, organizer, mixer_event):
    auth.login(organizer.email)
    resp = client.get(f"/events/{mixer_event.id}/rotations/state.json")
    assert resp.status_code == 404


def test_projector_page_has_no_site_navigation_and_a_qr_of_my_table(
    app, client, auth, organizer, mixer_event, planned
):
    auth.login(organizer.email)
    html = client.get(f"/events/{mixer_event.id}/rotations/projector").text
    assert "<nav" not in html and "site-header" not in html and "<footer" not in html
    assert "<form" not in html  # the controls live on the plan page
    assert "<main" in html and 'lang="en"' in html
    base = app.config["BASE_URL"]
    assert f"{base}/events/{mixer_event.id}/rotations/me</span>" in html
    assert 'role="img" aria-labelledby="qr-caption"' in html
    assert "data-fullscreen hidden" in html  # shown by script where supported
