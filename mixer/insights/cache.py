"""The dashboard's snapshot cache: figures per organization and filter, kept fresh
by the job worker (``docs/insights.md``, "Freshness"; ``docs/performance.md``).

Counting a year of a large organization takes most of a second (50,000
registrations, 100,000 connections); reading a stored snapshot takes a few
milliseconds. So the page, the API and the programme report ask ``snapshot()``:

- **hit**: a row younger than ``INSIGHTS_CACHE_MINUTES`` is served as it is;
- **stale**: an older row is served at once, saying when it was computed, and
  one refresh job is queued for it (its dedupe key names the row's
  ``computed_at``, so however many views see it stale, one job is queued);
- **miss**: the figures are counted now (today's ``dashboard()``) and stored;
  a snapshot older than ``STALE_AT_MOST`` counts as a miss (a filter unread for
  long is not shown from days ago; a withdrawn testimonial is not quoted again).

``refresh()`` counts again and stores (the organizer's "Refresh now", the refresh
job). The worker's ``insights.warm`` job, every ``INSIGHTS_CACHE_MINUTES``, counts
the default filter (the last 365 days) of each organization whose insights were
read in the last ``INSIGHTS_WARM_DAYS`` days, and the few other filters read most
recently, when their snapshot is stale; it deletes snapshots nobody read for
``KEEP_DAYS``. Two workers, or a worker and a page, that
count the same filter at once both store; the upsert keeps the count begun
later (``computed_at`` only moves forward), so the harm is the second count's
time.

Snapshots hold no words people read: the funnel's stage names, the
definitions and "No department" are stored as keys (null for "No department")
and said in the language of whoever reads them. Exports are never cached.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mixer import clock
from mixer.concurrency import changed_rows
from mixer.events.models import EventKind
from mixer.extensions import db
from mixer.insights.dashboard import dashboard
from mixer.insights.figures import (
    Count,
    Dashboard,
    EventFigures,
    EventMonth,
    Funnel,
    FunnelMonth,
    MentorLoad,
    PeopleFigures,
    Quote,
    SiloMap,
    Stage,
    TopicGap,
    Topics,
)
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import STAGE_TEXT
from mixer.insights.models import InsightSnapshot
from mixer.insights.silos import NO_DEPARTMENT
from mixer.jobs.services import handler, schedule
from mixer.orgs.models import Organization

log = logging.getLogger(__name__)

REFRESH_JOB = "insights.refresh"
WARM_JOB = "insights.warm"
VERSION = 1  # of the stored JSON: a snapshot of another version is a miss
DEFAULT_MINUTES = 10  # INSIGHTS_CACHE_MINUTES
WARM_DAYS = 7  # INSIGHTS_WARM_DAYS
WARM_FILTERS = 3  # besides the default filter, the most recently read ones
KEEP_DAYS = 30  # a snapshot nobody read for this long is deleted by the warm-up
USED_RESOLUTION = timedelta(minutes=5)  # a hit writes used_at at most this often
STALE_AT_MOST = timedelta(hours=24)  # older than this: counted again in the request


@dataclass(frozen=True)
class Snapshot:
    """The dashboard's figures and how fresh they are."""

    figures: Dashboard
    computed_at: datetime
    stale: bool  # older than INSIGHTS_CACHE_MINUTES: a refresh is on its way
    source: str  # "hit", "stale", "miss" or "refresh" (for tests and timing)


def max_age() -> timedelta:
    """How long a snapshot is served as fresh (``INSIGHTS_CACHE_MINUTES``)."""
    minutes = current_app.config.get("INSIGHTS_CACHE_MINUTES", DEFAULT_MINUTES)
    return timedelta(minutes=float(minutes))


# ---------------------------------------------------------------------------
# The filter as a key, and back


def filter_key(flt: InsightFilter) -> str:
    """The canonical form of a filter: one key for one set of figures."""
    return (
        f"from={flt.start.isoformat()}&to={flt.end.isoformat()}"
        f"&department={flt.department_id or ''}"
        f"&kind={flt.kind.value if flt.kind else ''}"
        f"&event={flt.event_id or ''}"
    )


