"""Page size, time and SQL statements of the organizer's big pages.

    .venv/bin/python benchmarks/pages.py [--people 1500] [--repeat 5]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

A fresh instance (SQLite in a temporary folder, or a new database
``mixer_bench_pages`` on the PostgreSQL server given) is migrated and seeded with
one Mentor Mixer of ``--people`` members (six departments, half mentors), all
checked in, with 6 rounds planned. The organizer signs in through the real form
and each page is fetched ``--repeat`` times with Flask's test client (no network):
the median and best wall time, the body's size and the SQL statements of one
fetch are printed as one JSON line per page, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.instance import (  # noqa: E402
    PASSWORD,
    fresh_instance,
    measure_page,
    sign_in,
)

DEPARTMENTS = ["Nursing", "Finance", "Pharmacy", "IT", "Human Resources", "Radiology"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--profile", action="store_true", help="cProfile one fetch")
    args = parser.parse_args()

    fresh_instance(args.postgres, "mixer_bench_pages")
    from flask_migrate import upgrade

    from mixer import clock, create_app
    from mixer.events.lifecycle import create_event
    from mixer.events.registration import register
    from mixer.extensions import db
    from mixer.orgs.services import add_member, create_organization
    from mixer.rotations import services as rotations

    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        upgrade(revision="heads")
        org = create_organization(slug="bench", name="Bench Health", charter="x")
        organizer = add_member(
            org, "o@bench.example.org", "Olu Organizer", "organizer", password=PASSWORD
        ).user
        start = clock.now().replace(microsecond=0) + timedelta(days=1)
        event = create_event(
            org,
            organizer,
            kind="mentor_mixer",
            title="Big mixer",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="Europe/London",
            capacity=args.people,
            status="published",
            rounds=6,
            minutes_per_round=8,
        )
        for i in range(args.people):
            user = add_member(
                org,
                f"p{i}@bench.example.org",
                f"Person {i}",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                password=None,
            ).user
            reg = register(
                event,
                email=user.email,
                name=user.name,
                user=user,
                source="member",
                role="mentor" if i % 2 == 0 else "mentee",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
            )
            reg.checked_in_at = clock.now()
        db.session.commit()
        rotations.create_plan(event, rotations.Settings(rounds=6, minutes=8, seed=1))
        db.session.commit()
        event_id = event.id
        engine = db.engine

    client = app.test_client()
    sign_in(client, "o@bench.example.org")
    load = [round(x, 2) for x in os.getloadavg()]
    for name, path in (("rotations", f"/events/{event_id}/rotations"),):
        figures = measure_page(client, engine, path, args.repeat, args.profile)
        print(
            json.dumps(
                {
                    "page": name,
                    "people": args.people,
                    "database": "postgresql" if args.postgres else "sqlite",
                    **figures,
                    "load_average": load,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
