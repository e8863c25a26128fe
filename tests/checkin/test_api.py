"""POST/DELETE /api/v1/checkins: answers, refusals (nothing written), replays."""

from __future__ import annotations

from sqlalchemy import func, select

from mixer.checkin.models import CheckinNonce
from mixer.events.models import Registration
from mixer.events.registration import cancel_registration
from mixer.extensions import db
from tests.checkin.conftest import count_checked_in
from tests.helpers import bearer


def post(client, secret, **body):
    return client.post("/api/v1/checkins", json=body, headers=bearer(secret))


def test_every_registration_gets_a_random_128_bit_badge_token(door, make_registration):
    regs = [make_registration(door.event) for _ in range(5)]
    tokens = {r.badge_token for r in regs}
    assert len(tokens) == 5
    assert all(len(t) == 22 for t in tokens)  # token_urlsafe(16): 128 bits


def test_check_in_by_token_then_by_url_is_already_checked_in(
    app, client, door, make_registration
):
    reg = make_registration(door.event, name="Ada Lovelace")
    first = post(client, door.token, token=reg.badge_token)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["status"] == "checked_in"
    assert body["registration_id"] == reg.id
    assert body["name"] == "Ada Lovelace"
    again = post(
        client,
        door.token,
        url=f"http://mixer.test/c/{reg.badge_token}",
        event_id=door.event.id,
    )
    assert again.status_code == 200
    assert again.get_json()["status"] == "already_checked_in"
    assert again.get_json()["checked_in_at"] == body["checked_in_at"]
    assert count_checked_in(door.event.id) == 1


def test_unknown_forged_and_other_org_badges_are_404_and_write_nothing(
    app, client, door, make_org, make_user, make_event, make_registration
):
    other_org = make_org(slug="globex")
    other_event = make_event(other_org, make_user(other_org, role="organizer"))
    stranger = make_registration(other_event)
    for body in (
        {"token": "A" * 22},  # well-formed, unknown
        {"url": "http://mixer.test/c/forged-token-1234567"},
        {"url": "http://mixer.test/events/1"},  # not a badge URL
        {"token": stranger.badge_token},  # another organization's badge
    ):
        response = post(client, door.token, **body)
        assert response.status_code == 404, body
        message = response.get_json()["error"]["message"]
        assert "badge" in message.lower()
        assert stranger.name not in message
    assert count_checked_in(other_event.id) == 0
    assert db.session.scalar(select(func.count(CheckinNonce.id))) == 0


def test_other_event_cancelled_and_waitlisted_are_409_with_messages(
    app, client, door, make_event, make_registration
):
    second = make_event(door.org, door.organizer, title="Another lunch", capacity=1)
    elsewhere = make_registration(second, name="Bea Other")
    waiting = make_registration(second, name="Wendy Wait")
    assert waiting.status == "waitlisted"
    gone = make_registration(door.event, name="Carl Cancel")
    cancel_registration(gone)
    db.session.commit()

    response = post(
        client, door.token, token=elsewhere.badge_token, event_id=door.event.id
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "This badge is for “Another lunch”: Bea Other is not registered for this event."
    )
    response = post(client, door.token, token=gone.badge_token)
    assert response.status_code == 409
    assert (
        "Carl Cancel's registration was cancelled"
        in (response.get_json()["error"]["message"])
    )
    response = post(client, door.token, token=waiting.badge_token)
    assert response.status_code == 409
    assert "waitlist (#1)" in response.get_json()["error"]["message"]
    assert count_checked_in(door.event.id) == 0
    assert count_checked_in(second.id) == 0


def test_members_cannot_check_in_and_tokens_are_needed(
    app, client, door, make_user, token_for, make_registration
):
    reg = make_registration(door.event)
    member = token_for(make_user(door.org), door.org)
    assert post(client, member, token=reg.badge_token).status_code == 403
    assert client.post("/api/v1/checkins", json={"token": "x"}).status_code == 401
    bad = post(client, door.token)
    assert bad.status_code == 400
    assert "token" in bad.get_json()["error"]["message"]
    assert count_checked_in(door.event.id) == 0


def test_undo_clears_the_check_in_and_other_orgs_are_404(
    app, client, door, make_org, make_user, token_for, make_registration
):
    reg = make_registration(door.event, name="Una Undo")
    post(client, door.token, token=reg.badge_token)
    other = make_org(slug="initech")
    outsider = token_for(make_user(other, role="organizer"), other)
    response = client.delete(f"/api/v1/checkins/{reg.id}", headers=bearer(outsider))
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == (
        f"No registration {reg.id} in this organization."
    )
    german = client.delete(
        f"/api/v1/checkins/{reg.id}",
        headers={**bearer(outsider), "Accept-Language": "de"},
    )
    assert german.get_json()["error"]["message"] == (
        f"Keine Anmeldung {reg.id} in dieser Organisation."
    )
    assert count_checked_in(door.event.id) == 1
    response = client.delete(f"/api/v1/checkins/{reg.id}", headers=bearer(door.token))
    assert response.get_json() == {
        "registration_id": reg.id,
        "name": "Una Undo",
        "undone": True,
    }
    assert count_checked_in(door.event.id) == 0
    again = client.delete(f"/api/v1/checkins/{reg.id}", headers=bearer(door.token))
    assert again.get_json()["undone"] is False


def test_a_replayed_nonce_never_checks_in_twice(app, client, door, make_registration):
    """An offline queue sends a scan, the organizer undoes it, the queue replays."""
    reg = make_registration(door.event)
    first = post(client, door.token, token=reg.badge_token, nonce="scan-0001-abcd")
    assert first.get_json()["status"] == "checked_in"
    client.delete(f"/api/v1/checkins/{reg.id}", headers=bearer(door.token))
    replay = post(client, door.token, token=reg.badge_token, nonce="scan-0001-abcd")
    assert replay.status_code == 200
    assert replay.get_json()["replayed"] is True
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).checked_in_at is None
    assert db.session.scalar(select(func.count(CheckinNonce.id))) == 1
    # A fresh scan (new nonce) does check in again.
    fresh = post(client, door.token, token=reg.badge_token, nonce="scan-0002-abcd")
    assert fresh.get_json()["status"] == "checked_in"
    assert count_checked_in(door.event.id) == 1
