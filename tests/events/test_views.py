"""Events pages through the real forms: organizers, members, guests, outsiders."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from mixer import clock
from mixer.events import lifecycle, registration
from mixer.events.models import Event, Registration
from mixer.events.rules import local
from mixer.extensions import db
from mixer.jobs.models import Job
from tests.helpers import csrf_from, link_in

from .conftest import NOW


@pytest.fixture
def member(org, make_user):
    return make_user(
        org,
        name="Mia Member",
        department="Finance",
        offers="budgets, excel",
        seeks="public speaking",
    )


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _csrf(client, path: str = "/o/acme/events/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


FORM = {
    "kind": "lunch_and_learn",
    "title": "Negotiation over lunch",
    "description": "Bring **questions**.",
    "starts_at": "2026-03-05T12:00",
    "ends_at": "2026-03-05T13:00",
    "timezone": "Europe/Paris",
    "venue": "Room 4.12",
    "address": "1 Main St",
    "online_url": "",
    "capacity": "20",
    "visibility": "members",
    "topic": "Asking for a raise",
    "speakers": "Ana Lima",
    "asks_dietary": "y",
    "rounds": "6",
    "minutes_per_round": "8",
}


def test_organizer_creates_and_publishes_a_lunch_and_learn(
    client, auth, org, organizer, frozen
):
    auth.login(organizer.email)
    page = client.get("/o/acme/events/new?kind=lunch_and_learn")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="starts_at"' in html and "Europe/Paris" in html
    resp = client.post(
        "/o/acme/events/new",
        data={**FORM, "publish": "1", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    event = db.session.scalar(select(Event))
    assert resp.location.endswith(f"/events/{event.id}/dashboard")
    assert event.status == "published"
    assert event.starts_at == datetime(2026, 3, 5, 11, tzinfo=UTC)
    assert event.organizers == [organizer]
    dashboard = client.get(resp.location).get_data(as_text=True)
    assert "Published: people can register now." in dashboard
    assert "registered of 20 seats" in dashboard
    listing = client.get("/o/acme/events/manage").get_data(as_text=True)
    assert "Negotiation over lunch" in listing


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ends_at": "2026-03-05T11:00"}, "ends_at", "The end must be after the start"),
        ({"capacity": "0"}, "capacity", "between 1 and"),
        ({"capacity": "-4"}, "capacity", "between 1 and"),
        ({"kind": "rave"}, "kind", "Unknown kind"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
        ({"title": "x" * 10_000}, "title", "at most 200 characters"),
        ({"starts_at": "tomorrow"}, "starts_at", "Not a valid datetime"),
    ],
)
def test_bad_event_form_input_is_shown_inline_and_nothing_saved(
    client, auth, org, organizer, frozen, change, field, words
):
    auth.login(organizer.email)
    resp = client.post(
        "/o/acme/events/new",
        data={**FORM, **change, "publish": "1", "csrf_token": _csrf(client)},
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    # The message sits right after its field, tied to it for screen readers.
    match = re.search(
        rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"',
        html,
    )
    assert match, f"{field} not marked invalid"
    assert re.search(
        rf'<small id="{field}-help" class="field-error">[^<]*{re.escape(words)}', html
    ), html[html.find("field-error") - 300 : html.find("field-error") + 300]
    assert _count(Event) == 0


@pytest.mark.parametrize("path", ["new", "edit"])
def test_every_mistake_in_the_event_form_is_shown_at_once(
    client, auth, org, organizer, make_event, frozen, path
):
    """Four mistakes, one submit: each field says what is wrong with it."""
    auth.login(organizer.email)
    url = "/o/acme/events/new"
    if path == "edit":
        url = f"/events/{make_event(org, organizer).id}/edit"
    before = _count(Event)
    mistakes = {
        "title": "x" * 10_000,  # the form's own check
        "capacity": "0",  # the service's checks from here on
        "timezone": "Mars/Olympus",
        "online_url": "not a link",
        "registration_closes_at": "2026-03-06T12:00",  # after the end
    }
    resp = client.post(
        url, data={**FORM, **mistakes, "publish": "1", "csrf_token": _csrf(client)}
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    shown = dict(
        re.findall(r'<small id="([a-z_]+)-help" class="field-error">([^<]*)', html)
    )
    assert set(shown) == set(mistakes), shown
    assert "at most 200 characters" in shown["title"]
    assert "between 1 and" in shown["capacity"]
    assert "Unknown time zone" in shown["timezone"]
    assert "open after the event ends" in shown["registration_closes_at"]
    assert _count(Event) == before


def test_member_registers_in_one_click_and_sees_it_under_my_events(
    client, auth, org, member, make_event, outbox
):
    event = make_event(org, kind="mentor_mixer", capacity=1)
    auth.login(member.email)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'value="Finance"' in page  # profile pre-filled
    assert 'value="budgets, excel"' in page
    resp = client.post(
        f"/events/{event.id}/register",
        data={
            "csrf_token": csrf_from(page),
            "role": "mentor",
            "department": "Finance",
            "offers": "budgets, excel",
            "seeks": "public speaking",
        },
    )
    assert resp.status_code == 302
    reg = db.session.scalar(select(Registration))
    assert (reg.status, reg.role, reg.user_id) == ("registered", "mentor", member.id)
    assert reg.offers == ["budgets", "excel"]
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "You're registered." in page
    mine = client.get("/o/acme/events/mine").get_data(as_text=True)
    assert event.title in mine and "Registered" in mine
    assert re.search(r"http://mixer\.test/calendar/[\w-]+\.ics", mine)
    assert outbox(member.email)[0]["Subject"].startswith("You're registered")

    # Registering again (a double click) is refused with a message.
    again = client.post(
        f"/events/{event.id}/register", data={"csrf_token": csrf_from(page)}
    )
    assert again.status_code == 409
    assert "already registered" in again.get_data(as_text=True)
    assert _count(Registration) == 1


def test_member_cancels_from_my_events_and_the_waitlist_moves_up(
    client, auth, org, member, make_event, make_registration, outbox
):
    event = make_event(org, capacity=1)
    make_registration(event, email=member.email, name=member.name, user=member)
    waiting = make_registration(event)
    auth.login(member.email)
    page = client.get("/o/acme/events/mine").get_data(as_text=True)
    resp = client.post(
        f"/events/{event.id}/cancel",
        data={"csrf_token": csrf_from(page), "next": "mine"},
    )
    assert resp.status_code == 302 and resp.location.endswith("/o/acme/events/mine")
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status == "registered"
    assert outbox(waiting.email)[-1]["Subject"].startswith("A seat opened up")
    page = client.get("/o/acme/events/mine").get_data(as_text=True)
    assert "Nothing yet." in page


def test_cancel_link_in_the_confirmation_email(
    client, org, make_event, make_registration, outbox
):
    event = make_event(org)
    reg = make_registration(event)
    link = link_in(outbox(reg.email)[0], f"/events/{event.id}/cancel/")
    path = link.removeprefix("http://mixer.test")
    page = client.get(path)
    assert page.status_code == 200
    assert "Cancel your place?" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == "registered"  # GET is safe
    resp = client.post(
        path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert "Your place is cancelled" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, reg.id).status == "cancelled"
    assert client.get(path[:-3] + "xyz").status_code == 400


def test_guest_registers_with_the_share_link_and_confirms_by_email(
    client, org, make_event, outbox
):
    event = make_event(org, visibility="link", asks_dietary=True)
    assert client.get(f"/events/{event.id}").status_code == 302  # to sign in
    page = client.get(f"/events/{event.id}?key={event.share_key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="email"' in html and "Dietary needs" in html
    bad = client.post(
        f"/events/{event.id}/guest?key={event.share_key}",
        data={"csrf_token": csrf_from(html), "name": "Gil", "email": "gil@@example"},
    )
    assert bad.status_code == 400
    assert 'id="email-help" class="field-error"' in bad.get_data(as_text=True)
    assert _count(Registration) == 0
    resp = client.post(
        f"/events/{event.id}/guest?key={event.share_key}",
        data={
            "csrf_token": csrf_from(html),
            "name": "Gil Guest",
            "email": "gil@example.org",
            "dietary": "other",
            "dietary_other": "No shellfish",
        },
    )
    assert "Check your e-mail" in resp.get_data(as_text=True)
    reg = db.session.scalar(select(Registration))
    assert (reg.status, reg.dietary) == ("pending", "No shellfish")
    path = link_in(outbox("gil@example.org")[0], "/confirm/").removeprefix(
        "http://mixer.test"
    )
    page = client.get(path)
    assert "Confirm my place" in page.get_data(as_text=True)
    done = client.post(
        path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert "You're registered" in done.get_data(as_text=True)
    again = client.post(
        path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_outsiders_get_404_and_members_403_on_organizer_pages(
    client, auth, org, member, make_org, make_user, make_event
):
    event = make_event(org, visibility="link")
    other = make_org(slug="other")
    outsider = make_user(other)
    auth.login(outsider.email)
    for path in (
        f"/events/{event.id}",
        f"/events/{event.id}?key=wrong",
        f"/events/{event.id}/dashboard",
        f"/events/{event.id}/attendees",
        f"/events/{event.id}/attendees.csv",
        f"/events/{event.id}/edit",
        f"/events/{event.id}/calendar.ics",
        "/o/acme/events/",
    ):
        assert client.get(path).status_code == 404, path
    # With the share key an outsider sees the public page (and registers as a guest).
    assert client.get(f"/events/{event.id}?key={event.share_key}").status_code == 200
    auth.logout()
    auth.login(member.email)
    assert client.get(f"/events/{event.id}/dashboard").status_code == 403
    assert client.get("/o/acme/events/manage").status_code == 403
    draft = lifecycle.create_event(
        org,
        None,
        kind="workshop",
        title="Secret draft",
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, hours=2),
        timezone="UTC",
        capacity=5,
    )
    db.session.commit()
    assert client.get(f"/events/{draft.id}").status_code == 404


def test_attendee_table_search_csv_add_move_remove(
    client, auth, org, organizer, make_event, make_registration, outbox
):
    event = make_event(org, capacity=2, asks_dietary=True)
    make_registration(event, name="Ana Lima", email="ana@example.org", dietary="Vegan")
    make_registration(event, name="Bo Chen", email="bo@example.org", department="Sales")
    waiting = make_registration(event, name="Cy Diaz", email="cy@example.org")
    auth.login(organizer.email)
    page = client.get(f"/events/{event.id}/attendees?q=chen").get_data(as_text=True)
    assert "Bo Chen" in page and "Ana Lima" not in page
    page = client.get(f"/events/{event.id}/attendees?q=sales").get_data(as_text=True)
    assert "Bo Chen" in page

    # buffered: read the streamed body inside the request, as a server would.
    export = client.get(f"/events/{event.id}/attendees.csv", buffered=True)
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["name"], r["status"], r["waitlist_position"]) for r in rows] == [
        ("Ana Lima", "registered", ""),
        ("Bo Chen", "registered", ""),
        ("Cy Diaz", "waitlisted", "1"),
    ]

    token = csrf_from(page)
    added = client.post(
        f"/events/{event.id}/attendees",
        data={"csrf_token": token, "name": "Di Evans", "email": "di@example.org"},
    )
    assert added.status_code == 302
    bad = client.post(
        f"/events/{event.id}/attendees",
        data={"csrf_token": token, "name": "Di Evans", "email": "di@example.org"},
    )
    assert bad.status_code == 400
    assert "already registered" in bad.get_data(as_text=True)

    client.post(
        f"/events/{event.id}/attendees/{waiting.id}/move",
        data={"csrf_token": token, "to": "registered"},
    )
    ana = db.session.scalar(select(Registration).where(Registration.name == "Ana Lima"))
    client.post(
        f"/events/{event.id}/attendees/{ana.id}/remove", data={"csrf_token": token}
    )
    db.session.expire_all()
    statuses = dict(
        db.session.execute(select(Registration.name, Registration.status)).all()
    )
    assert statuses == {
        "Ana Lima": "cancelled",
        "Bo Chen": "registered",
        "Cy Diaz": "registered",
        "Di Evans": "waitlisted",
    }
    assert (
        "taken you off"
        in outbox("ana@example.org")[-1]
        .get_body(preferencelist=("plain",))
        .get_content()
    )


def test_catering_page_counts_needs(
    client, auth, org, organizer, make_event, make_registration
):
    event = make_event(org, asks_dietary=True)
    for dietary in ("Vegan", "Vegan", "Halal", None):
        make_registration(event, dietary=dietary)
    auth.login(organizer.email)
    dashboard = client.get(f"/events/{event.id}/dashboard").get_data(as_text=True)
    assert re.search(r"<th scope=\"row\">Vegan</th><td>2</td>", dashboard)
    page = client.get(f"/events/{event.id}/catering").get_data(as_text=True)
    assert re.search(r"<th scope=\"row\">Halal</th><td>1</td>", page)
    assert re.search(r"Total</th><td>4</td>", page)


def test_edit_moves_the_event_and_queues_the_update(
    client, auth, org, organizer, make_event, make_registration, frozen
):
    event = make_event(org, timezone="Europe/Paris")
    make_registration(event)
    auth.login(organizer.email)
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    start = local(event.starts_at, "Europe/Paris")
    assert f'value="{start:%Y-%m-%dT%H:%M}"' in page
    new_start = start + timedelta(hours=1)
    resp = client.post(
        f"/events/{event.id}/edit",
        data={
            **FORM,
            "kind": "workshop",  # ignored: the kind is fixed
            "starts_at": f"{new_start:%Y-%m-%dT%H:%M}",
            "ends_at": f"{new_start + timedelta(hours=1):%Y-%m-%dT%H:%M}",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.kind == "lunch_and_learn"
    assert local(event.starts_at, "Europe/Paris") == new_start
    assert event.sequence == 1
    assert db.session.scalar(select(Job).where(Job.kind == "events.notify"))


def test_duplicate_repeat_and_cancel_pages(
    client, auth, org, organizer, make_event, frozen
):
    event = make_event(org, starts_at=NOW + timedelta(days=3))
    auth.login(organizer.email)
    token = _csrf(client, f"/events/{event.id}/dashboard")
    resp = client.post(f"/events/{event.id}/duplicate", data={"csrf_token": token})
    assert resp.status_code == 302 and "/edit" in resp.location
    bad = client.post(
        f"/events/{event.id}/repeat",
        data={"csrf_token": token, "repeat": "weekly", "count": "99"},
    )
    assert bad.status_code == 400
    assert "between 2 and 52" in bad.get_data(as_text=True)
    client.post(
        f"/events/{event.id}/repeat",
        data={"csrf_token": token, "repeat": "weekly", "count": "3"},
    )
    assert _count(Event) == 4  # the original, its duplicate, two repeats
    # The series' rule is stored in English and said in the page's language.
    stored = db.session.get(Event, event.id).series.description
    assert re.fullmatch(r"Every [A-Z][a-z]+day", stored)
    listed = client.get("/o/acme/events/manage", headers={"Accept-Language": "de"})
    days = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
    assert re.search(rf">Jeden ({days})<", listed.get_data(as_text=True))
    assert stored not in listed.get_data(as_text=True)
    resp = client.post(
        f"/events/{event.id}/cancel-event",
        data={"csrf_token": token, "reason": "Snow day"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "cancelled"
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "This event was cancelled." in page and "Snow day" in page


def test_calendar_downloads_and_feeds(
    client, auth, org, member, make_event, make_registration
):
    event = make_event(org)
    make_registration(event, email=member.email, name=member.name, user=member)
    auth.login(member.email)
    resp = client.get(f"/events/{event.id}/calendar.ics")
    assert resp.mimetype == "text/calendar"
    vevent = Calendar.from_ical(resp.data).walk("VEVENT")[0]
    assert vevent["UID"] == event.ical_uid
    mine = client.get("/o/acme/events/mine").get_data(as_text=True)
    feed = re.search(r"http://mixer\.test(/calendar/[\w-]+\.ics)", mine).group(1)
    auth.logout()
    resp = client.get(feed)  # calendar apps have no session: the secret is enough
    assert resp.status_code == 200
    assert event.title in resp.get_data(as_text=True)


def test_member_lists_filter_by_kind_and_org_home_shows_upcoming(
    client, auth, org, member, make_event
):
    make_event(org, title="Lunch talk")
    make_event(org, title="Speed mentoring", kind="mentor_mixer")
    auth.login(member.email)
    page = client.get("/o/acme/events/?kind=mentor_mixer").get_data(as_text=True)
    assert "Speed mentoring" in page and "Lunch talk" not in page
    page = client.get("/o/acme/events/?q=lunch").get_data(as_text=True)
    assert "Lunch talk" in page and "Speed mentoring" not in page
    home = client.get("/o/acme/").get_data(as_text=True)
    assert "Lunch talk" in home and "Speed mentoring" in home


@pytest.fixture
def rate_limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_guest_registration_cannot_flood_an_inbox(
    rate_limited, client, org, make_event, outbox
):
    event = make_event(org, visibility="link")
    path = f"/events/{event.id}?key={event.share_key}"
    token = csrf_from(client.get(path).get_data(as_text=True))
    codes = [
        client.post(
            f"/events/{event.id}/guest?key={event.share_key}",
            data={
                "csrf_token": token,
                "name": "Vic Tim",
                "email": "victim@example.org",
            },
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert len(outbox("victim@example.org")) == 3


def test_registering_for_a_cancelled_or_past_event_is_refused_with_a_message(
    client, auth, org, member, make_event, frozen
):
    cancelled = make_event(org, starts_at=NOW + timedelta(days=3))
    lifecycle.cancel_event(cancelled)
    past = make_event(
        org,
        starts_at=NOW - timedelta(days=3),
        ends_at=NOW - timedelta(days=3, hours=-1),
    )
    db.session.commit()
    auth.login(member.email)
    token = _csrf(client)
    for event, words in [(cancelled, "was cancelled"), (past, "is over")]:
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        assert 'class="register-button"' not in page  # no form to begin with
        resp = client.post(f"/events/{event.id}/register", data={"csrf_token": token})
        assert resp.status_code == 409
        assert words in resp.get_data(as_text=True)
    assert _count(Registration) == 0


def test_emailed_links_that_cannot_be_used_show_the_link_page(
    client, org, make_event, make_registration, outbox, frozen
):
    event = make_event(org, visibility="link", starts_at=NOW + timedelta(days=3))
    registration.register(
        event, email="gil@example.org", name="Gil Guest", source="guest"
    )
    seated = make_registration(event)
    db.session.commit()
    confirm = link_in(outbox("gil@example.org")[0], "/confirm/")
    confirm = confirm.removeprefix("http://mixer.test")
    cancel = link_in(outbox(seated.email)[0], f"/events/{event.id}/cancel/")
    cancel = cancel.removeprefix("http://mixer.test")
    token = csrf_from(client.get(confirm).get_data(as_text=True))
    lifecycle.cancel_event(event)
    db.session.commit()
    # A sound link the event refuses now: 409, on the events link page.
    for path, words in [(confirm, "was cancelled"), (cancel, "nothing to cancel")]:
        resp = client.post(path, data={"csrf_token": token})
        assert resp.status_code == 409
        page = resp.get_data(as_text=True)
        assert "This link does not work" in page and words in page
    # A link from another event, or an expired one: 400, on the same page.
    other = make_event(org)
    wrong = cancel.replace(f"/events/{event.id}/", f"/events/{other.id}/")
    assert client.get(wrong).status_code == 400
    clock.advance(timedelta(days=4))
    expired = client.get(confirm)
    assert expired.status_code == 400
    assert "This link has expired." in expired.get_data(as_text=True)


def test_workshop_exercises_keep_their_line_breaks_safely(
    client, auth, org, organizer, make_event, frozen
):
    event = make_event(
        org,
        organizer,
        kind="workshop",
        exercises="Say no to a deadline\nAsk for feedback\n<script>x()</script>",
    )
    auth.login(organizer.email)
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "<p>Say no to a deadline<br>\nAsk for feedback</p>" in html
    assert "<script>x()" not in html
