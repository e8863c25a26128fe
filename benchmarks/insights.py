"""The programme dashboard of a big organization: figures, silo map and exports.

    .venv/bin/python benchmarks/insights.py [--people 5000] [--departments 20]
        [--events 200] [--registrations 50000] [--connections 100000]
        [--pairs 3000] [--asks 600] [--repeat 5] [--profile]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

A fresh instance (SQLite in a temporary folder, or a new database
``mixer_bench_insights`` on the PostgreSQL server given) is migrated and filled
with bulk inserts (``benchmarks/bigorg.py``'s helpers; no services, so it builds in
seconds) with one organization of ``--people`` members in ``--departments``
departments of uneven sizes (a few people in none), each with offered and sought
topics on their profile, and, over the last year:

- ``--events`` events (half Mentor Mixers, a quarter each lunch-and-learns and
  workshops; a few cancelled, a few without check-in at the door);
- ``--registrations`` registrations among them (a few cancelled or waitlisted,
  most checked in, topics on half of them, some spelt in capitals);
- the follow-up of every event: a prompt per person checked in, two in three
  answered, most with a rating, and a choice for most of the people they met;
- ``--connections`` connections between people checked in at the same event
  (rotations at mixers, badge scans, notes);
- ``--pairs`` pairs, nine in ten formed from two mutual choices at an event and
  the rest from asks (``--asks`` asks in all: matched, closed or open), on a
  year's term, with their fortnightly check-ins held, missed or skipped up to
  today (some pairs keep meeting, some fade; a few were closed or paused);
- approved testimonials from answers.

On PostgreSQL the tables are ANALYZEd after the load. Then, after one warm run
each, ``--repeat`` runs of: ``dashboard(org, InsightFilter.default())``, the
dashboard page (the organizer signed in through the real form, Flask's test
client) on a cache hit (a stored snapshot), a miss (no snapshot: counted in the
request and stored) and stale (a snapshot an hour old: served, a refresh job
queued), then the queued refresh jobs run as the worker runs them,
``silo_map`` alone, and the XLSX exports of connections and attendees
(time, size, the chunks the answer came in, the growth of the process's resident
memory during the first download and the peak of Python's allocations during one
more: an export that streams keeps both far below its size). One JSON line per
measure: median and best wall time, SQL statements of one run (not for the
exports), and the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bigorg import (  # noqa: E402
    ORGANIZER,
    add_org,
    analyze,
    bench_organizer,
    chunks,
    insert_members,
    meeting_rows,
)
from benchmarks.instance import (  # noqa: E402
    fresh_instance,
    measure_call,
    measure_page,
    sign_in,
)

SLUG = "bench"
DEPARTMENTS = [
    "Nursing", "Finance", "Pharmacy", "IT", "Human Resources", "Radiology",
    "Surgery", "Cardiology", "Legal", "Estates", "Research", "Education",
    "Paediatrics", "Oncology", "Procurement", "Communications", "Theatres",
    "Maternity", "Pathology", "Emergency",
]  # fmt: skip
# Topics, most sought first; offers follow another order, so that gaps appear.
TOPICS = [
    "negotiation", "public speaking", "leadership", "career change", "python",
    "budgeting", "managing up", "giving feedback", "data analysis", "writing",
    "time management", "coaching", "sql", "project management", "mentoring",
    "procurement", "research methods", "statistics", "design thinking", "ux",
    "clinical audit", "grant writing", "presenting data", "excel", "hiring",
    "wellbeing", "conflict", "delegation", "strategy", "teaching", "networking",
    "change management", "risk", "quality improvement", "ethics", "patient safety",
    "accessibility", "cloud", "security", "law",
]  # fmt: skip
OFFERED = TOPICS[::-1]  # the least sought are the most offered
ASK_TERM_DAYS = 365  # pairs here keep a year's term (organizations may set it)


def _weighted_tags(
    rng: random.Random, order: list[str], most: int, least: int = 0
) -> list[str]:
    """``least``..``most`` tags (fewer when one is drawn twice), the first of
    ``order`` far likelier (Zipf-like)."""
    weights = [1 / (rank + 1) for rank in range(len(order))]
    picked = rng.choices(order, weights=weights, k=rng.randint(least, most))
    return list(dict.fromkeys(picked))


def _as_typed(rng: random.Random, tags: list[str]) -> list[str]:
    """Tags as people type them on a registration form: some capitalised."""
    return [t.title() if rng.random() < 0.3 else t for t in tags]


def build_insights_org(
    organizer_id: int,
    *,
    people: int,
    departments: int,
    events: int,
    registrations: int,
    connections: int,
    pairs: int,
    asks: int,
    seed: int = 17,
) -> dict:
    """The organization, filled with bulk inserts; its id and row counts (the
    caller commits)."""
    from sqlalchemy import insert, select

    from mixer import clock
    from mixer.extensions import db
    from mixer.orgs.models import Department

    rng = random.Random(seed)
    now = clock.now().replace(microsecond=0)
    org = add_org(SLUG, organizer_id)
    db.session.execute(
        insert(Department),
        [{"org_id": org.id, "name": name} for name in DEPARTMENTS[:departments]],
    )
    dept_ids = list(
        db.session.scalars(
            select(Department.id)
            .where(Department.org_id == org.id)
            .order_by(Department.id)
        )
    )
    # Uneven sizes (the first departments largest); one in fifty in none.
    weights = [1 / (rank + 2) for rank in range(len(dept_ids))]
    home = [
        None if rng.random() < 0.02 else rng.choices(range(len(dept_ids)), weights)[0]
        for _ in range(people)
    ]
    profiles = [
        {
            "offers": _weighted_tags(rng, OFFERED, 3),
            "seeks": _weighted_tags(rng, TOPICS, 3),
        }
        for _ in range(people)
    ]
    ids, users = insert_members(
        SLUG,
        org.id,
        people,
        now,
        user_fields=lambda i: profiles[i],
        membership_fields=lambda i: {
            "department_id": None if home[i] is None else dept_ids[home[i]],
            "mentoring_capacity": rng.choice((0, 1, 2, 3, 3, 3, 5)),
        },
    )
    person = {uid: i for i, uid in enumerate(ids)}
    world = _World(rng, now, org.id, organizer_id, ids, users, person, home)
    event_ids = world.insert_events(events)
    world.insert_registrations(event_ids, registrations, profiles)
    world.insert_connections(connections)
    world.insert_followup()
    world.insert_pairs(pairs, asks)
    world.insert_testimonials()
    return {"org_id": org.id, **row_counts(org.id)}


class _World:
    """What the builder needs from one step to the next (ids made by the database)."""

    def __init__(self, rng, now, org_id, organizer_id, ids, users, person, home):
        """The people built so far (``ids``, ``users`` rows, ``person``: user id →
        index, ``home``: index → department index or None)."""
        self.rng, self.now, self.org_id = rng, now, org_id
        self.organizer_id = organizer_id
        self.ids, self.users, self.person, self.home = ids, users, person, home
        self.events: dict[int, dict] = {}  # id → the row inserted
        # Registrations checked in, by event: (registration id, user id).
        self.present: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.met: dict[int, list[tuple[int, int]]] = defaultdict(list)  # by event
        self.prompts: dict[int, int] = {}  # registration id → answered prompt id
        self.reg_user: dict[int, int] = {}

    def insert_events(self, count: int) -> list[int]:
        """``count`` events over the last year, newest first; their ids."""
        from sqlalchemy import insert, select

        from mixer.events.models import Event
        from mixer.extensions import db

        rows = []
        for e in range(count):
            start = self.now - timedelta(days=2 + e * 360 // max(count, 1), hours=5)
            kind = ("mentor_mixer", "mentor_mixer", "lunch_and_learn", "workshop")[
                e % 4
            ]
            cancelled = e % 37 == 5
            rows.append(
                {
                    "org_id": self.org_id,
                    "kind": kind,
                    "title": f"{kind.replace('_', ' ').title()} {e}",
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=2),
                    "timezone": "Europe/London",
                    "capacity": 400,
                    "status": "cancelled" if cancelled else "ended",
                    "published_at": start - timedelta(days=21),
                    "cancelled_at": start - timedelta(days=3) if cancelled else None,
                    "topic": TOPICS[e % len(TOPICS)]
                    if kind == "lunch_and_learn"
                    else None,
                    "rounds": 6 if kind == "mentor_mixer" else None,
                    "minutes_per_round": 8 if kind == "mentor_mixer" else None,
                    "share_key": uuid.uuid4().hex,
                    "ical_uid": f"{uuid.uuid4()}@bench",
                    "created_by_id": self.organizer_id,
                    "created_at": start - timedelta(days=30),
                }
            )
        db.session.execute(insert(Event), rows)
        got = db.session.execute(
            select(Event.id, Event.title).where(Event.org_id == self.org_id)
        ).all()
        by_title = {row["title"]: row for row in rows}
        self.events = {event_id: by_title[title] for event_id, title in got}
        return [event_id for event_id, _ in got]

    def insert_registrations(
        self, event_ids: list[int], count: int, profiles: list[dict]
    ) -> None:
        """``count`` registrations spread over the events: mostly registered and
        checked in (none at the few events that did not use check-in)."""
        from sqlalchemy import insert, select

        from mixer.events.models import Event, Registration
        from mixer.extensions import db

        rng, people = self.rng, len(self.ids)
        per_event = count // max(len(event_ids), 1)
        rows = []
        for n, event_id in enumerate(event_ids):
            event = self.events[event_id]
            uses_checkin = event["status"] == "ended" and n % 23 != 7
            waiting = 0
            for index in rng.sample(range(people), min(per_event, people)):
                roll = rng.random()
                status = (
                    "cancelled"
                    if roll < 0.04
                    else "waitlisted"
                    if roll < 0.07
                    else "registered"
                )
                waiting += status == "waitlisted"
                present = status == "registered" and uses_checkin and roll < 0.90
                home = self.home[index]
                tagged = rng.random() < 0.5
                rows.append(
                    {
                        "event_id": event_id,
                        "user_id": self.ids[index],
                        "email": self.users[index]["email"],
                        "name": self.users[index]["name"],
                        "status": status,
                        "waitlist_position": waiting
                        if status == "waitlisted"
                        else None,
                        "source": "member",
                        "role": rng.choice(("mentor", "mentee", "either")),
                        "department": None if home is None else DEPARTMENTS[home],
                        "offers": _as_typed(rng, profiles[index]["offers"])
                        if tagged
                        else [],
                        "seeks": _as_typed(rng, profiles[index]["seeks"])
                        if tagged
                        else [],
                        "confirmed_at": event["created_at"],
                        "cancelled_at": event["starts_at"] - timedelta(days=1)
                        if status == "cancelled"
                        else None,
                        "checked_in_at": event["starts_at"]
                        + timedelta(minutes=rng.randint(-10, 30))
                        if present
                        else None,
                        "created_at": event["created_at"] + timedelta(days=1),
                    }
                )
        for chunk in chunks(rows):
            db.session.execute(insert(Registration), chunk)
        got = db.session.execute(
            select(
                Registration.id,
                Registration.event_id,
                Registration.user_id,
                Registration.checked_in_at,
            )
            .join(Event)
            .where(Event.org_id == self.org_id)
        )
        for reg_id, event_id, user_id, checked_in in got:
            self.reg_user[reg_id] = user_id
            if checked_in is not None:
                self.present[event_id].append((reg_id, user_id))

    def insert_connections(self, count: int) -> None:
        """``count`` connections, spread over the events by attendance: two
        people checked in at the same event, each two at most once."""
        from sqlalchemy import insert

        from mixer.connections.models import Connection
        from mixer.extensions import db

        rng = self.rng
        total = sum(len(p) for p in self.present.values()) or 1
        rows, seen_before = [], 0
        for event_id, present in self.present.items():
            # Shares of ``count`` by attendance, rounded so they add up to it.
            share = round(count * (seen_before + len(present)) / total) - round(
                count * seen_before / total
            )
            seen_before += len(present)
            want = min(share, len(present) * (len(present) - 1) // 2)
            mixer = self.events[event_id]["kind"] == "mentor_mixer"
            seen: set[tuple[int, int]] = set()
            while len(seen) < want:
                (a, _), (b, _) = rng.sample(present, 2)
                key = (min(a, b), max(a, b))
                if key in seen:
                    continue
                seen.add(key)
                roll = rng.random()
                source = (
                    ("rotation" if roll < 0.7 else "scan" if roll < 0.9 else "note")
                    if mixer
                    else ("scan" if roll < 0.7 else "note" if roll < 0.95 else "manual")
                )
                rows.append(
                    {
                        "event_id": event_id,
                        "a_id": key[0],
                        "b_id": key[1],
                        "source": source,
                        "round_number": rng.randint(1, 6)
                        if source == "rotation"
                        else None,
                        "created_at": self.events[event_id]["starts_at"],
                    }
                )
            self.met[event_id] = sorted(seen)
        for chunk in chunks(rows):
            db.session.execute(insert(Connection), chunk)

    def insert_followup(self) -> None:
        """Every event's follow-up: a prompt per person checked in, two in three
        answered (most with a rating), choices for most people they met."""
        from sqlalchemy import insert, select

        from mixer.extensions import db
        from mixer.followup.models import EventFollowup, FollowupPrompt

        rng = self.rng
        rounds, prompts = [], []
        for event_id, present in self.present.items():
            sent = self.events[event_id]["ends_at"] + timedelta(hours=20)
            rounds.append(
                {
                    "event_id": event_id,
                    "due_at": sent,
                    "sent_at": sent,
                    "prompt_count": len(present),
                    "created_at": sent - timedelta(days=1),
                }
            )
            for reg_id, user_id in present:
                answered = rng.random() < 0.66
                rated = answered and rng.random() < 0.85
                prompts.append(
                    {
                        "event_id": event_id,
                        "registration_id": reg_id,
                        "user_id": user_id,
                        "rating": rng.choice((2, 3, 4, 4, 5, 5)) if rated else None,
                        "comment": "Met someone from Finance at last."
                        if answered and rng.random() < 0.2
                        else None,
                        "answered_at": sent + timedelta(hours=rng.randint(1, 96))
                        if answered
                        else None,
                        "created_at": sent,
                    }
                )
        db.session.execute(insert(EventFollowup), rounds)
        for chunk in chunks(prompts):
            db.session.execute(insert(FollowupPrompt), chunk)
        got = db.session.execute(
            select(FollowupPrompt.registration_id, FollowupPrompt.id).where(
                FollowupPrompt.event_id.in_(list(self.present)),
                FollowupPrompt.answered_at.is_not(None),
            )
        )
        self.prompts = dict(got.all())

    def insert_pairs(self, count: int, asks: int) -> None:
        """``count`` pairs: nine in ten from two mutual choices at an event, the rest
        from asks; then everyone's other choices, the asks and the check-ins."""
        from sqlalchemy import insert, select

        from mixer.asks.models import Ask
        from mixer.extensions import db
        from mixer.followup.models import FollowupChoice
        from mixer.pairs.models import Pair, PairMeeting, open_key

        rng, now = self.rng, self.now
        choices: dict[tuple[int, int], str] = {}  # (prompt id, other reg) → choice
        couples: set[tuple[int, int]] = set()
        pair_rows: list[dict] = []

        def add_pair(a: int, b: int, started: datetime, **fields) -> None:
            low, high = min(a, b), max(a, b)
            couples.add((low, high))
            mentoring = rng.random() < 0.6
            roll = rng.random()
            status = "closed" if roll < 0.08 else "paused" if roll < 0.11 else "active"
            pair_rows.append(
                {
                    "org_id": self.org_id,
                    "kind": "mentoring" if mentoring else "peer",
                    "a_id": low,
                    "b_id": high,
                    "mentor_id": (a if mentoring else None),
                    "status": status,
                    "open_key": None
                    if status == "closed"
                    else open_key(self.org_id, low, high),
                    "ics_uid": f"{uuid.uuid4()}@bench",
                    "cadence_days": 14,
                    "timezone": "UTC",
                    "started_at": started,
                    "term_ends_at": started + timedelta(days=ASK_TERM_DAYS),
                    "ended_at": min(now, started + timedelta(days=rng.randint(20, 200)))
                    if status == "closed"
                    else None,
                    "created_at": started,
                    **fields,
                }
            )

        # Pairs from events: two who met, both answered, and chose each other.
        from_events = count - count // 10
        candidates = [
            (event_id, a, b)
            for event_id, met in self.met.items()
            for a, b in met
            if a in self.prompts and b in self.prompts
        ]
        rng.shuffle(candidates)
        for event_id, a, b in candidates:
            if len(pair_rows) >= from_events:
                break
            ua, ub = self.reg_user[a], self.reg_user[b]
            if (min(ua, ub), max(ua, ub)) in couples:
                continue
            # They paired a day or two after the event (not in the future).
            started = min(
                self.events[event_id]["ends_at"] + timedelta(days=2),
                now - timedelta(hours=1),
            )
            add_pair(ua, ub, started, source="event", event_id=event_id)
            if pair_rows[-1]["kind"] == "mentoring":
                # a is the mentor: a chose b as mentee, b chose a as mentor.
                choices[(self.prompts[a], b)] = "mentee"
                choices[(self.prompts[b], a)] = "mentor"
            else:
                choices[(self.prompts[a], b)] = choices[(self.prompts[b], a)] = "peer"
        # Everyone else's choices: most people they met, mostly "not now".
        for met in self.met.values():
            for a, b in met:
                for me, other in ((a, b), (b, a)):
                    key = (self.prompts.get(me), other)
                    if key[0] is None or key in choices or rng.random() < 0.3:
                        continue
                    choices[key] = rng.choice(
                        ("not_now", "not_now", "not_now", "peer", "mentor", "mentee")
                    )
        for chunk in chunks(
            [
                {"prompt_id": p, "other_id": o, "choice": c, "updated_at": now}
                for (p, o), c in choices.items()
            ]
        ):
            db.session.execute(insert(FollowupChoice), chunk)

        # Asks over the year: half matched (a pair), a quarter closed, the rest open.
        ask_rows = []
        for n in range(asks):
            opened = now - timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 9))
            status = ("matched", "matched", "closed", "open")[n % 4]
            ask_rows.append(
                {
                    "org_id": self.org_id,
                    "requester_id": rng.choice(self.ids),
                    "topic": _weighted_tags(rng, TOPICS, 1, 1)[0]
                    if rng.random() < 0.9
                    else "ward rounds",
                    "note": "Half an hour would help.",
                    "status": status,
                    "created_at": opened,
                    "closed_at": min(opened + timedelta(days=2), now)
                    if status != "open"
                    else None,
                }
            )
        for chunk in chunks(ask_rows):
            db.session.execute(insert(Ask), chunk)
        matched = db.session.execute(
            select(Ask.id, Ask.requester_id, Ask.topic, Ask.closed_at).where(
                Ask.org_id == self.org_id, Ask.status == "matched"
            )
        ).all()
        for ask_id, requester, topic, closed_at in matched:
            if len(pair_rows) >= count:
                break
            mentor = rng.choice(self.ids)
            if mentor == requester or (
                (min(mentor, requester), max(mentor, requester)) in couples
            ):
                continue
            add_pair(
                mentor,
                requester,
                closed_at,
                source="request",
                ask_id=ask_id,
                topic=topic,
            )
        for chunk in chunks(pair_rows):
            db.session.execute(insert(Pair), chunk)

        # Check-ins every fortnight up to today (or the pair's end); some pairs keep
        # meeting, some fade.
        got = db.session.execute(
            select(
                Pair.id,
                Pair.a_id,
                Pair.b_id,
                Pair.mentor_id,
                Pair.started_at,
                Pair.ended_at,
            ).where(Pair.org_id == self.org_id)
        ).all()
        meetings = []
        for pair_id, a, b, mentor, started, ended in got:
            held = rng.choice((0.9, 0.9, 0.9, 0.6, 0.6, 0.25))
            meetings += meeting_rows(
                rng, pair_id, a, b, mentor, started, now, held=held, until=ended
            )
        for chunk in chunks(meetings):
            db.session.execute(insert(PairMeeting), chunk)

    def insert_testimonials(self) -> None:
        """Testimonials from the prompts' comments: most approved, some pending."""
        from sqlalchemy import insert, select

        from mixer.extensions import db
        from mixer.followup.models import FollowupPrompt
        from mixer.recognition.models import Testimonial

        got = db.session.execute(
            select(
                FollowupPrompt.id,
                FollowupPrompt.event_id,
                FollowupPrompt.user_id,
                FollowupPrompt.comment,
                FollowupPrompt.answered_at,
            ).where(
                FollowupPrompt.event_id.in_(list(self.present)),
                FollowupPrompt.comment.is_not(None),
            )
        ).all()
        rows = [
            {
                "org_id": self.org_id,
                "event_id": event_id,
                "author_id": user_id,
                "author_name": self.users[self.person[user_id]]["name"],
                "body": comment,
                "source": "prompt",
                "source_key": f"prompt:{prompt_id}",
                "status": "approved" if n % 4 else "pending",
                "moderated_by_id": self.organizer_id if n % 4 else None,
                "moderated_at": answered + timedelta(days=1) if n % 4 else None,
                "created_at": answered,
            }
            # One comment in ten was offered as a testimonial.
            for n, (prompt_id, event_id, user_id, comment, answered) in enumerate(
                got[::10]
            )
        ]
        for chunk in chunks(rows):
            db.session.execute(insert(Testimonial), chunk)


