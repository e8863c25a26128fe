"""Time of the rotation schedule and table-card PDFs of big mixers, in the request
and in the job worker.

    .venv/bin/python benchmarks/printouts.py [--people 94 408 1894 2430]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

A fresh instance (SQLite in a temporary folder, or a new database
``mixer_bench_printouts`` on the PostgreSQL server given) gets one Mentor Mixer per
size, all checked in, 6 rounds of pairs planned. The organizer signs in through the
real form; for each mixer and PDF (Flask's test client, no network) it prints one
JSON line:

- ``inline_s``: the PDF drawn in the request, as every size was before issue 19
  (the threshold set above the size, the cache emptied first);
- ``request_s`` and ``answer``: the request with the default threshold
  (``ROTATION_PDF_INLINE_PEOPLE``): "pdf" when drawn there, "progress" when it
  went to the job worker;
- ``job_s``: the worker's run of that job (``run_due``, as ``mixer worker`` does);
- ``cached_s``: the download afterwards, from the cache;

each with the process's CPU time beside it (``*_cpu_s``: the fairer figure when
other work shares the machine), and the pages, the size and the load average.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.instance import PASSWORD, fresh_instance, sign_in  # noqa: E402

DEPARTMENTS = ["Nursing", "Finance", "Pharmacy", "IT", "Human Resources", "Radiology"]


def seed(people: list[int]) -> list[int]:
    """An organization, its organizer and one planned mixer per size; event ids."""
    from sqlalchemy import insert

    from mixer import clock
    from mixer.events.lifecycle import create_event
    from mixer.events.models import Registration
    from mixer.extensions import db
    from mixer.orgs.services import add_member, create_organization
    from mixer.rotations import services as rotations

    org = create_organization(slug="bench", name="Bench Health", charter="x")
    organizer = add_member(
        org, "o@bench.example.org", "Olu Organizer", "organizer", password=PASSWORD
    ).user
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    events = []
    for n in people:
        event = create_event(
            org,
            organizer,
            kind="mentor_mixer",
            title=f"Mixer of {n}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="Europe/London",
            capacity=n,
            status="published",
            rounds=6,
            minutes_per_round=8,
        )
        db.session.execute(
            insert(Registration),
            [
                {
                    "event_id": event.id,
                    "email": f"p{i}-{event.id}@bench.example.org",
                    "name": f"Person {i:04d} Example-Surname",
                    "status": "registered",
                    "source": "api",
                    "role": ("mentor", "mentee")[i % 2],
                    "department": DEPARTMENTS[i % len(DEPARTMENTS)],
                    "offers": [],
                    "seeks": [],
                    "checked_in_at": clock.now(),
                }
                for i in range(n)
            ],
        )
        db.session.commit()
        rotations.create_plan(event, rotations.Settings(rounds=6, minutes=8, seed=1))
        db.session.commit()
        events.append(event.id)
    return events


def timed(fn, row: dict, name: str):
    """Run ``fn``; its wall time as ``row[name]`` and this process's CPU time as
    ``row[name + "_cpu"]`` (the fairer figure on a shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    row[name] = round(time.perf_counter() - wall, 2)
    row[name.removesuffix("_s") + "_cpu_s"] = round(time.process_time() - cpu, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[94, 408, 1894, 2430])
    parser.add_argument("--postgres", default="")
    parser.add_argument("--skip-inline", action="store_true", help="no forced inline")
    args = parser.parse_args()

    instance = fresh_instance(args.postgres, "mixer_bench_printouts")
    from flask_migrate import upgrade
    from pypdf import PdfReader

    from mixer import create_app
    from mixer.jobs.services import run_due

    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    default = int(app.config["ROTATION_PDF_INLINE_PEOPLE"])
    with app.app_context():
        upgrade(revision="heads")
        events = seed(args.people)
    client = app.test_client()
    sign_in(client, "o@bench.example.org")
    cache = instance / "rotations"
    for n, event_id in zip(args.people, events, strict=True):
        for kind in ("schedule", "cards"):
            url = f"/events/{event_id}/rotations/{kind}.pdf"
            row: dict = {"pdf": kind, "people": n, "threshold": default}
            if not args.skip_inline:
                app.config["ROTATION_PDF_INLINE_PEOPLE"] = n
                shutil.rmtree(cache, ignore_errors=True)
                resp = timed(lambda url=url: client.get(url), row, "inline_s")
                assert resp.mimetype == "application/pdf", resp.status_code
            app.config["ROTATION_PDF_INLINE_PEOPLE"] = default
            shutil.rmtree(cache, ignore_errors=True)
            resp = timed(lambda url=url: client.get(url), row, "request_s")
            row["answer"] = "pdf" if resp.status_code == 200 else "progress"
            if row["answer"] == "progress":
                assert resp.status_code == 302, resp.status_code
                with app.app_context():
                    done = timed(run_due, row, "job_s")
                assert done["done"] == 1, done
            resp = timed(lambda url=url: client.get(url), row, "cached_s")
            assert resp.mimetype == "application/pdf", resp.status_code
            row["pages"] = len(PdfReader(io.BytesIO(resp.data)).pages)
            row["kb"] = round(len(resp.data) / 1024)
            row["database"] = "postgresql" if args.postgres else "sqlite"
            row["load_average"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
