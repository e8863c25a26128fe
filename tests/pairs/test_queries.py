"""Query budgets: a tick costs a handful of statements, and the organizers' list,
"my pairs" and the API list cost the same however many pairs there are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.pairs import answers, queries, schedule
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import PairMeeting
from mixer.pairs.views import OVERVIEW_PAGE
from tests.events.test_dashboard_queries import counting_queries as statements
from tests.helpers import bearer


def _more_pairs(world, make_user, make_event, n: int) -> None:
    """``n`` more pairs, half from an event, each with a settled check-in."""
    event = make_event(world.org, timezone="Europe/London")
    for i in range(n):
        person = make_user(world.org)
        pair = create_pair(
            world.org,
            world.mentee,
            person,
            kind="peer",
            event=event if i % 2 else None,
        )
        answers.log_meeting(pair, person, "met" if i % 3 else "skipped")
    db.session.commit()


def test_a_tick_costs_a_handful_of_statements(world):
    pair_id = create_pair(world.org, world.mentor, world.mentee, kind="peer").id
    db.session.commit()
    for when, did in (
        (datetime(2026, 3, 3, 12, 30, tzinfo=UTC), {"reminded": 2}),
        (datetime(2026, 3, 4, 12, 30, tzinfo=UTC), {"asked": 2}),
        (datetime(2026, 3, 7, 12, 30, tzinfo=UTC), {"missed": 1}),
    ):
        clock.freeze(when)
        db.session.expire_all()
        with statements() as seen:
            assert schedule.tick(pair_id) == did
        db.session.commit()
        # On SQLite the pair's lock is a statement of its own, the no-op UPDATE
        # that takes the write lock (``mixer.concurrency``); PostgreSQL locks in
        # the SELECT that reads the pair.
        if db.engine.dialect.name == "sqlite":
            assert seen[0] == "UPDATE pair SET kind=pair.kind WHERE pair.id = ?"
            seen = seen[1:]
        # Pair, people, org and event in one; meetings; membership; per mail
        # a dedupe check, the insert and its read-back; the next tick.
        assert len(seen) <= 12, "\n".join(seen)


def test_lists_cost_the_same_for_few_or_many_pairs(
    world, client, auth, token_for, make_user, make_event
):
    _more_pairs(world, make_user, make_event, 2)
    headers = bearer(token_for(world.organizer, world.org))
    urls = {
        "olu@acme.example.org": ["/o/acme/pairs", "/api/v1/pairs?per_page=100"],
        "bo@acme.example.org": ["/pairs", "/o/acme/"],  # the org home: "your mentoring"
    }

    def costs() -> dict[str, int]:
        """Statements per page, each page opened warm."""
        counts = {}
        for email, pages in urls.items():
            auth.login(email)
            for url in pages:
                client.get(url, headers=headers)  # warm: sign-in, token's last use
                db.session.expire_all()
                with statements() as seen:
                    response = client.get(url, headers=headers)
                assert response.status_code == 200, url
                counts[url] = len(seen)
            auth.logout()
        return counts

    few = costs()
    _more_pairs(world, make_user, make_event, 12)
    many = costs()
    assert many == few
    assert few["/o/acme/pairs"] <= 14


# ---------------------------------------------------------------------------
# The overview's monthly counts: aggregated by the database, as a count by hand


def _seed_months(world, make_user, n_pairs: int, seed: int = 7) -> None:
    """``n_pairs`` more pairs of the org with meetings spread over eight months
    (some on the very edges of months), of every status; and an outsider's pair."""
    import random

    from tests.recognition.conftest import PairMaker

    rng = random.Random(seed)
    maker = PairMaker()
    edges = [
        datetime(2025, 10, 1, 0, 0, tzinfo=UTC),  # the first instant of the window
        datetime(2025, 9, 30, 23, 59, 59, tzinfo=UTC),  # just before it
        datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 4, 1, 0, 0, tzinfo=UTC),  # next month: not shown
    ]
    statuses = ["met", "met", "missed", "skipped", "scheduled", "moved"]
    for i in range(n_pairs):
        person = make_user(world.org, password=None)
        pair = maker.pair(
            world.org, world.mentor, person, mentor=world.mentor if i % 2 else None
        )
        for _ in range(rng.randint(0, 6)):
            when = (
                rng.choice(edges)
                if rng.random() < 0.3
                else datetime(2025, 8, 1, tzinfo=UTC)
                + timedelta(minutes=rng.randint(0, 240 * 24 * 60))
            )
            meeting = maker.meeting(pair, when, status=rng.choice(statuses))
            meeting.due_at = when
    other = make_org_for(world)
    outsider_pair = maker.pair(
        other, make_user(other, password=None), make_user(other, password=None)
    )
    meeting = maker.meeting(outsider_pair, datetime(2026, 3, 2, tzinfo=UTC))
    meeting.due_at = datetime(2026, 3, 2, tzinfo=UTC)
    db.session.commit()


