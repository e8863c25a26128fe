"""Check-in against /healthz: one gunicorn + PostgreSQL, the same run, 20–200 clients.

    .venv/bin/python benchmarks/checkin.py [--levels 20,50,200] [--requests 2000]
        [--workers N] [--threads N]   (default: gunicorn.conf.py's sizing)
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Creates a fresh PostgreSQL database on the given server (dropped at the end),
migrates and seeds it (an organizer, an API token, an event with enough badges
for every level), counts the SQL statements of one ``/healthz``, one check-in and
one repeat scan in-process (the test client, SQLAlchemy's
``before_cursor_execute``), then starts gunicorn (``--workers`` × ``--threads``)
on it, and warms both paths (40 requests of each, not counted). At each level of
concurrent clients (keep-alive HTTP connections, one per
client thread) it runs ``--requests`` ``GET /healthz`` and ``--requests``
``POST /api/v1/checkins`` of fresh badges, in ``--slices`` alternating slices of
each (so a drift of the machine's speed weighs on both), every tenth badge sent
twice at once (two clients racing). Per level it prints requests/s of each, their ratio,
p50/p95/p99 latency, errors (non-200 answers), and doubles: registrations
answered ``checked_in`` more than once, plus any difference between the
database's checked-in count and the distinct ``checked_in`` answers (must be 0).
The load average (``os.getloadavg()``) is printed before and after each level:
the clients run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.instance import fresh_postgres  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_database(server: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def seed_and_count(badges: int) -> tuple[str, list[str], int, dict[str, int]]:
    """Migrate and seed (the environment names the database); count statements.

    Returns the API secret, the badge tokens (the first three used up by the
    count), the event id and statements per request kind.
    """
    from flask_migrate import upgrade
    from sqlalchemy import event as sa_event
    from sqlalchemy import insert

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
        now = clock.now()
        rows = [
            {
                "event_id": event.id,
                "email": f"p{i}@example.org",
                "name": f"P {i}",
                "status": "registered",
                "source": "organizer",
                "confirmed_at": now,
                "created_at": now,
            }
            for i in range(badges)
        ]
        db.session.execute(insert(Registration), rows)
        _, secret = create_api_token(organizer, org, "bench")
        db.session.commit()
        event_id = event.id
        tokens = list(
            db.session.scalars(
                Registration.__table__.select()
                .with_only_columns(Registration.badge_token)
                .order_by(Registration.id)
            )
        )
        db.session.remove()

        counts: dict[str, int] = {}
        seen: list[str] = []

        def record(conn, cursor, statement, *args):
            seen.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", record)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        # The first use of a token records it (once a minute): not counted.
        client.post("/api/v1/checkins", json={"token": tokens[0]}, headers=headers)
        for kind, send in (
            ("healthz", lambda: client.get("/healthz")),
            (
                "check-in",
                lambda: client.post(
                    "/api/v1/checkins", json={"token": tokens[1]}, headers=headers
                ),
            ),
            (
                "repeat",
                lambda: client.post(
                    "/api/v1/checkins", json={"token": tokens[1]}, headers=headers
                ),
            ),
            (
                "check-in+nonce",
                lambda: client.post(
                    "/api/v1/checkins",
                    json={"token": tokens[2], "nonce": "bench-nonce-1"},
                    headers=headers,
                ),
            ),
        ):
            seen.clear()
            response = send()
            assert response.status_code == 200, response.get_data(as_text=True)
            counts[kind] = len(seen)
        sa_event.remove(db.engine, "before_cursor_execute", record)
        db.engine.dispose()
    return secret, tokens[3:], event_id, counts


class Client:
    """One keep-alive connection per client thread."""

    def __init__(self, port: int, secret: str) -> None:
        self.port, self.secret = port, secret
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=60
            )
        return conn

    def send(self, method: str, path: str, body: bytes | None = None):
        headers = {"Authorization": f"Bearer {self.secret}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: reconnect once.
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    return time.perf_counter() - began, 0, b""
        return time.perf_counter() - began, response.status, data


def _pct(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, int(len(sorted_values) * p))
    return round(sorted_values[index] * 1000, 1)


def _phase(clients: int, jobs: list, call) -> dict:
    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(call, jobs))
    return {"answers": answers, "wall": time.perf_counter() - began}


def _summary(phases: list[dict]) -> dict:
    """Requests/s over the phases' summed time, percentiles over all answers."""
    answers = [a for phase in phases for a in phase["answers"]]
    latencies = sorted(a[0] for a in answers)
    return {
        "answers": answers,
        "rps": round(len(answers) / sum(p["wall"] for p in phases), 1),
        "p50": _pct(latencies, 0.50),
        "p95": _pct(latencies, 0.95),
        "p99": _pct(latencies, 0.99),
        "errors": sum(a[1] != 200 for a in answers),
    }


