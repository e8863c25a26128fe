"""Check-in list pages: who may use them, one tap with and without scripts, and
notes that nobody but their author ever sees."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import select

from mixer.extensions import db
from mixer.roster import services
from mixer.roster.models import RosterCheckin, RosterEntry
from mixer.slots.services import create_offer
from tests.helpers import csrf_from
from tests.slots.conftest import weekly

NOTE = "Worried about her grandmother Zanzibar"


def _keeper_list(school):
    keeper = school.teacher.membership_in(school.org)
    roster_list = services.create_list(keeper, "Form 7b", "daily")
    services.add_department(roster_list, school.org.department_named("7b").id)
    db.session.commit()
    return roster_list


def test_a_company_answers_404_saying_why(client, auth, make_org, make_user):
    company = make_org(slug="widgets", name="Widgets", kind="company")
    boss = make_user(company, role="admin")
    auth.login(boss.email)
    resp = client.get("/o/widgets/roster")
    assert resp.status_code == 404
    assert "Widgets is not set up as a school" in resp.get_data(as_text=True)


def test_students_are_refused_and_see_their_mentor(client, auth, school):
    _keeper_list(school)
    auth.login(school.students[0].email)
    refused = client.get("/o/school/roster")
    assert refused.status_code == 403
    assert "kept by teachers" in refused.get_data(as_text=True)
    home = client.get("/o/school/").get_data(as_text=True)
    mine = home.split('id="my-mentor-h"')[1].split("</section>")[0]
    assert "Tara Teacher" in mine and school.teacher.email in mine
    # No link to the teacher's slots while she offers none (an empty page)...
    assert "Book a time with" not in mine
    school.teacher.offers = ["maths"]
    create_offer(school.org, school.teacher, weekly(topics=["maths"]))
    db.session.commit()
    home = client.get("/o/school/").get_data(as_text=True)
    mine = home.split('id="my-mentor-h"')[1].split("</section>")[0]
    # ... then the way to the teacher's five-minute slots.
    assert (
        f'href="/o/school/slots?person={school.teacher.id}">Book a time with '
        "<bdi>Tara Teacher</bdi></a>" in mine
    )


def test_teacher_builds_a_list_and_checks_in_without_scripts(client, auth, school):
    auth.login(school.teacher.email)
    page = client.get("/o/school/roster")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = csrf_from(page.get_data(as_text=True))
    made = client.post(
        "/o/school/roster/lists",
        data={"name": "Form 7b", "cadence": "daily", "csrf_token": token},
    )
    assert made.status_code == 302
    edit_url = made.headers["Location"]
    found = client.get(edit_url + "?q=cleo").get_data(as_text=True)
    assert "Cleo Student" in found and "Ana Student" not in found
    cleo = school.students[2].membership_in(school.org)
    added = client.post(
        edit_url + "/students", data={"member": cleo.id, "csrf_token": token}
    )
    assert added.status_code == 302
    dept = school.org.department_named("7b")
    client.post(
        edit_url + "/students", data={"department": dept.id, "csrf_token": token}
    )
    entries = db.session.scalars(select(RosterEntry)).all()
    assert len(entries) == 3
    cleo_entry = next(e for e in entries if e.student_id == cleo.id)
    tapped = client.post(
        f"/o/school/roster/entries/{cleo_entry.id}/checkin",
        data={"note": NOTE, "csrf_token": token},
    )
    assert tapped.status_code == 302
    assert tapped.headers["Location"].endswith(f"#entry-{cleo_entry.id}")
    html = client.get("/o/school/roster").get_data(as_text=True)
    assert "Checked in with Cleo Student." in html
    # Cleo, just checked in, comes last; the others have had none yet.
    order = re.findall(r'id="entry-(\d+)"', html)
    assert order[-1] == str(cleo_entry.id)
    assert NOTE not in html  # notes live on the student's own page
    history = client.get(f"/o/school/roster/entries/{cleo_entry.id}")
    assert NOTE in history.get_data(as_text=True)
    # Each check-in's time names its zone once ("08:30 UTC", not "UTC UTC").
    stamps = re.findall(r"<time[^>]*>([^<]*)</time>", history.get_data(as_text=True))
    assert stamps and all(s.count("UTC") == 1 for s in stamps)
    # Without the CSRF token nothing is recorded.
    refused = client.post(
        f"/o/school/roster/entries/{cleo_entry.id}/checkin", data={"note": "x"}
    )
    assert refused.status_code == 400
    assert db.session.scalar(select(RosterCheckin.note)) == NOTE
    assert len(db.session.scalars(select(RosterCheckin)).all()) == 1


def test_one_tap_answers_json_to_scripts(client, auth, school):
    roster_list = _keeper_list(school)
    entry = roster_list.entries[0]
    auth.login(school.teacher.email)
    token = csrf_from(client.get("/o/school/roster").get_data(as_text=True))
    resp = client.post(
        f"/o/school/roster/entries/{entry.id}/checkin",
        data={"csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 200
    assert resp.get_json()["message"].startswith("Checked in with ")
    db.session.expire_all()
    assert db.session.get(RosterEntry, entry.id).last_checkin_at is not None


def test_notes_are_for_their_author_alone(client, auth, school, app):
    roster_list = _keeper_list(school)
    entry = roster_list.entries[0]  # Ana
    services.check_in(school.teacher.membership_in(school.org), entry.id, NOTE)
    db.session.commit()
    for who in (school.other_teacher, school.admin):
        auth.login(who.email)
        assert client.get(f"/o/school/roster/entries/{entry.id}").status_code == 404
        assert client.get(f"/o/school/roster/lists/{roster_list.id}").status_code == 404
        token = csrf_from(client.get("/o/school/").get_data(as_text=True))
        tap = client.post(
            f"/o/school/roster/entries/{entry.id}/checkin",
            data={"csrf_token": token},
        )
        assert tap.status_code == 404
        for url in ("/o/school/", "/o/school/roster", "/o/school/members"):
            assert NOTE not in client.get(url).get_data(as_text=True)
        auth.logout()
    # The student: refused the pages, and not in her own data export either.
    ana = school.students[0]
    auth.login(ana.email)
    assert client.get(f"/o/school/roster/entries/{entry.id}").status_code == 403
    assert NOTE not in client.get("/o/school/").get_data(as_text=True)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/profile/data/export.zip").data))
    data = json.loads(archive.read("data.json"))
    (school_data,) = data["organizations"]
    assert school_data["on_checkin_lists"][0]["kept_by"] == "Tara Teacher"
    assert NOTE not in json.dumps(data)
    auth.logout()
    # The author's own export holds it.
    auth.login(school.teacher.email)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/profile/data/export.zip").data))
    mine = json.loads(archive.read("data.json"))["organizations"][0]
    students = mine["checkin_lists"][0]["students"]
    assert any(c["note"] == NOTE for s in students for c in s["checkins"])


def test_admins_name_student_mentors(client, auth, school):
    auth.login(school.admin.email)
    page = client.get("/o/school/roster/mentors?q=cleo").get_data(as_text=True)
    token = csrf_from(page)
    cleo = school.students[2]
    assert "Cleo Student" in page
    client.post(
        "/o/school/roster/mentors",
        data={
            "member": cleo.membership_in(school.org).id,
            "on": "1",
            "csrf_token": token,
        },
    )
    auth.logout()
    auth.login(cleo.email)
    assert client.get("/o/school/roster").status_code == 200
    auth.logout()
    auth.login(school.teacher.email)
    assert client.get("/o/school/roster/mentors").status_code == 403
