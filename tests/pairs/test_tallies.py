"""The monthly tallies of held and missed meetings (``pair_checkin_month``) are
kept by the database: whatever writes the check-ins (the ORM, a bulk
statement, a cascade from a deleted member or pair), they equal a recount."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from mixer import clock
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.pairs import answers, queries, tallies
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairMeeting, PairMeetingMonth
from tests.recognition.conftest import PairMaker

STATUSES = ["met", "met", "missed", "skipped", "scheduled", "moved"]
# Month edges in UTC, where a wrong time zone or format would move a meeting.
EDGES = [
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
]


def _when(rng: random.Random) -> datetime:
    if rng.random() < 0.3:
        return rng.choice(EDGES)
    return datetime(2025, 10, 1, tzinfo=UTC) + timedelta(
        minutes=rng.randint(0, 200_000)
    )


def _agree(org_id: int | None = None) -> None:
    db.session.flush()
    assert tallies.check(org_id) == {}


def test_every_kind_of_write_keeps_the_tallies_equal_to_a_recount(
    world, make_org, make_user
):
    rng = random.Random(7)
    maker = PairMaker()
    other = make_org(slug="zed", name="Zed")
    people = [make_user(world.org, password=None) for _ in range(8)]
    outsiders = [make_user(other, password=None) for _ in range(3)]
    pairs = [
        maker.pair(world.org, world.mentor, person, mentor=world.mentor)
        for person in people[:4]
    ] + [maker.pair(world.org, people[4], person) for person in people[5:]]
    pairs.append(maker.pair(other, outsiders[0], outsiders[1]))
    meetings = []
    for pair in pairs:
        for _ in range(rng.randint(2, 6)):
            meeting = maker.meeting(pair, _when(rng), status=rng.choice(STATUSES))
            meeting.due_at = _when(rng)
            meetings.append(meeting)
    _agree()
    assert len(tallies.kept()) >= 6  # several months of both organizations
    assert {org for org, _ in tallies.kept()} == {world.org.id, other.id}

    # The ORM: statuses and dates change, one at a time.
    for meeting in rng.sample(meetings, 15):
        meeting.status = rng.choice(STATUSES)
        if rng.random() < 0.5:
            meeting.due_at = _when(rng)
        _agree()
    # A status set to what it already was changes nothing.
    meetings[0].status = meetings[0].status
    _agree()
    # A bulk statement: every scheduled meeting of one pair is missed.
    db.session.execute(
        update(PairMeeting)
        .where(PairMeeting.pair_id == pairs[0].id)
        .values(status="missed")
        .execution_options(synchronize_session=False)
    )
    _agree()
    # The ORM deletes one meeting, then a whole pair (its meetings first).
    db.session.delete(meetings[-1])
    _agree()
    db.session.delete(pairs[1])
    _agree()
    # The database deletes a pair and cascades to its meetings.
    db.session.execute(delete(Pair).where(Pair.id == pairs[2].id))
    _agree()
    # A member deleted: their pairs and those pairs' meetings go by cascade.
    db.session.expunge_all()
    db.session.execute(delete(User).where(User.id == people[4].id))
    _agree()
    assert db.session.scalar(select(Pair).where(Pair.a_id == people[4].id)) is None
    db.session.commit()
    # An organization deleted: its months go with it; the other's stay.
    db.session.execute(delete(Organization).where(Organization.id == other.id))
    _agree()
    assert {org for org, _ in tallies.kept()} == {world.org.id}
    assert (
        db.session.scalar(
            select(PairMeetingMonth).where(PairMeetingMonth.org_id == other.id)
        )
        is None
    )


def test_the_real_paths_count_and_the_overview_reads_the_tallies(world):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    answers.log_meeting(pair, world.mentee, "met")
    db.session.commit()
    month = clock.now().strftime("%Y-%m")
    assert tallies.kept(world.org.id) == {(world.org.id, month): (1, 0)}
    overview = queries.org_overview(world.org)
    assert (overview.held, overview.missed) == (1, 0)
    assert overview.months[-1] == {"label": "Mar 2026", "held": 1, "missed": 0}
    # The next meeting goes unanswered past its grace period: the tick misses it.
    clock.freeze(clock.now() + timedelta(days=30))
    from mixer.pairs import schedule

    schedule.tick(pair.id)
    db.session.commit()
    _agree(world.org.id)
    assert queries.org_overview(world.org).missed >= 1


def test_a_recount_finds_and_rebuild_mends_tallies_that_drifted(world, make_user):
    maker = PairMaker()
    pair = maker.pair(world.org, world.mentor, world.mentee)
    maker.meeting(pair, datetime(2026, 2, 10, 12, tzinfo=UTC), status="met")
    maker.meeting(pair, datetime(2026, 2, 11, 12, tzinfo=UTC), status="skipped")
    _agree()
    # As if a restore or a table rebuilt without its triggers had lost a write.
    db.session.execute(update(PairMeetingMonth).values(held=PairMeetingMonth.held + 5))
    db.session.add(PairMeetingMonth(org_id=world.org.id, month="1999-01", held=1))
    key = (world.org.id, "2026-02")
    assert tallies.check() == {
        key: ((6, 1), (1, 1)),
        (world.org.id, "1999-01"): ((1, 0), (0, 0)),
    }
    assert tallies.rebuild() == 1
    _agree()
    assert tallies.kept() == {key: (1, 1)}


def test_mixer_recount_pairs_reports_and_fixes(world, app):
    maker = PairMaker()
    pair = maker.pair(world.org, world.mentor, world.mentee)
    maker.meeting(pair, datetime(2026, 2, 10, 12, tzinfo=UTC), status="met")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recount-pairs"])
    assert result.exit_code == 0, result.output
    assert "equal a recount" in result.output
    db.session.execute(update(PairMeetingMonth).values(missed=3))
    db.session.commit()
    result = runner.invoke(args=["recount-pairs"])
    assert result.exit_code == 1
    assert (
        f"organization {world.org.id}, 2026-02: kept 1 held 3 missed" in result.output
    )
    result = runner.invoke(args=["recount-pairs", "--fix"])
    assert result.exit_code == 0 and "Rebuilt 1 monthly tallies" in result.output
    db.session.expire_all()
    assert tallies.check() == {}