def checked_in_count(database_url: str, event_id: int) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM registration WHERE event_id = :e "
                "AND checked_in_at IS NOT NULL"
            ),
            {"e": event_id},
        ).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="20,50,200")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--slices", type=int, default=4, help="alternating slices of each kind"
    )
    # Default: what the shipped gunicorn.conf.py gives on this machine.
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    parser.add_argument("--workers", type=int, default=conf["workers"])
    parser.add_argument("--threads", type=int, default=conf["threads"])
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    name = f"mixer_bench_{os.getpid()}"
    database_url = fresh_postgres(args.postgres, name)
    instance = Path(tempfile.mkdtemp(prefix="mixer-bench-"))
    env = {
        "MIXER_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "MIXER_RATELIMIT_ENABLED": "false",
        "MIXER_API_RATE_LIMIT": "1000000 per minute",
    }
    os.environ.update(env)
    per_level = args.requests + args.requests // 10 + 10
    warm = 40  # badges checked in before measuring, to warm every worker's threads
    secret, tokens, event_id, statements = seed_and_count(
        per_level * len(levels) + warm
    )
    tokens, warm_tokens = tokens[:-warm], tokens[-warm:]
    print(
        f"gunicorn {args.workers}x{args.threads}, PostgreSQL database {name}, "
        f"{args.requests} requests of each kind per level"
    )
    print("SQL statements per request:", json.dumps(statements))

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = Client(port, secret)
    checked_in_answers: Counter[int] = Counter()
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(  # noqa: S310
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                )
                break
            except OSError:
                time.sleep(0.2)
        # Warm both paths in every worker and thread before measuring (a worker's
        # first check-in compiles its statements), from as many clients as the
        # first level, so that every server thread takes some.
        with ThreadPoolExecutor(levels[0]) as pool:
            list(pool.map(lambda _: client.send("GET", "/healthz"), range(warm)))
            warmed = pool.map(
                lambda token: client.send(
                    "POST", "/api/v1/checkins", json.dumps({"token": token}).encode()
                ),
                warm_tokens,
            )
            for _, status, data in warmed:  # counted in the doubles check
                answer = json.loads(data) if status == 200 else {}
                if answer.get("status") == "checked_in":
                    checked_in_answers[answer["registration_id"]] += 1
        header = (
            "clients | load before/after | healthz/s | p50/p95/p99 ms | "
            "check-ins/s | p50/p95/p99 ms | ratio | errors | doubles"
        )
        print(header)
        print("-" * len(header))
        for index, clients in enumerate(levels):
            batch = tokens[index * per_level : (index + 1) * per_level]
            jobs: list[str] = []
            for i, token in enumerate(batch[: args.requests - args.requests // 11]):
                jobs.append(token)
                if i % 10 == 0:
                    jobs.append(token)  # two clients race on this badge
            jobs = jobs[: args.requests]
            load_before = os.getloadavg()[0]
            # Interleaved slices, so that a drift of the machine's speed during
            # the level (other guests of the host, frequency) weighs on both kinds.
            health_phases, scan_phases = [], []
            for part in range(args.slices):
                health_phases.append(
                    _phase(
                        clients,
                        range(part, args.requests, args.slices),
                        lambda _: client.send("GET", "/healthz"),
                    )
                )
                size = -(-len(jobs) // args.slices)  # racing pairs stay together
                scan_phases.append(
                    _phase(
                        clients,
                        jobs[part * size : (part + 1) * size],
                        lambda token: client.send(
                            "POST",
                            "/api/v1/checkins",
                            json.dumps({"token": token}).encode(),
                        ),
                    )
                )
            health, scans = _summary(health_phases), _summary(scan_phases)
            load_after = os.getloadavg()[0]
            for _, status, data in scans["answers"]:
                if status == 200:
                    answer = json.loads(data)
                    if answer["status"] == "checked_in":
                        checked_in_answers[answer["registration_id"]] += 1
            twice = sum(1 for n in checked_in_answers.values() if n > 1)
            in_db = checked_in_count(database_url, event_id)
            # The three badges of the statement count are checked in too.
            doubles = twice + abs(in_db - 3 - len(checked_in_answers))
            print(
                f"{clients:>7} | {load_before:.1f} / {load_after:.1f} | "
                f"{health['rps']:>9} | {health['p50']}/{health['p95']}/"
                f"{health['p99']} | {scans['rps']:>11} | {scans['p50']}/"
                f"{scans['p95']}/{scans['p99']} | "
                f"{scans['rps'] / health['rps']:.0%} | "
                f"{health['errors'] + scans['errors']} | {doubles}",
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        drop_database(args.postgres, name)


if __name__ == "__main__":
    main()
