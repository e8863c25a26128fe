"""The organizer's and members' event lists: Upcoming / Past / All, the kind
filter, and an event closed before its planned end."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mixer import clock
from mixer.extensions import db
from mixer.followup.services import close_event
from tests.helpers import NOW


@pytest.fixture
def events(org, organizer, make_event, frozen):
    """A past mixer, an upcoming mixer and an upcoming lunch, in Acme."""
    past = make_event(
        org,
        organizer,
        kind="mentor_mixer",
        title="Old mixer",
        starts_at=NOW - timedelta(days=7),
    )
    soon = make_event(org, organizer, kind="mentor_mixer", title="Next mixer")
    lunch = make_event(org, organizer, title="Lunch talk")
    return past, soon, lunch


def _titles(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*">([^<]*)</a>', html)


def test_past_with_a_kind_filter_stays_past(client, auth, organizer, events):
    auth.login(organizer.email)
    page = client.get("/o/acme/events/manage?when=past").get_data(as_text=True)
    # The kind filter's form carries the tab it was shown under.
    assert '<input type="hidden" name="when" value="past">' in page
    filtered = client.get("/o/acme/events/manage?when=past&kind=mentor_mixer")
    assert _titles(filtered.get_data(as_text=True)) == ["Old mixer"]


@pytest.mark.parametrize(
    ("when", "label", "titles"),
    [
        ("upcoming", "Upcoming", ["Next mixer", "Lunch talk"]),
        ("past", "Past", ["Old mixer"]),
        ("all", "All", ["Next mixer", "Lunch talk", "Old mixer"]),
    ],
)
def test_the_current_tab_is_marked_and_the_caption_names_it(
    client, auth, organizer, events, when, label, titles
):
    auth.login(organizer.email)
    html = client.get(f"/o/acme/events/manage?when={when}").get_data(as_text=True)
    tabs = html.split('aria-label="Which events"', 1)[1].split("</nav>", 1)[0]
    current = re.findall(r'<a href="[^"]*"\s+aria-current="page">([^<]*)</a>', tabs)
    assert current == [label]
    assert f'<caption class="sr-only">{label} events</caption>' in html
    assert "macro" not in html.lower()
    assert sorted(_titles(html)) == sorted(titles)


def test_an_event_closed_early_is_past_for_organizers_and_members(
    client, auth, org, organizer, make_user, make_event, frozen
):
    member = make_user(org, name="Mia Member")
    event = make_event(
        org,
        organizer,
        kind="mentor_mixer",
        title="Running mixer",
        starts_at=NOW - timedelta(minutes=30),
        ends_at=NOW + timedelta(hours=2),
    )
    close_event(event, organizer)
    db.session.commit()
    assert event.ends_at > clock.now()  # closed before its planned end

    auth.login(organizer.email)
    upcoming = client.get("/o/acme/events/manage?when=upcoming")
    assert "Running mixer" not in _titles(upcoming.get_data(as_text=True))
    past = client.get("/o/acme/events/manage?when=past")
    assert _titles(past.get_data(as_text=True)) == ["Running mixer"]

    auth.logout()
    auth.login(member.email)
    listing = client.get("/o/acme/events/").get_data(as_text=True)
    assert "Running mixer" not in listing
