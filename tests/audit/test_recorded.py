"""Each administrative action leaves one entry: what, who, on what, from where.

The actions are driven through their real pages, API and commands (CSRF checks
off: the forms' own tests cover them), so the entry's address and actor are the
request's.
"""

from __future__ import annotations

import io

import pytest

from mixer.accounts.services import find_user
from mixer.checkin import door as door_rules
from mixer.extensions import db
from mixer.orgs.models import Invitation, Membership
from tests.audit import audited
from tests.helpers import bearer

IP = "127.0.0.1"  # the test client's address


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def acme(org, make_user):
    """Acme with Ada (admin), Olga (organizer) and Mira (member)."""
    ada = make_user(org, role="admin", name="Ada Admin", email="ada@acme.example")
    olga = make_user(org, role="organizer", name="Olga Organizer")
    mira = make_user(org, name="Mira Member", email="mira@acme.example")
    return org, ada, olga, mira


def _membership(user, org) -> Membership:
    db.session.expire_all()
    return user.membership_in(org)


def test_an_admins_member_and_settings_work_is_recorded(
    client, auth, runner, acme, token_for
):
    org, ada, _olga, mira = acme
    mira_m = _membership(mira, org).id
    auth.login(ada.email)
    base = "/o/acme"
    client.post(
        f"{base}/settings",
        data={"name": "Acme Ltd", "kind": "company", "charter": "Be kind."},
    )
    client.post(f"{base}/departments", data={"dept-name": "Sales"})
    dept = org.department_named("Sales")
    client.post(f"{base}/departments/{dept.id}", data={f"dept{dept.id}-name": "Sells"})
    client.post(f"{base}/members/{mira_m}/role", data={"role": "organizer"})
    client.post(
        f"{base}/members/{mira_m}/edit",
        data={"role": "organizer", "location": "Leeds", "languages": "en, fr"},
    )
    client.post(f"{base}/invitations", data={"invite-email": "new@acme.example"})
    invitation = db.session.query(Invitation).one()
    client.post(f"{base}/invitations/{invitation.id}/resend")
    client.post(f"{base}/invitations/{invitation.id}/revoke")
    csv = b"name,email\nCy Clone,cy@acme.example\n,broken@acme.example\n"
    client.post(
        f"{base}/members/import", data={"file": (io.BytesIO(csv), "people.csv")}
    )
    client.post(f"{base}/members/{mira_m}/remove")

    trail = audited()
    assert [e.action for e in trail] == [
        "org.settings_changed",
        "department.added",
        "department.renamed",
        "member.role_changed",
        "member.updated",
        "invitation.sent",
        "invitation.resent",
        "invitation.revoked",
        "members.imported",
        "member.removed",
    ]
    assert {(e.org_id, e.actor_id, e.actor_name, e.ip) for e in trail} == {
        (org.id, ada.id, "Ada Admin", IP)
    }
    settings, added, renamed, role, updated, sent, _, revoked, imported, removed = trail
    assert settings.summary == "Changed the organization's name, charter"
    assert settings.details["changes"]["name"] == ["Acme", "Acme Ltd"]
    # The charter is long Markdown: that it changed, not its words.
    assert settings.details["changes"]["charter"] == ["(before)", "(changed)"]
    assert (added.summary, added.subject_type) == (
        "Added the department Sales",
        "department",
    )
    assert renamed.details == {"changes": {"name": ["Sales", "Sells"]}}
    assert role.summary == "Changed Mira Member's role from member to organizer"
    assert (role.subject_type, role.subject_id) == ("membership", mira_m)
    assert role.details == {
        "user_id": mira.id,
        "changes": {"role": ["member", "organizer"]},
    }
    # The role stayed: only what changed is recorded.
    assert updated.summary == "Changed Mira Member's location, languages"
    assert updated.details["changes"] == {
        "location": [None, "Leeds"],
        "languages": [[], ["en", "fr"]],
    }
    assert sent.summary == "Invited new@acme.example as member"
    assert (sent.subject_type, sent.subject_id) == ("invitation", invitation.id)
    assert revoked.summary == "Withdrew the invitation to new@acme.example"
    assert imported.summary == (
        "Imported members from a CSV file: 1 added, 0 updated, 1 rows refused"
    )
    assert removed.summary == (
        "Removed Mira Member (mira@acme.example) from the organization"
    )
    assert removed.details == {"user_id": mira.id, "role": "organizer"}

    # The API: an admin's change of a member's details, naming the token.
    cy = find_user("cy@acme.example").membership_in(org)
    secret = token_for(ada, org)
    client.post("/logout")
    answer = client.patch(
        f"/api/v1/members/{cy.id}",
        json={"location": "York", "mentoring_capacity": 2},
        headers=bearer(secret),
    )
    assert answer.status_code == 200
    created, patched = audited("api_token.created") + audited("member.updated")[1:]
    # token_for runs outside a request: Mixer made it, from nowhere.
    assert (created.actor_id, created.actor_name, created.ip) == (None, "Mixer", None)
    assert created.summary == "Created the API token “test” of Ada Admin"
    assert (patched.actor_id, patched.ip) == (ada.id, IP)
    assert patched.details == {
        "user_id": cy.user_id,
        "changes": {"location": [None, "York"]},  # capacity is not an admin's field
        "api_token_id": created.subject_id,
    }
    client.delete(f"/api/v1/tokens/{created.subject_id}", headers=bearer(secret))
    (revoked_token,) = audited("api_token.revoked")
    assert (revoked_token.actor_id, revoked_token.subject_id) == (
        ada.id,
        created.subject_id,
    )

    # A command: Mixer deactivates an account, seen in each of its organizations.
    assert runner.invoke(args=["deactivate-user", ada.email]).exit_code == 0
    assert runner.invoke(args=["deactivate-user", ada.email]).exit_code == 0
    assert runner.invoke(args=["reactivate-user", ada.email]).exit_code == 0
    accounts = audited("account.")
    assert [(e.action, e.org_id, e.actor_name, e.ip) for e in accounts] == [
        ("account.deactivated", org.id, "Mixer", None),  # twice: one entry
        ("account.reactivated", org.id, "Mixer", None),
    ]
    assert accounts[0].summary == (
        "Deactivated the account of Ada Admin (ada@acme.example)"
    )


