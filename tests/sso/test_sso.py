"""Single sign-on against a real OpenID provider (oidc-provider, tests/sso/
provider.mjs): the browser's first sign-in makes the account and membership, the
next updates them; a wrong state, nonce or issuer is refused with nothing made;
passwords switched off for members, not admins; the admin page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from mixer.accounts.models import SignIn, User
from mixer.audit.models import AuditEntry
from mixer.extensions import db
from mixer.orgs.models import Department, Membership
from mixer.sso import services
from mixer.sso.models import OidcProvider, SsoIdentity
from mixer.sso.oidc import SsoError, discover
from tests.helpers import PASSWORD, csrf_from, link_in
from tests.sso.conftest import ALICE, CLIENT_ID, CLIENT_SECRET


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _alice() -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == ALICE["email"]))


def test_browser_first_sign_in_makes_account_and_membership_next_updates_them(
    app, live_server, browser, org, make_user, oidc, acme_sso
):
    make_user(org, role="admin")
    people = _count(User)

    def sign_in_as_alice() -> None:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(f"{live_server}/login?next=/o/acme/")
        page.get_by_role(
            "link", name="Sign in with your organization's account"
        ).click()
        # The page asked for is Acme's, so Acme's button comes first …
        assert page.get_by_role("button", name="Sign in with Acme").is_visible()
        # … but the e-mail-first path is what someone from elsewhere uses.
        page.get_by_label("Your work e-mail address").fill(ALICE["email"])
        page.get_by_role("button", name="Continue").click()
        matches = page.get_by_role("region", name="Your organization")
        matches.get_by_role("button", name="Sign in with Acme").click()
        page.wait_for_url(f"{oidc.issuer}/interaction/**")
        page.get_by_label("Login").fill("alice")
        page.get_by_label("Password").fill("secret")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/o/acme/")
        assert page.get_by_text("You are signed in with Acme").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways: {width} > 390"
        context.close()

    sign_in_as_alice()
    alice = _alice()
    assert alice is not None and alice.name == "Alice Example"
    assert alice.password_hash is None  # made by the provider, no password
    membership = alice.membership_in(org)
    assert membership.role == "member"
    assert (membership.department.name, membership.level) == ("Research", 7)
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.user_id == alice.id)
    )
    assert (identity.issuer, identity.subject) == (oidc.issuer, "alice")
    assert _count(SignIn, SignIn.user_id == alice.id) == 1
    assert _count(User) == people + 1
    joined = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_id == alice.id)
    ).all()
    assert joined == ["sso.member_joined"]

    # The provider's claims change; the next sign-in follows them and makes
    # nothing new (found by the issuer and subject link, not by e-mail).
    oidc.set_claims(
        "alice", {**ALICE, "name": "Alice Renamed", "department": "Labs", "level": 9}
    )
    sign_in_as_alice()
    alice = _alice()
    membership = alice.membership_in(org)
    assert alice.name == "Alice Renamed"
    assert (membership.department.name, membership.level) == ("Labs", 9)
    assert _count(User) == people + 1
    assert _count(Membership, Membership.user_id == alice.id) == 1
    assert _count(SsoIdentity) == 1
    assert _count(SignIn, SignIn.user_id == alice.id) == 2
    assert _count(Department, Department.org_id == org.id) == 2  # Research, Labs


def test_wrong_state_nonce_or_issuer_is_refused_and_nothing_is_made(
    app, client, org, oidc, other_oidc, acme_sso
):
    before = {model: _count(model) for model in (User, Membership, SsoIdentity, SignIn)}

    def start() -> str:
        resp = client.get("/o/acme/sso/login")
        assert resp.status_code == 302
        location = resp.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"]
        return location

    # A wrong state: refused, and the sign-in it belonged to is spent.
    callback = oidc.sign_in(start(), "bob")
    query = parse_qs(urlsplit(callback).query)
    forged = "/o/acme/sso/callback?" + urlencode(
        {"code": query["code"][0], "state": "forged" + query["state"][0]}
    )
    resp = client.get(forged)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Single sign-on did not work" in page and "its state differs" in page
    assert "Nothing was changed" in page
    resp = client.get(_path(callback))
    assert resp.status_code == 400
    assert "was used already" in resp.get_data(as_text=True)

    # A wrong nonce: the ID token's nonce is not this browser's.
    authorize = start()
    with client.session_transaction() as session:
        session["sso_pending"] = {**session["sso_pending"], "nonce": "not-the-nonce"}
    resp = client.get(_path(oidc.sign_in(authorize, "bob")))
    assert resp.status_code == 400
    assert "its nonce differs" in resp.get_data(as_text=True)

    # An ID token from another issuer: Acme's stored endpoints are pointed at a
    # second provider (a mix-up), whose token is signed by its own keys.
    provider = db.session.get(OidcProvider, acme_sso.id)
    other = services.check_discovery(other_oidc.issuer)
    provider.discovery = {**other, "issuer": oidc.issuer}
    db.session.commit()
    resp = client.get(_path(other_oidc.sign_in(start(), "bob")))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert f"issued by {other_oidc.issuer}, not by this organization" in page

    after = {model: _count(model) for model in before}
    assert after == before
    assert _count(User, User.email == "bob@corp.example.com") == 0
    assert client.get("/profile").status_code == 302  # still signed out


def test_passwords_off_refuses_members_passwords_and_links_not_admins(
    app, client, auth, org, make_user, outbox, oidc, acme_sso
):
    member = make_user(org, name="Mira Member")
    admin = make_user(org, role="admin", name="Ada Admin")
    provider = db.session.get(OidcProvider, acme_sso.id)
    provider.passwords_off = True
    db.session.commit()

    # The right password: refused, pointing to Acme's single sign-on.
    resp = auth.login(member.email)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "Acme signs its members in with single sign-on" in page
    assert 'href="http://127.0.0.1/o/acme/sso/login"' in page
    assert "Sign in with Acme" in page
    assert _count(SignIn, SignIn.user_id == member.id) == 0
    # A wrong password says only that (nothing about the organization).
    resp = auth.login(member.email, "not the password")
    assert resp.status_code == 422
    assert "signs its members in" not in resp.get_data(as_text=True)

    # An e-mailed link: its page refuses too (before and on confirming).
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"email": member.email, "action": "link", "csrf_token": token}
    )
    link = _path(link_in(outbox(to=member.email)[-1], "/login/magic/"))
    resp = client.get(link)
    assert resp.status_code == 403
    assert "Sign in with Acme" in resp.get_data(as_text=True)
    resp = client.post(link, data={"csrf_token": token})
    assert resp.status_code == 403
    assert _count(SignIn, SignIn.user_id == member.id) == 0

    # Admins keep their password: the way in when the provider fails.
    resp = auth.login(admin.email)
    assert resp.status_code == 302
    assert _count(SignIn, SignIn.user_id == admin.id) == 1
    auth.logout()

    # Single sign-on switched off: passwords work again for everyone.
    provider = db.session.get(OidcProvider, acme_sso.id)
    provider.enabled = False
    db.session.commit()
    assert auth.login(member.email, PASSWORD).status_code == 302
    assert _count(SignIn, SignIn.user_id == member.id) == 1


def test_admin_page_checks_discovery_saves_and_never_shows_the_secret(
    app, client, auth, org, make_user, oidc
):
    member = make_user(org)
    admin = make_user(org, role="admin")
    url = "/o/acme/settings/sso"
    auth.login(member.email)
    assert client.get(url).status_code == 403
    auth.logout()

    auth.login(admin.email)
    page = client.get(url).get_data(as_text=True)
    assert "Not set up" in page and "http://127.0.0.1/o/acme/sso/callback" in page
    token = csrf_from(page)
    form = {
        "csrf_token": token,
        "issuer": oidc.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile",
        "claim_name": "name",
        "claim_email": "email",
        "claim_department": "department",
        "claim_level": "",
        "email_domains": "corp.example.com, @Corp2.example.com",
        "enabled": "y",
        "action": "save",
    }

    # No CSRF token: refused, nothing saved.
    resp = client.post(url, data={k: v for k, v in form.items() if k != "csrf_token"})
    assert resp.status_code == 400
    assert _count(OidcProvider) == 0

    # A bad issuer URL, an unreachable one, plain http elsewhere: inline errors.
    for issuer, error in [
        ("not a url", "Enter the provider&#39;s full address"),
        ("http://idp.example.com", "must start with https://"),
        ("http://127.0.0.1:9", "Could not reach the provider for its discovery"),
    ]:
        resp = client.post(url, data={**form, "issuer": issuer})
        page = resp.get_data(as_text=True)
        assert resp.status_code in (400, 422), issuer
        assert 'id="issuer-help" class="field-error"' in page, issuer
        assert error in page, issuer
        assert CLIENT_SECRET not in page
    assert _count(OidcProvider) == 0

    # Checking the discovery document shows what it names, saving nothing.
    resp = client.post(
        url, data={"csrf_token": token, "issuer": oidc.issuer, "action": "check"}
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f"<code>{oidc.issuer}/token</code>" in page
    assert _count(OidcProvider) == 0

    resp = client.post(url, data=form)
    assert resp.status_code == 302
    provider = db.session.scalar(select(OidcProvider))
    assert provider.in_use and provider.email_domains == [
        "corp.example.com",
        "corp2.example.com",
    ]
    assert CLIENT_SECRET not in provider.client_secret_encrypted
    assert services.client_secret(provider) == CLIENT_SECRET
    page = client.get(url).get_data(as_text=True)
    assert "On." in page and "A secret is saved and never shown" in page
    assert CLIENT_SECRET not in page

    # A blank secret keeps the saved one; only what changed is recorded.
    resp = client.post(url, data={**form, "client_secret": "", "claim_level": "level"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert services.client_secret(db.session.scalar(select(OidcProvider))) == (
        CLIENT_SECRET
    )
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "sso.settings_changed")
        .order_by(AuditEntry.id)
    ).all()
    assert [e.details["changed"] for e in entries] == [
        [*services.SETTINGS, "client_secret"],
        ["claim_level"],
    ]
    assert all(e.actor_id == admin.id and e.org_id == org.id for e in entries)
    assert not any(CLIENT_SECRET in repr(e.details) + e.summary for e in entries)
    # In production plain http is refused even on the loopback address: an
    # organization's admin cannot point the server at its own local services.
    with pytest.raises(SsoError, match="must start with https://") as refused:
        discover(oidc.issuer, loopback_http=False)
    assert refused.value.field == "issuer"