def parse_key(key: str) -> InsightFilter:
    """The filter ``filter_key`` wrote (keys are only ever written by it)."""
    parts = dict(item.split("=", 1) for item in key.split("&"))
    return InsightFilter(
        start=date.fromisoformat(parts["from"]),
        end=date.fromisoformat(parts["to"]),
        department_id=int(parts["department"]) if parts["department"] else None,
        kind=EventKind(parts["kind"]) if parts["kind"] else None,
        event_id=int(parts["event"]) if parts["event"] else None,
    )


# ---------------------------------------------------------------------------
# Dashboard <-> JSON, exactly (tests: the cached figures equal the live ones)


def _name(name: str) -> str | None:
    """A department name as stored: "No department" (said in the reader's
    language) as null."""
    return None if name is NO_DEPARTMENT else str(name)


def _unname(name: str | None) -> str:
    return NO_DEPARTMENT if name is None else name


def _gap(gap: TopicGap) -> list[Any]:
    return [gap.topic, gap.seekers.n, gap.offerers.n]


def _load(mentor: MentorLoad) -> list[Any]:
    return [mentor.name, mentor.department, mentor.active_pairs, mentor.capacity]


def to_json(board: Dashboard) -> dict[str, Any]:
    """The figures as plain JSON: counts as numbers, stage names as keys."""
    funnel, silos, topics = board.funnel, board.silos, board.topics
    events, people = board.events, board.people
    return {
        "v": VERSION,
        "funnel": {
            "stages": [[s.key, s.count.n] for s in funnel.stages],
            "months": [
                [m.month, {k: c.n for k, c in m.counts.items()}] for m in funnel.months
            ],
            "active": [
                [days, active.n, old.n]
                for days, (active, old) in sorted(funnel.active.items())
            ],
        },
        "silos": {
            "departments": [_name(d) for d in silos.departments],
            "cells": [[c.n for c in row] for row in silos.cells],
            "total": silos.total.n,
            "across": silos.across.n,
            "never_meet": [[_name(a), _name(b)] for a, b in silos.never_meet],
        },
        "topics": {
            "suggested": [_gap(g) for g in topics.suggested],
            "unasked": [_gap(g) for g in topics.unasked],
        },
        "events": {
            "held": events.held,
            "registered": events.registered.n,
            "attended": events.attended.n,
            "ratings": events.ratings.n,
            "rating": events.rating,
            "months": [
                [m.month, m.held, m.registered.n, m.attended.n, m.rating]
                for m in events.months
            ],
            "testimonials": [
                [q.author_name, q.body, q.event_title, q.on.isoformat()]
                for q in events.testimonials
            ],
        },
        "people": {
            "top_mentors": [_load(m) for m in people.top_mentors],
            "at_capacity": [_load(m) for m in people.at_capacity],
            "departments_without_mentor": list(people.departments_without_mentor),
        },
    }