def row_counts(org_id: int) -> dict[str, int]:
    """The organization's rows, table by table (to check what was built)."""
    from sqlalchemy import func, select

    from mixer.asks.models import Ask
    from mixer.connections.models import Connection
    from mixer.events.models import Event, Registration
    from mixer.extensions import db
    from mixer.followup.models import FollowupChoice, FollowupPrompt
    from mixer.orgs.models import Department, Membership
    from mixer.pairs.models import Pair, PairMeeting
    from mixer.recognition.models import Testimonial

    events = select(Event.id).where(Event.org_id == org_id)
    pairs = select(Pair.id).where(Pair.org_id == org_id)
    prompts = select(FollowupPrompt.id).where(FollowupPrompt.event_id.in_(events))
    queries = {
        "members": select(func.count()).where(Membership.org_id == org_id),
        "departments": select(func.count()).where(Department.org_id == org_id),
        "events": select(func.count()).where(Event.org_id == org_id),
        "registrations": select(func.count()).where(Registration.event_id.in_(events)),
        "checked_in": select(func.count()).where(
            Registration.event_id.in_(events), Registration.checked_in_at.is_not(None)
        ),
        "connections": select(func.count()).where(Connection.event_id.in_(events)),
        "prompts": select(func.count()).where(FollowupPrompt.id.in_(prompts)),
        "answered": select(func.count()).where(
            FollowupPrompt.id.in_(prompts), FollowupPrompt.answered_at.is_not(None)
        ),
        "choices": select(func.count()).where(FollowupChoice.prompt_id.in_(prompts)),
        "pairs": select(func.count()).where(Pair.org_id == org_id),
        "check_ins": select(func.count()).where(PairMeeting.pair_id.in_(pairs)),
        "asks": select(func.count()).where(Ask.org_id == org_id),
        "testimonials": select(func.count()).where(Testimonial.org_id == org_id),
    }
    return {name: db.session.scalar(query) for name, query in queries.items()}


