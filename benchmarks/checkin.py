"""Check-in throughput: concurrent scanners against gunicorn, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/checkin.py [--scanners 20] [--badges 600]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

For each database: a fresh instance is migrated and seeded (an organizer, an API
token, an event with ``--badges`` registrations), gunicorn serves it (``--workers``
processes × ``--threads`` threads), and ``--scanners`` client threads each POST
``/api/v1/checkins`` for their share of the badges as fast as they can. Every
badge is then scanned once more (answers must be ``already_checked_in``).
Reports scans per second, latency percentiles and checks that exactly
``--badges`` people were checked in.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(env: dict[str, str], badges: int) -> tuple[str, list[str], int]:
    """Migrate and seed; returns (API secret, badge tokens, event id)."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from mixer import clock, create_app
    from mixer.accounts.services import create_api_token
    from mixer.events.lifecycle import create_event
    from mixer.events.models import Registration
    from mixer.extensions import db
    from mixer.orgs.services import add_member, create_organization

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        org = create_organization(slug="bench", name="Bench", charter="x")
        organizer = add_member(
            org, role="organizer", email="o@bench.example.org", name="O", password=None
        ).user
        start = clock.now() + timedelta(days=1)
        event = create_event(
            org,
            organizer,
            kind="lunch_and_learn",
            title="Bench",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            timezone="UTC",
            capacity=badges,
            status="published",
        )
        regs = [
            Registration(
                event_id=event.id,
                email=f"p{i}@example.org",
                name=f"P {i}",
                status="registered",
                source="organizer",
                confirmed_at=clock.now(),
            )
            for i in range(badges)
        ]
        db.session.add_all(regs)
        _, secret = create_api_token(organizer, org, "bench")
        db.session.commit()
        result = secret, [r.badge_token for r in regs], event.id
        db.engine.dispose()
    return result


def scan(base: str, secret: str, token: str) -> tuple[float, str]:
    request = urllib.request.Request(
        f"{base}/api/v1/checkins",
        data=json.dumps({"token": token}).encode(),
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        status = json.load(response)["status"]
    return time.perf_counter() - began, status


def run(label: str, database_url: str, args: argparse.Namespace) -> dict:
    instance = Path(tempfile.mkdtemp(prefix="mixer-bench-"))
    env = {
        "MIXER_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url or f"sqlite:///{instance / 'mixer.sqlite3'}",
        "SECRET_KEY": "bench",
        "MIXER_RATELIMIT_ENABLED": "false",
        "MIXER_API_RATE_LIMIT": "100000 per minute",
    }
    secret, tokens, _ = seed(env, args.badges)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        for phase in ("first", "repeat"):
            began = time.perf_counter()
            with ThreadPoolExecutor(args.scanners) as pool:
                answers = list(pool.map(lambda t: scan(base, secret, t), tokens))
            wall = time.perf_counter() - began
            latencies = sorted(a[0] for a in answers)
            results[phase] = {
                "scans_per_s": round(len(tokens) / wall, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
                "statuses": sorted({a[1] for a in answers}),
                "count": sum(a[1] == "checked_in" for a in answers),
            }
        return {"database": label, **results}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scanners", type=int, default=20)
    parser.add_argument("--badges", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    runs = []
    if args.only != "postgres":
        runs.append(("SQLite", ""))
    if args.postgres and args.only != "sqlite":
        runs.append(("PostgreSQL", args.postgres))
    for label, url in runs:
        # Each run seeds in a fresh process: create_app reads the environment once.
        if len(runs) > 1:
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    __file__,
                    "--only",
                    "postgres" if url else "sqlite",
                    "--scanners",
                    str(args.scanners),
                    "--badges",
                    str(args.badges),
                    "--workers",
                    str(args.workers),
                    "--threads",
                    str(args.threads),
                    "--postgres",
                    args.postgres,
                ],
                check=True,
            )
            continue
        print(json.dumps(run(label, url, args)), flush=True)


if __name__ == "__main__":
    main()
