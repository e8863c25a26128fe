"""A signed-out attendee who scans a badge signs in from the badge page (by
password or by an e-mailed link) and lands back on the badge, and the meeting is
recorded as for a signed-in scan."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from mixer.accounts.services import find_user
from mixer.connections.models import Connection
from mixer.events.registration import register
from mixer.extensions import db
from tests.helpers import PASSWORD, csrf_from, link_in


def _attendee(door, make_user, email: str, name: str):
    user = make_user(door.org, email=email, name=name)
    reg = register(door.event, email=user.email, name=name, source="member", user=user)
    db.session.commit()
    return user, reg


def _sign_in_link(page: str) -> str:
    """The badge page's sign-in link, as a browser would follow it."""
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]
    found = [
        h
        for h in links
        if urlsplit(h).path == "/login" and "next=" in urlsplit(h).query
    ]
    assert found, page
    return found[0]


def _connections():
    db.session.expire_all()
    return db.session.execute(
        select(Connection.a_id, Connection.b_id, Connection.source)
    ).all()


def _local(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _sign_in_mails(outbox, to: str):
    return [m for m in outbox(to) if str(m["Subject"]) == "Your Mixer sign-in link"]


def _scene(door, make_user):
    me, mine = _attendee(door, make_user, "me@acme.example.org", "Mia Me")
    _, theirs = _attendee(door, make_user, "them@acme.example.org", "Tomás Them")
    return me, mine, theirs


def test_password_sign_in_from_the_badge_returns_to_it_and_records_the_meeting(
    client, door, make_user
):
    me, mine, theirs = _scene(door, make_user)
    badge = f"/c/{theirs.badge_token}"
    page = client.get(badge).get_data(as_text=True)
    assert "Tomás Them" not in page and _connections() == []
    form = client.get(_local(_sign_in_link(page))).get_data(as_text=True)
    assert re.search(rf'name="next"[^>]*value="{re.escape(badge)}"', form), form
    signed_in = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(form),
            "email": me.email,
            "password": PASSWORD,
            "next": badge,
            "action": "password",
        },
    )
    assert signed_in.status_code == 302
    assert urlsplit(signed_in.headers["Location"]).path == badge
    card = client.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "you met Tomás Them" in card
    assert _connections() == [
        (min(mine.id, theirs.id), max(mine.id, theirs.id), "scan")
    ]


def _ask_on_the_badge(client, badge: str, email: str) -> str:
    """Ask for a sign-in link with the badge page's own form; the page after."""
    page = client.get(badge).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+/sign-in)"', page)
    assert action, page
    asked = client.post(
        action.group(1), data={"csrf_token": csrf_from(page), "email": email}
    )
    assert asked.status_code == 302
    assert urlsplit(asked.headers["Location"]).path == badge
    return client.get(badge).get_data(as_text=True)


def _follow_sign_in_link(client, outbox, email: str, name: str):
    """Open the e-mailed link (GET: a confirm page) and confirm it (POST)."""
    (mail,) = _sign_in_mails(outbox, email)
    link = _local(link_in(mail, "/login/magic/"))
    before = _connections()
    confirm = client.get(link)
    assert f"Sign in as {name}?" in confirm.get_data(as_text=True)
    assert _connections() == before  # a GET (a mail scanner) changes nothing
    return client.post(
        link, data={"csrf_token": csrf_from(confirm.get_data(as_text=True))}
    )


def test_magic_link_from_the_badge_returns_to_it_and_records_the_meeting(
    client, door, make_user, outbox
):
    me, mine, theirs = _scene(door, make_user)
    badge = f"/c/{theirs.badge_token}"
    after = _ask_on_the_badge(client, badge, me.email)
    assert "a sign-in link is on its way" in after
    signed_in = _follow_sign_in_link(client, outbox, me.email, "Mia Me")
    assert signed_in.status_code == 302
    assert urlsplit(signed_in.headers["Location"]).path == badge
    card = client.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "you met Tomás Them" in card
    assert _connections() == [
        (min(mine.id, theirs.id), max(mine.id, theirs.id), "scan")
    ]


def test_a_guest_without_an_account_signs_in_from_the_badge(
    client, door, make_user, make_registration, outbox
):
    _, _, theirs = _scene(door, make_user)
    guest = make_registration(
        door.event, name="Gus Guest", email="gus@elsewhere.example.net"
    )
    assert guest.user_id is None and guest.holds_seat
    assert find_user("gus@elsewhere.example.net") is None
    badge = f"/c/{theirs.badge_token}"
    _ask_on_the_badge(client, badge, "Gus@Elsewhere.example.net")
    assert find_user("gus@elsewhere.example.net") is None  # not before the link
    (mail,) = _sign_in_mails(outbox, "gus@elsewhere.example.net")
    assert "Sign in as Gus Guest?" in client.get(
        _local(link_in(mail, "/login/magic/"))
    ).get_data(as_text=True)
    db.session.expire_all()
    assert find_user("gus@elsewhere.example.net") is None  # nor on a GET
    signed_in = _follow_sign_in_link(
        client, outbox, "gus@elsewhere.example.net", "Gus Guest"
    )
    assert urlsplit(signed_in.headers["Location"]).path == badge
    card = client.get(badge).get_data(as_text=True)
    assert "you met Tomás Them" in card
    db.session.expire_all()
    assert find_user("gus@elsewhere.example.net").name == "Gus Guest"
    assert _connections() == [
        (min(guest.id, theirs.id), max(guest.id, theirs.id), "scan")
    ]


def test_nobody_else_gets_a_link_and_the_page_says_the_same(
    client, door, make_user, make_event, make_registration, outbox
):
    _, _, theirs = _scene(door, make_user)
    elsewhere = make_event(door.org, door.organizer, title="Another Event")
    wendy = make_registration(
        elsewhere, name="Wendy Else", email="wendy@elsewhere.example.net"
    )
    gus = make_registration(
        door.event, name="Gus Guest", email="gus@elsewhere.example.net"
    )
    badge = f"/c/{theirs.badge_token}"
    pages = [
        _ask_on_the_badge(client, badge, email)
        for email in ("me@acme.example.org", "nobody@example.net", wendy.email)
    ]
    assert all("a sign-in link is on its way" in page for page in pages)
    assert len(_sign_in_mails(outbox, "me@acme.example.org")) == 1
    assert _sign_in_mails(outbox, "nobody@example.net") == []
    assert _sign_in_mails(outbox, wendy.email) == []  # a guest of another event
    # A forged badge sends a guest of the event nothing either.
    forged = client.get("/c/forgedforgedforged1").get_data(as_text=True)
    client.post(
        "/c/forgedforgedforged1/sign-in",
        data={"csrf_token": csrf_from(forged), "email": gus.email},
    )
    assert _sign_in_mails(outbox, gus.email) == []


def test_a_magic_link_never_carries_an_outside_address(client, door, make_user, outbox):
    me, _, _ = _scene(door, make_user)
    for evil in ("https://evil.example/c/x", "//evil.example/c/x", "/\\evil.example"):
        form = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "csrf_token": csrf_from(form),
                "email": me.email,
                "next": evil,
                "action": "link",
            },
        )
        link = _local(link_in(_sign_in_mails(outbox, me.email)[-1], "/login/magic/"))
        confirm = client.get(link).get_data(as_text=True)
        signed_in = client.post(link, data={"csrf_token": csrf_from(confirm)})
        where = urlsplit(signed_in.headers["Location"])
        assert where.netloc in ("", "localhost") and where.path == "/", where
        assert "evil" not in signed_in.headers["Location"]
        client.post("/logout", data={"csrf_token": csrf_from(confirm)})
