"""Pages of a big organization: the recognition page and the pairs overview.

    .venv/bin/python benchmarks/bigorg.py [--members 6000] [--events 200]
        [--registrations 50000] [--pairs-main 5000] [--pairs 500,5000]
        [--repeat 5] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

A fresh instance (SQLite in a temporary folder, or a new database
``mixer_bench_bigorg`` on the PostgreSQL server given) is migrated and filled with
bulk inserts (no services, so it builds in seconds) with one organization of
``--members`` members, ``--events`` past events sharing ``--registrations``
registrations, and ``--pairs-main`` pairs (three in five mentoring, the rest
peers), each meeting every fortnight for six months: most check-ins held (a third
of them with the other side's "what helped" note), some missed or skipped, the
next one scheduled, and end-of-term feedback from some mentees last month. Last
month then has thousands of recognition candidates.

``--pairs`` adds one more organization per number given, with that many pairs
(and as many members as the big one, no events), to see whether the pairs
overview stays flat as pairs grow.

On PostgreSQL the tables are ANALYZEd after the load (what autovacuum would soon
do). The organizer signs in through the real form; each page is fetched ``--repeat``
times with Flask's test client (no network). One JSON line per page: size in KB,
median and best wall time, SQL statements of one fetch, and the load average
(``os.getloadavg()``) beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.instance import (  # noqa: E402
    PASSWORD,
    fresh_instance,
    measure_page,
    sign_in,
)

ORGANIZER = "o@bench.example.org"
FIRST = ["Ada", "Bo", "Cy", "Dee", "Eve", "Finn", "Gus", "Hal", "Ida", "Jo", "Kim"]
LAST = ["Lovelace", "Chen", "Young", "Okafor", "Martin", "Berg", "Hale", "Ito"]
CHUNK = 5000  # rows per INSERT batch


def chunks(rows: list[dict], size: int = CHUNK):
    """``rows`` in batches of ``size``."""
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def bench_organizer():
    """The organizer the benchmark signs in as (of a home organization of their
    own; the organizations built are added to them); committed."""
    from mixer.extensions import db
    from mixer.orgs.services import add_member, create_organization

    home = create_organization(slug="bench-home", name="Bench home", charter="x")
    organizer = add_member(
        home, ORGANIZER, "Olu Organizer", "organizer", password=PASSWORD
    ).user
    db.session.commit()
    return organizer


def add_org(slug: str, organizer_id: int):
    """A new organization ``slug`` with the benchmark's organizer in it (flushed)."""
    from mixer.extensions import db
    from mixer.orgs.models import Membership
    from mixer.orgs.services import create_organization

    org = create_organization(slug=slug, name=f"Big {slug}", charter="x")
    db.session.add(Membership(org_id=org.id, user_id=organizer_id, role="organizer"))
    db.session.flush()
    return org


def analyze(postgres: str) -> None:
    """On PostgreSQL, ANALYZE every table and commit: what autovacuum does soon
    after a bulk load in production (without statistics the planner guesses, and
    scans whole tables)."""
    from sqlalchemy import text

    from mixer.extensions import db

    if postgres:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def insert_members(
    slug: str,
    org_id: int,
    count: int,
    now: datetime,
    user_fields: Callable[[int], dict] | None = None,
    membership_fields: Callable[[int], dict] | None = None,
) -> tuple[list[int], list[dict]]:
    """``count`` members of the organization (bulk inserts): their user ids and user
    rows, in the same order. ``user_fields(i)`` and ``membership_fields(i)`` add
    columns to the ``i``-th person's rows."""
    from sqlalchemy import insert, select

    from mixer.accounts.models import User
    from mixer.extensions import db
    from mixer.orgs.models import Membership

    users = [
        {
            "email": f"m{i}@{slug}.members.example.org",
            "name": f"{FIRST[i % len(FIRST)]} {LAST[i // len(FIRST) % len(LAST)]} {i}",
            "created_at": now,
            **(user_fields(i) if user_fields else {}),
        }
        for i in range(count)
    ]
    for chunk in chunks(users):
        db.session.execute(insert(User), chunk)
    ids = list(
        db.session.scalars(
            select(User.id)
            .where(User.email.like(f"%@{slug}.members.example.org"))
            .order_by(User.id)
        )
    )
    memberships = [
        {
            "org_id": org_id,
            "user_id": uid,
            "joined_at": now,
            **(membership_fields(i) if membership_fields else {}),
        }
        for i, uid in enumerate(ids)
    ]
    for chunk in chunks(memberships):
        db.session.execute(insert(Membership), chunk)
    return ids, users


