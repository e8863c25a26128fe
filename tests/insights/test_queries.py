"""Query budgets: the insights sections cost the same number of SQL statements
for a small organization and one five times larger."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from mixer import clock
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.insights.events import event_figures
from mixer.insights.figures import Count
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import funnel
from mixer.insights.people import people_figures
from mixer.pairs.models import Pair, PairMeeting, open_key
from mixer.recognition import models as recognition
from tests.events.test_dashboard_queries import counting_queries as statements

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
STARTS = [datetime(2026, 2, 10, 17, tzinfo=UTC), datetime(2026, 4, 14, 17, tzinfo=UTC)]
DEPARTMENTS = ["Sales", "Legal", "Design"]


def _organization(make_org, make_user, make_event, people: int):
    """An organization of ``people`` members in three departments, two mixers
    they all attend, rate and answer, and a pair for every two of them per
    mixer with a meeting every fortnight."""
    clock.freeze(datetime(2026, 1, 1, tzinfo=UTC))
    org = make_org()
    users = [
        make_user(org, department=DEPARTMENTS[i % 3], password=None)
        for i in range(people)
    ]
    for user in users[: people // 2]:
        user.membership_in(org).mentoring_capacity = 1
    for start in STARTS:
        event = make_event(
            org, kind="mentor_mixer", starts_at=start, capacity=people + 1
        )
        db.session.execute(
            insert(Registration),
            [
                {
                    "event_id": event.id,
                    "user_id": user.id,
                    "email": user.email,
                    "name": user.name,
                    "status": "registered",
                    "checked_in_at": start + timedelta(minutes=i % 2),
                    "badge_token": uuid.uuid4().hex,
                }
                for i, user in enumerate(users)
            ],
        )
        regs = {
            reg.user_id: reg
            for reg in db.session.scalars(
                select(Registration).where(Registration.event_id == event.id)
            )
        }
        for i, user in enumerate(users):
            prompt = FollowupPrompt(
                event_id=event.id,
                registration_id=regs[user.id].id,
                user_id=user.id,
                rating=1 + i % 5,
                answered_at=start + timedelta(days=1),
            )
            partner = users[i ^ 1] if (i ^ 1) < people else users[0]
            prompt.choices.append(
                FollowupChoice(other_id=regs[partner.id].id, choice="peer")
            )
            db.session.add(prompt)
        for i in range(0, people - 1, 2):
            mentor, mentee = users[i], users[i + 1]
            a_id, b_id = sorted((mentor.id, mentee.id))
            pair = Pair(
                org_id=org.id,
                kind="mentoring",
                a_id=a_id,
                b_id=b_id,
                mentor_id=mentor.id,
                status="active" if start == STARTS[-1] else "ended",
                open_key=open_key(org.id, a_id, b_id) if start == STARTS[-1] else None,
                event_id=event.id,
                ics_uid=f"{uuid.uuid4()}@mixer.test",
                started_at=start + timedelta(days=2),
                term_ends_at=start + timedelta(days=180),
            )
            db.session.add(pair)
            for week in range(2, 14, 2):
                due = pair.started_at + timedelta(weeks=week)
                db.session.add(
                    PairMeeting(
                        pair=pair,
                        number=week,
                        due_at=due,
                        status="met",
                        reported_at=due,
                    )
                )
        db.session.add(
            recognition.Testimonial(
                org_id=org.id,
                event_id=event.id,
                author_id=users[0].id,
                author_name=users[0].name,
                body="Ten minutes a fortnight changed my year.",
                source_key=f"test:{event.id}",
                status="approved",
                moderated_at=start + timedelta(days=3),
            )
        )
    db.session.commit()
    clock.freeze(NOW)
    return org


def test_funnel_events_people_cost_the_same_statements_at_two_sizes(
    app, make_org, make_user, make_event
):
    small = _organization(make_org, make_user, make_event, 6)
    large = _organization(make_org, make_user, make_event, 30)
    whole = InsightFilter(date(2026, 1, 1), date(2026, 6, 30))

    def cost(org) -> dict[str, int]:
        """Statements of each section, unfiltered and for one department."""
        sales = next(d.id for d in org.departments if d.name == "Sales")
        found = {}
        for name, flt in (
            ("all", whole),
            ("sales", replace(whole, department_id=sales)),
        ):
            for section in (funnel, event_figures, people_figures):
                db.session.expire_all()
                with statements() as seen:
                    section(org, flt)
                found[f"{section.__name__} {name}"] = len(seen)
        return found

    few, many = cost(small), cost(large)
    assert many == few
    # The expired organization's refresh, then the section's own statements.
    assert few == {
        "funnel all": 3,
        "event_figures all": 5,
        "people_figures all": 4,
        "funnel sales": 3,
        "event_figures sales": 5,
        "people_figures sales": 4,
    }
    # The larger one is larger: five times the pairs, and as many active.
    assert funnel(small, whole).active[90] == (Count(3), Count(3))
    assert funnel(large, whole).active[90] == (Count(15), Count(15))


def test_the_snapshot_costs_the_same_statements_at_two_sizes(
    app, make_org, make_user, make_event
):
    """A miss counts the dashboard once and stores it; a hit is one read."""
    from mixer.insights import cache

    small = _organization(make_org, make_user, make_event, 6)
    large = _organization(make_org, make_user, make_event, 30)
    whole = InsightFilter(date(2026, 1, 1), date(2026, 6, 30))

    def cost(org) -> tuple[int, int]:
        db.session.expire_all()
        org_id = org.id  # the organization loaded before counting
        with statements() as miss:
            assert cache.snapshot(org, whole).source == "miss"
        db.session.commit()
        assert org.id == org_id  # loaded again after the commit, before counting
        with statements() as hit:
            assert cache.snapshot(org, whole).source == "hit"
        return len(miss), len(hit)

    few, many = cost(small), cost(large)
    assert few == many
    assert few[1] == 1  # the stored row, nothing else