def _rss_kb() -> int:
    """The process's resident memory now, in KB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _download(client, path: str) -> tuple[int, int]:
    """Fetch ``path`` reading the answer as it streams: its bytes and chunks."""
    resp = client.get(path, buffered=False)
    assert resp.status_code == 200, (path, resp.status_code)
    size = parts = 0
    for part in resp.response:
        size += len(part)
        parts += 1
    resp.close()
    return size, parts


def _rss_growth_kb(call) -> int:
    """The peak growth of resident memory while ``call()`` runs (a thread reads
    it every 2 ms)."""
    base, peak, done = _rss_kb(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], _rss_kb() - base)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        call()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], _rss_kb() - base)


def measure_export(client, path: str, repeat: int) -> dict:
    """Download ``path`` once cold, then ``repeat`` times: median and best ms, its
    size and the chunks it came in; the growth of resident memory during the
    cold download (later ones reuse memory the first one freed), and the peak of
    Python's allocations (``tracemalloc``) during one more."""
    import tracemalloc

    rss = _rss_growth_kb(lambda: _download(client, path))
    times = []
    for _ in range(repeat):
        wall = time.perf_counter()
        size, parts = _download(client, path)
        times.append(time.perf_counter() - wall)
    tracemalloc.start()
    try:
        _download(client, path)
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "best_ms": round(min(times) * 1000, 1),
        "kb": round(size / 1024, 1),
        "chunks": parts,
        "rss_growth_mb": round(rss / 1024, 1),
        "traced_peak_mb": round(traced / 2**20, 1),
    }