def from_json(data: dict[str, Any]) -> Dashboard:
    """The ``Dashboard`` ``to_json`` stored."""
    f, s, t, e, p = (data[k] for k in ("funnel", "silos", "topics", "events", "people"))
    stages = [
        Stage(key, STAGE_TEXT[key][0], Count(n), STAGE_TEXT[key][1])
        for key, n in f["stages"]
    ]
    return Dashboard(
        funnel=Funnel(
            stages=stages,
            months=[
                FunnelMonth(month, {k: Count(n) for k, n in counts.items()})
                for month, counts in f["months"]
            ],
            active={days: (Count(a), Count(o)) for days, a, o in f["active"]},
        ),
        silos=SiloMap(
            departments=[_unname(d) for d in s["departments"]],
            cells=[[Count(n) for n in row] for row in s["cells"]],
            total=Count(s["total"]),
            across=Count(s["across"]),
            never_meet=[(_unname(a), _unname(b)) for a, b in s["never_meet"]],
        ),
        topics=Topics(
            suggested=[TopicGap(x, Count(a), Count(b)) for x, a, b in t["suggested"]],
            unasked=[TopicGap(x, Count(a), Count(b)) for x, a, b in t["unasked"]],
        ),
        events=EventFigures(
            held=e["held"],
            registered=Count(e["registered"]),
            attended=Count(e["attended"]),
            ratings=Count(e["ratings"]),
            rating=e["rating"],
            months=[
                EventMonth(month, held, Count(r), Count(a), rating)
                for month, held, r, a, rating in e["months"]
            ],
            testimonials=[
                Quote(author, body, title, date.fromisoformat(on))
                for author, body, title, on in e["testimonials"]
            ],
        ),
        people=PeopleFigures(
            top_mentors=[MentorLoad(*m) for m in p["top_mentors"]],
            at_capacity=[MentorLoad(*m) for m in p["at_capacity"]],
            departments_without_mentor=list(p["departments_without_mentor"]),
        ),
    )


# ---------------------------------------------------------------------------
# Reading and writing snapshots


def snapshot(org: Organization, flt: InsightFilter) -> Snapshot:
    """The figures of ``org`` for ``flt``: stored if there are any (a stale
    one queues its refresh), else counted now and stored. The caller commits."""
    key = filter_key(flt)
    row = db.session.execute(
        select(
            InsightSnapshot.id,
            InsightSnapshot.computed_at,
            InsightSnapshot.used_at,
            InsightSnapshot.figures,
        ).where(InsightSnapshot.org_id == org.id, InsightSnapshot.filter_key == key)
    ).one_or_none()
    now = clock.now()
    if (
        row is None
        or row.figures.get("v") != VERSION
        or now - row.computed_at >= STALE_AT_MOST
    ):
        return refresh(org, flt, source="miss")
    if now - row.used_at >= USED_RESOLUTION:
        db.session.execute(
            update(InsightSnapshot)
            .where(InsightSnapshot.id == row.id)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    stale = now - row.computed_at >= max_age()
    if stale:
        queue_refresh(org.id, key, row.computed_at)
    return Snapshot(
        figures=from_json(row.figures),
        computed_at=row.computed_at,
        stale=stale,
        source="stale" if stale else "hit",
    )


def refresh(
    org: Organization,
    flt: InsightFilter,
    *,
    source: str = "refresh",
    read_at: datetime | None = None,
) -> Snapshot:
    """Count the figures now and store them (replacing an older snapshot).

    A person's request marks the snapshot read now; the worker (``read_at``
    given) leaves an existing snapshot's "read at" alone and gives a new one
    the organization's last read, so counting ahead never keeps itself going.
    """
    computed_at = clock.now()
    # In a request the heavy sections run at once, each on its own connection
    # (they see what is committed; nothing of the request's is pending here).
    figures = dashboard(org, flt, parallel=source != "job")
    store(org.id, filter_key(flt), figures, computed_at, read_at)
    return Snapshot(figures, computed_at, stale=False, source=source)


def store(
    org_id: int,
    key: str,
    figures: Dashboard,
    computed_at: datetime,
    read_at: datetime | None = None,
) -> None:
    """Write a snapshot, unless a newer one is stored already (two counts of the
    same filter at once: the one begun later stays), in one statement.

    Without ``read_at`` (a person asked) the snapshot is marked read now; with
    it (the worker) a new row gets ``read_at`` and an existing one keeps its own.
    """
    table = InsightSnapshot.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(InsightSnapshot).values(
        org_id=org_id,
        filter_key=key,
        computed_at=computed_at,
        used_at=read_at or computed_at,
        figures=to_json(figures),
    )
    changes = {
        "computed_at": stmt.excluded.computed_at,
        "figures": stmt.excluded.figures,
    }
    if read_at is None:
        changes["used_at"] = stmt.excluded.used_at
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["org_id", "filter_key"],
            set_=changes,
            where=table.c.computed_at <= stmt.excluded.computed_at,
        )
    )


