"""Door volunteers: door helpers and door links scan one event and nothing else;
search of every status, give a seat, walk-ins and the offline roster."""

from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.checkin import door as door_rules
from mixer.checkin import services
from mixer.checkin.models import CheckinRecord, DoorHelper, DoorLink
from mixer.errors import DomainError
from mixer.events.models import Registration, RegistrationStatus
from mixer.extensions import db
from tests.helpers import csrf_from


def _headers(client, event_id: int) -> dict[str, str]:
    """Open the scan page; the CSRF header its scripts send."""
    page = client.get(f"/events/{event_id}/scan")
    assert page.status_code == 200, page.status_code
    token = re.search(r'data-csrf="([^"]+)"', page.get_data(as_text=True))
    return {"X-CSRFToken": token.group(1)}


def _record(reg_id: int) -> CheckinRecord | None:
    db.session.expire_all()
    return db.session.get(CheckinRecord, reg_id)


def _dashboard_form(client, event_id: int) -> str:
    page = client.get(f"/events/{event_id}/dashboard").get_data(as_text=True)
    return csrf_from(page)


@pytest.fixture
def helper(door, make_user, client, auth):
    """A member the organizer made a door helper through the dashboard's form."""
    user = make_user(door.org, name="Ada Helper", email="ada@acme.example.org")
    auth.login(door.organizer.email)
    page = client.get(f"/events/{door.event.id}/dashboard").get_data(as_text=True)
    assert 'id="door-h"' in page and "Ada Helper" in page
    done = client.post(
        f"/events/{door.event.id}/door/helpers",
        data={"csrf_token": csrf_from(page), "user_id": user.id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Ada Helper can now scan badges" in done
    auth.logout()
    return user


def _make_link(client, auth, door, label: str = "Front desk") -> tuple[DoorLink, str]:
    """The organizer makes a door link on the dashboard; (link, its URL path)."""
    auth.login(door.organizer.email)
    client.post(
        f"/events/{door.event.id}/door/links",
        data={"csrf_token": _dashboard_form(client, door.event.id), "label": label},
    )
    page = client.get(f"/events/{door.event.id}/dashboard").get_data(as_text=True)
    auth.logout()
    link = db.session.scalar(select(DoorLink).where(DoorLink.label == label))
    assert link is not None
    path = re.search(r'value="https?://[^/"]+(/door/[^"]+)"', page).group(1)
    assert f'alt="QR code of the door link “{label}”"' in page
    assert "data:image/svg+xml;base64," in page
    return link, path


def test_a_door_helper_scans_undoes_own_searches_and_adds_walk_ins_only(
    app, client, auth, door, helper, make_registration
):
    event = door.event
    mine = make_registration(event, name="Mina Mine", email="mina@example.org")
    theirs = make_registration(event, name="Theo Theirs", email="theo@example.org")
    services.check_in(theirs, by_user_id=door.organizer.id)
    db.session.commit()
    auth.login(helper.email)
    headers = _headers(client, event.id)
    url = f"/events/{event.id}/scan/checkins"
    ok = client.post(url, json={"registration_id": mine.id}, headers=headers)
    assert ok.status_code == 200
    assert ok.get_json()["status"] == "checked_in"
    assert ok.get_json()["registration_status"] == "registered"
    assert _record(mine.id).user_id == helper.id
    # Someone else's check-in stays; their own is undone.
    refused = client.delete(f"{url}/{theirs.id}", headers=headers)
    assert refused.status_code == 403
    assert "only the check-ins you made" in refused.get_json()["error"]["message"]
    assert db.session.get(Registration, theirs.id).checked_in_at is not None
    assert door_rules.undoable([mine, theirs], helper.id, None) == {mine.id}
    # The scan page's recent list: Undo on their own row only, the other signed.
    page = client.get(f"/events/{event.id}/scan").get_data(as_text=True)
    rows = dict(re.findall(r'<li data-registration-id="(\d+)"(.*?)</li>', page, re.S))
    assert "data-undo" in rows[str(mine.id)] and "recent-by" not in rows[str(mine.id)]
    assert "data-undo" not in rows[str(theirs.id)]
    assert f"by {door.organizer.name}" in rows[str(theirs.id)]
    undone = client.delete(f"{url}/{mine.id}", headers=headers)
    assert undone.get_json()["undone"] is True
    assert _record(mine.id) is None
    # Search: every status, no e-mail address.
    full = make_registration(event, name="Wanda Waitlist", email="wanda@example.org")
    full.update_state(RegistrationStatus.WAITLISTED, clock.now(), position=1)
    db.session.commit()
    found = client.get(f"/events/{event.id}/scan/search?q=example").get_json()
    assert found["results"] == []  # e-mail addresses are not searched either
    found = client.get(f"/events/{event.id}/scan/search?q=wa").get_json()
    assert found["can_give_seat"] is False
    assert found["results"] == [
        {
            "registration_id": full.id,
            "name": "Wanda Waitlist",
            "department": "",
            "status": "waitlisted",
            "status_label": "Waitlisted",
            "checked_in_at": None,
            "can_check_in": False,
            "can_give_seat": False,
        }
    ]
    everyone = client.get(f"/events/{event.id}/scan/search?q=  he ").get_data(
        as_text=True
    )
    assert "Theo Theirs" in everyone and "@" not in everyone
    # No seats from a door helper.
    seat = client.post(
        f"/events/{event.id}/scan/registrations/{full.id}/seat",
        json={"over_capacity": True},
        headers=headers,
    )
    assert seat.status_code == 403
    assert db.session.get(Registration, full.id).status == "waitlisted"
    # A walk-in, registered and checked in at once, with a badge link.
    walk = client.post(
        f"/events/{event.id}/scan/walk-ins",
        json={"name": "Walt Walkin", "department": "Ops", "nonce": "walk-0001"},
        headers=headers,
    )
    assert walk.status_code == 201
    body = walk.get_json()
    assert body["status"] == "checked_in" and body["name"] == "Walt Walkin"
    reg = db.session.get(Registration, body["registration_id"])
    badge = body["badge_url"].removeprefix("http://mixer.test")
    assert badge.startswith(f"/events/{event.id}/badge/{reg.id}?key=")
    pdf = app.test_client().get(badge)  # the walk-in's own link, no account
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert (reg.status, reg.source, reg.department) == (
        "registered",
        "organizer",
        "Ops",
    )
    assert reg.has_email is False and _record(reg.id).user_id == helper.id
    # The same walk-in sent again (a retry) registers nobody new.
    again = client.post(
        f"/events/{event.id}/scan/walk-ins",
        json={"name": "Walt Walkin", "nonce": "walk-0001"},
        headers=headers,
    )
    assert again.get_json()["registration_id"] == reg.id
    assert again.get_json()["replayed"] is True
    # Nothing of management.
    for path in (
        f"/events/{event.id}/dashboard",
        f"/events/{event.id}/attendees",
        f"/events/{event.id}/attendees.csv",
        f"/events/{event.id}/badges.pdf",
        f"/events/{event.id}/edit",
    ):
        assert client.get(path).status_code == 403, path


def test_a_door_link_opens_the_scan_page_without_an_account_until_revoked(
    app, client, auth, door, make_event, make_registration
):
    reg = make_registration(door.event, name="Lin Link")
    other = make_event(door.org, title="Other lunch")
    link, path = _make_link(client, auth, door)
    phone = app.test_client()
    opened = phone.get(path)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/events/{door.event.id}/scan")
    headers = _headers(phone, door.event.id)
    done = phone.post(
        f"/events/{door.event.id}/scan/checkins",
        json={"url": f"http://mixer.test/c/{reg.badge_token}", "nonce": "door-0001"},
        headers=headers,
    )
    assert done.get_json()["status"] == "checked_in"
    record = _record(reg.id)
    assert (record.user_id, record.door_link_id) == (None, link.id)
    roster = phone.get(f"/events/{door.event.id}/scan/roster")
    assert roster.status_code == 200 and "Lin Link" in roster.get_data(as_text=True)
    # The organizer's dashboard says who checked Lin in.
    auth.login(door.organizer.email)
    page = client.get(f"/events/{door.event.id}/dashboard").get_data(as_text=True)
    assert "Lin Link" in page and "by door link “Front desk”" in page
    auth.logout()
    # Another event, management pages, exports: refused.
    assert phone.get(f"/events/{other.id}/scan").status_code == 403
    assert phone.get(f"/events/{other.id}/scan/roster").status_code == 403
    for page_path in ("dashboard", "attendees.csv", "badges.pdf", "edit"):
        answer = phone.get(f"/events/{door.event.id}/{page_path}")
        assert answer.status_code == 302, page_path
        assert "/login" in answer.headers["Location"]
    # Revoked: the phone is refused at once, and the link no longer opens.
    auth.login(door.organizer.email)
    client.post(
        f"/events/{door.event.id}/door/links/{link.id}/revoke",
        data={"csrf_token": _dashboard_form(client, door.event.id)},
    )
    assert phone.get(f"/events/{door.event.id}/scan").status_code == 403
    again = phone.post(
        f"/events/{door.event.id}/scan/checkins",
        json={"registration_id": reg.id},
        headers=headers,
    )
    assert again.status_code == 403
    gone = app.test_client().get(path)
    assert gone.status_code == 410
    assert "revoked" in gone.get_data(as_text=True)


def test_a_reissued_door_link_replaces_the_old_one(app, client, auth, door):
    link, path = _make_link(client, auth, door, "Side door")
    auth.login(door.organizer.email)
    client.post(
        f"/events/{door.event.id}/door/links/{link.id}/reissue",
        data={"csrf_token": _dashboard_form(client, door.event.id)},
    )
    db.session.expire_all()
    links = db.session.scalars(select(DoorLink).order_by(DoorLink.id)).all()
    assert [(item.label, item.revoked_at is None) for item in links] == [
        ("Side door", False),  # the old one, revoked
        ("Side door", True),
    ]
    assert app.test_client().get(path).status_code == 410
    page = client.get(f"/events/{door.event.id}/dashboard").get_data(as_text=True)
    new_path = re.search(r'value="https?://[^/"]+(/door/[^"]+)"', page).group(1)
    assert new_path != path
    assert app.test_client().get(new_path).status_code == 302


def test_a_door_link_ends_a_few_hours_after_the_event(
    app, client, auth, frozen, door, make_event
):
    event = make_event(
        door.org, title="Tonight", starts_at=clock.now() - timedelta(hours=1)
    )
    door.event = event
    link, path = _make_link(client, auth, door)
    phone = app.test_client()
    assert phone.get(path).status_code == 302
    assert phone.get(f"/events/{event.id}/scan").status_code == 200
    clock.advance(timedelta(hours=5, minutes=59))  # ends in 0 h, + 6 h of grace
    assert phone.get(f"/events/{event.id}/scan").status_code == 200
    clock.advance(timedelta(minutes=2))
    assert phone.get(f"/events/{event.id}/scan").status_code == 403
    over = app.test_client().get(path)
    assert over.status_code == 410 and "is over" in over.get_data(as_text=True)


def test_give_a_seat_asks_before_going_over_capacity(
    app, client, auth, door, make_event, make_registration
):
    event = make_event(door.org, door.organizer, title="Tiny", capacity=2)
    first, second = (make_registration(event) for _ in range(2))
    waiting = [make_registration(event, name=f"Wait {n}") for n in (1, 2)]
    assert [w.waitlist_position for w in waiting] == [1, 2]
    auth.login(door.organizer.email)
    headers = _headers(client, event.id)
    seat = f"/events/{event.id}/scan/registrations/{waiting[1].id}/seat"
    found = client.get(f"/events/{event.id}/scan/search?q=wait").get_json()
    assert found["can_give_seat"] is True
    assert [r["can_give_seat"] for r in found["results"]] == [True, True]
    full = client.post(seat, json={"nonce": "seat-0001"}, headers=headers)
    assert full.status_code == 409
    error = full.get_json()["error"]
    assert error["code"] == "over_capacity" and "full (2 of 2" in error["message"]
    assert db.session.get(Registration, waiting[1].id).status == "waitlisted"
    done = client.post(
        seat, json={"nonce": "seat-0002", "over_capacity": True}, headers=headers
    )
    assert done.status_code == 200
    assert done.get_json()["status"] == "checked_in"
    assert done.get_json()["registration_status"] == "registered"
    assert done.get_json()["registered"] == 3
    db.session.expire_all()
    assert db.session.get(Registration, waiting[0].id).waitlist_position == 1
    assert _record(waiting[1].id).user_id == door.organizer.id
    # A free seat needs no confirmation.
    for reg in (first, second, waiting[0]):  # Wait 1 gets a seat, then cancels
        services.registrations.cancel_registration(reg, notify=False)
        db.session.commit()
    pending = make_registration(event, name="Pat Pending", source="guest")
    assert pending.status == "pending"
    free = client.post(
        f"/events/{event.id}/scan/registrations/{pending.id}/seat",
        json={},
        headers=headers,
    )
    assert free.status_code == 200, free.get_json()
    db.session.expire_all()
    assert db.session.get(Registration, pending.id).status == "registered"


def test_two_taps_for_the_last_seat_give_it_once(
    app, door, make_event, make_registration
):
    event = make_event(door.org, door.organizer, title="Last seat", capacity=2)
    for _ in range(2):
        make_registration(event)
    waiting = [make_registration(event, name=f"Wait {n}").id for n in (1, 2)]
    event.capacity = 3  # one seat free, two people waiting, nobody promoted yet
    db.session.commit()
    barrier = threading.Barrier(2)
    organizer_id = (
        door.organizer.id
    )  # read here: the threads have sessions of their own

    def tap(reg_id: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                reg = db.session.get(Registration, reg_id)
                services.give_seat_and_check_in(
                    reg, None, over_capacity=False, by_user_id=organizer_id
                )
                db.session.commit()
                return "seated"
            except DomainError as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(tap, waiting))
    assert answers == ["over_capacity", "seated"]
    db.session.expire_all()
    statuses = db.session.scalars(
        select(Registration.status).where(Registration.event_id == event.id)
    ).all()
    assert sorted(statuses) == ["registered"] * 3 + ["waitlisted"]
    left = db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
    )
    assert left.waitlist_position == 1 and left.checked_in_at is None


def test_walk_in_refusals_name_their_fields(
    app, client, auth, door, helper, make_event, make_registration
):
    make_registration(door.event, email="taken@example.org")
    auth.login(helper.email)
    headers = _headers(client, door.event.id)
    url = f"/events/{door.event.id}/scan/walk-ins"
    cases = [
        ({"name": "  "}, 400, "name"),
        ({"email": "x@example.org"}, 400, "name"),
        ({"name": "Ann", "email": "not an address"}, 400, "email"),
        ({"name": "Ann", "email": "taken@example.org"}, 409, "email"),
        ({"name": "Ann", "department": "d" * 81}, 400, "department"),
        ({"name": ["Ann"]}, 400, "name"),
    ]
    for body, status, field in cases:
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == status, (body, answer.get_json())
        assert list(answer.get_json()["error"]["fields"]) == [field], body
    # A full event: a door helper cannot go over the capacity.
    tiny = make_event(door.org, door.organizer, title="Full", capacity=1)
    make_registration(tiny)
    db.session.add(DoorHelper(event_id=tiny.id, user_id=helper.id))
    db.session.commit()
    headers = _headers(client, tiny.id)
    full = client.post(
        f"/events/{tiny.id}/scan/walk-ins",
        json={"name": "Late Larry", "over_capacity": True},
        headers=headers,
    )
    assert full.status_code == 409
    assert full.get_json()["error"]["code"] == "over_capacity"
    db.session.expire_all()
    names = db.session.scalars(
        select(Registration.name).where(Registration.event_id == tiny.id)
    ).all()
    assert "Late Larry" not in names


def test_the_roster_holds_hashes_names_and_other_events_titles_only(
    app, client, auth, door, make_org, make_user, make_event, make_registration
):
    event = door.event
    here = make_registration(event, name="Hana Here", email="hana@example.org")
    services.check_in(here)
    gone = make_registration(event, name="Gus Gone")
    services.registrations.cancel_registration(gone, notify=False)
    near = make_event(
        door.org, title="Next week", starts_at=event.starts_at + timedelta(days=6)
    )
    near_reg = make_registration(near, name="Nora Near")
    far = make_event(
        door.org, title="Next month", starts_at=event.starts_at + timedelta(days=20)
    )
    make_registration(far, name="Fay Far")
    umbrella = make_org(slug="umbrella")
    foreign = make_event(make_user(umbrella, role="organizer").memberships[0].org)
    make_registration(foreign, name="Otto Other")
    db.session.commit()
    auth.login(door.organizer.email)
    answer = client.get(f"/events/{event.id}/scan/roster")
    assert answer.headers["Cache-Control"] == "no-store"
    roster = answer.get_json()
    assert roster["event_id"] == event.id
    assert roster["keep_until"] == (event.ends_at + timedelta(hours=6)).isoformat()

    def h(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    db.session.expire_all()
    here = db.session.get(Registration, here.id)
    assert sorted(roster["entries"], key=lambda e: e["name"]) == [
        {
            "h": h(gone.badge_token),
            "name": "Gus Gone",
            "status": "cancelled",
            "checked_in_at": None,
        },
        {
            "h": h(here.badge_token),
            "name": "Hana Here",
            "status": "registered",
            "checked_in_at": here.checked_in_at.isoformat(),
        },
    ]
    assert roster["elsewhere"] == [
        {"h": h(near_reg.badge_token), "event_title": "Next week"}
    ]
    text = answer.get_data(as_text=True)
    for secret in ("@", "Nora Near", "Fay Far", "Otto Other", here.badge_token):
        assert secret not in text


def test_a_badge_of_another_event_names_it_in_the_scan_answer(
    app, client, auth, door, make_event, make_registration
):
    elsewhere = make_event(door.org, title="Autumn Mixer")
    reg = make_registration(elsewhere, name="Bo Elsewhere")
    auth.login(door.organizer.email)
    answer = client.post(
        f"/events/{door.event.id}/scan/checkins",
        json={"token": reg.badge_token},
        headers=_headers(client, door.event.id),
    )
    assert answer.status_code == 409
    assert answer.get_json()["error"]["message"] == (
        "This badge is for “Autumn Mixer”: Bo Elsewhere is not registered for "
        "this event."
    )


def test_a_walk_in_without_e_mail_gets_no_mail_and_no_address_in_exports(
    door, helper, client, auth
):
    """The placeholder address of a walk-in who gave none is never written to and
    never shown: the follow-up after the event queues nothing for them, and the
    attendee list and its CSV leave the address blank."""
    from mixer.mail.models import OutboxMessage
    from mixer.mail.services import queue_mail

    auth.login(helper.email)
    page = client.get(f"/events/{door.event.id}/scan").get_data(as_text=True)
    walk = client.post(
        f"/events/{door.event.id}/scan/walk-ins",
        json={"name": "Nora Nomail", "nonce": "walk-nomail"},
        headers={"X-CSRFToken": csrf_from(page)},
    )
    assert walk.status_code == 201
    reg = db.session.get(Registration, walk.get_json()["registration_id"])
    assert not reg.has_email
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queue_mail(reg.email, "Who did you meet?", "followup_prompt", {}) is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    auth.logout()
    auth.login(door.organizer.email)
    listing = client.get(f"/events/{door.event.id}/attendees").get_data(as_text=True)
    assert "Nora Nomail" in listing and "walk-in, no e-mail" in listing
    assert "walk-in.invalid" not in listing
    csv = client.get(f"/events/{door.event.id}/attendees.csv", buffered=True).get_data(
        as_text=True
    )
    row = next(line for line in csv.splitlines() if "Nora Nomail" in line)
    assert "walk-in.invalid" not in row and ",Nora Nomail,," in row
