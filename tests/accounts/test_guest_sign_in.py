"""A guest (registered for an event by e-mail, no account yet) asks the regular
sign-in page for a link: the link makes their account when it is used."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from mixer.accounts.models import User
from mixer.events.registration import cancel_registration
from mixer.extensions import db
from tests.helpers import csrf_from, link_in, mail_text

SENT = "If that address belongs to an account, a sign-in link is on its way."


def ask_for_link(client, email: str, next_url: str = ""):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "email": email, "action": "link", "next": next_url},
    )


@pytest.fixture
def sign_in_mail(outbox):
    """The sign-in links e-mailed to an address (not its registration mail)."""
    return lambda to: [
        m for m in outbox(to) if m["Subject"] == "Your Mixer sign-in link"
    ]


def accounts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User))


def test_a_registered_guest_gets_a_first_sign_in_link(
    app, client, org, make_user, make_event, make_registration, sign_in_mail
):
    event = make_event(org, make_user(org, role="organizer"))
    make_registration(event, email="gia@example.org", name="Gia Guest")
    before = accounts()
    resp = ask_for_link(client, "  GIA@example.org ", "/o/acme/")
    assert resp.status_code == 302
    assert SENT in client.get(resp.headers["Location"]).get_data(as_text=True)
    [msg] = sign_in_mail("gia@example.org")
    assert "Gia Guest" in mail_text(msg)
    assert accounts() == before  # nothing is made until the link is used

    link = urlsplit(link_in(msg, "/login/magic/")).path
    page = client.get(link).get_data(as_text=True)
    assert "Sign in as Gia Guest?" in page
    assert accounts() == before  # a GET (a mail scanner) makes nothing either
    resp = client.post(link, data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/o/acme/"
    db.session.expire_all()
    gia = db.session.scalar(select(User).where(User.email == "gia@example.org"))
    assert gia is not None and gia.name == "Gia Guest"
    assert gia.email_confirmed_at is not None
    assert accounts() == before + 1
    # The link worked once; asking again now goes to the account as usual.
    assert client.post(link, data={"csrf_token": csrf_from(page)}).status_code == 410
    ask_for_link(app.test_client(), "gia@example.org")  # another browser
    assert len(sign_in_mail("gia@example.org")) == 2


def test_strangers_and_cancelled_guests_get_nothing_and_are_told_the_same(
    client, org, make_user, make_event, make_registration, outbox
):
    event = make_event(org, make_user(org, role="organizer"))
    reg = make_registration(event, email="gone@example.org", name="Gone")
    cancel_registration(reg, notify=False)
    db.session.commit()
    for address in ("gone@example.org", "nobody@example.org", "not-an-address"):
        resp = ask_for_link(client, address)
        assert resp.status_code == 302
        assert SENT in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert [m for m in outbox() if "sign-in" in m["Subject"]] == []
