"""Follow-up at scale: prompts after a big mixer, matching, and a term of pair life.

    .venv/bin/python benchmarks/followup.py [--people 600] [--days 100]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

A fresh instance (SQLite in a temporary folder, or a new database
``mixer_bench_followup`` on the PostgreSQL server given) is migrated and seeded
with ``--people`` members of six departments who all checked in to one Mentor
Mixer, each having met six others. Then, timing each phase (wall and CPU) and
counting SQL statements:

1. **prompts** — the organizer closes the event and the job builds every prompt
   and renders every e-mail;
2. **answers** — everyone answers (each chooses their next neighbour as mentor and
   their previous one as mentee), which forms about one pair per person;
3. **life** — the clock moves a day at a time through ``--days`` days and the
   worker's ``run_due`` runs every due pair job (reminders, "did you meet?",
   misses, nudges, end of term). A third of the pairs answer "we met" to each
   check-in; the rest never answer. Mail is queued, not delivered.

Prints one JSON line per phase and the mail counts by kind at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.instance import fresh_instance  # noqa: E402

DEPARTMENTS = ["Nursing", "Finance", "Pharmacy", "IT", "Human Resources", "Radiology"]


@contextmanager
def measured(name: str, statements: list[int], **extra):
    """Print wall, CPU and SQL statement figures of the block as JSON."""
    statements[0] = 0
    wall, cpu = time.perf_counter(), time.process_time()
    figures: dict = {}
    yield figures
    print(
        json.dumps(
            {
                "phase": name,
                "wall_s": round(time.perf_counter() - wall, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
                "sql_statements": statements[0],
                **extra,
                **figures,
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()

    fresh_instance(args.postgres, "mixer_bench_followup")
    from flask_migrate import upgrade
    from sqlalchemy import event as sa_event
    from sqlalchemy import func, select

    from mixer import clock, create_app
    from mixer.connections.services import connect
    from mixer.events.lifecycle import create_event
    from mixer.events.registration import register
    from mixer.extensions import db
    from mixer.followup import services as followup
    from mixer.followup.answers import Answers, save_answers
    from mixer.followup.models import FollowupPrompt
    from mixer.jobs.services import run_due
    from mixer.mail.models import OutboxMessage
    from mixer.orgs.services import add_member, create_organization
    from mixer.pairs.answers import log_meeting
    from mixer.pairs.models import Pair, PairMeeting

    app = create_app()
    statements = [0]
    with app.app_context():
        upgrade(revision="heads")

        def count(*_args, **_kw):
            statements[0] += 1

        sa_event.listen(db.engine, "before_cursor_execute", count)

        start = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)
        clock.freeze(start - timedelta(days=2))
        org = create_organization(slug="bench", name="Bench Health", charter="x")
        organizer = add_member(
            org, "o@bench.example.org", "Olu Organizer", role="organizer", password=None
        ).user
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
        regs = []
        for i in range(args.people):
            user = add_member(
                org,
                f"p{i}@bench.example.org",
                f"Person {i}",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                password=None,
            ).user
            regs.append(
                register(
                    event, email=user.email, name=user.name, user=user, source="member"
                )
            )
        db.session.commit()
        clock.freeze(start + timedelta(minutes=10))
        for reg in regs:
            reg.checked_in_at = clock.now()
        n = len(regs)
        for i in range(n):  # six people each: three on either side
            for step in (1, 2, 3):
                connect(event.id, regs[i].id, regs[(i + step) % n].id, "rotation", step)
        db.session.commit()

        clock.freeze(start + timedelta(hours=1))
        with measured("prompts", statements, people=n) as figures:
            followup.close_event(event, organizer)
            db.session.commit()
            done = run_due(limit=100)
            figures["jobs"] = done
            figures["prompts"] = db.session.scalar(
                select(func.count()).select_from(FollowupPrompt)
            )

        prompts = {
            p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))
        }
        with measured("answers", statements, people=n) as figures:
            for i, reg in enumerate(regs):
                nxt, prev = regs[(i + 1) % n], regs[(i - 1) % n]
                answers = Answers(
                    choices={nxt.id: "mentor", prev.id: "mentee"},
                    rating=4 + i % 2,
                    reflection="Ask one question a day.",
                )
                save_answers(prompts[reg.id], answers)
                db.session.commit()
            figures["pairs"] = db.session.scalar(select(func.count()).select_from(Pair))

        pair_ids = list(db.session.scalars(select(Pair.id).order_by(Pair.id)))
        keen = set(pair_ids[::3])  # these pairs always meet
        day_walls = []
        with measured("life", statements, pairs=len(pair_ids), days=args.days) as f:
            for _ in range(args.days):
                clock.advance(timedelta(days=1))
                began = time.perf_counter()
                while any(run_due(limit=200).values()):
                    pass
                for meeting in db.session.scalars(
                    select(PairMeeting).where(
                        PairMeeting.status == "scheduled",
                        PairMeeting.due_at <= clock.now(),
                        PairMeeting.pair_id.in_(keen),
                    )
                ):
                    pair = db.session.get(Pair, meeting.pair_id)
                    if pair.status == "active":
                        log_meeting(pair, pair.a, "met", "A good question.")
                db.session.commit()
                day_walls.append(time.perf_counter() - began)
            f["slowest_day_s"] = round(max(day_walls), 2)
            f["median_day_s"] = round(sorted(day_walls)[len(day_walls) // 2], 3)
            f["statuses"] = dict(
                db.session.execute(
                    select(Pair.status, func.count()).group_by(Pair.status)
                ).all()
            )
        kinds = Counter(
            (key or "other").split(":")[0]
            for key in db.session.scalars(select(OutboxMessage.dedupe_key))
        )
        print(
            json.dumps(
                {
                    "mail_by_kind": dict(kinds),
                    "database": "PostgreSQL" if args.postgres else "SQLite",
                    "max_rss_mb": round(
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    ),
                }
            )
        )
        clock.reset()


if __name__ == "__main__":
    main()
