"""Check-in lists: keeping them, the longest wait first, and the nudge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.errors import NotFound
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job
from mixer.privacy.erasure import erase_member
from mixer.roster import services
from mixer.roster.models import RosterCheckin
from mixer.roster.nudges import send_nudge
from tests.helpers import mail_text


def _m(user, org):
    return user.membership_in(org)


def _class_list(school, cadence="weekly"):
    keeper = _m(school.teacher, school.org)
    roster_list = services.create_list(keeper, "Form 7b", cadence)
    dept = school.org.department_named("7b")
    assert services.add_department(roster_list, dept.id) == 2
    db.session.commit()
    return keeper, roster_list


def test_lists_find_add_and_order_by_longest_wait(school):
    keeper, roster_list = _class_list(school)
    # Search by name finds only members not on the list yet, never the keeper.
    found = services.find_students(roster_list, "student")
    assert [m.user.name for m in found] == ["Cleo Student"]
    assert services.find_students(roster_list, "tara") == []
    assert services.add_students(roster_list, [found[0].id, found[0].id]) == 1
    db.session.commit()
    ana, ben, cleo = (
        next(e for e in roster_list.entries if e.student.user == s)
        for s in school.students
    )
    clock.advance(timedelta(days=3))
    services.check_in(keeper, ana.id, "Talked about the trip")
    clock.advance(timedelta(days=5))
    services.check_in(keeper, cleo.id)
    db.session.commit()
    now = clock.now()
    ordered = services.by_longest_wait(roster_list.entries)
    assert [e.student.user.name for e in ordered] == [
        "Ben Student",  # never, added 8 days ago
        "Ana Student",  # 5 days ago
        "Cleo Student",  # just now
    ]
    assert [e.state(now) for e in ordered] == ["due", "ok", "ok"]
    clock.advance(timedelta(days=7))
    assert [e.state(clock.now()) for e in ordered] == ["overdue", "due", "due"]


def test_only_the_keeper_reaches_an_entry_and_its_notes(school):
    keeper, roster_list = _class_list(school)
    entry = roster_list.entries[0]
    services.check_in(keeper, entry.id, "private words")
    db.session.commit()
    for other in (school.other_teacher, school.admin):
        with pytest.raises(NotFound, match="no such student"):
            services.get_entry(_m(other, school.org), entry.id)
        with pytest.raises(NotFound, match="no such student"):
            services.check_in(_m(other, school.org), entry.id, "x")
        with pytest.raises(NotFound, match="no such check-in list"):
            services.get_list(_m(other, school.org), roster_list.id)
    assert [c.note for c in services.history(entry)] == ["private words"]


def test_who_keeps_lists_and_students_see_their_mentors(school):
    student = _m(school.students[0], school.org)
    with pytest.raises(services.RosterError, match="kept by teachers") as refused:
        services.create_list(student, "Mine", "daily")
    assert refused.value.status == 403
    older = _m(school.students[2], school.org)
    services.set_student_mentor(school.org, older, True)
    db.session.commit()
    mentees = services.create_list(older, "Mentees", "weekly")
    services.add_students(mentees, [student.id])
    _class_list(school)
    assert [m.user.name for m in services.mentors_of(student)] == [
        "Cleo Student",
        "Tara Teacher",
    ]
    # Taking the role back takes their lists with it.
    services.set_student_mentor(school.org, older, False)
    db.session.commit()
    assert [m.user.name for m in services.mentors_of(student)] == ["Tara Teacher"]


def test_not_in_a_company(make_org):
    company = make_org(kind="company", name="Widgets")
    with pytest.raises(NotFound, match="Widgets is not set up as a school"):
        services.require_school(company)


def test_one_gentle_nudge_per_spell_in_the_keepers_language(school, outbox):
    school.teacher.locale = "de"
    keeper, roster_list = _class_list(school, cadence="daily")
    db.session.commit()
    # Two days without a check-in: the nudges fall due (one per student).
    clock.advance(timedelta(days=2, minutes=1))
    assert jobs.run_due()["done"] == 2
    db.session.commit()
    mails = outbox(school.teacher.email)
    assert len(mails) == 2
    assert {m["Subject"] for m in mails} == {
        "Ein Check-in mit Ana Student ist überfällig",
        "Ein Check-in mit Ben Student ist überfällig",
    }
    assert "seit 2 Tagen" in mail_text(mails[0])
    # Again, scheduled again, or by a second worker: nothing more.
    entry = roster_list.entries[0]
    services.plan_nudge(entry)
    payload = {
        "entry_id": entry.id,
        "since": clock.stamp(entry.since),
        "cadence": "daily",
    }
    assert send_nudge(payload) == "not sent"
    jobs.run_due()
    db.session.commit()
    assert len(outbox(school.teacher.email)) == 2
    # A check-in starts a new spell: its nudge comes two days later, not before.
    services.check_in(keeper, entry.id)
    db.session.commit()
    clock.advance(timedelta(days=1))
    jobs.run_due()
    assert len(outbox(school.teacher.email)) == 2
    clock.advance(timedelta(days=1, minutes=1))
    jobs.run_due()
    db.session.commit()
    assert len(outbox(school.teacher.email)) == 3
    # The stale job of an old spell, run late, sends nothing.
    assert send_nudge(payload) == "checked in since"


def test_a_changed_cadence_moves_the_nudge(school, outbox):
    _keeper, roster_list = _class_list(school, cadence="weekly")
    services.update_list(roster_list, "Form 7b", "daily")
    db.session.commit()
    clock.advance(timedelta(days=2, minutes=1))
    jobs.run_due()
    db.session.commit()
    assert len(outbox(school.teacher.email)) == 2
    clock.advance(timedelta(days=14))
    jobs.run_due()  # the weekly jobs find their cadence stale
    db.session.commit()
    assert len(outbox(school.teacher.email)) == 2
    pending = db.session.scalars(
        select(Job).where(Job.kind == "roster.nudge", Job.status == "pending")
    ).all()
    assert pending == []


def test_removing_a_student_or_the_list_deletes_the_notes(school):
    keeper, roster_list = _class_list(school)
    first, second = roster_list.entries
    services.check_in(keeper, first.id, "one")
    services.check_in(keeper, second.id, "two")
    services.remove_student(first)
    db.session.commit()
    assert db.session.scalars(select(RosterCheckin.note)).all() == ["two"]
    services.delete_list(roster_list)
    db.session.commit()
    assert db.session.scalars(select(RosterCheckin.note)).all() == []


def test_erasure_takes_lists_notes_and_places(school):
    keeper, roster_list = _class_list(school)
    ana = school.students[0].membership_in(school.org)
    for entry in roster_list.entries:
        services.check_in(keeper, entry.id, "note")
    db.session.commit()
    done = erase_member(ana, school.admin)
    db.session.commit()
    assert done["on_checkin_lists"] == 1
    assert [e.student.user.name for e in roster_list.entries] == ["Ben Student"]
    done = erase_member(keeper, school.admin)
    db.session.commit()
    assert done["checkin_lists"] == 1
    assert db.session.scalars(select(RosterCheckin)).all() == []


def test_two_workers_and_stray_jobs_send_each_nudge_once(app, school, outbox):
    _keeper, roster_list = _class_list(school, cadence="daily")
    entry = roster_list.entries[0]
    since = clock.stamp(entry.since)
    # Stray copies of one nudge, as after a crash or a second scheduling.
    for n in range(3):
        jobs.schedule(
            services.NUDGE,
            {"entry_id": entry.id, "since": since, "cadence": "daily"},
            dedupe_key=f"stray:{n}",
        )
    db.session.commit()
    clock.advance(timedelta(days=2, minutes=1))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        """One worker: run what is due."""
        try:
            with app.app_context():
                barrier.wait()
                jobs.run_due(limit=2)
                jobs.run_due()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    subjects = sorted(m["Subject"] for m in outbox(school.teacher.email))
    assert subjects == [
        "A check-in with Ana Student is overdue",
        "A check-in with Ben Student is overdue",
    ]
    failed = db.session.scalars(select(Job).where(Job.status == "failed")).all()
    assert failed == []
