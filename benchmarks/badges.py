"""Badge PDF benchmark: a batch through the real job path, and the engine alone.

    .venv/bin/python benchmarks/badges.py                    # 1,000 badges, a4-8
    .venv/bin/python benchmarks/badges.py --sizes 200 1000 --layout letter-8
    .venv/bin/python benchmarks/badges.py --mode direct --sizes 100 500 1000

**job** (the organizer's wait): a fresh SQLite instance is migrated and filled with
an event of N registered people (mixed scripts, long names, every ribbon); a real
``mixer worker`` process (default settings: it polls every 2 s) is started and left
to settle; then the ``badges.batch`` job is scheduled, as the badge view does, and
timed until the job is done. Reported: wall time from scheduling to done, CPU time
of the worker and every process under it (its fork server and rendering processes
included, read from /proc), the peak of their summed memory (proportional set
size, so shared pages count once; sampled every 50 ms) and the peak resident memory
of the largest single process, ms of CPU a badge, the PDF's size and
whether every QR code in the cached PDF decodes (zxing-cpp at 200 dpi) to its own
registration's URL.

**direct**: ``render_badges_pdf`` in a fresh process after a one-badge warm-up, with
the same measurements (its process tree's CPU and memory).

The load average is printed beside every row: on a shared machine wall time is an
upper bound and CPU time is the fairer figure. Results are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")

FIRST = ["Ana", "Zoë", "José", "Łukasz", "محمد", "山田", "שרה", "Oluwaseun", "Chloé"]
LAST = [
    "Silva",
    "Ångström",
    "Núñez",
    "Wiśniewski",
    "عبد الله الفارسي",
    "太郎",
    "לוי",
    "Adébáyọ̀-Okonkwo",
    "de la Fontaine-Beauregard",
]
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff Núñez Ortiz"
TAGS = ["Python", "Career growth", "Public speaking", "Kubernetes", "Negotiation"]
ROLES = ["mentor", "mentee", "speaker", "organizer", "attendee", "either"]


def person(i: int) -> dict:
    """The i-th attendee of a batch: mixed scripts, one very long name in 25."""
    name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
    if i % 25 == 0:
        name = LONG_NAME
    return {
        "name": name,
        "role": ROLES[i % len(ROLES)],
        "pronouns": ("she/her", "he/him", "they/them", "")[i % 4],
        "department": ("Platform Engineering", "Finance & Risk", "Legal")[i % 3],
        "tags": TAGS[: i % 4],
    }


def make_badges(count: int):
    """``count`` BadgeData for the direct benchmark."""
    from mixer.badges.render import BadgeData

    return [
        BadgeData(
            qr_url=f"https://mixer.example.org/c/{os.urandom(16).hex()}",
            event_title="Mentor Mixer: spring edition",
            event_date="Thu 12 Mar 2026, 17:30",
            organization="Acme Corporation",
            **person(i),
        )
        for i in range(count)
    ]


# -- the process tree, from /proc ------------------------------------------------


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                path = f"/proc/{current}/task/{task}/children"
                with open(path) as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``'s tree: each live process's own time plus that of the
    children it has waited for (rendering processes reaped by the fork server)."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of proportional set sizes over the tree in KB, largest single RSS in KB).

    PSS shares each page among the processes mapping it, so pages the rendering
    processes share with their fork server are counted once, not once a process.
    """
    total = largest = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        total += int(fields["Pss"].split()[0])
        largest = max(largest, int(fields["Rss"].split()[0]))
    return total, largest


class Sampler(threading.Thread):
    """Samples a process tree's memory every 50 ms (see ``tree_memory``)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_sum, self.peak_one = pid, 0, 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            total, largest = tree_memory(self.pid)
            self.peak_sum = max(self.peak_sum, total)
            self.peak_one = max(self.peak_one, largest)
            self.halt.wait(0.05)

    def stop(self) -> None:
        self.halt.set()
        self.join()


# -- the job path ------------------------------------------------------------------


def seed(count: int) -> int:
    """Migrate the instance in the environment and add an event of ``count``
    registered people; returns the event's id."""
    from flask_migrate import upgrade

    from mixer import clock, create_app
    from mixer.events.lifecycle import create_event
    from mixer.events.models import Registration
    from mixer.extensions import db
    from mixer.orgs.services import create_organization

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        org = create_organization("acme", "Acme Corporation")
        start = clock.now().replace(microsecond=0) + timedelta(days=7)
        event = create_event(
            org,
            None,
            kind="mentor_mixer",
            status="published",
            title="Mentor Mixer: spring edition",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="Europe/London",
            capacity=count + 10,
        )
        db.session.flush()
        for i in range(count):
            p = person(i)
            db.session.add(
                Registration(
                    event_id=event.id,
                    email=f"p{i}@example.org",
                    name=p["name"],
                    status="registered",
                    source="organizer",
                    role=("mentor", "mentee", "either")[i % 3],
                    department=p["department"],
                    offers=p["tags"],
                    confirmed_at=clock.now(),
                )
            )
        db.session.commit()
        event_id = event.id
        db.engine.dispose()
    return event_id


def schedule(event_id: int, layout: str) -> tuple[list[str], str]:
    """Schedule the batch job as the badge view does; (QR URLs, the PDF's path)."""
    from mixer import create_app
    from mixer.badges import services as badges
    from mixer.events.models import Event
    from mixer.extensions import db

    app = create_app()
    with app.app_context():
        batch = badges.batch_for(db.session.get(Event, event_id), layout)
        badges.schedule_batch(batch)
        db.session.commit()
        urls, path = [b.qr_url for b in batch.badges], str(batch.path)
        db.engine.dispose()
    return urls, path