def forget(org_id: int) -> int:
    """Delete every snapshot of an organization (a person left it or was
    erased: names and words in them may be theirs); how many."""
    return changed_rows(
        delete(InsightSnapshot)
        .where(InsightSnapshot.org_id == org_id)
        .execution_options(synchronize_session=False)
    )


def queue_refresh(org_id: int, key: str, computed_at: datetime) -> None:
    """Queue one refresh of a stale snapshot: the key names the snapshot's
    version, so every view that finds it stale queues the same job."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    schedule(
        REFRESH_JOB,
        {"org_id": org_id, "filter_key": key},
        dedupe_key=f"{REFRESH_JOB}:{org_id}:{digest}:{clock.stamp(computed_at)}",
        org_id=org_id,
    )


@handler(REFRESH_JOB)
def run_refresh(payload: dict[str, Any]) -> dict[str, Any]:
    """The job: count one stale snapshot again, unless someone just did."""
    org = db.session.get(Organization, payload["org_id"])
    if org is None:  # deleted since; its snapshots went with it
        return {"skipped": "organization gone"}
    key = payload["filter_key"]
    return {"counted": _refresh_if_stale(org, key, max_age(), clock.now())}


def _refresh_if_stale(
    org: Organization, key: str, age: timedelta, read_at: datetime
) -> bool:
    """Count ``key`` again when its snapshot is missing or older than ``age``."""
    computed = db.session.scalar(
        select(InsightSnapshot.computed_at).where(
            InsightSnapshot.org_id == org.id, InsightSnapshot.filter_key == key
        )
    )
    if computed is not None and clock.now() - computed < age:
        return False
    refresh(org, parse_key(key), source="job", read_at=read_at)
    return True


# ---------------------------------------------------------------------------
# Keeping recently read filters warm (the worker)


def ensure_scheduled() -> None:
    """Make sure the next warm-up is on the queue (one per period: its key)."""
    every = max_age()
    now = clock.now()
    seconds = max(int(every.total_seconds()), 60)
    slot = int(now.timestamp()) // seconds + 1
    run_at = datetime.fromtimestamp(slot * seconds, tz=now.tzinfo)
    schedule(WARM_JOB, {}, run_at=run_at, dedupe_key=f"{WARM_JOB}:{slot * seconds}")


@handler(WARM_JOB)
def warm(payload: dict[str, Any]) -> dict[str, Any]:
    """The job: count the default filter and the few filters read most recently
    of each organization whose insights were read lately, where stale."""
    now = clock.now()
    days = int(current_app.config.get("INSIGHTS_WARM_DAYS", WARM_DAYS))
    age = max_age()
    forgotten = changed_rows(
        delete(InsightSnapshot)
        .where(InsightSnapshot.used_at < now - timedelta(days=KEEP_DAYS))
        .execution_options(synchronize_session=False)
    )
    recent = db.session.execute(
        select(
            InsightSnapshot.org_id, InsightSnapshot.filter_key, InsightSnapshot.used_at
        )
        .where(InsightSnapshot.used_at >= now - timedelta(days=days))
        .order_by(InsightSnapshot.org_id, InsightSnapshot.used_at.desc())
    ).all()
    wanted: dict[int, list[str]] = {}
    last_read: dict[int, datetime] = {}
    for org_id, key, used_at in recent:
        last_read.setdefault(org_id, used_at)  # the latest: ordered by it
        keys = wanted.setdefault(org_id, [filter_key(InsightFilter.default())])
        if key not in keys and len(keys) <= WARM_FILTERS:
            keys.append(key)
    counted = 0
    for org_id, keys in wanted.items():
        org = db.session.get(Organization, org_id)
        if org is None:
            continue
        for key in keys:
            counted += _refresh_if_stale(org, key, age, last_read[org_id])
        db.session.commit()  # one organization at a time
    ensure_scheduled()
    return {"organizations": len(wanted), "counted": counted, "deleted": forgotten}