def meeting_rows(
    rng: random.Random,
    pair_id: int,
    a: int,
    b: int,
    mentor: int | None,
    started: datetime,
    now: datetime,
    held: float = 0.7,
    until: datetime | None = None,
) -> list[dict]:
    """A pair's fortnightly check-ins from ``started``: held with probability
    ``held``, else two in three missed and one skipped (a third of the held ones
    with the other side's "what helped"); the next one scheduled, unless ``until``
    (the pair ended) comes first."""
    rows = []
    due = started + timedelta(days=rng.randint(0, 13), hours=rng.randint(8, 17))
    number = 0
    while due < (until or now + timedelta(days=14)):
        number += 1
        row = {
            "pair_id": pair_id,
            "number": number,
            "due_at": due,
            "status": "scheduled",
            "notes": {},
            "created_at": due - timedelta(days=14),
        }
        if due < now - timedelta(days=2):
            roll = rng.random()
            missed = held + (1 - held) * 2 / 3
            status = "met" if roll < held else "missed" if roll < missed else "skipped"
            row["status"] = status
            if status != "missed":
                reporter = rng.choice((a, b))
                row["reported_by_id"] = reporter
                row["reported_at"] = due + timedelta(hours=rng.randint(1, 30))
                if status == "met" and rng.random() < 0.33:
                    writer = (a if mentor == b else b) if mentor else reporter
                    row["notes"] = {str(writer): "The tip on giving feedback."}
        elif until is not None:
            break  # an ended pair has no check-in waiting
        rows.append(row)
        if row["status"] == "scheduled":
            break
        due += timedelta(days=14)
    return rows


