"""Mixers that remember, on a real database: earlier events within the look-back,
open pairs, reporting lines, languages and locations reach the planner, and two
monthly mixers of the same 40 people seat nobody together twice."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import select

from mixer.connections.models import ConnectionSource
from mixer.connections.services import connect
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.orgs.models import Membership
from mixer.pairs.lifecycle import create_pair
from mixer.rotations import memory, running, services
from mixer.rotations.models import RotationPlan, RotationSeat
from mixer.rotations.services import Settings
from tests.helpers import csrf_from

DEPARTMENTS = ("Finance", "Sales", "Legal", "IT")


@pytest.fixture
def people(org, make_user):
    """Forty members: twenty mentors and twenty mentees, four departments."""
    return [
        make_user(
            org,
            password=None,
            name=f"Member {i:02d}",
            department=DEPARTMENTS[i % 4],
        )
        for i in range(40)
    ]


@pytest.fixture
def monthly(org, make_event, make_registration, people):
    """``monthly(months_ago)``: a Mentor Mixer that many months before tomorrow,
    with the forty registered (members, with their accounts)."""

    def build(months_ago: int, everyone=None):
        event = make_event(
            org,
            kind="mentor_mixer",
            title=f"Mixer {months_ago} months ago",
            rounds=6,
            capacity=60,
        )
        for i, user in enumerate(everyone or people):
            make_registration(
                event,
                email=user.email,
                name=user.name,
                user=user,
                role="mentor" if i % 2 == 0 else "mentee",
                department=DEPARTMENTS[i % 4],
            )
        # Registered while it was ahead; now moved to its month (the past, where
        # registration is closed).
        shift = timedelta(days=30 * months_ago)
        event.starts_at -= shift
        event.ends_at -= shift
        db.session.commit()
        return event

    return build


def _hold_every_round(event) -> None:
    plan = services.plan_for(event)
    for _ in range(plan.rounds):
        running.start_next_round(event)
    db.session.commit()


def seated_together_twice(event_ids: list[int]) -> int:
    """The independent count: pairs of accounts seated at one table at two or
    more of these events, read from the stored seats."""
    rows = db.session.execute(
        select(
            RotationPlan.event_id,
            RotationSeat.round_number,
            RotationSeat.table_number,
            Registration.user_id,
        )
        .join(RotationPlan, RotationPlan.id == RotationSeat.plan_id)
        .join(Registration, Registration.id == RotationSeat.registration_id)
        .where(
            RotationPlan.event_id.in_(event_ids),
            RotationSeat.table_number.is_not(None),
        )
    )
    tables: dict[tuple[int, int, int], list[int]] = {}
    for event_id, number, table, user_id in rows:
        tables.setdefault((event_id, number, table), []).append(user_id)
    events_of: dict[tuple[int, int], set[int]] = {}
    for (event_id, _, _), members in tables.items():
        for pair in combinations(sorted(members), 2):
            events_of.setdefault(pair, set()).add(event_id)
    return sum(len(events) > 1 for events in events_of.values())


def test_two_monthly_mixers_of_forty_seat_nobody_together_twice(monthly):
    first = monthly(1)
    services.create_plan(first, Settings(rounds=6, minutes=7, seed=1))
    db.session.commit()
    _hold_every_round(first)

    second = monthly(0)
    plan = services.create_plan(second, Settings(rounds=6, minutes=7, seed=2))
    db.session.commit()
    assert seated_together_twice([first.id, second.id]) == 0
    report = services.plan_data(plan)["quality"]["earlier"]
    assert report["known_pairs"] == 120  # 6 rounds x 20 tables last month
    assert report["avoided"] == 120 and report["repeated"] == 0

    # The control: without looking back, the same seed seats people again.
    again = services.create_plan(
        second, Settings(rounds=6, minutes=7, seed=2, lookback_months=0)
    )
    db.session.commit()
    assert again.quality["earlier"]["known_pairs"] == 0
    assert seated_together_twice([first.id, second.id]) > 0


def test_the_look_back_decides_which_earlier_mixers_count(monthly, people):
    old = monthly(14)  # 14 x 30 days ago: outside 12 months, inside 24
    services.create_plan(old, Settings(rounds=6, minutes=7, seed=1))
    db.session.commit()
    _hold_every_round(old)
    now = monthly(0)
    regs = list(
        db.session.scalars(select(Registration).where(Registration.event_id == now.id))
    )
    for months, expected in ((12, 0), (24, 120), (None, 120), (0, 0)):
        ties = memory.ties_for(now, regs, months)
        assert len(ties.earlier) == expected, months


def test_other_organizations_and_later_events_are_not_remembered(
    org, monthly, make_org, make_event, make_registration, people
):
    now = monthly(0)
    later = monthly(-1)  # next month's mixer, already with a scan in it
    regs = {
        r.user_id: r
        for r in db.session.scalars(
            select(Registration).where(Registration.event_id == later.id)
        )
    }
    a, b = people[0], people[1]
    connect(later.id, regs[a.id].id, regs[b.id].id, ConnectionSource.SCAN)
    other = make_org(slug="elsewhere")
    elsewhere = make_event(other, kind="mentor_mixer", capacity=10)
    x = make_registration(elsewhere, email=a.email, name=a.name, user=a)
    y = make_registration(elsewhere, email=b.email, name=b.name, user=b)
    elsewhere.starts_at = now.starts_at - timedelta(days=10)
    elsewhere.ends_at = elsewhere.starts_at + timedelta(hours=1)
    connect(elsewhere.id, x.id, y.id, ConnectionSource.SCAN)
    db.session.commit()
    mine = list(
        db.session.scalars(select(Registration).where(Registration.event_id == now.id))
    )
    assert memory.ties_for(now, mine, None).earlier == frozenset()


def test_open_pairs_and_reporting_lines_reach_the_plan(org, monthly, people):
    event = monthly(0, everyone=people[:8])
    mentor, mentee = people[0], people[1]  # even: mentor; odd: mentee
    manager, report = people[2], people[3]
    create_pair(org, mentor, mentee, kind="mentoring", mentor=mentor)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.org_id == org.id, Membership.user_id == report.id
        )
    )
    boss = db.session.scalar(
        select(Membership).where(
            Membership.org_id == org.id, Membership.user_id == manager.id
        )
    )
    membership.manager = boss
    boss.languages = ["english", "hindi"]
    boss.location = "Leeds"
    db.session.commit()

    regs = {
        r.user_id: r
        for r in db.session.scalars(
            select(Registration).where(Registration.event_id == event.id)
        )
    }
    ties = memory.ties_for(event, list(regs.values()), 12)
    pair = tuple(sorted((regs[mentor.id].id, regs[mentee.id].id)))
    line = tuple(sorted((regs[manager.id].id, regs[report.id].id)))
    assert ties.open_pairs == {pair} and ties.reporting == {line}

    seen = services.participants(event, [regs[manager.id]])[0]
    assert seen.languages == {"english", "hindi"} and seen.location == "Leeds"

    for seed in range(4):  # 4 mentors, 4 mentees, 4 rounds: everyone meets all
        plan = services.create_plan(event, Settings(rounds=3, minutes=7, seed=seed))
        met = {
            tuple(sorted(t["members"]))
            for r in services.plan_data(plan)["rounds"]
            for t in r["tables"]
        }
        assert line not in met and pair not in met
    db.session.rollback()


def test_the_plan_page_offers_the_look_back_and_reports_earlier_meetings(
    client, auth, organizer, monthly
):
    first = monthly(1)
    services.create_plan(first, Settings(rounds=6, minutes=7, seed=1))
    db.session.commit()
    _hold_every_round(first)
    second = monthly(0)
    auth.login(organizer.email)
    url = f"/events/{second.id}/rotations"
    html = client.get(url).text
    assert 'name="lookback_months"' in html and 'name="location_preference"' in html
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_from(html),
            "rounds": "6",
            "minutes": "7",
            "mode": "mentor_mentee",
            "group_size": "2",
            "lookback_months": "any",
            "location_preference": "different",
        },
    )
    assert resp.status_code == 302
    page = client.get(url).text
    text = re.sub(r"\s+", " ", page)
    assert "120 pairs here met at an earlier event or are in a mentoring pair" in text
    assert "120 kept apart" in text and "none seated together again" in text
    db.session.expire_all()
    plan = services.plan_for(second)
    assert plan.lookback_months is None and plan.location_preference == "different"
    # The form shows the stored choice when the page is opened again.
    assert re.search(
        r'<option selected value="any">|<option value="any" selected', page
    )


def test_unavoidable_repeats_are_explained_with_names(
    client, auth, organizer, people, monthly
):
    six = people[:6]
    first = monthly(1, everyone=six)
    services.create_plan(first, Settings(rounds=3, minutes=7))
    db.session.commit()
    _hold_every_round(first)  # 3 mentors x 3 mentees: everyone met everyone
    second = monthly(0, everyone=six)
    plan = services.create_plan(second, Settings(rounds=2, minutes=7))
    db.session.commit()
    report = plan.quality["earlier"]
    assert report["repeated"] == report["unavoidable"] == 6
    auth.login(organizer.email)
    text = re.sub(r"\s+", " ", client.get(f"/events/{second.id}/rotations").text)
    assert "6 seated together again" in text and "All are unavoidable" in text
    assert "Member 00 meets 2 people, and only 0 of those they may sit with" in text
