"""Recognition test helpers: a frozen clock in April 2026 and pairs built directly.

The pairs feature's services are written elsewhere; these tests build ``Pair``,
``PairMeeting`` and ``PairFeedback`` rows with the models, as the worker would
leave them, so scoring is tested on exactly the data it reads.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mixer.extensions import db
from mixer.pairs.models import Pair, PairFeedback, PairMeeting, open_key

# Early April 2026: "last month" (the default) is March 2026.
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
MARCH = "2026-03"


def in_march(day: int, hour: int = 12) -> datetime:
    """An instant in March 2026 (UTC)."""
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def clock_at() -> datetime:
    """``frozen`` stops the clock in early April: "last month" is March 2026."""
    return NOW


class PairMaker:
    """Build pairs, check-ins and feedback straight from the models."""

    def pair(self, org, first, second, *, mentor=None, status="active") -> Pair:
        """A pair of ``first`` and ``second``; ``mentor`` None makes them peers."""
        a_id, b_id = sorted((first.id, second.id))
        pair = Pair(
            org_id=org.id,
            kind="peer" if mentor is None else "mentoring",
            a_id=a_id,
            b_id=b_id,
            mentor_id=mentor.id if mentor is not None else None,
            status=status,
            open_key=open_key(org.id, a_id, b_id)
            if status in ("active", "paused")
            else None,
            ics_uid=f"{uuid.uuid4()}@mixer.test",
            started_at=in_march(1) - timedelta(days=60),
            term_ends_at=in_march(1) + timedelta(days=30),
        )
        db.session.add(pair)
        db.session.flush()
        return pair

    def meeting(self, pair, reported_at, *, status="met", notes=None) -> PairMeeting:
        """A meeting answered at ``reported_at``; ``notes`` maps users to text."""
        number = len(pair.meetings) + 1
        meeting = PairMeeting(
            pair=pair,
            number=number,
            due_at=reported_at - timedelta(hours=2),
            status=status,
            reported_at=reported_at,
            notes={str(user.id): text for user, text in (notes or {}).items()},
        )
        db.session.add(meeting)
        db.session.flush()
        return meeting

    def feedback(self, pair, user, created_at, *, rating=None, helped=None):
        """One side's end-of-term feedback."""
        answer = PairFeedback(
            pair=pair,
            user_id=user.id,
            rating=rating,
            helped=helped,
            created_at=created_at,
        )
        db.session.add(answer)
        db.session.flush()
        return answer


@pytest.fixture
def pairs(app) -> PairMaker:
    return PairMaker()


@pytest.fixture
def month_data(app, frozen, make_org, make_user, pairs):
    """A clear month: who did what in March 2026, and what must not count.

    Ada mentors Bo: 2 held (one with Bo's note), 1 skipped, 1 in February, 1 in
    April; Bo rates her 5★ and says what helped → 2×3 + 1×2 + 3 + 2 = 13.
    Cy mentors Dee: 3 held, no notes; Dee rates 2★ (0 points); Cy's own 5★
    feedback does not count → 9. Eve and Finn are peers: 4 held, Finn wrote one
    note about Eve → Eve 4 + 1 = 5, Finn 4. In another organization Ada holds 5
    more check-ins, which do not count here. Gus left the organization: his
    check-ins do not make him a candidate.
    """
    org = make_org(slug="riverside", name="Riverside College")
    other = make_org(slug="elsewhere", name="Elsewhere Inc")
    people = {
        key: make_user(org, name=name)
        for key, name in [
            ("ada", "Ada Lovelace"),
            ("bo", "Bo Chen"),
            ("cy", "Cy Young"),
            ("dee", "Dee Okafor"),
            ("eve", "Eve Martin"),
            ("finn", "Finn Berg"),
            ("gus", "Gus Hale"),
            ("hal", "Hal Ito"),
        ]
    }
    p = people
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    admin = make_user(org, role="admin", name="Adam Admin")
    outsider = make_user(other, role="organizer", name="Otto Outsider")

    ada_bo = pairs.pair(org, p["ada"], p["bo"], mentor=p["ada"])
    pairs.meeting(ada_bo, in_march(3), notes={p["bo"]: "The tip on feedback."})
    pairs.meeting(ada_bo, in_march(17), notes={p["ada"]: "My own note."})
    pairs.meeting(ada_bo, in_march(24), status="skipped", notes={p["bo"]: "x"})
    pairs.meeting(ada_bo, datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    pairs.meeting(ada_bo, datetime(2026, 4, 1, 0, 0, tzinfo=UTC))
    pairs.feedback(ada_bo, p["bo"], in_march(30), rating=5, helped="Her patience.")

    cy_dee = pairs.pair(org, p["cy"], p["dee"], mentor=p["cy"], status="ended")
    for day in (5, 12, 19):
        pairs.meeting(cy_dee, in_march(day))
    pairs.feedback(cy_dee, p["dee"], in_march(28), rating=2)
    pairs.feedback(cy_dee, p["cy"], in_march(28), rating=5, helped="Great mentee")

    eve_finn = pairs.pair(org, p["eve"], p["finn"])
    for day in (2, 9, 16):
        pairs.meeting(eve_finn, in_march(day))
    pairs.meeting(eve_finn, in_march(23), notes={p["finn"]: "Eve's CV review."})

    make_user(other, email=p["ada"].email, name=p["ada"].name)
    stranger = make_user(other, name="Stan Stranger")
    elsewhere = pairs.pair(other, p["ada"], stranger, mentor=p["ada"])
    for day in range(1, 6):
        pairs.meeting(elsewhere, in_march(day), notes={stranger: "Counts elsewhere"})

    gus_hal = pairs.pair(org, p["gus"], p["hal"], mentor=p["gus"])
    pairs.meeting(gus_hal, in_march(4))
    db.session.commit()
    from mixer.orgs.services import remove_member

    remove_member(p["gus"].membership_in(org))
    db.session.commit()
    return {
        "org": org,
        "other": other,
        "organizer": organizer,
        "admin": admin,
        "outsider": outsider,
        **people,
    }
