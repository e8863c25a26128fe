"""Admins set a member's manager, location and languages on the member edit page;
the members page shows them with each member's mentoring capacity."""

from __future__ import annotations

import html as htmllib
import io
from datetime import date

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.orgs import details
from mixer.orgs.models import Membership
from tests.helpers import csrf_from


@pytest.fixture
def acme(make_org):
    return make_org(slug="acme", name="Acme")


@pytest.fixture
def people(acme, make_user):
    """Root (admin), Mo, Nia and Nia Two of Acme, by first name."""
    made = {
        "root": make_user(
            acme, role="admin", email="root@acme.example.org", name="Root"
        ),
        "mo": make_user(acme, name="Mo Member", email="mo@acme.example.org"),
        "nia": make_user(acme, name="Nia", email="nia@acme.example.org"),
        "nia2": make_user(acme, name="Nia Two", email="nia2@acme.example.org"),
    }
    return {k: u.membership_in(acme) for k, u in made.items()}


def fresh(membership_id: int) -> Membership:
    db.session.expire_all()
    return db.session.get(Membership, membership_id)


def field_html(page: str, name: str) -> str:
    """The <input> of field ``name`` and the help or error text after it."""
    before, after = page.split(f'name="{name}"', 1)
    return before.rsplit("<input", 1)[1] + after.split("</small>", 1)[0]


def post_edit(client, url: str, **fields):
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "department": "", "level": "", "role": "member"}
    data.update(manager="", location="", languages="")  # a browser sends them all
    data.update(fields)
    return client.post(url, data=data)


def test_admin_sets_manager_location_and_languages(client, auth, acme, people):
    auth.login("root@acme.example.org")
    mo = people["mo"]
    url = f"/o/acme/members/{mo.id}/edit"
    page = client.get(url).get_data(as_text=True)
    # Everyone but Mo is offered as a manager (a datalist: no script needed).
    assert 'list="manager-choices"' in page
    assert '<option value="nia@acme.example.org" label="Nia">' in page
    assert '<option value="mo@acme.example.org"' not in page
    assert "At most 3 mentees and mentoring pairs." in page

    resp = post_edit(
        client,
        url,
        manager="nia@acme.example.org",
        location="  Leeds   Office ",
        languages="English; Urdu, english",
    )
    assert resp.status_code == 302
    saved = fresh(mo.id)
    assert saved.manager_id == people["nia"].id
    assert (saved.location, saved.languages) == ("Leeds Office", ["english", "urdu"])
    # The form shows what is stored; the members page lists it.
    page = client.get(url).get_data(as_text=True)
    assert 'value="nia@acme.example.org"' in field_html(page, "manager")
    assert 'value="english, urdu"' in field_html(page, "languages")
    assert '<option value="Leeds Office">' in page  # offered to the next edit
    row = (
        client.get("/o/acme/members")
        .get_data(as_text=True)
        .split(f'id="member-{mo.id}"')[1]
        .split("</tr>")[0]
    )
    assert '<td data-label="Manager">Nia</td>' in row
    assert 'Leeds Office<br><small class="muted">english, urdu</small>' in row
    assert '<td data-label="Mentoring">Up to 3' in row
    # Nia's page lists whom she manages.
    nia_page = client.get(f"/o/acme/members/{people['nia'].id}/edit")
    assert f'/o/acme/members/{mo.id}/edit">Mo Member</a>' in nia_page.get_data(
        as_text=True
    )

    # A unique name finds the person too; blank fields clear.
    assert post_edit(client, url, manager="nia two").status_code == 302
    assert fresh(mo.id).manager_id == people["nia2"].id
    assert post_edit(client, url).status_code == 302
    saved = fresh(mo.id)
    assert (saved.manager_id, saved.location, saved.languages) == (None, None, [])