def make_org_for(world):
    """Another organization (its pairs must not count in ``world.org``'s)."""
    from mixer.orgs.models import Organization
    from mixer.orgs.services import create_organization

    found = db.session.scalar(select(Organization).where(Organization.slug == "zed"))
    return found or create_organization(slug="zed", name="Zed", charter="x")


def _by_hand(org) -> list[tuple[str, int, int]]:
    """The last six months' held and missed meetings, counted in Python."""
    now = clock.now()
    keys = []
    year, month = now.year, now.month
    for _ in range(6):
        keys.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    held = dict.fromkeys(keys, 0)
    missed = dict.fromkeys(keys, 0)
    for meeting in db.session.scalars(select(PairMeeting)):
        if meeting.pair.org_id != org.id:
            continue
        key = (meeting.due_at.year, meeting.due_at.month)
        if key not in held:
            continue
        if meeting.status == "met":
            held[key] += 1
        elif meeting.status in ("missed", "skipped"):
            missed[key] += 1
    return [
        (datetime(y, m, 1).strftime("%b %Y"), held[(y, m)], missed[(y, m)])
        for y, m in keys
    ]


def test_monthly_counts_are_the_same_as_a_count_by_hand(world, make_user):
    _seed_months(world, make_user, 40)
    clock.freeze(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))  # October to March
    overview = queries.org_overview(world.org)
    got = [(m["label"], m["held"], m["missed"]) for m in overview.months]
    expected = _by_hand(world.org)
    assert got == expected
    # The totals count every month, in and out of the window.
    mine = [
        m for m in db.session.scalars(select(PairMeeting)) if m.pair.org == world.org
    ]
    assert overview.held == sum(m.status == "met" for m in mine)
    assert overview.missed == sum(m.status in ("missed", "skipped") for m in mine)
    assert overview.held > sum(h for _, h, _ in got)  # some fall outside it
    assert [label for label, *_ in got] == [
        "Oct 2025",
        "Nov 2025",
        "Dec 2025",
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
    ]
    assert sum(h + m for _, h, m in got) > 40  # the seed did fill the window
    # Across a new year too: December's window runs from July.
    clock.freeze(datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    got = [
        (m["label"], m["held"], m["missed"])
        for m in queries.org_overview(world.org).months
    ]
    assert got == _by_hand(world.org)


def test_the_overview_costs_the_same_for_one_page_or_many(
    world, client, auth, make_user
):
    """Two sizes, both with six months of check-ins: the same statements, and
    only one page of pairs on the page."""
    _seed_months(world, make_user, 3, seed=1)
    clock.freeze(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    auth.login("olu@acme.example.org")

    def cost(url: str) -> tuple[int, str]:
        client.get(url)
        db.session.expire_all()
        with statements() as seen:
            response = client.get(url)
        assert response.status_code == 200, url
        return len(seen), response.get_data(as_text=True)

    few, _ = cost("/o/acme/pairs")
    _seed_months(world, make_user, OVERVIEW_PAGE + 10, seed=2)
    many, html = cost("/o/acme/pairs")
    second, html2 = cost("/o/acme/pairs?page=2")
    assert few == many == second
    assert html.count('role="row"') == OVERVIEW_PAGE + 1  # the header row too
    assert "Page 1 of 2" in html and "Page 2 of 2" in html2
