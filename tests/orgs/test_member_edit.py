"""Admins edit a member's department, level and role from the members page."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from mixer.extensions import db
from mixer.orgs.models import Department, Membership
from tests.helpers import PASSWORD, csrf_from


@pytest.fixture
def acme(make_org):
    return make_org(slug="acme", name="Acme")


@pytest.fixture
def admin(acme, make_user):
    return make_user(acme, role="admin", email="root@acme.example.org", name="Root")


@pytest.fixture
def mo(acme, make_user):
    """A plain member in Design, three years in."""
    return make_user(acme, name="Mo Member", department="Design", level=3)


def state(user_id: int, org_id: int) -> tuple:
    """(department name, level, role) of a membership, read fresh from the DB."""
    db.session.expire_all()
    m = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.org_id == org_id
        )
    )
    return (m.department.name if m.department else None, m.level, m.role)


def departments(org_id: int) -> list[str]:
    """The department names of an organization, sorted."""
    db.session.expire_all()
    return sorted(
        db.session.scalars(select(Department.name).where(Department.org_id == org_id))
    )


def membership_id(user, org) -> int:
    """The id of ``user``'s membership in ``org``."""
    return user.membership_in(org).id


def test_edit_member_happy_path_through_the_page(client, auth, acme, admin, mo):
    auth.login(admin.email)
    mid = membership_id(mo, acme)
    members = client.get("/o/acme/members?q=Mo").get_data(as_text=True)
    edit_url = f"/o/acme/members/{mid}/edit?q=Mo"
    assert f'href="{edit_url}"' in members
    page = client.get(edit_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Edit Mo Member</h1>" in html
    # The organization's own word for level, and the existing departments offered.
    assert ">Years of experience</label>" in html
    assert 'list="department-names"' in html
    assert '<option value="Design">' in html
    assert 'value="Design"' in html.split('name="department"')[1].split(">")[0]

    resp = client.post(
        edit_url,
        data={
            "csrf_token": csrf_from(html),
            "department": "design",  # any case finds the existing one
            "level": "7",
            "role": "organizer",
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/o/acme/members?q=Mo#member-{mid}"
    assert state(mo.id, acme.id) == ("Design", 7, "organizer")
    assert departments(acme.id) == ["Design"]
    after = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Mo Member’s details are saved." in after
    row = after.split(f'id="member-{mid}"')[1].split("</tr>")[0]
    assert '<td data-label="Years of experience">7</td>' in row
    assert '<option value="organizer" selected>' in row


def test_a_new_department_is_created_on_the_fly_and_blanks_clear(
    client, auth, acme, admin, mo
):
    auth.login(admin.email)
    url = f"/o/acme/members/{membership_id(mo, acme)}/edit"
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {
        "csrf_token": token,
        "department": "  Field   Ops ",
        "level": "",
        "role": "member",
    }
    assert client.post(url, data=data).status_code == 302
    assert state(mo.id, acme.id) == ("Field Ops", None, "member")
    assert departments(acme.id) == ["Design", "Field Ops"]
    # The new department is offered to the next edit; an empty one means none.
    html = client.get(url).get_data(as_text=True)
    assert '<option value="Field Ops">' in html
    data.update(department="", level="0")
    assert client.post(url, data=data).status_code == 302
    assert state(mo.id, acme.id) == (None, 0, "member")


@pytest.mark.parametrize("level", ["81", "-1", "three", "2.5"])
def test_invalid_level_is_422_inline_and_changes_nothing(
    client, auth, acme, admin, mo, level
):
    auth.login(admin.email)
    url = f"/o/acme/members/{membership_id(mo, acme)}/edit"
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(
        url,
        data={
            "csrf_token": token,
            "department": "Brand New Team",
            "level": level,
            "role": "speaker",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Use a whole number between 0 and 80." in html
    level_input = (
        html.split('name="level"')[0].rsplit("<input", 1)[1]
        + html.split('name="level"')[1].split(">")[0]
    )
    assert 'aria-invalid="true"' in level_input
    # Nothing typed is lost ...
    assert f'value="{level}"' in level_input
    assert 'value="Brand New Team"' in html
    assert '<option selected value="speaker">' in html
    # ... and nothing is written.
    assert state(mo.id, acme.id) == ("Design", 3, "member")
    assert departments(acme.id) == ["Design"]


def test_the_last_admin_cannot_demote_themselves(client, auth, acme, admin, make_user):
    auth.login(admin.email)
    url = f"/o/acme/members/{membership_id(admin, acme)}/edit"
    html = client.get(url).get_data(as_text=True)
    assert "This is you." in html
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_from(html),
            "department": "Board",
            "level": "9",
            "role": "member",
        },
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert (
        "You are the only admin of Acme. Make someone else an admin first: "
        "an organization always needs one." in page
    )
    assert state(admin.id, acme.id) == (None, None, "admin")
    assert departments(acme.id) == []

    # With a second admin they may step down, and land on the org's home page.
    other = make_user(acme, role="admin", name="Ada Admin")
    assert state(other.id, acme.id)[2] == "admin"
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "department": "",
            "level": "",
            "role": "member",
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/o/acme/"
    assert state(admin.id, acme.id) == (None, None, "member")
    assert client.get(url).status_code == 403


def test_another_orgs_member_is_404_and_untouched(
    client, auth, acme, admin, make_org, make_user
):
    globex = make_org(slug="globex", name="Globex")
    victim = make_user(globex, name="Vic", department="Sales", level=2)
    vid = membership_id(victim, globex)
    auth.login(admin.email)
    token = csrf_from(client.get("/o/acme/members").get_data(as_text=True))
    assert client.get(f"/o/acme/members/{vid}/edit").status_code == 404
    resp = client.post(
        f"/o/acme/members/{vid}/edit",
        data={"csrf_token": token, "department": "Mine", "level": "1", "role": "admin"},
    )
    assert resp.status_code == 404
    # Nor through the other organization's address, where they are not a member.
    assert client.get(f"/o/globex/members/{vid}/edit").status_code == 404
    assert state(victim.id, globex.id) == ("Sales", 2, "member")
    assert db.session.scalar(select(func.count(Department.id))) == 1


def test_a_member_is_refused_like_on_other_admin_pages(client, auth, acme, admin, mo):
    # Mo may not edit anyone, not even to make themselves an admin.
    auth.login(mo.email, PASSWORD)
    url = f"/o/acme/members/{membership_id(mo, acme)}/edit"
    token = csrf_from(client.get("/profile").get_data(as_text=True))
    for resp in (
        client.get(url),
        client.post(
            url,
            data={
                "csrf_token": token,
                "department": "X",
                "level": "1",
                "role": "admin",
            },
        ),
    ):
        assert resp.status_code == 403
        assert "This needs the admin role in Acme." in resp.get_data(as_text=True)
    assert state(mo.id, acme.id) == ("Design", 3, "member")
    # Without the CSRF token even an admin's post is refused and changes nothing.
    auth.logout()
    auth.login(admin.email)
    resp = client.post(url, data={"department": "X", "level": "1", "role": "admin"})
    assert resp.status_code == 400
    assert state(mo.id, acme.id) == ("Design", 3, "member")


@pytest.mark.browser
def test_edit_from_the_members_page_on_a_phone(
    app, live_server, browser, acme, admin, mo
):
    """At 360 px neither page scrolls sideways, and the edit works by keyboard."""
    mid = membership_id(mo, acme)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def assert_fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{page.url} scrolls sideways: {width} > 360"

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server}/o/acme/")
    page.goto(f"{live_server}/o/acme/members")
    assert_fits()
    page.get_by_role("button", name="Edit Mo Member’s department").click()
    page.wait_for_url(f"{live_server}/o/acme/members/{mid}/edit")
    assert_fits()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/member-edit-360.png", full_page=True)
    page.get_by_label("Department or group").fill("Field Ops")
    page.get_by_label("Role").select_option("speaker")
    page.get_by_label("Years of experience").fill("12")
    page.get_by_label("Years of experience").press("Enter")  # submit by keyboard
    page.wait_for_url(f"{live_server}/o/acme/members#member-{mid}")
    assert page.get_by_text("Mo Member’s details are saved.").is_visible()
    row = page.locator(f"#member-{mid}")
    assert row.get_by_text("Field Ops").is_visible()
    assert_fits()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/members-360.png", full_page=True)
    assert problems == []
    context.close()
    assert state(mo.id, acme.id) == ("Field Ops", 12, "speaker")