def test_every_refusal_is_inline_at_once_and_nothing_is_written(
    client, auth, acme, people
):
    auth.login("root@acme.example.org")
    mo, nia = people["mo"], people["nia"]
    url = f"/o/acme/members/{mo.id}/edit"
    resp = post_edit(
        client,
        url,
        department="New Dept",
        manager="Ni",  # Nia or Nia Two: which one?
        location="x" * 81,
        languages=",".join(f"lang{n}" for n in range(11)),
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    manager = htmllib.unescape(field_html(page, "manager"))
    assert 'aria-invalid="true"' in manager
    assert 'value="Ni"' in manager  # what was typed stays
    assert "Several members match “Ni”" in manager
    assert "Nia (nia@acme.example.org), Nia Two (nia2@acme.example.org)" in manager
    assert "A location can have at most 80 characters." in field_html(page, "location")
    assert "List at most 10 languages (11 given)." in htmllib.unescape(
        field_html(page, "languages")
    )
    saved = fresh(mo.id)
    assert (saved.department, saved.manager_id, saved.location) == (None, None, None)

    # Self, and a loop Mo → Nia → Mo.
    resp = post_edit(client, url, manager="mo@acme.example.org")
    assert resp.status_code == 422
    assert "A member cannot be their own manager." in field_html(
        resp.get_data(as_text=True), "manager"
    )
    details.set_manager(fresh(nia.id), fresh(mo.id))
    db.session.commit()
    resp = post_edit(client, url, manager="nia@acme.example.org")
    assert resp.status_code == 422
    assert "Nia reports to Mo Member already (Mo Member → Nia → Mo Member)" in (
        htmllib.unescape(field_html(resp.get_data(as_text=True), "manager"))
    )
    assert fresh(mo.id).manager_id is None


def test_a_member_of_another_organization_is_no_manager(
    client, auth, acme, people, make_org, make_user
):
    globex = make_org(slug="globex", name="Globex")
    make_user(globex, name="Gus", email="gus@globex.example.org")
    auth.login("root@acme.example.org")
    url = f"/o/acme/members/{people['mo'].id}/edit"
    resp = post_edit(client, url, manager="gus@globex.example.org")
    assert resp.status_code == 422
    assert "No member of Acme has the e-mail gus@globex.example.org." in field_html(
        resp.get_data(as_text=True), "manager"
    )
    resp = post_edit(client, url, manager="Gus")
    assert "No member of Acme is called" in htmllib.unescape(
        resp.get_data(as_text=True)
    )
    assert fresh(people["mo"].id).manager_id is None


def test_a_large_organization_types_instead_of_a_datalist(
    client, auth, acme, people, monkeypatch
):
    monkeypatch.setattr(details, "MANAGER_CHOICES_MAX", 3)  # Acme has 4 members
    auth.login("root@acme.example.org")
    url = f"/o/acme/members/{people['mo'].id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "manager-choices" not in page
    assert post_edit(client, url, manager="Nia Two").status_code == 302
    assert fresh(people["mo"].id).manager_id == people["nia2"].id


def test_the_members_page_shows_capacity_and_a_later_start(
    client, auth, acme, people, frozen
):
    mo, nia = people["mo"], people["nia"]
    fresh(mo.id).update_mentoring(0, None)
    fresh(nia.id).update_mentoring(2, date(2026, 6, 1))  # the clock says 2 March
    db.session.commit()
    auth.login("root@acme.example.org")
    page = client.get("/o/acme/members").get_data(as_text=True)
    mo_row = page.split(f'id="member-{mo.id}"')[1].split("</tr>")[0]
    nia_row = page.split(f'id="member-{nia.id}"')[1].split("</tr>")[0]
    assert '<td data-label="Mentoring">None right now</td>' in mo_row
    assert "Up to 2" in nia_row
    assert 'not before <time datetime="2026-06-01">1 Jun 2026</time>' in nia_row
    edit = client.get(f"/o/acme/members/{nia.id}/edit").get_data(as_text=True)
    assert "At most 2 mentees and mentoring pairs, not before" in " ".join(edit.split())


def test_csv_import_through_the_page_reports_the_manager_column(
    client, auth, acme, people
):
    auth.login("root@acme.example.org")
    page = client.get("/o/acme/members").get_data(as_text=True)
    assert 'href="/static/members-sample.csv?v=' in page
    csv_text = (
        "name,email,manager,location,languages\n"
        "Ann,ann@example.org,ghost@example.org,,\n"
        "Bo,bo@example.org,nia@acme.example.org,Oslo,norsk;english\n"
    )
    resp = client.post(
        "/o/acme/members/import",
        data={
            "csrf_token": csrf_from(page),
            "file": (io.BytesIO(csv_text.encode()), "people.csv"),
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<strong>1 imported</strong>" in html
    assert (
        "<tr><td>2</td><td>manager</td><td>No member of Acme and no row of this "
        "file has the e-mail ghost@example.org (the manager).</td></tr>" in html
    )
    db.session.expire_all()
    bo = db.session.scalar(
        select(Membership).where(Membership.manager_id == people["nia"].id)
    )
    assert (bo.user.email, bo.location, bo.languages) == (
        "bo@example.org",
        "Oslo",
        ["norsk", "english"],
    )


def test_organizers_read_the_members_table_but_change_nothing(
    client, auth, acme, people, make_user
):
    make_user(acme, role="organizer", email="olu@acme.example.org", name="Olu")
    details.set_manager(people["mo"], people["nia"])
    details.set_location(people["mo"], "Leeds")
    people["mo"].update_mentoring(1, None)
    db.session.commit()
    auth.login("olu@acme.example.org")
    home = client.get("/o/acme/").get_data(as_text=True)
    assert 'href="/o/acme/members"' in home
    resp = client.get("/o/acme/members")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    row = page.split(f'id="member-{people["mo"].id}"')[1].split("</tr>")[0]
    assert '<td data-label="Manager">Nia</td>' in row
    assert "Leeds" in row and "Up to 1" in row
    for admin_only in ("/edit", "/remove", "/role", 'id="invite"', 'id="import"'):
        assert admin_only not in page
    assert client.get(f"/o/acme/members/{people['mo'].id}/edit").status_code == 403
    # Members do not see the table at all.
    auth.logout()
    auth.login("mo@acme.example.org")
    assert client.get("/o/acme/members").status_code == 403
