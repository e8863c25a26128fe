"""A member says how many mentees and mentoring pairs they take on, and from when,
for each organization: on their profile, one link away from the org's home page."""

from __future__ import annotations

import html as htmllib
from datetime import date

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.orgs.models import Membership
from tests.helpers import csrf_from


@pytest.fixture
def ada(make_org, make_user):
    """Ada, a member of Acme and of Globex (listed in that order on her profile)."""
    acme = make_org(slug="acme", name="Acme")
    globex = make_org(slug="globex", name="Globex")
    user = make_user(acme, email="ada@example.org", name="Ada Lovelace")
    make_user(globex, email="ada@example.org", name="Ada Lovelace")
    return user, acme, globex


def memberships(user_id: int) -> dict[str, Membership]:
    db.session.expire_all()
    return {
        m.org.slug: m
        for m in db.session.scalars(
            select(Membership).where(Membership.user_id == user_id)
        )
    }


def profile_post(client, acme, globex, **fields) -> dict:
    token = csrf_from(client.get("/profile").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "name": "Ada Lovelace",
        "memberships-0-org_id": str(acme.id),
        "memberships-0-department": "",
        "memberships-0-level": "",
        "memberships-0-mentoring_capacity": "3",
        "memberships-0-available_from": "",
        "memberships-1-org_id": str(globex.id),
        "memberships-1-department": "",
        "memberships-1-level": "",
        "memberships-1-mentoring_capacity": "3",
        "memberships-1-available_from": "",
    }
    data.update({k.replace("__", "-"): v for k, v in fields.items()})
    return client.post("/profile", data=data)


def test_home_page_says_it_and_links_to_the_profile(client, auth, ada, frozen):
    user, acme, _ = ada
    auth.login(user.email)
    home = client.get("/o/acme/").get_data(as_text=True)
    assert "At most 3 mentees and mentoring pairs." in home
    link = f'href="/profile#membership-{acme.id}"'
    assert link in home
    profile = client.get("/profile").get_data(as_text=True)
    assert f'id="membership-{acme.id}"' in profile
    assert "Mentees and mentoring pairs I take on at most" in profile


def test_set_per_organization_and_shown_back(client, auth, ada, frozen):
    user, acme, globex = ada
    auth.login(user.email)
    resp = profile_post(
        client,
        acme,
        globex,
        memberships__0__mentoring_capacity=" 0 ",
        memberships__1__mentoring_capacity="5",
        memberships__1__available_from="2026-06-01",
    )
    assert resp.status_code == 302
    mine = memberships(user.id)
    assert (mine["acme"].mentoring_capacity, mine["acme"].available_from) == (0, None)
    assert (mine["globex"].mentoring_capacity, mine["globex"].available_from) == (
        5,
        date(2026, 6, 1),
    )
    assert "No mentees or mentoring pairs right now." in client.get(
        "/o/acme/"
    ).get_data(as_text=True)
    globex_home = " ".join(client.get("/o/globex/").get_data(as_text=True).split())
    assert (
        'At most 5 mentees and mentoring pairs, not before <time datetime="2026-06-01">'
        "1 June 2026</time>." in globex_home
    )
    profile = client.get("/profile").get_data(as_text=True)
    assert 'value="2026-06-01"' in profile

    # Cleared, the date is gone; a date already past is kept and means "now".
    resp = profile_post(
        client, acme, globex, memberships__1__available_from="2026-01-05"
    )
    assert resp.status_code == 302
    assert memberships(user.id)["globex"].available_from == date(2026, 1, 5)
    assert "not before" not in client.get("/o/globex/").get_data(as_text=True)
    assert profile_post(client, acme, globex).status_code == 302
    mine = memberships(user.id)
    assert (mine["globex"].mentoring_capacity, mine["globex"].available_from) == (
        3,
        None,
    )


@pytest.mark.parametrize("capacity", ["21", "-1", "two", "1.5"])
def test_bad_input_is_inline_and_changes_nothing(client, auth, ada, capacity):
    user, acme, globex = ada
    auth.login(user.email)
    resp = profile_post(
        client,
        acme,
        globex,
        memberships__0__department="Engines",
        memberships__1__mentoring_capacity=capacity,
    )
    page = htmllib.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422
    field = page.split('name="memberships-1-mentoring_capacity"')[1].split("</small>")[
        0
    ]
    assert "Use a whole number from 0 (none right now) to 20." in field
    assert f'value="{capacity}"' in page
    mine = memberships(user.id)
    assert mine["globex"].mentoring_capacity == 3
    assert mine["acme"].department is None  # the whole profile is refused

    resp = profile_post(
        client, acme, globex, memberships__0__available_from="next spring"
    )
    assert resp.status_code == 422
    field = (
        resp.get_data(as_text=True)
        .split('name="memberships-0-available_from"')[1]
        .split("</small>")[0]
    )
    assert "Not a valid date value." in field
    assert memberships(user.id)["acme"].available_from is None
