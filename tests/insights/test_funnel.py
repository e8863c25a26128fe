"""The funnel, events and people sections on one hand-built organization whose
right answers are written out below (``docs/insights.md`` defines each figure).

Acme has four departments with members (Sales S1–S8, Legal L1–L6, Design
D1–D6, Ops O1–O4) and one without (Finance); guests G1–G4 have no account.
Its events, at noon-ish UTC (the clock stands at 30 June 2026, 12:00):

* **jan** Mentor Mixer, 15 Jan, 16 seats: S7 cancels; S1–S6, L1–L4, D1–D4, O1
  and G1 take the 16 seats, O2 and O3 wait, G2 has not confirmed. All but L4
  check in; all 15 are prompted, all but G1 answer; 13 choose someone (S5
  one-sidedly; S6 only "not now"); six pairs form (J1–J6, from 20 Jan).
* **feb** Lunch & Learn, 10 Feb: 7 registered (L5 cancels), nobody checked in
  (it did not use check-in), so nobody was prompted.
* **mar** Workshop, 5 Mar: cancelled. Counts nowhere.
* **apr** Workshop, 20 Apr: 7 registered, 5 check in, 4 answer, S8 and L5
  choose each other: pair A1 (from 22 Apr: 69 days old, too young for day 90).
* **may** Mentor Mixer, 28 May: 8 registered, 7 check in, 6 answer, 4 choose:
  pairs M1 and M2 (from 30 May: 31 days old, too young for day 60).
* **jun** Lunch & Learn, 30 Jun at 18:00: not started yet. Counts nowhere.

Pairs' meetings, in days after the pair began (fortnightly unless told, so
"active at day d" means a meeting held in days d−28 … d):

| pair | who | held on day | active at 30 / 60 / 90 |
|---|---|---|---|
| J1 | S1 mentors L1 | 14, 28, 56, 84 | yes / yes / yes |
| J2 | S2 mentors L2 (paused) | 14, 42, 70 (due on 92, logged early) | yes / yes / yes |
| J3 | S3 mentors D1 | 20, 59 | yes / yes / no |
| J4 | D2 mentors L3 | 10 (40 skipped, 54 missed) | yes / no / no |
| J5 | D3 and O1, peers, monthly (window 60 days) | 45 | no / yes / yes |
| J6 | S4 mentors D4 (closed) | 30 exactly, 32 exactly, 90 + 1 hour | yes / yes / no |
| A1 | S8 mentors L5 | 14, 50 | yes / yes / too young |
| M1 | S3 mentors L6 | 20 | yes / too young / too young |
| M2 | D5 and O2, peers | (14 missed) | no / too young / too young |

S1 also mentors S5 and O3 in two open pairs from asks (and mentored O4 in an
ended one). Another organization's event, pair and testimonial count nowhere.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from mixer import clock
from mixer.events.lifecycle import cancel_event
from mixer.events.models import EventKind
from mixer.events.registration import cancel_registration
from mixer.extensions import db
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.insights.events import event_figures
from mixer.insights.figures import FEWER, Count, MentorLoad, Quote, rate
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import funnel
from mixer.insights.people import people_figures
from mixer.pairs.models import Pair, PairMeeting, open_key
from mixer.recognition import models as recognition

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
ANNOUNCED = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)  # every event still ahead
DEPARTMENTS = {"Sales": "S", "Legal": "L", "Design": "D", "Ops": "O"}
SIZES = {"Sales": 8, "Legal": 6, "Design": 6, "Ops": 4}
EVENTS = {
    "jan": ("mentor_mixer", "January Mixer", datetime(2026, 1, 15, 17), 16),
    "feb": ("lunch_and_learn", "Negotiation over lunch", datetime(2026, 2, 10, 12), 10),
    "mar": ("workshop", "Cancelled workshop", datetime(2026, 3, 5, 14), 10),
    "apr": ("workshop", "Feedback workshop", datetime(2026, 4, 20, 14), 8),
    "may": ("mentor_mixer", "May Mixer", datetime(2026, 5, 28, 17), 10),
    "jun": ("lunch_and_learn", "Later today", datetime(2026, 6, 30, 18), 10),
}
# In order of sign-up; "~" cancels at once, "?" is a guest who never confirms.
SIGN_UPS = {
    "jan": "~S7 S1 S2 S3 S4 S5 S6 L1 L2 L3 L4 D1 D2 D3 D4 O1 G1 O2 O3 ?G2",
    "feb": "S1 S2 L1 D1 O2 O3 G3 ~L5",
    "mar": "S5 L1 D6",
    "apr": "S7 S8 L5 L6 D5 D6 O4 ?G4",
    "may": "S1 S3 L2 L6 D2 D5 O2 O4",
    "jun": "S5 S6",
}
NO_SHOWS = {"jan": {"L4"}, "apr": {"D6", "O4"}, "may": {"O4"}}
# Follow-up answers: person → (rating, {person chosen: choice}); checked-in
# people missing here were prompted and never answered.
ANSWERS = {
    "jan": {
        "S1": (5, {"L1": "mentee"}),
        "S2": (5, {"L2": "mentee"}),
        "S3": (4, {"D1": "mentee"}),
        "S4": (4, {"D4": "mentee"}),
        "S5": (4, {"S1": "mentor"}),
        "S6": (3, {"S5": "not_now"}),
        "L1": (5, {"S1": "mentor"}),
        "L2": (4, {"S2": "mentor"}),
        "L3": (2, {"D2": "mentor"}),
        "D1": (4, {"S3": "mentor"}),
        "D2": (None, {"L3": "mentee"}),
        "D3": (None, {"O1": "peer"}),
        "D4": (None, {"S4": "mentor"}),
        "O1": (None, {"D3": "peer"}),
    },
    "apr": {
        "S7": (3, {}),
        "S8": (4, {"L5": "mentee"}),
        "L5": (5, {"S8": "mentor"}),
        "L6": (None, {"S7": "not_now"}),
    },
    "may": {
        "S1": (5, {}),
        "S3": (5, {"L6": "mentee"}),
        "L2": (4, {}),
        "L6": (3, {"S3": "mentor"}),
        "D5": (4, {"O2": "peer"}),
        "O2": (None, {"D5": "peer"}),
    },
}
JAN_PAIRS = datetime(2026, 1, 20, 9, tzinfo=UTC)
APR_PAIRS = datetime(2026, 4, 22, 9, tzinfo=UTC)
MAY_PAIRS = datetime(2026, 5, 30, 9, tzinfo=UTC)
# name: (event, first, second, mentor, status, cadence, start, meetings), a
# meeting being (day, status) or (day due, day logged).
PAIRS = {
    "J1": ("jan", "S1", "L1", "S1", "active", 14, JAN_PAIRS, [14, 28, 56, 84]),
    "J2": ("jan", "S2", "L2", "S2", "paused", 14, JAN_PAIRS, [14, 42, (92, 70)]),
    "J3": ("jan", "S3", "D1", "S3", "active", 14, JAN_PAIRS, [20, 59]),
    "J4": (
        "jan",
        "D2",
        "L3",
        "D2",
        "active",
        14,
        JAN_PAIRS,
        [10, (40, "skipped"), (54, "missed")],
    ),
    "J5": ("jan", "D3", "O1", None, "active", 30, JAN_PAIRS, [45]),
    "J6": ("jan", "S4", "D4", "S4", "closed", 14, JAN_PAIRS, [30, 32, 90 + 1 / 24]),
    "A1": ("apr", "S8", "L5", "S8", "active", 14, APR_PAIRS, [14, 50]),
    "M1": ("may", "S3", "L6", "S3", "active", 14, MAY_PAIRS, [20]),
    "M2": ("may", "D5", "O2", None, "active", 14, MAY_PAIRS, [(14, "missed")]),
    "ask1": (None, "S1", "S5", "S1", "active", 14, JAN_PAIRS, [20]),
    "ask2": (None, "S1", "O3", "S1", "active", 14, JAN_PAIRS, [20]),
    "ask3": (None, "S1", "O4", "S1", "ended", 14, JAN_PAIRS, [20]),
}
CAPACITY = {"S1": 3, "S2": 1, "S3": 2, "D2": 0, "S8": 2}
# (event, author, status, given, approved, pair)
TESTIMONIALS = [
    ("jan", "S1", "approved", date(2026, 1, 25), date(2026, 1, 26), None),
    ("feb", "L1", "approved", date(2026, 2, 12), date(2026, 2, 13), None),
    ("apr", "L5", "approved", date(2026, 6, 20), date(2026, 6, 21), "A1"),
    ("may", "D5", "approved", date(2026, 6, 5), date(2026, 6, 6), None),
    ("may", "S3", "pending", date(2026, 6, 25), None, None),
    ("jan", "S2", "hidden", date(2026, 6, 26), date(2026, 6, 27), None),
    ("mar", "L1", "approved", date(2026, 6, 27), date(2026, 6, 28), None),
    (None, "S5", "approved", date(2026, 6, 28), date(2026, 6, 29), "ask1"),
]
KEYS = [
    "registered",
    "checked_in",
    "prompted",
    "answered",
    "chose",
    "paired",
    "active_30",
    "active_60",
    "active_90",
]


def utc(moment: datetime) -> datetime:
    """A naive table time as UTC."""
    return moment.replace(tzinfo=UTC)


class Acme:
    """The organization of the module docstring, built through the services
    where they are cheap (events, sign-ups, cancellations) and straight from
    the models where the dates must be exact (check-ins, prompts, pairs)."""

    def __init__(self, make_org, make_user, make_event, make_registration) -> None:
        clock.freeze(ANNOUNCED)
        self.org = make_org(slug="acme", name="Acme")
        self.organizer = make_user(self.org, role="organizer", password=None)
        self.people = {
            f"{letter}{i}": make_user(
                self.org, name=f"{letter}{i}", department=name, password=None
            )
            for name, letter in DEPARTMENTS.items()
            for i in range(1, SIZES[name] + 1)
        }
        self.org.department_named("Finance")
        self.department = {d.name: d.id for d in self.org.departments}
        self.events = {
            key: make_event(
                self.org, kind=kind, title=title, starts_at=utc(start), capacity=seats
            )
            for key, (kind, title, start, seats) in EVENTS.items()
        }
        self.regs = {}
        for key, line in SIGN_UPS.items():
            for word in line.split():
                person = word.strip("~?")
                reg = self._sign_up(make_registration, key, person, word[0] == "?")
                if word.startswith("~"):
                    cancel_registration(reg, notify=False)
                    db.session.commit()
                self.regs[key, person] = reg
        cancel_event(self.events["mar"])
        for key, sign_ups in SIGN_UPS.items():
            if key not in ANSWERS:
                continue
            for word in sign_ups.split():
                if word[0] not in "~?" and word not in NO_SHOWS.get(key, ()):
                    self._attend(key, word)
        self.pairs = {name: self._pair(name, *row) for name, row in PAIRS.items()}
        for person, capacity in CAPACITY.items():
            self.people[person].membership_in(self.org).mentoring_capacity = capacity
        for row in TESTIMONIALS:
            self._testimonial(*row)
        self._elsewhere(make_org, make_user, make_event, make_registration)
        db.session.commit()
        clock.freeze(NOW)

    def _sign_up(self, make_registration, key, person, pending):
        """One place at an event, for a member or a guest."""
        event = self.events[key]
        if person.startswith("G"):
            source = "guest" if pending else "organizer"
            return make_registration(
                event, email=f"{person.lower()}@example.org", name=person, source=source
            )
        user = self.people[person]
        return make_registration(event, email=user.email, name=user.name, user=user)

    def _attend(self, key, person):
        """Checked in ten minutes after the start, prompted and maybe answered."""
        reg = self.regs[key, person]
        start = reg.event.starts_at
        reg.checked_in_at = start + timedelta(minutes=10)
        prompt = FollowupPrompt(
            event_id=reg.event_id,
            registration_id=reg.id,
            user_id=reg.user_id,
            created_at=start + timedelta(days=1),
        )
        db.session.add(prompt)
        if person in ANSWERS[key]:
            rating, choices = ANSWERS[key][person]
            prompt.rating = rating
            prompt.answered_at = start + timedelta(days=2)
            for other, choice in choices.items():
                prompt.choices.append(
                    FollowupChoice(other_id=self.regs[key, other].id, choice=choice)
                )
        db.session.flush()

    def _pair(self, name, key, first, second, mentor, status, cadence, start, days):
        """A pair and its meetings, with the dates of the table."""
        a_id, b_id = sorted((self.people[first].id, self.people[second].id))
        is_open = status in ("active", "paused")
        pair = Pair(
            org_id=self.org.id,
            kind="peer" if mentor is None else "mentoring",
            a_id=a_id,
            b_id=b_id,
            mentor_id=self.people[mentor].id if mentor else None,
            status=status,
            open_key=open_key(self.org.id, a_id, b_id) if is_open else None,
            source="event" if key else "request",
            event_id=self.events[key].id if key else None,
            cadence_days=cadence,
            ics_uid=f"{uuid.uuid4()}@mixer.test",
            started_at=start,
            term_ends_at=start + timedelta(days=180),
            ended_at=None if is_open else datetime(2026, 6, 1, tzinfo=UTC),
        )
        db.session.add(pair)
        for number, day in enumerate(days, start=1):
            due, said = (day, "met") if not isinstance(day, tuple) else day
            logged = said if isinstance(said, int) else due
            db.session.add(
                PairMeeting(
                    pair=pair,
                    number=number,
                    due_at=start + timedelta(days=due),
                    status="met" if isinstance(said, int) else said,
                    reported_at=None
                    if said == "missed"
                    else start + timedelta(days=logged, hours=2 * (logged == due)),
                )
            )
        db.session.flush()
        return pair

    def _testimonial(self, key, author, status, given, approved, pair):
        """Words about an event (or a pair), in one moderation state."""
        user = self.people[author]
        db.session.add(
            recognition.Testimonial(
                org_id=self.org.id,
                event_id=self.events[key].id if key else None,
                pair_id=self.pairs[pair].id if pair else None,
                author_id=user.id,
                author_name=user.name,
                body=f"Words of {author} about {key or 'a pair'}.",
                source="pair" if pair else "prompt",
                source_key=f"test:{author}:{key}",
                status=status,
                created_at=datetime.combine(given, datetime.min.time(), UTC),
                moderated_at=datetime.combine(approved, datetime.min.time(), UTC)
                if approved
                else None,
            )
        )

    def _elsewhere(self, make_org, make_user, make_event, make_registration):
        """Another organization's mixer in March: five come, rate it 1, one pair
        meets every week and one testimonial is approved."""
        other = make_org(slug="elsewhere", name="Elsewhere")
        people = [make_user(other, department="Sales", password=None) for _ in range(5)]
        event = make_event(
            other, kind="mentor_mixer", starts_at=datetime(2026, 3, 10, 17, tzinfo=UTC)
        )
        for user in people:
            reg = make_registration(event, email=user.email, name=user.name, user=user)
            reg.checked_in_at = event.starts_at
            db.session.add(
                FollowupPrompt(
                    event_id=event.id,
                    registration_id=reg.id,
                    user_id=user.id,
                    rating=1,
                    answered_at=event.starts_at + timedelta(days=1),
                )
            )
        a_id, b_id = sorted((people[0].id, people[1].id))
        pair = Pair(
            org_id=other.id,
            kind="mentoring",
            a_id=a_id,
            b_id=b_id,
            mentor_id=a_id,
            open_key=open_key(other.id, a_id, b_id),
            event_id=event.id,
            ics_uid=f"{uuid.uuid4()}@mixer.test",
            started_at=datetime(2026, 3, 12, tzinfo=UTC),
            term_ends_at=datetime(2026, 9, 12, tzinfo=UTC),
        )
        db.session.add(pair)
        for week in range(1, 13):
            db.session.add(
                PairMeeting(
                    pair=pair,
                    number=week,
                    due_at=pair.started_at + timedelta(weeks=week),
                    status="met",
                    reported_at=pair.started_at + timedelta(weeks=week),
                )
            )
        db.session.add(
            recognition.Testimonial(
                org_id=other.id,
                event_id=event.id,
                author_name="Someone else",
                body="Elsewhere's words.",
                source_key="test:elsewhere",
                status="approved",
                created_at=datetime(2026, 6, 29, tzinfo=UTC),
                moderated_at=datetime(2026, 6, 29, tzinfo=UTC),
            )
        )
        self.other = other


@pytest.fixture
def acme(app, make_org, make_user, make_event, make_registration) -> Acme:
    """The organization of the module docstring, the clock at 30 June 2026."""
    return Acme(make_org, make_user, make_event, make_registration)


def period(start: str, end: str, **kw) -> InsightFilter:
    """A filter from ISO dates."""
    return InsightFilter(date.fromisoformat(start), date.fromisoformat(end), **kw)


def half_year(**kw) -> InsightFilter:
    """January to June 2026, narrowed by ``kw``."""
    return period("2026-01-01", "2026-06-30", **kw)


HALF_YEAR = half_year()


def counts(stages) -> dict[str, int]:
    """Stage key → count (for comparing; pages never show ``Count.n``)."""
    return {stage.key: stage.count.n for stage in stages}


def active(result) -> dict[int, tuple[int, int]]:
    """Days → (active pairs, pairs old enough), as numbers."""
    return {days: (done.n, base.n) for days, (done, base) in result.active.items()}


def row(*numbers: int) -> dict[str, int]:
    """A funnel's counts in stage order."""
    return dict(zip(KEYS, numbers, strict=True))


