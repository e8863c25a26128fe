"""Organization pages: home, settings, members admin, invitations, CSV import."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import ApiToken, User
from mixer.accounts.services import authenticate, create_api_token
from mixer.extensions import db
from mixer.orgs.models import Department, Invitation, Membership, Organization
from mixer.orgs.services import add_member, invite_member
from tests.helpers import PASSWORD, csrf_from, link_in, mail_text


def path_of(link: str) -> str:
    return urlsplit(link).path


def token_from(client, url: str = "/profile") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


@pytest.fixture
def acme(make_org):
    return make_org(
        slug="acme",
        name="Acme",
        charter="We give **ten minutes** a week.\n\n<script>alert(1)</script>",
    )


@pytest.fixture
def admin(acme, make_user):
    return make_user(acme, role="admin", email="root@acme.example.org", name="Root")


def membership_of(user_id: int, org_id: int) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.org_id == org_id
        )
    )


# --- home and navigation --------------------------------------------------------------


def test_home_shows_charter_role_and_links(client, auth, acme, make_user):
    member = make_user(acme, email="m@acme.example.org")
    auth.login(member.email)
    resp = client.get("/o/acme/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<strong>ten minutes</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Upcoming events" in html
    assert 'class="badge-role">member<' in html
    assert 'href="/o/acme/events/"' in html
    assert 'href="/o/acme/members"' not in html
    assert 'href="/o/acme/settings"' not in html


def test_admins_see_members_and_settings_in_the_navigation(client, auth, admin):
    auth.login(admin.email)
    html = client.get("/o/acme/").get_data(as_text=True)
    nav = html.split('class="nav-links"')[1].split("</ul>")[0]
    for href in ("/o/acme/", "/o/acme/events/", "/o/acme/members", "/o/acme/settings"):
        assert f'href="{href}"' in nav


@pytest.mark.parametrize("role", ["member", "speaker", "organizer"])
def test_admin_pages_are_403_below_admin(client, auth, acme, make_user, role):
    user = make_user(acme, role=role)
    auth.login(user.email)
    # Organizers may read the members table (test_member_details_views.py).
    needs = {"/o/acme/settings": "admin"}
    if role != "organizer":
        needs["/o/acme/members"] = "organizer"
    for url, needed in needs.items():
        resp = client.get(url)
        assert resp.status_code == 403
        assert f"This needs the {needed} role in Acme." in resp.get_data(as_text=True)
    resp = client.post(
        "/o/acme/invitations",
        data={"csrf_token": token_from(client), "invite-email": "x@example.org"},
    )
    assert resp.status_code == 403
    assert db.session.scalar(select(Invitation)) is None


def test_tenant_isolation_every_org_b_page_is_404(
    client, auth, acme, admin, make_org, make_user
):
    globex = make_org(slug="globex", name="Globex")
    globex_admin = make_user(globex, role="admin")
    victim = make_user(globex, email="victim@globex.example.org", department="R&D")
    invitation = invite_member(globex, "new@example.org", invited_by=globex_admin)
    db.session.commit()
    victim_m = victim.memberships[0]
    dept = victim_m.department
    auth.login(admin.email)  # an admin, even, of another organization
    token = token_from(client)

    gets = [
        "/o/globex/",
        "/o/globex/events/",
        "/o/globex/members",
        "/o/globex/members?q=victim",
        "/o/globex/settings",
    ]
    posts = {
        "/o/globex/settings": {"name": "Owned", "kind": "company"},
        f"/o/globex/members/{victim_m.id}/role": {"role": "admin"},
        f"/o/globex/members/{victim_m.id}/remove": {},
        "/o/globex/invitations": {"invite-email": "spy@example.org"},
        f"/o/globex/invitations/{invitation.id}/resend": {},
        f"/o/globex/invitations/{invitation.id}/revoke": {},
        "/o/globex/departments": {"dept-name": "Spies"},
        f"/o/globex/departments/{dept.id}": {f"dept{dept.id}-name": "Owned"},
        # Org B's objects through org A's own pages are just as missing.
        f"/o/acme/members/{victim_m.id}/role": {"role": "member"},
        f"/o/acme/members/{victim_m.id}/remove": {},
        f"/o/acme/invitations/{invitation.id}/resend": {},
        f"/o/acme/invitations/{invitation.id}/revoke": {},
        f"/o/acme/departments/{dept.id}": {f"dept{dept.id}-name": "Owned"},
    }
    for url in gets:
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "Globex" not in resp.get_data(as_text=True)
    for url, data in posts.items():
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404
    upload = {
        "csrf_token": token,
        "file": (io.BytesIO(b"name,email\nSpy,spy@example.org\n"), "m.csv"),
    }
    assert client.post("/o/globex/members/import", data=upload).status_code == 404

    db.session.expire_all()
    org = db.session.get(Organization, globex.id)
    assert org.name == "Globex"
    assert [d.name for d in org.departments] == ["R&D"]
    assert membership_of(victim.id, globex.id).role == "member"
    inv = db.session.get(Invitation, invitation.id)
    assert inv.revoked_at is None
    assert (
        db.session.scalar(select(User).where(User.email == "spy@example.org")) is None
    )
    assert len(db.session.scalars(select(Invitation)).all()) == 1


def test_outsider_members_page_is_404_and_home_too(client, auth, make_org, make_user):
    a, b = make_org(), make_org()
    user = make_user(a)
    make_user(b)
    auth.login(user.email)
    assert client.get(f"/o/{b.slug}/").status_code == 404
    assert client.get(f"/o/{b.slug}/members").status_code == 404
    assert client.get("/o/no-such-org/").status_code == 404


# --- settings -------------------------------------------------------------------------


def test_admin_edits_name_kind_and_charter(client, auth, admin):
    auth.login(admin.email)
    url = "/o/acme/settings"
    resp = client.post(
        url,
        data={
            "csrf_token": token_from(client, url),
            "name": "Acme School",
            "kind": "school",
            "charter": "# Our promise\n\n- listen",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    org = db.session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert (org.name, org.kind) == ("Acme School", "school")
    html = client.get("/o/acme/").get_data(as_text=True)
    assert "<h1>Our promise</h1>" in html and "<li>listen</li>" in html


def test_settings_errors_are_inline_and_change_nothing(client, auth, admin):
    auth.login(admin.email)
    url = "/o/acme/settings"
    resp = client.post(
        url,
        data={
            "csrf_token": token_from(client, url),
            "name": "",
            "kind": "castle",
            "charter": "kept text",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "A name is needed." in html and "Not a valid choice" in html
    assert "kept text" in html
    db.session.expire_all()
    assert db.session.scalar(select(Organization.name)) == "Acme"


# --- members table --------------------------------------------------------------------


def test_members_table_searches_and_paginates(client, auth, acme, admin):
    for n in range(30):
        add_member(acme, f"p{n:02}@acme.example.org", f"Person {n:02}", level=n)
    add_member(acme, "grace@navy.example.org", "Grace Hopper", department="Navy")
    db.session.commit()
    auth.login(admin.email)

    first = client.get("/o/acme/members").get_data(as_text=True)
    assert 'Members <span class="muted">(32)</span>' in first
    assert "Grace Hopper" in first and "Person 23" in first
    assert "Person 24" not in first  # 25 a page, sorted by name
    assert 'href="/o/acme/members?page=2"' in first
    second = client.get("/o/acme/members?page=2").get_data(as_text=True)
    assert "Person 24" in second and "Root" in second and "Grace" not in second

    found = client.get("/o/acme/members?q=NAVY").get_data(as_text=True)
    assert "Grace Hopper" in found and "Person 01" not in found
    assert "1 match for" in found
    # LIKE wildcards are searched for literally.
    assert "No members match" in client.get("/o/acme/members?q=%25").get_data(True)


def test_change_role_and_keep_the_last_admin(client, auth, acme, admin, make_user):
    member = make_user(acme, name="Mo")
    auth.login(admin.email)
    token = token_from(client)
    mid = member.memberships[0].id
    resp = client.post(
        f"/o/acme/members/{mid}/role?q=Mo",
        data={"csrf_token": token, "role": "organizer"},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/o/acme/members?q=Mo"
    assert membership_of(member.id, acme.id).role == "organizer"

    own = admin.memberships[0].id
    resp = client.post(
        f"/o/acme/members/{own}/role", data={"csrf_token": token, "role": "member"}
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "An organization needs at least one admin." in page
    assert membership_of(admin.id, acme.id).role == "admin"

    resp = client.post(f"/o/acme/members/{own}/remove", data={"csrf_token": token})
    assert membership_of(admin.id, acme.id) is not None


def test_remove_member_revokes_their_tokens(client, auth, acme, admin, make_user):
    member = make_user(acme, name="Leaving")
    token, _ = create_api_token(member, acme, "script")
    db.session.commit()
    auth.login(admin.email)
    mid = member.memberships[0].id
    resp = client.post(
        f"/o/acme/members/{mid}/remove", data={"csrf_token": token_from(client)}
    )
    assert resp.status_code == 302
    page = client.get("/o/acme/members").get_data(as_text=True)
    assert "Leaving is no longer a member of Acme." in page
    assert membership_of(member.id, acme.id) is None
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert db.session.get(User, member.id) is not None  # the person stays


# --- departments ----------------------------------------------------------------------


def test_departments_add_and_rename(client, auth, acme, admin):
    auth.login(admin.email)
    token = token_from(client)
    resp = client.post(
        "/o/acme/departments", data={"csrf_token": token, "dept-name": " Finance "}
    )
    assert resp.status_code == 302
    dup = client.post(
        "/o/acme/departments", data={"csrf_token": token, "dept-name": "finance"}
    )
    assert dup.status_code == 422
    assert "There is already a department called" in dup.get_data(as_text=True)
    dept = db.session.scalar(select(Department))
    resp = client.post(
        f"/o/acme/departments/{dept.id}",
        data={"csrf_token": token, f"dept{dept.id}-name": "Money"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert [d.name for d in db.session.scalars(select(Department))] == ["Money"]
    html = client.get("/o/acme/members").get_data(as_text=True)
    assert 'value="Money"' in html


# --- invitations ----------------------------------------------------------------------


def invite(client, **fields):
    data = {"csrf_token": token_from(client, "/o/acme/members")}
    data.update({f"invite-{k}": v for k, v in fields.items()})
    return client.post("/o/acme/invitations", data=data)


def test_invitation_accepted_from_the_email(client, auth, acme, admin, outbox):
    auth.login(admin.email)
    resp = invite(
        client,
        email="Newbie@Example.org",
        name="New Bee",
        role="organizer",
        department="Design",
        level="3",
    )
    assert resp.status_code == 302
    page = client.get("/o/acme/members").get_data(as_text=True)
    assert "Invitation sent to newbie@example.org." in page
    assert "newbie@example.org" in page.split('id="invitations"')[1]
    [msg] = outbox("newbie@example.org")
    assert msg["Subject"] == "You are invited to Acme on Mixer"
    assert "Root invites you to join Acme" in mail_text(msg)
    link = path_of(link_in(msg, "/invitations/"))
    auth.logout()

    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Join Acme on Mixer" in html and 'value="New Bee"' in html
    resp = client.post(
        link,
        data={
            "csrf_token": csrf_from(html),
            "name": "Newbie Bee",
            "password": "my own passphrase",
            "confirm": "my own passphrase",
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/o/acme/"
    home = client.get("/o/acme/").get_data(as_text=True)
    assert "Welcome to Acme!" in home and ">organizer<" in home

    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "newbie@example.org"))
    assert user.name == "Newbie Bee" and user.email_confirmed_at is not None
    m = user.memberships[0]
    assert (m.role, m.department.name, m.level) == ("organizer", "Design", 3)
    assert authenticate("newbie@example.org", "my own passphrase") == user
    assert db.session.scalar(select(Invitation)).accepted_at is not None

    auth.logout()
    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_invitation_form_errors_are_inline(client, auth, acme, admin, make_user):
    member = make_user(acme, email="here@example.org")
    auth.login(admin.email)
    bad = invite(client, email="not an address", name="Typed Name", level="200")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Typed Name" in html and "Use a whole number between 0 and 80." in html
    dup = invite(client, email=member.email)
    assert dup.status_code == 422
    assert "already a member of Acme" in dup.get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None


def test_existing_account_joins_without_new_password(
    client, auth, acme, admin, make_org, make_user, outbox
):
    elsewhere = make_user(make_org(), email="known@example.org", name="Known")
    invite_member(acme, "known@example.org", role="speaker", invited_by=admin)
    db.session.commit()
    link = path_of(link_in(outbox("known@example.org")[0], "/invitations/"))
    page = client.get(link).get_data(as_text=True)
    assert "You already have a Mixer account" in page and 'name="password"' not in page
    resp = client.post(link, data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert membership_of(elsewhere.id, acme.id).role == "speaker"
    assert authenticate("known@example.org", PASSWORD) is not None


def test_expired_invitation_is_refused(client, acme, admin, outbox):
    clock.freeze(clock.now())
    invite_member(acme, "late@example.org", invited_by=admin)
    db.session.commit()
    link = path_of(link_in(outbox()[0], "/invitations/"))
    clock.advance(timedelta(days=15))
    resp = client.get(link)
    assert resp.status_code == 410
    assert "This invitation has expired" in resp.get_data(as_text=True)
    assert (
        db.session.scalar(select(User).where(User.email == "late@example.org")) is None
    )


def test_resend_and_withdraw_invitations(client, auth, acme, admin, outbox):
    clock.freeze(clock.now())
    invitation = invite_member(acme, "maybe@example.org", invited_by=admin)
    db.session.commit()
    first_link = path_of(link_in(outbox()[0], "/invitations/"))
    first_expiry = invitation.expires_at
    clock.advance(timedelta(days=2))
    auth.login(admin.email)
    token = token_from(client)

    resp = client.post(
        f"/o/acme/invitations/{invitation.id}/resend", data={"csrf_token": token}
    )
    assert resp.status_code == 302
    assert len(outbox("maybe@example.org")) == 2
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).expires_at > first_expiry

    resp = client.post(
        f"/o/acme/invitations/{invitation.id}/revoke", data={"csrf_token": token}
    )
    assert resp.status_code == 302
    page = client.get("/o/acme/members").get_data(as_text=True)
    assert "No invitations waiting for an answer." in page
    auth.logout()
    gone = client.get(first_link)
    assert gone.status_code == 410
    assert "withdrawn" in gone.get_data(as_text=True)


# --- CSV import -----------------------------------------------------------------------


def test_csv_import_reports_bad_rows_and_imports_good_ones(
    client, auth, acme, admin, make_user
):
    make_user(acme, email="old@example.org", name="Old Timer")
    csv_text = (
        "Name,Email,Department,Level\n"  # line 1
        "Ann Able,ann@example.org,Finance,4\n"  # 2: good
        "Bad Mail,not-an-address,Finance,2\n"  # 3: bad e-mail
        ",noname@example.org,Finance,1\n"  # 4: missing name
        "Ann Again,ANN@example.org,Sales,1\n"  # 5: duplicate in file
        "Lev El,level@example.org,Sales,forty\n"  # 6: bad level
        "Old Timer,old@example.org,Sales,9\n"  # 7: good (updates)
        "Cy Clone,cy@example.org,,\n"  # 8: good, no department
    )
    auth.login(admin.email)
    resp = client.post(
        "/o/acme/members/import",
        data={
            "csrf_token": token_from(client),
            "file": (io.BytesIO(csv_text.encode()), "people.csv"),
        },
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<strong>3 imported</strong>" in html and "(2 new, 1 updated)" in html
    assert "<strong>4 refused</strong>" in html
    rows = html.split('class="striped import-errors"')[1]
    for line, column, reason in [
        (3, "email", "That e-mail address is not valid"),
        (4, "name", "A name is needed."),
        (5, "email", "ann@example.org appears earlier in this file."),
        (6, "level", "Level must be a whole number"),
    ]:
        assert f"<tr><td>{line}</td><td>{column}</td><td>{reason}" in rows

    db.session.expire_all()
    by_email = {
        m.user.email: m
        for m in db.session.scalars(
            select(Membership).where(Membership.org_id == acme.id)
        )
    }
    assert set(by_email) == {
        admin.email,
        "ann@example.org",
        "old@example.org",
        "cy@example.org",
    }
    assert by_email["ann@example.org"].department.name == "Finance"
    assert by_email["ann@example.org"].level == 4
    assert by_email["old@example.org"].level == 9
    assert by_email["old@example.org"].department.name == "Sales"
    assert by_email["cy@example.org"].department is None


def test_csv_import_without_a_file_says_so(client, auth, admin):
    auth.login(admin.email)
    resp = client.post(
        "/o/acme/members/import", data={"csrf_token": token_from(client)}
    )
    assert resp.status_code == 422
    assert "Choose a CSV file." in resp.get_data(as_text=True)