def build_org(
    slug: str,
    organizer_id: int,
    *,
    members: int,
    events: int,
    registrations: int,
    pairs: int,
    seed: int = 1,
) -> int:
    """One organization filled with bulk inserts; its id (the caller commits)."""
    from sqlalchemy import insert, select

    from mixer import clock
    from mixer.events.models import Event, Registration
    from mixer.extensions import db
    from mixer.pairs.models import Pair, PairFeedback, PairMeeting, open_key

    rng = random.Random(seed)
    now = clock.now().replace(microsecond=0)
    org = add_org(slug, organizer_id)

    ids, users = insert_members(slug, org.id, members, now)

    per_event = registrations // events if events else 0
    event_rows = []
    for e in range(events):
        start = now - timedelta(days=2 + e)
        event_rows.append(
            {
                "org_id": org.id,
                "kind": "mentor_mixer",
                "title": f"Mixer {e}",
                "starts_at": start,
                "ends_at": start + timedelta(hours=2),
                "timezone": "Europe/London",
                "capacity": per_event,
                "status": "ended",
                "share_key": uuid.uuid4().hex,
                "ical_uid": f"{uuid.uuid4()}@bench",
                "created_by_id": organizer_id,
            }
        )
    if event_rows:
        db.session.execute(insert(Event), event_rows)
    event_ids = list(db.session.scalars(select(Event.id).where(Event.org_id == org.id)))
    regs = []
    for event_id in event_ids:
        for index in rng.sample(range(members), min(per_event, members)):
            regs.append(
                {
                    "event_id": event_id,
                    "user_id": ids[index],
                    "email": users[index]["email"],
                    "name": users[index]["name"],
                    "status": "registered",
                    "source": "member",
                    "role": "mentor" if index % 2 else "mentee",
                    "confirmed_at": now,
                    "checked_in_at": now,
                    "created_at": now,
                }
            )
    for chunk in chunks(regs):
        db.session.execute(insert(Registration), chunk)

    # Pairs: distinct couples; three in five mentoring.
    couples: set[tuple[int, int]] = set()
    while len(couples) < pairs:
        a, b = rng.sample(ids, 2)
        couples.add((min(a, b), max(a, b)))
    started = now - timedelta(days=183)
    pair_rows = []
    for n, (a, b) in enumerate(sorted(couples)):
        mentoring = n % 5 < 3
        pair_rows.append(
            {
                "org_id": org.id,
                "kind": "mentoring" if mentoring else "peer",
                "a_id": a,
                "b_id": b,
                "mentor_id": (a if n % 2 else b) if mentoring else None,
                "status": "active",
                "open_key": open_key(org.id, a, b),
                "source": "event",
                "ics_uid": f"{uuid.uuid4()}@bench",
                "cadence_days": 14,
                "timezone": "UTC",
                "started_at": started,
                "term_ends_at": now + timedelta(days=30),
                "created_at": started + timedelta(minutes=n),
            }
        )
    for chunk in chunks(pair_rows):
        db.session.execute(insert(Pair), chunk)
    pair_list = db.session.execute(
        select(Pair.id, Pair.a_id, Pair.b_id, Pair.mentor_id).where(
            Pair.org_id == org.id
        )
    ).all()
    meetings, feedback = [], []
    last_month_end = now.replace(day=1, hour=0, minute=0, second=0)
    for pair_id, a, b, mentor in pair_list:
        meetings += meeting_rows(rng, pair_id, a, b, mentor, started, now)
        if mentor and rng.random() < 0.2:
            feedback.append(
                {
                    "pair_id": pair_id,
                    "user_id": a if mentor == b else b,
                    "rating": rng.randint(1, 5),
                    "helped": "Patience." if rng.random() < 0.5 else None,
                    "created_at": last_month_end - timedelta(days=rng.randint(1, 20)),
                }
            )
    for chunk in chunks(meetings):
        db.session.execute(insert(PairMeeting), chunk)
    for chunk in chunks(feedback):
        db.session.execute(insert(PairFeedback), chunk)
    return org.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=6000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--registrations", type=int, default=50_000)
    parser.add_argument("--pairs-main", type=int, default=5000)
    parser.add_argument(
        "--pairs", default="", help="e.g. 500,5000: more orgs for the pairs overview"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--profile", action="store_true", help="cProfile one fetch")
    args = parser.parse_args()

    fresh_instance(args.postgres, "mixer_bench_bigorg")
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from mixer import create_app
    from mixer.events.models import Registration
    from mixer.extensions import db
    from mixer.recognition.awards import default_month
    from mixer.recognition.scoring import score_month

    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    built = time.perf_counter()
    with app.app_context():
        upgrade(revision="heads")
        organizer = bench_organizer()
        pages = []
        org_id = build_org(
            "bench",
            organizer.id,
            members=args.members,
            events=args.events,
            registrations=args.registrations,
            pairs=args.pairs_main,
        )
        db.session.commit()
        pages.append(("recognition", "/o/bench/recognition", args.pairs_main))
        pages.append(("pairs_overview", "/o/bench/pairs", args.pairs_main))
        for n, size in enumerate(int(x) for x in args.pairs.split(",") if x):
            slug = f"pairs{size}-{n}"
            build_org(
                slug,
                organizer.id,
                members=args.members,
                events=0,
                registrations=0,
                pairs=size,
                seed=n + 2,
            )
            db.session.commit()
            pages.append(("pairs_overview", f"/o/{slug}/pairs", size))
        analyze(args.postgres)
        from mixer.orgs.models import Organization

        org = db.session.get(Organization, org_id)
        registrations = db.session.scalar(
            select(func.count()).select_from(Registration)
        )
        candidates = len(score_month(org, default_month()))
        print(
            json.dumps(
                {
                    "built_s": round(time.perf_counter() - built, 1),
                    "registrations": registrations,
                    "members": args.members,
                    "pairs": args.pairs_main,
                    "candidates": candidates,
                    "month": default_month(),
                }
            ),
            flush=True,
        )
        db.session.remove()
        engine = db.engine

    client = app.test_client()
    sign_in(client, ORGANIZER)
    for name, path, pairs in pages:
        client.get(path)  # warm: templates compiled, caches filled
        figures = measure_page(client, engine, path, args.repeat, args.profile)
        print(
            json.dumps(
                {
                    "page": name,
                    "path": path,
                    "pairs": pairs,
                    "database": "postgresql" if args.postgres else "sqlite",
                    **figures,
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