def test_the_funnel_counts_every_stage_by_month_and_pairs_at_30_60_90(acme):
    result = funnel(acme.org, HALF_YEAR)

    assert counts(result.stages) == row(38, 27, 27, 24, 19, 18, 14, 12, 6)
    assert [s.label for s in result.stages][:2] == ["Registered", "Checked in"]
    assert all(s.definition for s in result.stages)
    months = {m.month: {k: c.n for k, c in m.counts.items()} for m in result.months}
    assert months == {
        "2026-01": row(16, 15, 15, 14, 13, 12, 10, 10, 6),
        "2026-02": row(7, 0, 0, 0, 0, 0, 0, 0, 0),
        "2026-03": row(0, 0, 0, 0, 0, 0, 0, 0, 0),
        "2026-04": row(7, 5, 5, 4, 2, 2, 2, 2, 0),
        "2026-05": row(8, 7, 7, 6, 4, 4, 2, 0, 0),
        "2026-06": row(0, 0, 0, 0, 0, 0, 0, 0, 0),
    }
    # Pairs: J1–J6, A1, M1, M2 at day 30; A1 is too young for 90, M1/M2 for 60.
    assert active(result) == {30: (7, 9), 60: (6, 7), 90: (3, 6)}
    assert rate(*result.active[60]) == pytest.approx(6 / 7)
    # Three of six pairs at 90 days: "fewer than 5", and so is the share.
    assert str(result.active[90][0]) == FEWER
    assert rate(*result.active[90]) is None
    april = next(m for m in result.months if m.month == "2026-04").counts
    assert april["answered"].hidden and april["answered"].value is None
    assert str(april["chose"]) == FEWER
    assert april["active_90"] == Count(0) and not april["active_90"].hidden
    assert rate(april["answered"], april["registered"]) is None

    # A day earlier M1 and M2 were 29 days old: not counted at 30 days yet.
    clock.freeze(datetime(2026, 6, 29, 8, 0, tzinfo=UTC))
    earlier = funnel(acme.org, HALF_YEAR)
    assert active(earlier)[30] == (6, 7)
    assert counts(earlier.stages)["active_30"] == 12