def job_status(database: str) -> tuple[str, int] | None:
    with sqlite3.connect(database, timeout=30) as conn:
        row = conn.execute(
            "SELECT status, progress FROM job WHERE kind = 'badges.batch'"
        ).fetchone()
    return None if row is None else (str(row[0]), int(row[1] or 0))


def run_job(count: int, layout: str, verify: bool) -> dict:
    """One batch through ``mixer worker``; see the module's docstring."""
    with tempfile.TemporaryDirectory() as folder:
        database = f"{folder}/mixer.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIXER_")}
        env.update(
            DATABASE_URL=f"sqlite:///{database}",
            MIXER_INSTANCE_PATH=folder,
            SECRET_KEY="bench-secret",
            BASE_URL="https://mixer.example.org",
            PYTHONPATH=str(ROOT),
        )
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            event_id = seed(count)
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
                [sys.executable, "-c", "from mixer.cli import main; main()", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                time.sleep(6)  # imported, connected, polling: the worker is idle
                sampler = Sampler(worker.pid)
                cpu0, load = tree_cpu(worker.pid), os.getloadavg()
                sampler.start()
                started = time.perf_counter()
                urls, path = schedule(event_id, layout)
                progress: list[int] = []
                while True:
                    status = job_status(database)
                    if status and status[1] not in progress:
                        progress.append(status[1])
                    if status and status[0] in ("done", "failed"):
                        break
                    if worker.poll() is not None:
                        raise RuntimeError(worker.stderr.read().decode()[-2000:])
                    time.sleep(0.05)
                wall = time.perf_counter() - started
                cpu = tree_cpu(worker.pid) - cpu0
                sampler.stop()
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if status[0] != "done":
            raise RuntimeError(f"the job {status[0]}")
        pdf = Path(path).read_bytes()
        result = {
            "mode": "job",
            "count": count,
            "layout": layout,
            "wall_s": wall,
            "cpu_s": cpu,
            "pdf_bytes": len(pdf),
            "peak_sum_mb": sampler.peak_sum / 1024,
            "peak_one_mb": sampler.peak_one / 1024,
            "load": load[0],
            "progress_steps": len(progress),
        }
        if verify:
            result["decoded"] = decoded_ok(pdf, urls)
        return result


def decoded_ok(pdf: bytes, urls: list[str]) -> str:
    """ "all" when every QR code decodes to a distinct expected URL, else a count."""
    from tests.badges.pdfcheck import decode_pages

    found = [code.text for page in decode_pages(pdf) for code in page]
    good = len(set(found) & set(urls))
    return "all" if good == len(urls) == len(found) else f"{good}/{len(urls)}"


# -- the engine alone --------------------------------------------------------------


def child(count: int, layout: str) -> None:
    """Render one batch in this (fresh) process; print its measurements as JSON.

    Memory is sampled by the parent (reading /proc/*/smaps_rollup costs CPU, which
    must not be charged to the render).
    """
    from mixer.badges.render import render_badges_pdf

    badges = make_badges(count)
    render_badges_pdf(make_badges(1), layout)  # fontconfig and CSS set-up, once
    cpu0, load = tree_cpu(os.getpid()), os.getloadavg()
    wall = time.perf_counter()
    pdf = render_badges_pdf(badges, layout)
    wall = time.perf_counter() - wall
    cpu = tree_cpu(os.getpid()) - cpu0
    print(
        json.dumps(
            {
                "mode": "direct",
                "count": count,
                "layout": layout,
                "wall_s": wall,
                "cpu_s": cpu,
                "pdf_bytes": len(pdf),
                "load": load[0],
                "progress_steps": 0,
            }
        ),
        flush=True,
    )


def run_direct(count: int, layout: str) -> dict:
    command = [sys.executable, __file__, "--child", str(count), "--layout", layout]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        command, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    sampler.stop()
    if proc.returncode:
        raise RuntimeError(f"the render failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_sum_mb"] = sampler.peak_sum / 1024
    result["peak_one_mb"] = sampler.peak_one / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--layout", default="a4-8")
    parser.add_argument("--mode", choices=["job", "direct", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--no-verify", action="store_true", help="skip decoding the job's QR codes"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.layout)
        return

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    header = (
        f"{'mode':>6} {'badges':>6} {'layout':>9} {'wall s':>7} {'CPU s':>6} "
        f"{'CPU ms/badge':>12} {'PDF MB':>6} {'PSS sum MB':>10} {'RSS max MB':>10} "
        f"{'progress':>8} {'QR decode':>9} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    modes = ["job", "direct"] if args.mode == "both" else [args.mode]
    for count in args.sizes:
        for mode in modes:
            for _ in range(args.runs):
                if mode == "job":
                    r = run_job(count, args.layout, verify=not args.no_verify)
                else:
                    r = run_direct(count, args.layout)
                print(
                    f"{mode:>6} {count:>6} {args.layout:>9} {r['wall_s']:>7.1f} "
                    f"{r['cpu_s']:>6.1f} {r['cpu_s'] / count * 1000:>12.1f} "
                    f"{r['pdf_bytes'] / 2**20:>6.2f} {r['peak_sum_mb']:>10.0f} "
                    f"{r['peak_one_mb']:>10.0f} {r['progress_steps']:>8} "
                    f"{r.get('decoded', '-'):>9} {r['load']:>5.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