def _print(measure: str, database: str, **figures) -> None:
    """One JSON line, with the load average beside the figures."""
    line = {"measure": measure, "database": database, **figures}
    line["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--registrations", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--asks", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--profile", action="store_true", help="cProfile each measure")
    parser.add_argument("--build-only", action="store_true", help="build, count, stop")
    parser.add_argument(
        "--no-exports", action="store_true", help="figures and the page only"
    )
    args = parser.parse_args()

    fresh_instance(args.postgres, "mixer_bench_insights")
    from flask_migrate import upgrade

    from mixer import create_app
    from mixer.extensions import db

    database = "postgresql" if args.postgres else "sqlite"
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    built = time.perf_counter()
    with app.app_context():
        upgrade(revision="heads")
        organizer = bench_organizer()
        counts = build_insights_org(
            organizer.id,
            people=args.people,
            departments=args.departments,
            events=args.events,
            registrations=args.registrations,
            connections=args.connections,
            pairs=args.pairs,
            asks=args.asks,
        )
        db.session.commit()
        analyze(args.postgres)
        _print(
            "built", database, built_s=round(time.perf_counter() - built, 1), **counts
        )
        db.session.remove()
        engine = db.engine
    if args.build_only:
        return
    _measure(
        app,
        engine,
        counts["org_id"],
        database,
        args.repeat,
        args.profile,
        exports=not args.no_exports,
    )


