"""The mentoring charter: asked once of each member, acknowledged, counted for
admins, asked again when an admin says so, in the member's data."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from mixer.charter import services
from mixer.charter.models import CharterAck
from mixer.extensions import db
from mixer.pairs.lifecycle import create_pair
from mixer.privacy.erasure import erase_member
from tests.helpers import csrf_from

CHARTER = "We give **ten minutes** a week.\n\n<script>alert(1)</script>"
PROMPT = "Before you go on: our mentoring charter"


def test_a_new_member_is_asked_once_on_the_page_they_open(
    client, auth, make_org, make_user
):
    org = make_org(slug="acme", name="Acme", charter=CHARTER)
    member = make_user(org, name="Nia New")
    auth.login(member.email)
    page = client.get("/o/acme/events/").get_data(as_text=True)
    assert PROMPT in page and "<strong>ten minutes</strong>" in page
    # The charter keeps its own direction inside a right-to-left page.
    assert '<div class="charter"><div dir="auto">' in page
    assert "<script>alert(1)</script>" not in page
    token = csrf_from(page)
    done = client.post(
        "/o/acme/charter/ack", data={"csrf_token": token, "next": "/o/acme/events/"}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/o/acme/events/"
    assert PROMPT not in client.get("/o/acme/events/").get_data(as_text=True)
    assert "You have read this charter." in client.get("/o/acme/charter").get_data(
        as_text=True
    )
    # A foreign "next" goes to the charter page instead.
    away = client.post(
        "/o/acme/charter/ack", data={"csrf_token": token, "next": "//evil.example"}
    )
    assert away.headers["Location"] == "/o/acme/charter"


def test_the_home_page_asks_under_the_charter_it_shows(
    client, auth, make_org, make_user
):
    org = make_org(slug="acme", name="Acme", charter=CHARTER)
    member = make_user(org)
    auth.login(member.email)
    home = client.get("/o/acme/").get_data(as_text=True)
    assert PROMPT not in home  # the home page shows the charter once, not twice
    assert home.count("<strong>ten minutes</strong>") == 1
    assert "I have read it" in home
    assert 'href="/o/acme/charter"' in home


def test_admins_count_who_has_read_it_and_ask_again(client, auth, make_org, make_user):
    org = make_org(slug="acme", name="Acme", charter=CHARTER)
    admin = make_user(org, role="admin", name="Ada Admin")
    members = [make_user(org, name=f"Member {n}") for n in (1, 2)]
    services.acknowledge(admin.membership_in(org))
    services.acknowledge(members[0].membership_in(org))
    db.session.commit()
    auth.login(admin.email)
    page = client.get("/o/acme/charter").get_data(as_text=True)
    assert "2 of 3 members have acknowledged this version of the charter." in page
    assert "Member 2" in page and "Member 1" not in page
    token = csrf_from(client.get("/o/acme/charter/edit").get_data(as_text=True))
    saved = client.post(
        "/o/acme/charter/edit",
        data={
            "charter": "# New rules\n\nBe kind.",
            "ask_again": "y",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    page = client.get("/o/acme/charter").get_data(as_text=True)
    assert "0 of 3 members have acknowledged" in page and "(version 2)" in page
    assert "<h1>New rules</h1>" in page
    auth.logout()
    # Members see neither the count nor who has not read it, and may not edit.
    auth.login(members[0].email)
    page = client.get("/o/acme/charter").get_data(as_text=True)
    assert "Member 2" not in page and "have acknowledged" not in page
    assert client.get("/o/acme/charter/edit").status_code == 403
    assert PROMPT in client.get("/o/acme/events/").get_data(as_text=True)


def test_small_fixes_keep_the_acknowledgements(make_org, make_user):
    org = make_org(charter=CHARTER)
    member = make_user(org).membership_in(org)
    services.acknowledge(member)
    assert services.save_charter(org, CHARTER + " Fixed a typo.", False) == 1
    assert not services.needs_ack(member)
    assert services.save_charter(org, "Something else", True) == 2
    assert services.needs_ack(member)
    services.acknowledge(member)
    services.acknowledge(member)  # twice: one row, the current version
    assert db.session.get(CharterAck, member.id).version == 2
    assert services.save_charter(org, "", False) == 2
    assert not services.needs_ack(make_user(org).membership_in(org))


def test_prompts_and_pairs_link_to_the_charter(client, auth, make_org, make_user):
    org = make_org(slug="acme", name="Acme", charter=CHARTER)
    a, b = make_user(org), make_user(org)
    pair = create_pair(org, a, b, kind="peer")
    db.session.commit()
    auth.login(a.email)
    link = 'class="charter-link"><a href="/o/acme/charter"'
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert link in page
    # The slot pages too: finding a slot, my week, offering slots.
    for url in ("/o/acme/slots", "/o/acme/slots/week", "/o/acme/slots/offers/new"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert link in resp.get_data(as_text=True), url


def test_the_acknowledgement_is_in_the_export_and_erased(
    client, auth, make_org, make_user
):
    org = make_org(slug="acme", name="Acme", charter=CHARTER)
    admin = make_user(org, role="admin")
    member = make_user(org)
    services.acknowledge(member.membership_in(org))
    db.session.commit()
    auth.login(member.email)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/profile/data/export.zip").data))
    (acme,) = json.loads(archive.read("data.json"))["organizations"]
    assert acme["charter_acknowledged"]["version"] == 1
    done = erase_member(member.membership_in(org), admin)
    db.session.commit()
    assert done["charter_acknowledgements"] == 1
    assert db.session.scalars(select(CharterAck)).all() == []
