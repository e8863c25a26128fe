"""The demo organization behind ``mixer seed-demo``.

Idempotent: running it again updates the same people and adds nothing twice. Every
feature adds its part of the demo here through a ``seed_<feature>`` function, so
that every page has something real to show.
"""

from __future__ import annotations

import random

from sqlalchemy import select

from mixer.accounts.models import User
from mixer.charter.services import acknowledge
from mixer.events.demo import seed_events
from mixer.extensions import db
from mixer.followup.demo import seed_followup
from mixer.orgs.demo import seed_member_details
from mixer.orgs.models import Organization
from mixer.orgs.services import add_member, create_organization
from mixer.roster.demo import seed_school
from mixer.rotations.demo import seed_rotations
from mixer.slots.demo import seed_slots

DEMO_SLUG = "riverside"
DEMO_PASSWORD = "mixer-demo-2026"  # noqa: S105 - printed for the demo on purpose
CHARTER = """\
**Riverside Health commits to micro-mentoring.**

- Everyone can spend *five minutes every two weeks* helping a colleague grow.
- Mentoring is part of the job: the time counts as work, for mentors and mentees.
- We meet across departments on purpose: the best advice often comes from next door.
- We celebrate it: each month we recognise a *Micro-Mentor of the Month*.
"""

DEPARTMENTS = ["Nursing", "Finance", "Pharmacy", "IT", "Human Resources", "Radiology"]
TAGS = [
    "negotiation",
    "public speaking",
    "excel",
    "career change",
    "leadership",
    "time management",
    "python",
    "budgeting",
    "difficult conversations",
    "writing",
    "first management role",
    "patient communication",
    "data analysis",
]
FIRST = [
    "Priya",
    "Tom",
    "Amara",
    "Lucas",
    "Mei",
    "Jonas",
    "Fatima",
    "Diego",
    "Hannah",
    "Kwame",
    "Sofia",
    "Ibrahim",
    "Elena",
    "Noah",
    "Aiko",
    "Mateo",
    "Zainab",
    "Oliver",
    "Chloé",
    "Rahul",
    "Ingrid",
    "Samuel",
    "Leila",
    "Ben",
    "Yuki",
    "Grace",
    "Omar",
    "Nora",
    "Arjun",
    "Lena",
    "Tariq",
    "Emma",
    "Kofi",
    "Sara",
    "Hugo",
    "Aisha",
    "Felix",
    "Rosa",
    "Dmitri",
    "Maya",
]
LAST = [
    "Shah",
    "Becker",
    "Okafor",
    "Martin",
    "Chen",
    "Schmidt",
    "Haddad",
    "García",
    "Müller",
    "Mensah",
    "Rossi",
    "Khan",
    "Popescu",
    "Williams",
    "Tanaka",
    "López",
    "Bello",
    "Brown",
    "Dubois",
    "Iyer",
    "Larsen",
    "Adeyemi",
    "Nasser",
    "Cohen",
    "Sato",
    "Kim",
    "Farouk",
    "Berg",
    "Patel",
    "Novak",
    "Aziz",
    "Wilson",
    "Owusu",
    "Lind",
    "Moreau",
    "Yusuf",
    "Wagner",
    "Silva",
    "Ivanov",
    "Reyes",
]
FIXED = [
    ("admin", "admin@riverside.example.org", "Ada Admin", "Human Resources"),
    (
        "organizer",
        "organizer@riverside.example.org",
        "Olu Organizer",
        "Human Resources",
    ),
    ("speaker", "speaker@riverside.example.org", "Sam Speaker", "IT"),
    ("member", "member@riverside.example.org", "Mira Member", "Finance"),
]


def seed() -> list[tuple[str, str, str]]:
    """Create or refresh the demo data; returns (role, email, password) logins."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    org = db.session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
    if org is None:
        org = create_organization(
            DEMO_SLUG, "Riverside Health", kind="company", charter=CHARTER
        )
    logins = []
    for role, email, name, dept in FIXED:
        membership = add_member(
            org,
            email,
            name,
            role=role,
            department=dept,
            level=rng.randint(2, 20),
            password=None if _has_password(email) else DEMO_PASSWORD,
            offers=rng.sample(TAGS, 3),
            seeks=rng.sample(TAGS, 2),
        )
        logins.append((role, email, DEMO_PASSWORD))
        if role != "member":
            # The staff have read the charter; Mira, the member, is asked on her
            # first page, to show how a new member meets it.
            acknowledge(membership)
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        email = f"{first.lower()}.{last.lower()}@riverside.example.org"
        email = email.encode("ascii", "ignore").decode()
        add_member(
            org,
            email,
            f"{first} {last}",
            role="member",
            department=DEPARTMENTS[i % len(DEPARTMENTS)],
            level=rng.randint(0, 25),
            offers=rng.sample(TAGS, rng.randint(1, 3)),
            seeks=rng.sample(TAGS, rng.randint(1, 2)),
        )
    db.session.flush()
    _seed_features(org)
    logins += seed_school(DEMO_PASSWORD)
    return logins


def _has_password(email: str) -> bool:
    user = db.session.scalar(select(User).where(User.email == email))
    return bool(user and user.password_hash)


def _seed_features(org: Organization) -> None:
    """Each feature's demo data, in dependency order (each part is idempotent)."""
    organizer = db.session.scalar(select(User).where(User.email == FIXED[1][1]))
    if organizer is None:  # pragma: no cover - ``seed`` has just made them
        raise RuntimeError("the demo organizer is missing")
    people = [m.user for m in org.memberships if m.user_id != organizer.id]
    people.sort(key=lambda u: u.id)
    seed_member_details(org, head_email=FIXED[0][1])
    seed_events(org, organizer, people, zone="Europe/London")
    seed_rotations(org)
    seed_followup(org, organizer)
    seed_slots(org, zone="Europe/London", guest_email=FIXED[-1][1])
