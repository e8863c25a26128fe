"""Sign-in, magic links, password reset, sign-out, CSRF, profile, API tokens."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.accounts import services
from mixer.accounts.models import ApiToken, User
from mixer.extensions import db
from mixer.mail.preferences import unsubscribe_url
from mixer.tokens.models import UsedToken
from tests.helpers import PASSWORD, csrf_from, link_in, mail_text


def path_of(link: str) -> str:
    """The path of an absolute link (the test client keeps cookies per host)."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_in_as(client) -> str | None:
    """The e-mail of the person the client is signed in as, or None."""
    resp = client.get("/profile")
    if resp.status_code != 200:
        return None
    match = re.search(r"Signed in as <strong>([^<]+)</strong>", resp.get_data(True))
    assert match, "the profile page names the person"
    return match.group(1)


def post_form(client, url: str, data: dict, page_url: str | None = None):
    """GET the page holding the form, then POST ``data`` with its CSRF token."""
    page = client.get(page_url or url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture
def member(make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    return make_user(org, email="ada@example.org", name="Ada Lovelace")


def used_tokens() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(UsedToken))


# --- password sign-in ---------------------------------------------------------


def test_login_page_offers_password_and_link(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html
    assert 'value="password"' in html and "E-mail me a sign-in link" in html
    assert "Forgot your password?" in html


def test_sign_in_with_the_right_password(client, auth, member):
    resp = auth.login("ADA@example.org")  # addresses are case-insensitive
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    # One organization: the front door sends the person straight to it.
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Acme" in home and "Our mentoring charter" in home
    assert signed_in_as(client) == "ada@example.org"
    db.session.expire_all()
    assert db.session.get(User, member.id).last_login_at is not None


def test_wrong_password_is_refused_with_a_clear_message(client, auth, member):
    resp = auth.login("ada@example.org", "not the password")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "That e-mail and password do not match" in html
    assert 'value="ada@example.org"' in html  # what was typed stays
    assert signed_in_as(client) is None


def test_unknown_address_and_wrong_password_look_the_same(client, auth, member):
    unknown = auth.login("nobody@example.org", "whatever pass").get_data(as_text=True)
    assert "That e-mail and password do not match" in unknown


def test_password_is_needed_unless_a_link_is_asked_for(client, member):
    resp = post_form(client, "/login", {"email": "ada@example.org"})
    assert resp.status_code == 422
    assert "Enter your password" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/o/acme/", "/o/acme/"),
        ("/profile?tab=tokens", "/profile?tab=tokens"),
        ("https://evil.example.org/", "/"),
        ("//evil.example.org/", "/"),
        ("/\\evil.example.org", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_honoured_only_for_local_paths(client, member, next_url, expected):
    resp = post_form(
        client,
        "/login",
        {"email": "ada@example.org", "password": PASSWORD, "next": next_url},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == expected


def test_protected_page_sends_to_login_and_back(client, member):
    resp = client.get("/profile")
    assert resp.status_code == 302
    login_url = resp.headers["Location"]
    assert login_url.startswith("/login?next=")
    page = client.get(login_url).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/profile"' in page
    resp = client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page),
            "email": "ada@example.org",
            "password": PASSWORD,
            "next": "/profile",
        },
    )
    assert resp.headers["Location"] == "/profile"


def test_remember_me_sets_a_lasting_cookie(client, member):
    resp = post_form(
        client,
        "/login",
        {"email": "ada@example.org", "password": PASSWORD, "remember": "y"},
    )
    assert resp.status_code == 302
    cookies = resp.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") for c in cookies)


def test_logout_is_post_only(client, auth, member):
    auth.login("ada@example.org")
    assert client.get("/logout").status_code == 405
    assert signed_in_as(client) == "ada@example.org"
    resp = auth.logout()
    assert resp.status_code == 302
    assert signed_in_as(client) is None


# --- CSRF -----------------------------------------------------------------------------


def test_form_without_csrf_token_is_refused_and_changes_nothing(client, auth, member):
    auth.login("ada@example.org")
    resp = client.post("/profile", data={"name": "Mallory", "pronouns": "x"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "nothing was changed" in html
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert user.name == "Ada Lovelace" and user.pronouns is None


def test_login_without_csrf_token_is_refused(client, member):
    resp = client.post(
        "/login", data={"email": "ada@example.org", "password": PASSWORD}
    )
    assert resp.status_code == 400
    assert signed_in_as(client) is None


def test_logout_without_csrf_token_is_refused(client, auth, member):
    auth.login("ada@example.org")
    assert client.post("/logout").status_code == 400
    assert signed_in_as(client) == "ada@example.org"


# --- magic links ----------------------------------------------------------------------


def ask_for_link(client, email: str, next_url: str = ""):
    return post_form(
        client, "/login", {"email": email, "action": "link", "next": next_url}
    )


def test_magic_link_end_to_end(client, member, outbox):
    resp = ask_for_link(client, "ada@example.org", "/o/acme/")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "If that address belongs to an account" in page
    [msg] = outbox("ada@example.org")
    assert msg["Subject"] == "Your Mixer sign-in link"
    assert "20 minutes" in mail_text(msg)
    link = path_of(link_in(msg, "/login/magic/"))

    # Opening the link (as a mail scanner would) only shows a button.
    for _ in range(2):
        confirm = client.get(link)
        assert confirm.status_code == 200
        assert "Sign in as Ada Lovelace?" in confirm.get_data(as_text=True)
    assert used_tokens() == 0
    assert signed_in_as(client) is None

    resp = post_form(client, link, {})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/o/acme/"
    assert signed_in_as(client) == "ada@example.org"
    assert used_tokens() == 1


def test_magic_link_mail_has_html_and_text(client, member, outbox):
    ask_for_link(client, "ada@example.org")
    [msg] = outbox()
    html = msg.get_body(preferencelist=("html",)).get_content()
    link = link_in(msg, "/login/magic/")
    assert f'href="{link}"' in html
    assert 'lang="en"' in html and 'role="presentation"' in html
    assert "Sign in to Mixer" in html


def test_reused_magic_link_is_refused(client, auth, member, outbox):
    ask_for_link(client, "ada@example.org")
    link = path_of(link_in(outbox()[0], "/login/magic/"))
    assert post_form(client, link, {}).status_code == 302
    auth.logout()

    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(link, data={"csrf_token": token})
    assert resp.status_code == 410
    assert signed_in_as(client) is None
    assert used_tokens() == 1


def test_expired_magic_link_is_refused(client, member, outbox):
    minutes = client.application.config["MAGIC_LINK_MINUTES"]
    # Ask for the link just over the limit ago: token timestamps follow mixer.clock.
    clock.freeze(clock.now() - timedelta(minutes=minutes, seconds=5))
    try:
        ask_for_link(client, "ada@example.org")
    finally:
        clock.reset()
    link = path_of(link_in(outbox()[0], "/login/magic/"))

    resp = client.get(link)
    assert resp.status_code == 410
    html = resp.get_data(as_text=True)
    assert "This link has expired" in html and "Nothing was changed" in html
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(link, data={"csrf_token": token})
    assert resp.status_code == 410
    assert signed_in_as(client) is None
    assert used_tokens() == 0


def test_tampered_magic_link_is_refused(client, member, outbox):
    ask_for_link(client, "ada@example.org")
    link = path_of(link_in(outbox()[0], "/login/magic/"))
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    resp = client.get(tampered)
    assert resp.status_code == 400
    assert "not valid" in resp.get_data(as_text=True)


def test_link_request_never_reveals_whether_an_address_exists(client, member, outbox):
    known = client.get(ask_for_link(client, "ada@example.org").headers["Location"])
    unknown = client.get(ask_for_link(client, "nobody@example.org").headers["Location"])
    message = "If that address belongs to an account, a sign-in link is on its way."
    assert message in known.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert [m["To"] for m in outbox()] == ["ada@example.org"]


# --- password reset -------------------------------------------------------------------


def test_password_reset_works_once(client, auth, member, outbox):
    resp = post_form(client, "/reset", {"email": "ada@example.org"})
    assert resp.status_code == 302
    post_form(client, "/reset", {"email": "nobody@example.org"})  # same answer, no mail
    [msg] = outbox()
    assert msg["Subject"] == "Reset your Mixer password"
    link = path_of(link_in(msg, "/reset/"))

    page = client.get(link)
    assert page.status_code == 200
    assert "ada@example.org" in page.get_data(as_text=True)

    short = post_form(client, link, {"new_password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)

    new = "a brand new passphrase"
    resp = post_form(client, link, {"new_password": new, "confirm": new})
    assert resp.status_code == 302
    assert signed_in_as(client) == "ada@example.org"
    db.session.expire_all()
    assert services.authenticate("ada@example.org", new) is not None
    assert services.authenticate("ada@example.org", PASSWORD) is None

    auth.logout()
    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


# --- profile --------------------------------------------------------------------------


def profile_data(**changes) -> dict:
    data = {
        "name": "Ada King",
        "pronouns": "she/her",
        "bio": "Counting machines.",
        "offers": "Maths, poetry,  maths ",
        "seeks": "Steam engines",
        "notify_event_reminders": "y",
        "notify_digest": "y",
        "memberships-0-org_id": "",
        "memberships-0-department": "Analytical Engines",
        "memberships-0-level": "12",
    }
    data.update(changes)
    return data


def test_profile_saves_every_part(client, auth, member):
    auth.login("ada@example.org")
    org_id = member.memberships[0].org_id
    resp = post_form(
        client, "/profile", profile_data(**{"memberships-0-org_id": str(org_id)})
    )
    assert resp.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert "Your profile is saved." in page
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert (user.name, user.pronouns, user.bio) == (
        "Ada King",
        "she/her",
        "Counting machines.",
    )
    assert user.offers == ["maths", "poetry"] and user.seeks == ["steam engines"]
    assert user.notifications["event_reminders"] is True
    assert user.notifications["followup_prompts"] is False
    assert user.memberships[0].department.name == "Analytical Engines"
    assert user.memberships[0].level == 12


def test_profile_errors_are_inline_and_keep_what_was_typed(client, auth, member):
    auth.login("ada@example.org")
    org_id = str(member.memberships[0].org_id)
    resp = post_form(
        client,
        "/profile",
        profile_data(
            name="  ",
            **{"memberships-0-org_id": org_id, "memberships-0-level": "99"},
        ),
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "A name is needed." in html
    assert "Use a whole number between 0 and 80." in html
    for typed in ('value="she/her"', "Counting machines.", "Maths, poetry", "99"):
        assert typed in html
    assert 'value="Analytical Engines"' in html
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert user.name == "Ada Lovelace" and user.pronouns is None
    assert user.memberships[0].department is None


def test_profile_cannot_touch_another_organizations_membership(
    client, auth, member, make_org, make_user
):
    other_org = make_org(slug="other")
    stranger = make_user(other_org, department="Untouched")
    auth.login("ada@example.org")
    resp = post_form(
        client,
        "/profile",
        profile_data(**{"memberships-0-org_id": str(other_org.id)}),
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert stranger.memberships[0].department.name == "Untouched"
    assert len(db.session.get(User, member.id).memberships) == 1


def test_change_password_checks_the_current_one(client, auth, member):
    auth.login("ada@example.org")
    new = "another fine passphrase"
    wrong = post_form(
        client,
        "/profile/password",
        {"current_password": "nope", "new_password": new, "confirm": new},
        page_url="/profile",
    )
    assert wrong.status_code == 422
    assert "That is not your current password." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert services.authenticate("ada@example.org", PASSWORD) is not None

    ok = post_form(
        client,
        "/profile/password",
        {"current_password": PASSWORD, "new_password": new, "confirm": new},
        page_url="/profile",
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert services.authenticate("ada@example.org", new) is not None


# --- API tokens -----------------------------------------------------------------------


def test_api_token_is_shown_once_and_can_be_revoked(client, auth, member):
    auth.login("ada@example.org")
    org_id = member.memberships[0].org_id
    resp = post_form(
        client,
        "/profile/tokens",
        {"name": "HR sync", "org_id": str(org_id)},
        page_url="/profile",
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    secret = html.split('id="token-secret" class="secret" type="text" value="')[1]
    secret = secret.split('"')[0]
    assert secret.startswith("mxr_") and "shown only this once" in html

    api = client.get("/api/v1/", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200

    profile = client.get("/profile").get_data(as_text=True)
    assert "HR sync" in profile and secret[:10] in profile
    assert secret not in profile

    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "HR sync"))
    resp = post_form(
        client, f"/profile/tokens/{token.id}/revoke", {}, page_url="/profile"
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert services.token_for_secret(secret) is None
    assert "Revoked" in client.get("/profile").get_data(as_text=True)


def test_tokens_are_only_for_ones_own_organizations(
    client, auth, member, make_org, make_user
):
    other_org = make_org(slug="other")
    other = make_user(other_org)
    their_token, _ = services.create_api_token(other, other_org, "theirs")
    db.session.commit()
    auth.login("ada@example.org")

    resp = post_form(
        client,
        "/profile/tokens",
        {"name": "sneaky", "org_id": str(other_org.id)},
        page_url="/profile",
    )
    assert resp.status_code == 422
    assert "Not a valid choice" in resp.get_data(as_text=True)

    resp = post_form(
        client, f"/profile/tokens/{their_token.id}/revoke", {}, page_url="/profile"
    )
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, their_token.id).revoked_at is None


# --- unsubscribe ----------------------------------------------------------------------


def test_unsubscribe_page_asks_before_changing(client, member):
    url = path_of(unsubscribe_url(member.id, "digest"))
    resp = client.get(url)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # The label as the profile shows it (not lower-cased: German nouns keep
    # their capitals), after a sentence of its own.
    assert "this kind of e-mail to ada@example.org: <strong>The occasional" in html
    db.session.expire_all()
    assert db.session.get(User, member.id).wants("digest")

    done = client.post(url)  # the page's own button needs no CSRF token
    assert done.status_code == 200
    assert "You are unsubscribed" in done.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, member.id).wants("digest")


def test_one_click_unsubscribe_works_without_csrf(client, member):
    url = path_of(unsubscribe_url(member.id, "followup_prompts"))
    resp = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "unsubscribed"
    db.session.expire_all()
    user = db.session.get(User, member.id)
    assert not user.wants("followup_prompts")
    assert user.wants("event_reminders")


def test_broken_unsubscribe_link_changes_nothing(client, member):
    url = path_of(unsubscribe_url(member.id, "digest"))
    resp = client.post(url[:-4] + "xxxx")
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, member.id).wants("digest")


# --- landing pages --------------------------------------------------------------------


def test_landing_page_explains_mixer(client):
    html = client.get("/").get_data(as_text=True)
    assert "micro-mentoring" in html and 'href="/login"' in html


def test_people_in_several_organizations_choose_one(client, auth, make_org, make_user):
    a, b = make_org(name="Alpha"), make_org(name="Beta")
    user = make_user(a, email="both@example.org")
    from mixer.orgs.services import add_member

    add_member(b, user.email, user.name, role="organizer")
    db.session.commit()
    auth.login("both@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "Where to?" in html
    assert f'href="/o/{a.slug}/"' in html and f'href="/o/{b.slug}/"' in html
    assert "organizer" in html


def test_signed_in_people_skip_the_login_page(client, auth, member):
    auth.login("ada@example.org")
    assert client.get("/login").headers["Location"] == "/"
    resp = client.get("/login?next=/profile")
    assert resp.headers["Location"] == "/profile"
    resp = client.get("/login?next=https://evil.example.org/")
    assert resp.headers["Location"] == "/"