def test_the_funnel_follows_the_filter(acme):
    """Period edges are included; department, kind and event narrow it."""
    edges = funnel(acme.org, period("2026-01-15", "2026-05-28"))
    assert counts(edges.stages) == row(38, 27, 27, 24, 19, 18, 14, 12, 6)
    assert [m.month for m in edges.months] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
    ]
    inside = funnel(acme.org, period("2026-01-16", "2026-05-27"))
    assert counts(inside.stages) == row(14, 5, 5, 4, 2, 2, 2, 2, 0)
    assert active(inside) == {30: (1, 1), 60: (1, 1), 90: (0, 0)}

    legal = funnel(acme.org, half_year(department_id=acme.department["Legal"]))
    assert counts(legal.stages) == row(9, 7, 7, 7, 5, 5, 5, 3, 2)
    # A pair counts when either side is in Legal: J1, J2, J4, A1, M1.
    assert active(legal) == {30: (5, 5), 60: (3, 4), 90: (2, 3)}
    finance = funnel(acme.org, half_year(department_id=acme.department["Finance"]))
    assert counts(finance.stages) == row(0, 0, 0, 0, 0, 0, 0, 0, 0)

    mixers = funnel(acme.org, half_year(kind=EventKind.MENTOR_MIXER))
    assert counts(mixers.stages) == row(24, 22, 22, 20, 17, 16, 12, 10, 6)
    assert active(mixers) == {30: (6, 8), 60: (5, 6), 90: (3, 6)}

    april = funnel(acme.org, half_year(event_id=acme.events["apr"].id))
    assert counts(april.stages) == row(7, 5, 5, 4, 2, 2, 2, 2, 0)
    assert active(april) == {30: (1, 1), 60: (1, 1), 90: (0, 0)}


