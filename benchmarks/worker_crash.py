"""What a SIGKILLed worker costs: delay, duplicates and losses of its claimed mail.

    .venv/bin/python benchmarks/worker_crash.py [--messages 500] [--kills 3]
        [--workers 2] [--delay 0.02] [--sqlite]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

For each database: a fresh instance is migrated, ``--messages`` messages are
queued, an aiosmtpd sink (``tests/mail/smtp.py``, ``--delay`` seconds per message)
receives them and ``--workers`` real ``mixer worker`` processes deliver them.
``--kills`` times during the run, one worker is killed with SIGKILL and another
started in its place. The rows it held (``sending`` under its claim right after
the kill) are followed until another worker sends them. Reports, per database:
how long the killed workers' claims waited, the duplicates the sink saw (by
Message-ID) and the messages lost (queued but never received; must be 0).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIXER = str(Path(sys.executable).parent / "mixer")

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from mixer.config import normalise_database_url  # noqa: E402
from tests.mail.smtp import SMTPServer  # noqa: E402


def seed(env: dict[str, str], messages: int) -> None:
    """Migrate a fresh database and queue ``messages`` messages."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from mixer import create_app
    from mixer.extensions import db
    from mixer.mail.services import queue_mail

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        for n in range(messages):
            queue_mail(
                f"person{n}@example.org",
                f"Message {n}",
                "notice",
                {"paragraphs": [f"This is message {n}."]},
            )
        db.session.commit()
        db.engine.dispose()


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [MIXER, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def run(url: str, instance: str, args: argparse.Namespace) -> dict:
    """One trial against the database at ``url``."""
    from mixer.config import normalise_database_url
    from mixer.mail.models import OutboxMessage

    smtp = SMTPServer().start()
    smtp.recorder.delay = args.delay
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXER_")}
    env.update(
        DATABASE_URL=url,
        MIXER_INSTANCE_PATH=instance,
        MIXER_MAIL_URL=smtp.url,
        MIXER_WORKER_POLL_SECONDS="0.2",
        SECRET_KEY="bench-secret",
    )
    seed(env, args.messages)
    engine = create_engine(normalise_database_url(url))
    table = OutboxMessage.__table__
    workers = [start_worker(env) for _ in range(args.workers)]
    orphans: dict[int, datetime] = {}  # row id → when its worker was killed
    started = time.monotonic()
    try:
        for k in range(1, args.kills + 1):
            target = args.messages * k // (args.kills + 1)
            while len(smtp.recorder.received) < target:
                time.sleep(0.01)
            victim = workers.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = datetime.now(UTC)
            with engine.connect() as conn:
                held = dict(
                    conn.execute(
                        select(table.c.id, table.c.claimed_by).where(
                            table.c.status == "sending"
                        )
                    ).all()
                )
            workers.append(start_worker(env))
            time.sleep(2)  # the survivors finish (or renew) their own claims
            with engine.connect() as conn:
                still = dict(
                    conn.execute(
                        select(table.c.id, table.c.claimed_by).where(
                            table.c.id.in_(list(held) or [0])
                        )
                    ).all()
                )
            for row_id, token in held.items():
                if still.get(row_id) == token:  # nobody finished it: the dead one's
                    orphans[row_id] = killed_at
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM outbox_message WHERE status <> 'sent'")
                ).scalar()
            if not left:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        with engine.connect() as conn:
            rows = conn.execute(
                select(table.c.id, table.c.message_id, table.c.sent_at, table.c.status)
            ).all()
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        smtp.stop()
        engine.dispose()
    received = Counter(m["Message-ID"] for m in smtp.recorder.messages())
    queued = {r.message_id for r in rows}
    waits = sorted(
        (r.sent_at - orphans[r.id]).total_seconds()
        for r in rows
        if r.id in orphans and r.sent_at is not None
    )
    return {
        "messages": len(rows),
        "seconds": elapsed,
        "orphaned": len(orphans),
        "waits": waits,
        "duplicates": sum(n - 1 for n in received.values()),
        "lost": len(queued - set(received)),
        "unsent": sum(1 for r in rows if r.status != "sent"),
    }


def report(name: str, result: dict, args: argparse.Namespace) -> None:
    waits = result["waits"]
    wait_text = (
        f"{min(waits):.1f}–{max(waits):.1f} s (median {waits[len(waits) // 2]:.1f} s)"
        if waits
        else "none held"
    )
    print(
        f"{name}: {result['messages']} messages, {args.workers} workers, "
        f"{args.kills} SIGKILLs, {result['seconds']:.0f} s in all\n"
        f"  claims left by killed workers: {result['orphaned']} messages, "
        f"sent by another worker after {wait_text}\n"
        f"  duplicates at the sink (same Message-ID): {result['duplicates']}\n"
        f"  lost: {result['lost']} (not sent: {result['unsent']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    if not args.sqlite and not args.postgres:
        parser.error("name a database: --sqlite and/or --postgres URL")
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/mixer.sqlite3"
            report("SQLite", run(url, folder, args), args)
    if args.postgres:
        base = make_url(normalise_database_url(args.postgres))
        name = "mixer_bench_worker_crash"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            with tempfile.TemporaryDirectory() as folder:
                report("PostgreSQL", run(url, folder, args), args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
