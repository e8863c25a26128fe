"""Single sign-on and what an organization already set up: an open invitation
gives its role at the first sign-in through the provider; switching passwords
off ends the sign-ins made another way (members', not admins', not those made
through single sign-on). Against the real test provider (tests/sso/conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import SignIn, User
from mixer.audit.models import AuditEntry
from mixer.extensions import db
from mixer.orgs.models import Invitation
from mixer.orgs.services import invite_member
from mixer.sso import services
from mixer.sso.models import OidcProvider
from tests.helpers import PASSWORD, csrf_from


def _sso_sign_in(client, oidc, account: str) -> None:
    """Sign ``client`` in through Acme's provider as ``account`` (no browser)."""
    resp = client.get("/o/acme/sso/login")
    assert resp.status_code == 302
    callback = urlsplit(oidc.sign_in(resp.headers["Location"], account))
    resp = client.get(f"{callback.path}?{callback.query}")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_an_open_invitation_gives_its_role_at_the_first_sso_sign_in(
    app, client, org, make_user, oidc, acme_sso
):
    admin = make_user(org, role="admin")
    invite_member(
        org,
        "bob@corp.example.com",
        role="organizer",
        department="Events team",
        invited_by=admin,
    )
    db.session.commit()

    _sso_sign_in(client, oidc, "bob")
    bob = _user("bob@corp.example.com")
    membership = bob.membership_in(org)
    assert membership.role == "organizer"
    # The provider's mapped department claim wins over the invitation's.
    assert membership.department.name == "Sales"
    invitation = db.session.scalar(select(Invitation))
    assert invitation.accepted_at is not None  # its link no longer works
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "sso.member_joined")
    )
    assert entry.summary.endswith(
        "joined through single sign-on (invited as organizer)"
    )
    assert entry.details == {"invitation": invitation.id}


def test_an_expired_or_withdrawn_invitation_gives_no_role(
    app, client, org, make_user, oidc, acme_sso
):
    admin = make_user(org, role="admin")
    invitation = invite_member(
        org, "bob@corp.example.com", role="admin", invited_by=admin
    )
    invitation.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()

    _sso_sign_in(client, oidc, "bob")
    assert _user("bob@corp.example.com").membership_in(org).role == "member"
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).accepted_at is None


def test_switching_passwords_off_ends_members_other_sign_ins(
    app, client, auth, org, make_user, oidc, acme_sso
):
    member = make_user(org, name="Mira Member")
    admin = make_user(org, role="admin", name="Ada Admin")

    # Mira signed in with her password earlier, in another browser.
    old_browser = app.test_client()
    old_browser.post(
        "/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(old_browser.get("/login").get_data(as_text=True)),
        },
    )
    assert old_browser.get("/profile").status_code == 200
    # Alice signed in through the provider, in a third.
    alice_browser = app.test_client()
    _sso_sign_in(alice_browser, oidc, "alice")
    assert alice_browser.get("/profile").status_code == 200

    # The admin switches passwords off on the settings page.
    auth.login(admin.email)
    url = "/o/acme/settings/sso"
    token = csrf_from(client.get(url).get_data(as_text=True))
    provider = db.session.get(OidcProvider, acme_sso.id)
    form = {
        "csrf_token": token,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": "",
        "scopes": provider.scopes,
        "claim_name": "name",
        "claim_email": "email",
        "claim_department": "department",
        "claim_level": "level",
        "email_domains": "corp.example.com",
        "enabled": "y",
        "passwords_off": "y",
        "action": "save",
    }
    resp = client.post(url, data=form, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "1 sign-in made with a password or e-mailed link was ended" in page

    # Mira's password sign-in is over; Alice's (single sign-on) and the
    # admin's (admins keep passwords) go on.
    assert old_browser.get("/profile").status_code == 302
    assert alice_browser.get("/profile").status_code == 200
    assert client.get("/profile").status_code == 200
    ended = db.session.scalars(
        select(SignIn.user_id).where(SignIn.revoked_at.is_not(None))
    ).all()
    assert ended == [member.id]
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "sso.settings_changed")
        .order_by(AuditEntry.id.desc())
    )
    assert entry.details["sign_ins_ended"] == 1

    # Saving again with passwords still off ends nothing more.
    provider = db.session.get(OidcProvider, acme_sso.id)
    again = services.save_settings(
        org,
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=None,
        enabled=True,
        passwords_off=True,
        claim_department="department",
        claim_level="level",
        email_domains="corp.example.com",
    )
    assert again.ended_sign_ins == 0
