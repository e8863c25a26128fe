"""Query budgets: a tick costs a handful of statements, and the organizers' list,
"my pairs" and the API list cost the same however many pairs there are."""

from __future__ import annotations

from datetime import UTC, datetime

from mixer import clock
from mixer.extensions import db
from mixer.pairs import answers, schedule
from mixer.pairs.lifecycle import create_pair
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
