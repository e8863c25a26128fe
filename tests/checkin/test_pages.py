"""/c/<token> for its three audiences, the scan page's JSON, the live count."""

from __future__ import annotations

from sqlalchemy import select

from mixer.connections.models import Connection, ConnectionNote
from mixer.events.models import Registration
from mixer.events.registration import register
from mixer.extensions import db
from tests.checkin.conftest import count_checked_in
from tests.helpers import csrf_from


def _member_registration(door, make_user, **kw):
    user = make_user(door.org, **kw)
    reg = register(
        door.event,
        email=user.email,
        name=user.name,
        source="member",
        user=user,
        department="Data Science",
        offers=["Python", "Negotiation"],
    )
    db.session.commit()
    return user, reg


def test_anyone_else_learns_nothing_about_the_person(
    app, client, auth, door, make_org, make_user, make_registration
):
    reg = make_registration(
        door.event,
        name="Secret Person",
        email="secret@example.org",
        department="Hidden Dept",
    )
    for who in (None, "outsider", "member"):
        if who == "outsider":
            other = make_org(slug="umbrella")
            auth.login(make_user(other, email="o@umbrella.example.org").email)
        elif who == "member":  # same organization, not at this event
            auth.logout()
            auth.login(make_user(door.org, email="m@acme.example.org").email)
        page = client.get(f"/c/{reg.badge_token}").get_data(as_text=True)
        assert "This is a Mixer badge" in page
        for secret in ("Secret Person", "secret@example.org", "Hidden Dept"):
            assert secret not in page
        if who is None:
            assert f"/login?next=/c/{reg.badge_token}" in page
    # A forged token looks exactly the same.
    assert "This is a Mixer badge" in client.get("/c/forged").get_data(as_text=True)
    assert db.session.scalar(select(Connection)) is None


def test_the_organizer_checks_in_with_one_tap_and_can_undo(
    app, client, auth, door, make_registration
):
    reg = make_registration(door.event, name="Tap Person")
    auth.login(door.organizer.email)
    page = client.get(f"/c/{reg.badge_token}").get_data(as_text=True)
    assert "Check in Tap Person" in page
    done = client.post(
        f"/c/{reg.badge_token}/check-in",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Checked in: Tap Person" in done
    assert "Already checked in at" in done
    assert count_checked_in(door.event.id) == 1
    client.post(f"/c/{reg.badge_token}/undo", data={"csrf_token": csrf_from(done)})
    assert count_checked_in(door.event.id) == 0


def test_an_attendee_scanning_records_a_connection_and_sees_the_public_card(
    app, client, auth, door, make_user
):
    me, mine = _member_registration(door, make_user, email="me@acme.example.org")
    them, theirs = _member_registration(
        door,
        make_user,
        email="them@acme.example.org",
        name="Tomás Them",
    )
    them.pronouns = "he/him"
    db.session.commit()
    auth.login(me.email)
    page = client.get(f"/c/{theirs.badge_token}").get_data(as_text=True)
    assert "Tomás Them" in page and "he/him" in page
    assert "Data Science" in page and "negotiation" in page
    assert "them@acme.example.org" not in page
    assert "you met Tomás Them" in page
    conn = db.session.scalar(select(Connection))
    assert (conn.a_id, conn.b_id, conn.source) == (
        min(mine.id, theirs.id),
        max(mine.id, theirs.id),
        "scan",
    )
    client.get(f"/c/{theirs.badge_token}")  # scanning again records nothing new
    saved = client.post(
        f"/c/{theirs.badge_token}/note",
        data={"csrf_token": csrf_from(page), "body": "Talked about Rust at work"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Talked about Rust at work" in saved
    db.session.expire_all()
    assert len(db.session.scalars(select(Connection)).all()) == 1
    note = db.session.scalar(select(ConnectionNote))
    assert (note.author_id, note.body) == (mine.id, "Talked about Rust at work")
    too_long = client.post(
        f"/c/{theirs.badge_token}/note",
        data={"csrf_token": csrf_from(page), "body": "x" * 2001},
    )
    assert too_long.status_code == 400
    assert "under 2,000 characters" in too_long.get_data(as_text=True)
    assert db.session.scalar(select(ConnectionNote)).body == "Talked about Rust at work"


def test_scan_page_json_checks_in_refuses_undoes_and_searches(
    app, client, auth, door, make_event, make_registration
):
    reg = make_registration(door.event, name="Scan Me", department="Ops")
    other = make_registration(make_event(door.org, title="Elsewhere"), name="Nope")
    auth.login(door.organizer.email)
    page = client.get(f"/events/{door.event.id}/scan").get_data(as_text=True)
    assert "js/qr-decoder.js" in page and "js/scan.js" in page
    headers = {"X-CSRFToken": csrf_from(page)}
    url = f"/events/{door.event.id}/scan/checkins"
    ok = client.post(
        url,
        json={"url": f"http://mixer.test/c/{reg.badge_token}", "nonce": "n-000001"},
        headers=headers,
    )
    assert ok.get_json()["status"] == "checked_in"
    assert ok.get_json()["checked_in"] == 1
    bad = client.post(
        url, json={"url": f"http://mixer.test/c/{other.badge_token}"}, headers=headers
    )
    assert bad.status_code == 409
    assert bad.get_json()["error"]["message"].startswith(
        "This badge is for “Elsewhere”"
    )
    # No CSRF header: refused.
    assert client.post(url, json={"registration_id": reg.id}).status_code == 400
    found = client.get(f"/events/{door.event.id}/scan/search?q=scan").get_json()
    assert [r["name"] for r in found["results"]] == ["Scan Me"]
    assert found["results"][0]["checked_in_at"]
    # The scan page's endpoints answer JSON even to a request that does not ask
    # for it (no JSON body, no Accept header).
    unknown = client.delete(f"{url}/99999", headers=headers)
    assert unknown.status_code == 404 and unknown.is_json
    assert unknown.get_json()["error"]["code"] == "not_found"
    undo = client.delete(f"{url}/{reg.id}", headers=headers)
    assert undo.get_json()["undone"] is True
    manual = client.post(url, json={"registration_id": reg.id}, headers=headers)
    assert manual.get_json()["status"] == "checked_in"
    count = client.get(f"/events/{door.event.id}/checkins/count").get_json()
    assert count == {"checked_in": 1, "registered": 1}
    dashboard = client.get(f"/events/{door.event.id}/dashboard").get_data(as_text=True)
    assert f"/events/{door.event.id}/checkins/count" in dashboard
    assert "js/checkin-live.js" in dashboard


def test_scan_tools_are_for_organizers_only(app, client, auth, door, make_user):
    auth.login(make_user(door.org).email)
    assert client.get(f"/events/{door.event.id}/scan").status_code == 403
    assert client.get(f"/events/{door.event.id}/checkins/count").status_code == 403
    assert client.get(f"/events/{door.event.id}/badges.pdf").status_code == 403
    db.session.expire_all()
    assert db.session.scalars(select(Registration)).all() == []