def test_events_held_attendance_ratings_and_testimonials(acme):
    result = event_figures(acme.org, HALF_YEAR)

    # jan, feb, apr, may: mar was cancelled, jun has not started.
    assert result.held == 4
    # Over jan, apr and may (feb did not use check-in): 16 + 7 + 8, 15 + 5 + 7.
    assert (result.registered.n, result.attended.n) == (31, 27)
    assert result.attendance_rate == pytest.approx(27 / 31)
    assert result.no_show_rate == pytest.approx(4 / 31)
    # 10 ratings in jan (40 points), 3 in apr (12), 5 in may (21).
    assert result.ratings == Count(18)
    assert result.rating == pytest.approx(73 / 18)
    months = [
        (m.month, m.held, m.registered.n, m.attended.n, m.rating) for m in result.months
    ]
    assert months == [
        ("2026-01", 1, 16, 15, 4.0),
        ("2026-02", 1, 0, 0, None),
        ("2026-03", 0, 0, 0, None),
        ("2026-04", 1, 7, 5, None),  # three ratings: too few to average
        ("2026-05", 1, 8, 7, pytest.approx(4.2)),
        ("2026-06", 0, 0, 0, None),
    ]
    # The latest approved words about the period's held events; not pending,
    # hidden, the cancelled event's, an ask pair's or another organization's.
    assert result.testimonials == [
        Quote("L5", "Words of L5 about apr.", "Feedback workshop", date(2026, 6, 20)),
        Quote("D5", "Words of D5 about may.", "May Mixer", date(2026, 6, 5)),
        Quote(
            "L1", "Words of L1 about feb.", "Negotiation over lunch", date(2026, 2, 12)
        ),
    ]


