"""The demo school: a teacher's daily check-in list, lived over two weeks.

``seed_school`` makes Riverside Academy (a school-kind organization) with a
teacher, a student who can sign in, and two classes, then walks the clock from
two weeks ago to now, the teacher checking in with a few students each school
day, so the list shows some students due and some overdue. Idempotent: a school
that has a list already is left alone.
"""

from __future__ import annotations

import random
from datetime import time, timedelta

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.orgs.details import set_location
from mixer.orgs.models import Organization
from mixer.orgs.services import add_member, create_organization
from mixer.roster.models import RosterList
from mixer.roster.services import add_department, add_students, check_in, create_list
from mixer.slots.services import OfferValues, create_offer

SCHOOL_SLUG = "riverside-academy"
TEACHER = ("teacher@riverside-academy.example.org", "Tess Teacher")
STUDENT = ("student@riverside-academy.example.org", "Sami Student")
CHARTER = (
    "## How we look out for each other\n\n"
    "- Every student has a teacher who checks in with them: a minute, most days.\n"
    "- What you tell your mentor stays with them, unless you or someone else "
    "is at risk.\n"
    "- Older students mentor younger ones, with a teacher they can always ask.\n"
)
CLASSES = {
    "7A": ["Aiden Brook", "Bea Castell", "Chidi Ofor", "Dana Holm"],
    "7B": ["Elif Kaya", "Finn Moss", "Gaia Russo", "Hana Sato", "Ivo Petrov"],
}
NOTES = [
    "Worried about the maths test; offered Thursday's help session.",
    "Happy: made the football team.",
    None,
    "Seemed tired. Ask again tomorrow.",
]


def seed_school(password: str) -> list[tuple[str, str, str]]:
    """Create the demo school and its check-in list; the logins to print."""
    logins = [
        ("teacher", TEACHER[0], password),
        ("student", STUDENT[0], password),
    ]
    org = db.session.scalar(
        select(Organization).where(Organization.slug == SCHOOL_SLUG)
    )
    if org is None:
        org = create_organization(
            SCHOOL_SLUG, "Riverside Academy", kind="school", charter=CHARTER
        )
    teacher = add_member(
        org, TEACHER[0], TEACHER[1], role="organizer", password=password
    )
    add_member(org, STUDENT[0], STUDENT[1], department="7B", level=7, password=password)
    for name_of_class, names in CLASSES.items():
        for name in names:
            email = name.lower().replace(" ", ".") + "@riverside-academy.example.org"
            add_member(org, email, name, department=name_of_class, level=7)
    db.session.flush()
    for membership in org.memberships:
        set_location(membership, "Riverside Academy")
    if db.session.scalar(select(RosterList.id).where(RosterList.org_id == org.id)):
        return logins
    rng = random.Random(20)  # noqa: S311 - demo data, not security
    now = clock.now().replace(microsecond=0)
    clock.freeze((now - timedelta(days=14)).replace(hour=8, minute=30, second=0))
    try:
        form = create_list(teacher, "Form 7B", "daily")
        seven_b = org.department_named("7B")
        if seven_b is not None:
            add_department(form, seven_b.id)
        mentees = create_list(teacher, "My mentees", "weekly")
        sevens_a = [
            m.id for m in org.memberships if m.department and m.department.name == "7A"
        ]
        add_students(mentees, sevens_a[:2])
        entries = list(form.entries) + list(mentees.entries)
        while clock.now() + timedelta(days=1) < now:
            clock.advance(timedelta(days=1))
            if clock.now().weekday() >= 5:
                continue
            for entry in rng.sample(entries, 2):
                check_in(teacher, entry.id, rng.choice(NOTES))
    finally:
        clock.reset()
    # The teacher's open slots, so the student's "Book a time with …" leads
    # somewhere (the link shows only while the mentor offers slots).
    user = teacher.user
    user.offers = list(user.offers or ["homework", "reading"])
    create_offer(
        org,
        user,
        OfferValues(
            kind="weekly",
            weekdays=[1, 2, 3, 4, 5],
            on_date=None,
            start_time=time(8, 0),
            end_time=time(8, 20),
            slot_minutes=5,
            timezone="Europe/London",
            place="Room 7B",
            weekly_cap=None,
            topics=list(user.offers),
        ),
    )
    db.session.flush()
    return logins
