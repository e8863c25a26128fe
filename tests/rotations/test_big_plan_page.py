"""The plan page of a big mixer: one round at a time, the same SQL statements
whatever the size, and "who left" looked up by name or e-mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mixer.events.models import Registration
from mixer.extensions import db
from mixer.rotations import services
from mixer.rotations.forms import LeftForm
from tests.events.test_dashboard_queries import counting_queries
from tests.helpers import csrf_from
from tests.rotations.conftest import planned_mixer


@pytest.fixture
def mixer_of(org, make_event):
    """``mixer_of(n)``: a planned Mentor Mixer of n checked-in people."""

    def build(n: int):
        return planned_mixer(make_event, org, n, 6, rounds=6)

    return build


def _page(client, event, **query):
    with counting_queries() as statements:
        resp = client.get(f"/events/{event.id}/rotations", query_string=query)
    assert resp.status_code == 200
    return resp.text, len(statements)


def test_statements_do_not_grow_with_the_room(client, auth, organizer, mixer_of):
    small, big = mixer_of(20), mixer_of(400)
    auth.login(organizer.email)
    _page(client, small)  # warm up: the first request loads what every page needs
    small_html, small_count = _page(client, small)
    big_html, big_count = _page(client, big)
    assert small_count == big_count
    # One round's tables: 200 tables of round 1, not 1,200.
    assert len(re.findall(r"<li value=", big_html)) == 200
    assert "Round 1 · next" in big_html


def test_other_rounds_one_click_away(client, auth, organizer, mixer_of):
    event = mixer_of(20)
    auth.login(organizer.email)
    html, _ = _page(client, event, round=4)
    assert re.search(r'aria-current="page">Round 4', html)
    assert "<h3>Round 4" in html and "<h3>Round 1" not in html
    tables = services.plan_data(services.plan_for(event), only_round=4)["rounds"][0]
    first = services.names(set(tables["tables"][0]["members"]))
    assert all(row.name in html for row in first.values())
    # A round number out of range falls back to the current one.
    html, _ = _page(client, event, round=99)
    assert re.search(r'aria-current="page">Round 1', html)


def test_who_left_is_looked_up_by_name_or_email_in_big_rooms(
    client, auth, organizer, mixer_of
):
    event = mixer_of(LeftForm.LIST_LIMIT + 10)
    auth.login(organizer.email)
    html, _ = _page(client, event)
    assert 'name="who"' in html and 'name="registration"' not in html
    url = f"/events/{event.id}/rotations/left"
    token = csrf_from(html)

    resp = client.post(url, data={"csrf_token": token, "who": "Person 001"})
    page = client.get(resp.headers["Location"]).text
    assert "10 people match “Person 001”" in page  # Person 0010 ... 0019
    assert "Type the e-mail of the one who left" in page

    resp = client.post(url, data={"csrf_token": token, "who": "P7@EXAMPLE.ORG"})
    page = client.get(resp.headers["Location"]).text
    assert "Marked as gone" in page
    gone = db.session.scalar(
        select(Registration.id).where(Registration.email == "p7@example.org")
    )
    db.session.expire_all()
    assert services.plan_for(event).left_ids == [gone]

    resp = client.post(url, data={"csrf_token": token, "who": "Nobody Here"})
    page = client.get(resp.headers["Location"]).text
    assert "Nobody planned for is called or has the e-mail “Nobody Here”" in page