def _measure(
    app,
    engine,
    org_id: int,
    database: str,
    repeat: int,
    profile: bool,
    exports: bool = True,
):
    """Time the dashboard, the page, the silo map and the exports."""
    from mixer.extensions import db
    from mixer.insights.dashboard import dashboard
    from mixer.insights.events import event_figures
    from mixer.insights.filters import InsightFilter
    from mixer.insights.funnel import funnel
    from mixer.insights.people import people_figures
    from mixer.insights.silos import silo_map
    from mixer.insights.topics import topic_gaps
    from mixer.orgs.models import Organization

    def figures_of(section):
        """A call of ``section(org, default filter)`` from a fresh session (the
        organization loaded in it: one statement)."""

        def call():
            db.session.remove()
            org = db.session.get(Organization, org_id)
            return section(org, InsightFilter.default())

        return call

    with app.app_context():

        def at_once(org, flt):
            return dashboard(org, flt, parallel=True)

        sections = (
            ("dashboard", dashboard),
            ("dashboard_parallel", at_once),
            ("funnel", funnel),
            ("silo_map", silo_map),
            ("topic_gaps", topic_gaps),
            ("event_figures", event_figures),
            ("people_figures", people_figures),
        )
        for name, section in sections:
            call = figures_of(section)
            call()  # warm
            figures, result = measure_call(engine, call, repeat)
            extra = {}
            if name.startswith("dashboard"):
                extra = {
                    "registered": result.funnel.stages[0].count.value,
                    "meetings": result.silos.total.value,
                }
            _print(name, database, **figures, **extra)
            if profile:
                _profile(call)
        db.session.remove()

    client = app.test_client()
    sign_in(client, ORGANIZER)
    page = f"/o/{SLUG}/insights"
    client.get(page)  # warm: templates compiled, caches filled, snapshot stored
    # A hit: the stored snapshot, younger than INSIGHTS_CACHE_MINUTES.
    _print(
        "dashboard_page_hit",
        database,
        **measure_page(client, engine, page, repeat, profile),
    )
    # A miss: no snapshot (deleted before each fetch, outside the timing): the
    # figures counted in the request (today's code) and stored.
    _print(
        "dashboard_page_miss",
        database,
        **_page_after(app, client, engine, page, repeat, _forget_snapshots),
    )
    # Stale: the snapshot an hour old before each fetch; served at once, and a
    # refresh job queued (one per snapshot).
    _print(
        "dashboard_page_stale",
        database,
        **_page_after(app, client, engine, page, repeat, _age_snapshots),
    )
    # The refresh job the stale views queued, run as the worker runs it.
    _print("refresh_job", database, **_refresh_job(app, engine))
    for dataset in ("connections", "attendees") if exports else ():
        path = f"/o/{SLUG}/insights/export/{dataset}.xlsx"
        _print(
            f"export_{dataset}_xlsx", database, **measure_export(client, path, repeat)
        )