def test_an_organizers_event_and_door_work_is_recorded(
    client, auth, acme, make_event, make_registration
):
    org, _ada, olga, mira = acme
    event = make_event(org, olga, status="draft", title="Spring Mixer", capacity=1)
    auth.login(olga.email)
    client.post(f"/events/{event.id}/publish")
    db.session.refresh(event)
    first = make_registration(event, name="Fay First")
    second = make_registration(event, name="Sam Second")  # waitlisted, #1
    third = make_registration(event, name="Tia Third")  # waitlisted, #2
    attendees = f"/events/{event.id}/attendees"
    client.post(f"{attendees}/{third.id}/move", data={"to": "waitlist", "position": 1})
    client.post(f"{attendees}/{second.id}/move", data={"to": "registered"})
    client.post(f"{attendees}/{first.id}/remove")
    assert (
        client.get(f"/events/{event.id}/attendees.csv", buffered=True).status_code
        == 200
    )
    door = f"/events/{event.id}/door"
    client.post(f"{door}/helpers", data={"user_id": mira.id})
    client.post(f"{door}/links", data={"label": "Front desk"})
    link = door_rules.links(event)[0]
    client.post(f"{door}/links/{link.id}/reissue")
    client.post(f"{door}/helpers/{door_rules.helpers(event)[0].id}/remove")
    # At the door: Tia (waitlisted) gets a seat over the capacity; the phone
    # of the new door link checks Sam in, then undoes it.
    scan = f"/events/{event.id}/scan"
    seat = client.post(
        f"{scan}/registrations/{third.id}/seat", json={"over_capacity": True}
    )
    assert seat.status_code == 200
    client.post("/logout")
    phone = door_rules.links(event)[0]
    client.get(f"/door/{door_rules.link_token(phone)}")
    client.post(f"{scan}/checkins", json={"registration_id": second.id})
    assert client.delete(f"{scan}/checkins/{second.id}").get_json()["undone"]
    auth.login(olga.email)
    client.post(f"/events/{event.id}/cancel-event", data={"reason": "Snow."})

    trail = [e for e in audited() if not e.action.startswith("api_token")]
    assert [(e.action, e.actor_name) for e in trail] == [
        ("event.published", "Olga Organizer"),
        ("registration.moved", "Olga Organizer"),
        ("registration.moved", "Olga Organizer"),
        ("registration.removed", "Olga Organizer"),
        ("export.attendees", "Olga Organizer"),
        ("door.helper_added", "Olga Organizer"),
        ("door.link_created", "Olga Organizer"),
        ("door.link_revoked", "Olga Organizer"),
        ("door.link_created", "Olga Organizer"),
        ("door.helper_removed", "Olga Organizer"),
        ("registration.seat_given", "Olga Organizer"),
        ("checkin.undone", "Door link “Front desk”"),
        ("event.cancelled", "Olga Organizer"),
    ]
    assert {e.ip for e in trail} == {IP}
    assert {e.org_id for e in trail} == {org.id}
    published, to_front, seated, removed, export, helper, made = trail[:7]
    assert (published.subject_type, published.subject_id) == ("event", event.id)
    assert published.summary == "Published the event “Spring Mixer”"
    assert to_front.summary == (
        "Put Tia Third at #1 on the waitlist of “Spring Mixer” (was #2)"
    )
    assert to_front.details == {
        "event_id": event.id,
        "changes": {"waitlist_position": [2, 1]},
    }
    assert seated.summary == (
        "Gave Sam Second a seat at “Spring Mixer” (was #2 on the waitlist)"
    )
    assert removed.summary == "Took Fay First off “Spring Mixer” (was registered)"
    assert (removed.subject_type, removed.subject_id) == ("registration", first.id)
    assert export.summary == "Downloaded the attendee list of “Spring Mixer” (CSV)"
    assert helper.summary == "Made Mira Member a door helper of “Spring Mixer”"
    assert made.summary == "Created the door link “Front desk” for “Spring Mixer”"
    assert link.key not in str(made.details)  # the link's secret is never kept
    given, undone, cancelled = trail[-3:]
    assert given.summary == (
        "Gave Tia Third a seat at the door of “Spring Mixer” over the capacity"
    )
    assert given.details["changes"] == {
        "status": ["waitlisted", "registered"],
        "waitlist_position": [1, None],
    }
    assert (undone.actor_id, undone.subject_id) == (None, second.id)
    assert undone.summary == "Undid the check-in of Sam Second at “Spring Mixer”"
    assert cancelled.details == {"was": "published"}


def test_insights_downloads_are_recorded_with_their_filter(client, auth, acme):
    org, _ada, olga, _mira = acme
    auth.login(olga.email)
    query = "?from=2026-01-01&to=2026-01-31"
    csv = client.get(f"/o/acme/insights/export/attendees.csv{query}", buffered=True)
    assert csv.status_code == 200
    assert client.get(f"/o/acme/insights/report.pdf{query}").status_code == 200
    refused = client.get("/o/acme/insights/export/attendees.csv?from=never")
    assert refused.status_code == 400  # nothing left Mixer: nothing recorded
    export, report = audited("export.")
    assert (export.action, export.actor_id, export.ip) == (
        "export.insights",
        olga.id,
        IP,
    )
    assert export.summary == "Downloaded acme-attendees-2026-01-01-2026-01-31.csv"
    assert export.details == {
        "dataset": "attendees",
        "filter": {"from": "2026-01-01", "to": "2026-01-31"},
    }
    assert (export.subject_type, export.subject_id) == ("organization", org.id)
    assert report.action == "export.report"
    assert (
        report.summary == "Opened the report acme-programme-2026-01-01-2026-01-31.pdf"
    )
