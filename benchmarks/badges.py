"""Badge PDF benchmark: time and peak memory for 100, 500 and 1,000-badge batches.

Each batch is rendered in a fresh child process, so peak RSS (``ru_maxrss``) belongs to
that batch alone and the QR cache starts cold, as in a new job worker. With
``--tracemalloc`` a second child per size measures the Python heap's peak (slower, so
it is timed separately and not mixed into the timings).

    .venv/bin/python benchmarks/badges.py                   # 100, 500, 1000 on a4-8
    .venv/bin/python benchmarks/badges.py --sizes 500 --layout badge-4x3 --tracemalloc

Results for the reference machine are recorded in docs/badges.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
TAGS = ["Python", "Career growth", "Public speaking", "Kubernetes", "Negotiation"]
ROLES = ["mentor", "mentee", "speaker", "organizer", "attendee", "either"]


def make_badges(count: int):
    """A realistic batch: mixed scripts, a few very long names, tags and roles."""
    from mixer.badges.render import BadgeData

    badges = []
    for i in range(count):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
        if i % 25 == 0:
            name = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff Núñez Ortiz"
        badges.append(
            BadgeData(
                name=name,
                qr_url=f"https://mixer.example.org/c/{os.urandom(16).hex()}",
                role=ROLES[i % len(ROLES)],
                pronouns=("she/her", "he/him", "they/them", "")[i % 4],
                department=("Platform Engineering", "Finance & Risk", "Legal")[i % 3],
                tags=TAGS[: i % 4],
                event_title="Mentor Mixer: spring edition",
                event_date="Thu 12 Mar 2026, 17:30",
                organization="Acme Corporation",
            )
        )
    return badges


def child(count: int, layout: str, trace: bool) -> None:
    """Render one batch and print its measurements as JSON."""
    import tracemalloc

    from mixer.badges.render import render_badges_pdf

    badges = make_badges(count)
    render_badges_pdf(make_badges(1), layout)  # fontconfig and CSS set-up, once
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    pdf = render_badges_pdf(badges, layout)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        "count": count,
        "layout": layout,
        "wall_s": wall,
        "cpu_s": cpu,
        "pdf_bytes": len(pdf),
        "baseline_rss_mb": baseline_kb / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if trace:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(result))


def run_child(count: int, layout: str, trace: bool) -> dict:
    command = [sys.executable, __file__, "--child", str(count), "--layout", layout]
    if trace:
        command.append("--tracemalloc")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--layout", default="a4-8")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.layout, args.tracemalloc)
        return

    load = os.getloadavg()[0]
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, ", end=""
    )
    print(f"Python {platform.python_version()}, load average {load:.1f} at start")
    header = (
        f"{'badges':>6} {'layout':>9} {'wall s':>7} {'CPU s':>6} {'ms/badge':>8} "
        f"{'PDF MB':>6} {'peak RSS MB':>11} {'tracemalloc MB':>14}"
    )
    print(header)
    print("-" * len(header))
    for count in args.sizes:
        r = run_child(count, args.layout, trace=False)
        traced = "-"
        if args.tracemalloc:
            peak = run_child(count, args.layout, trace=True)["tracemalloc_peak_mb"]
            traced = f"{peak:.0f}"
        print(
            f"{count:>6} {args.layout:>9} {r['wall_s']:>7.1f} {r['cpu_s']:>6.1f} "
            f"{r['cpu_s'] / count * 1000:>8.0f} {r['pdf_bytes'] / 2**20:>6.2f} "
            f"{r['peak_rss_mb']:>11.0f} {traced:>14}",
            flush=True,
        )


if __name__ == "__main__":
    main()