def test_events_follow_the_filter(acme):
    legal = event_figures(acme.org, half_year(department_id=acme.department["Legal"]))
    # A department narrows people, not events.
    assert legal.held == 4
    # jan L1–L4 (L4 no-show), apr L5 L6, may L2 L6.
    assert (legal.registered.n, legal.attended.n) == (8, 7)
    assert legal.ratings == Count(6) and legal.rating == pytest.approx(23 / 6)
    january = legal.months[0]
    assert str(january.registered) == FEWER and str(january.attended) == FEWER
    assert january.rating is None  # three ratings
    assert [q.author_name for q in legal.testimonials] == ["L5", "L1"]

    edges = event_figures(acme.org, period("2026-01-15", "2026-05-28"))
    assert (edges.held, edges.registered.n, edges.ratings.n) == (4, 31, 18)
    inside = event_figures(acme.org, period("2026-01-16", "2026-05-27"))
    assert (inside.held, inside.registered.n, inside.attended.n) == (2, 7, 5)
    assert inside.ratings == Count(3) and inside.rating is None
    assert inside.attendance_rate == pytest.approx(5 / 7)

    workshops = event_figures(acme.org, half_year(kind=EventKind.WORKSHOP))
    assert (workshops.held, workshops.registered.n, workshops.attended.n) == (1, 7, 5)
    assert [q.author_name for q in workshops.testimonials] == ["L5"]
    january = event_figures(acme.org, half_year(event_id=acme.events["jan"].id))
    assert (january.held, january.registered.n, january.attended.n) == (1, 16, 15)
    assert january.rating == pytest.approx(4.0)
    assert [q.author_name for q in january.testimonials] == ["S1"]
    cancelled = event_figures(acme.org, half_year(event_id=acme.events["mar"].id))
    assert (cancelled.held, cancelled.registered.n, cancelled.testimonials) == (
        0,
        0,
        [],
    )