def _forget_snapshots() -> None:
    from sqlalchemy import delete

    from mixer.extensions import db
    from mixer.insights.models import InsightSnapshot

    db.session.execute(delete(InsightSnapshot))
    db.session.commit()


def _age_snapshots() -> None:
    from sqlalchemy import update

    from mixer import clock
    from mixer.extensions import db
    from mixer.insights.models import InsightSnapshot

    db.session.execute(
        update(InsightSnapshot).values(
            computed_at=clock.now() - timedelta(hours=1, seconds=random.random())
        )
    )
    db.session.commit()


def _page_after(app, client, engine, path: str, repeat: int, before) -> dict:
    """Fetch ``path`` ``repeat`` times, calling ``before()`` (untimed) first."""
    from sqlalchemy import event

    times, sql, size = [], 0, 0
    statements = [0]

    def count(*_args, **_kw):
        statements[0] += 1

    for _ in range(repeat):
        with app.app_context():
            before()
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements[0] = 0
            wall = time.perf_counter()
            resp = client.get(path)
            times.append(time.perf_counter() - wall)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert resp.status_code == 200, resp.status_code
        sql, size = statements[0], len(resp.data)
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "best_ms": round(min(times) * 1000, 1),
        "sql_statements": sql,
        "kb": round(size / 1024, 1),
    }


def _refresh_job(app, engine) -> dict:
    """Run the queued refresh jobs as the worker does; the time of each."""
    from sqlalchemy import func, select

    from mixer.extensions import db
    from mixer.insights.cache import REFRESH_JOB
    from mixer.jobs.models import Job, JobStatus
    from mixer.jobs.services import run_due

    with app.app_context():
        queued = db.session.scalar(
            select(func.count(Job.id)).where(
                Job.kind == REFRESH_JOB, Job.status == JobStatus.PENDING
            )
        )
        wall = time.perf_counter()
        done = run_due(limit=100)
        took = time.perf_counter() - wall
        db.session.remove()
    return {
        "queued": queued,
        "done": done,
        "ms_each": round(took * 1000 / max(done["done"], 1), 1),
    }


def _profile(call) -> None:
    """Print the cProfile of one more call, most cumulative time first."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
