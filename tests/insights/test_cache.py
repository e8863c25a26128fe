# ruff: noqa: F811 - the fixtures of test_api are imported by name
"""The dashboard's snapshot cache (``mixer.insights.cache``): stored figures equal
the live ones, hit / miss / stale / refresh, one refresh job per stale snapshot,
two counts at once, the worker's warm-up, one organization never sees
another's, and the rate limits of "Refresh now" and the API."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.accounts.models import User
from mixer.connections.models import Connection
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.insights import cache
from mixer.insights.api import dashboard_json
from mixer.insights.dashboard import dashboard
from mixer.insights.filters import InsightFilter
from mixer.insights.models import InsightSnapshot
from mixer.insights.silos import NO_DEPARTMENT
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from tests.events.test_dashboard_queries import counting_queries as statements
from tests.helpers import csrf_from
from tests.insights.hand_built import hand_built
from tests.insights.test_api import (  # noqa: F401 - fixtures
    FEBRUARY,
    PERIOD,
    acme,
    clock_at,
    stage,
)

MARCH_15 = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)  # where ``acme`` leaves the clock


def _jobs(kind: str) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == kind)))


def _more_meetings(acme, n: int = 5) -> None:
    """``n`` more Design–Design meetings at the mixer (a change the figures see)."""
    regs = sorted(
        db.session.scalars(
            select(Registration.id).where(Registration.event_id == acme.mixer.id)
        )
    )
    pairs = [(a, b) for i, a in enumerate(regs) for b in regs[i + 1 :]]
    taken = set(db.session.execute(select(Connection.a_id, Connection.b_id)).all())
    for low, high in [p for p in pairs if p not in taken][:n]:
        db.session.add(
            Connection(event_id=acme.mixer.id, a_id=low, b_id=high, source="scan")
        )
    db.session.commit()


def test_stored_figures_equal_the_live_ones(acme):
    department = replace(FEBRUARY, department_id=acme.design)
    one_event = replace(FEBRUARY, event_id=acme.mixer.id)
    for flt in (FEBRUARY, department, one_event, InsightFilter.default()):
        live = dashboard(acme.org, flt)
        stored = cache.from_json(json.loads(json.dumps(cache.to_json(live))))
        assert stored == live
        assert dashboard_json(stored, flt) == dashboard_json(live, flt)
        assert cache.parse_key(cache.filter_key(flt)) == flt
    # "No department" is stored as null and said in the reader's language.
    live = dashboard(acme.org, FEBRUARY)
    assert NO_DEPARTMENT in live.silos.departments
    assert None in cache.to_json(live)["silos"]["departments"]
    assert cache.from_json(cache.to_json(live)).silos.departments[-1] is NO_DEPARTMENT
    # The hand-built board too (hidden counts, ratings, quotes, mentors); its
    # stages have made-up names, which a snapshot does not store.
    board = hand_built()
    stored = cache.from_json(json.loads(json.dumps(cache.to_json(board))))
    assert replace(stored, funnel=board.funnel) == board
    assert [(s.key, s.count) for s in stored.funnel.stages] == [
        (s.key, s.count) for s in board.funnel.stages
    ]
    assert replace(stored.funnel, stages=board.funnel.stages) == board.funnel


def test_miss_hit_stale_and_one_refresh_job(acme, client):
    def ask() -> dict:
        got = client.get(f"/api/v1/insights?{PERIOD}", headers=acme.organizer)
        assert got.status_code == 200
        return got.get_json()

    first = ask()  # a miss: counted now and stored
    assert first["computed_at"] == MARCH_15.isoformat()
    assert db.session.scalar(select(func.count(InsightSnapshot.id))) == 1
    assert stage(first, "registered") == {"value": 11, "hidden": False}
    total = first["silos"]["total"]["value"]

    _more_meetings(acme)
    clock.freeze(MARCH_15 + timedelta(minutes=9))
    hit = ask()  # fresh: the stored figures, not the new meetings
    assert hit == first
    assert _jobs(cache.REFRESH_JOB) == []

    clock.freeze(MARCH_15 + timedelta(minutes=11))
    stale = ask()  # stale: still served at once, and one refresh queued
    again = ask()
    assert stale == again == first
    (job,) = _jobs(cache.REFRESH_JOB)
    assert job.org_id == acme.org.id
    assert job.payload["filter_key"] == cache.filter_key(FEBRUARY)

    run_due(limit=50)
    db.session.refresh(job)
    assert (job.status, job.result) == ("done", {"counted": True})
    fresh = ask()
    assert fresh["computed_at"] == (MARCH_15 + timedelta(minutes=11)).isoformat()
    assert fresh["silos"]["total"]["value"] == total + 5
    # The refreshed figures are exactly today's count.
    assert {k: v for k, v in fresh.items() if k != "computed_at"} == {
        k: v
        for k, v in dashboard_json(dashboard(acme.org, FEBRUARY), FEBRUARY).items()
        if k != "computed_at"
    }
    # Run again (a second worker, a retry): nothing to count, nothing changes.
    assert cache.run_refresh(job.payload) == {"counted": False}


def test_a_day_old_snapshot_and_a_leaving_member_are_counted_again(acme):
    from mixer.orgs.services import remove_member

    cache.snapshot(acme.org, FEBRUARY)
    db.session.commit()
    clock.freeze(MARCH_15 + timedelta(hours=23))
    assert cache.snapshot(acme.org, FEBRUARY).source == "stale"
    clock.freeze(MARCH_15 + timedelta(hours=24))
    assert cache.snapshot(acme.org, FEBRUARY).source == "miss"
    db.session.commit()
    # Someone leaves (or is erased): the organization's snapshots go with them.
    olga = db.session.scalar(select(User).where(User.name == "Olga Organizer"))
    remove_member(olga.membership_in(acme.org))
    db.session.commit()
    assert db.session.scalar(select(func.count(InsightSnapshot.id))) == 0
    assert cache.snapshot(acme.org, FEBRUARY).source == "miss"


def test_hiding_quoted_words_forgets_the_snapshots_that_quote_them(acme):
    from mixer.recognition.models import Testimonial, TestimonialStatus
    from mixer.recognition.testimonials import moderate

    olga = db.session.scalar(select(User).where(User.name == "Olga Organizer"))
    mixer = db.session.scalar(
        select(Registration.event_id).order_by(Registration.event_id).limit(1)
    )
    words = Testimonial(
        org_id=acme.org.id,
        event_id=mixer,
        author_id=olga.id,
        author_name=olga.name,
        body="It helped.",
        source="prompt",
        source_key="test:olga",
        status=TestimonialStatus.APPROVED,
        created_at=datetime(2026, 2, 11, tzinfo=UTC),
        moderated_at=datetime(2026, 2, 12, tzinfo=UTC),
    )
    db.session.add(words)
    db.session.commit()
    snap = cache.snapshot(acme.org, FEBRUARY)
    db.session.commit()
    assert [q.body for q in snap.figures.events.testimonials] == ["It helped."]
    moderate(words, "hide", by=olga)
    db.session.commit()
    assert db.session.scalar(select(func.count(InsightSnapshot.id))) == 0
    again = cache.snapshot(acme.org, FEBRUARY)
    assert again.source == "miss" and again.figures.events.testimonials == []


def test_two_counts_at_once_keep_the_later(acme):
    board = dashboard(acme.org, FEBRUARY)
    key = cache.filter_key(FEBRUARY)
    later, earlier = MARCH_15, MARCH_15 - timedelta(minutes=3)
    cache.store(acme.org.id, key, board, later)
    cache.store(acme.org.id, key, hand_built(), earlier)  # finished last, begun first
    db.session.commit()
    snap = cache.snapshot(acme.org, FEBRUARY)
    assert (snap.source, snap.computed_at, snap.figures) == ("hit", later, board)


def test_one_organization_never_reads_anothers_snapshot(acme, client):
    ours = client.get(f"/api/v1/insights?{PERIOD}", headers=acme.organizer)
    theirs = client.get(f"/api/v1/insights?{PERIOD}", headers=acme.other)
    assert ours.status_code == theirs.status_code == 200
    # The same filter, two snapshots, each of its own organization.
    rows = db.session.execute(
        select(InsightSnapshot.org_id, InsightSnapshot.filter_key)
    ).all()
    assert sorted(rows) == sorted(
        [(acme.org.id, cache.filter_key(FEBRUARY)), (acme.elsewhere_event.org_id,
         cache.filter_key(FEBRUARY))]
    )  # fmt: skip
    assert stage(theirs.get_json(), "registered") == {"value": 0, "hidden": False}
    assert "Design" not in theirs.get_json()["silos"]["departments"]
    # A department of another organization is refused, never looked up.
    refused = client.get(
        f"/api/v1/insights?{PERIOD}&department={acme.design}", headers=acme.other
    )
    assert refused.status_code == 400


def test_the_worker_keeps_recently_read_filters_warm(acme):
    department = replace(FEBRUARY, department_id=acme.design)
    cache.snapshot(acme.org, department)  # read once: a miss, stored
    db.session.commit()
    clock.freeze(MARCH_15 + timedelta(minutes=30))
    cache.ensure_scheduled()
    cache.ensure_scheduled()  # twice (two workers' prune): one job
    db.session.commit()
    (job,) = _jobs(cache.WARM_JOB)
    clock.freeze(job.run_at)
    run_due(limit=50)
    db.session.refresh(job)
    assert job.status == "done"
    assert job.result == {"organizations": 1, "counted": 2, "deleted": 0}
    rows = {
        key: (computed, used)
        for key, computed, used in db.session.execute(
            select(
                InsightSnapshot.filter_key,
                InsightSnapshot.computed_at,
                InsightSnapshot.used_at,
            )
        )
    }
    # The default filter is counted, the stale department filter again; both
    # keep the time a person last read the organization's insights, so the
    # warm-up does not keep itself going.
    assert rows == {
        cache.filter_key(InsightFilter.default()): (job.run_at, MARCH_15),
        cache.filter_key(department): (job.run_at, MARCH_15),
    }
    # The next warm-up is planned; run now it finds nothing stale.
    assert len(_jobs(cache.WARM_JOB)) == 2
    assert cache.warm({}) == {"organizations": 1, "counted": 0, "deleted": 0}
    # Unread for a week: no longer kept warm.
    clock.freeze(MARCH_15 + timedelta(days=8))
    assert cache.warm({}) == {"organizations": 0, "counted": 0, "deleted": 0}
    # A month later nobody has read them: forgotten.
    clock.freeze(MARCH_15 + timedelta(days=31))
    assert cache.warm({}) == {"organizations": 0, "counted": 0, "deleted": 2}


def test_a_hit_costs_two_statements(acme):
    cache.snapshot(acme.org, FEBRUARY)
    db.session.commit()
    clock.freeze(MARCH_15 + timedelta(minutes=1))
    db.session.expire_all()
    org = acme.org
    org_id = org.id  # loaded before counting
    with statements() as seen:
        snap = cache.snapshot(org, FEBRUARY)
    assert (snap.source, org_id, len(seen)) == ("hit", org.id, 1)
    clock.freeze(MARCH_15 + timedelta(minutes=6))  # "read at" is written again
    with statements() as seen:
        cache.snapshot(org, FEBRUARY)
    assert len(seen) == 2


@pytest.fixture
def limited(app_config):
    app_config.update(
        RATELIMIT_ENABLED=True,
        INSIGHTS_API_RATE_LIMIT="3 per minute",
        INSIGHTS_REFRESH_LIMIT="2 per minute",
    )
    return app_config


def test_refresh_now_and_the_rate_limits(limited, acme, client, auth):
    olga = db.session.scalar(select(User).where(User.name == "Olga Organizer"))
    auth.login(olga.email)
    page = client.get(f"/o/acme/insights?{PERIOD}").get_data(as_text=True)
    assert "Figures as of 15 Mar 2026 09:00 UTC" in page
    assert 'data-source="miss"' in page

    _more_meetings(acme)
    clock.freeze(MARCH_15 + timedelta(minutes=2))
    page = client.get(f"/o/acme/insights?{PERIOD}").get_data(as_text=True)
    assert 'data-source="hit"' in page and "09:00 UTC" in page
    form = {"csrf_token": csrf_from(page), "from": "2026-02-01", "to": "2026-02-28"}
    assert client.post("/o/acme/insights/refresh", data={}).status_code == 400  # CSRF
    done = client.post("/o/acme/insights/refresh", data=form)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(
        "/o/acme/insights?from=2026-02-01&to=2026-02-28"
    )
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Figures as of 15 Mar 2026 09:02 UTC" in page
    assert "The figures are counted again" in page
    assert client.post("/o/acme/insights/refresh", data=form).status_code == 302
    assert client.post("/o/acme/insights/refresh", data=form).status_code == 429

    # The API: 3 a minute per token here (30 by default), a JSON 429.
    codes = [
        client.get(f"/api/v1/insights?{PERIOD}", headers=acme.organizer)
        for _ in range(4)
    ]
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert codes[-1].is_json and "Retry-After" in codes[-1].headers
    # Another token has its own allowance.
    assert (
        client.get(f"/api/v1/insights?{PERIOD}", headers=acme.other).status_code == 200
    )