def test_people_mentors_capacity_and_departments_without_a_mentor(acme):
    result = people_figures(acme.org, HALF_YEAR)

    # Open mentoring pairs as the mentor: S1 has J1 and two from asks (the
    # ended one not); S2's J2 is paused (still open); S4's J6 is closed; peers
    # have no mentor.
    assert result.top_mentors == [
        MentorLoad("S1", "Sales", 3, 3),
        MentorLoad("S3", "Sales", 2, 2),
        MentorLoad("D2", "Design", 1, 0),
        MentorLoad("S2", "Sales", 1, 1),
        MentorLoad("S8", "Sales", 1, 2),
    ]
    # D2 said "none right now" (capacity 0) yet mentors one: over capacity.
    assert [m.name for m in result.at_capacity] == ["D2", "S1", "S2", "S3"]
    # Finance has no members; Legal and Ops mentor nobody.
    assert result.departments_without_mentor == ["Legal", "Ops"]

    design = people_figures(
        acme.org, half_year(department_id=acme.department["Design"])
    )
    assert design.top_mentors == [MentorLoad("D2", "Design", 1, 0)]
    assert design.at_capacity == [MentorLoad("D2", "Design", 1, 0)]
    assert design.departments_without_mentor == []
    legal = people_figures(acme.org, half_year(department_id=acme.department["Legal"]))
    assert (legal.top_mentors, legal.at_capacity) == ([], [])
    assert legal.departments_without_mentor == ["Legal"]
