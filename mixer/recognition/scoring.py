"""Micro-Mentor of the Month: who mentored most this month, and why.

The score is a plain sum of line items, so an organizer can check it by hand:

==============================================  ==========================
What counted (only the organization's pairs)    Points
==============================================  ==========================
Check-in held, as the mentor of a pair          3 each
"What helped" note the mentee wrote with it     2 each
Mentee's end-of-term feedback rating            5★ 3 · 4★ 2 · 3★ 1 · 1–2★ 0
Mentee's end-of-term "what helped" answer       2 each
Check-in held with a peer (each side)           1 each
"What helped" note the peer wrote with it       1 each
Five-minute slot the guest said helped (host)   1 each
==============================================  ==========================

A check-in (a pair's meeting, ``PairMeeting``) counts when its status is "met"
and it was reported in the month;
feedback counts in the month it was given. Months are calendar months in UTC.
Only current, active members of the organization are candidates. Ties go to
more check-ins held as a mentor, then more notes, then the name (A–Z), then the
account number, so the same data always gives the same ranking.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from babel import dates
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext, ngettext
from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import QueryableAttribute

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.i18n import current_locale
from mixer.orgs.models import Membership, Organization
from mixer.pairs.models import MeetingStatus, Pair, PairFeedback, PairMeeting
from mixer.slots.models import BookingStatus, Helped, SlotBooking

MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Points per item. Peers count less: the award is for mentoring.
MENTOR_MEETING = 3
MENTEE_NOTE = 2
MENTEE_HELPED = 2
PEER_MEETING = 1
PEER_NOTE = 1
SLOT_HELPED = 1  # a guest said a five-minute slot helped (yes or somewhat)


def rating_points(stars: int) -> int:
    """Points for a mentee's 1–5 rating: 5★ 3, 4★ 2, 3★ 1, lower 0."""
    return max(0, stars - 2)


# The line items in the order they are shown; key → (label, points each or None).
# The keys are kept in published awards' breakdowns (``Award.breakdown``).
# The labels are lazy (shown in the reader's language); a published award keeps
# the English label (``Line.as_dict``) and the page translates it by its key.
ITEMS: dict[str, tuple[str, int | None]] = {
    "mentor_checkins": (_l("Check-ins held as mentor"), MENTOR_MEETING),
    "mentee_notes": (_l('"What helped" notes from mentees'), MENTEE_NOTE),
    "mentee_ratings": (_l("Mentees' end-of-term ratings"), None),
    "mentee_helped": (_l('Mentees\' end-of-term "what helped" answers'), MENTEE_HELPED),
    "peer_checkins": (_l("Check-ins held with peers"), PEER_MEETING),
    "peer_notes": (_l('"What helped" notes from peers'), PEER_NOTE),
    "slots_helped": (_l("Five-minute slots that helped"), SLOT_HELPED),
}  # fmt: skip


def _each(points: int) -> Any:
    """ "3 points each", lazily (a rule's points, in the reader's language)."""
    return lazy_ngettext("%(num)d point each", "%(num)d points each", points)


RULES = (
    (_l("Check-in held as the mentor of a pair"), _each(MENTOR_MEETING)),
    (_l('"What helped" note the mentee wrote with it'), _each(MENTEE_NOTE)),
    (_l("Mentee's end-of-term rating"), _l("5★ 3 points, 4★ 2, 3★ 1, 1–2★ 0")),
    (_l('Mentee\'s end-of-term "what helped" answer'), _each(MENTEE_HELPED)),
    (
        _l("Check-in held with a peer (each of the two)"),
        _each(PEER_MEETING),
    ),
    (
        _l('"What helped" note the peer wrote with it'),
        _each(PEER_NOTE),
    ),
    (
        _l("Five-minute slot the guest said helped"),
        _each(SLOT_HELPED),
    ),
)


@dataclass
class Line:
    """One thing that counted: how many, and the points they made."""

    key: str
    what: str
    count: int
    points: int
    each: int | None = None  # None when points vary (ratings)
    detail: str = ""  # e.g. "5★, 4★"

    @property
    def text(self) -> str:
        """The line as a sentence: "4 check-ins held as mentor × 3 = 12 points"."""
        values = {"what": label(self.key, self.what), "count": self.count}
        if self.each is not None:
            return ngettext(
                "%(what)s: %(count)d × %(each)d = %(num)d point",
                "%(what)s: %(count)d × %(each)d = %(num)d points",
                self.points,
                each=self.each,
                **values,
            )
        if self.detail:
            return ngettext(
                "%(what)s: %(count)d (%(detail)s) = %(num)d point",
                "%(what)s: %(count)d (%(detail)s) = %(num)d points",
                self.points,
                detail=self.detail,
                **values,
            )
        return ngettext(
            "%(what)s: %(count)d = %(num)d point",
            "%(what)s: %(count)d = %(num)d points",
            self.points,
            **values,
        )

    def as_dict(self) -> dict[str, Any]:
        """What ``Award.breakdown`` keeps of the line."""
        return {
            "key": self.key,
            "what": english(self.what),
            "count": self.count,
            "points": self.points,
            "each": self.each,
            "detail": self.detail,
        }


@dataclass
class Candidate:
    """A member with points this month, the lines that made them, and a rank.

    The lines are made when first read: a month of thousands of candidates is
    ranked on the counts, and only the candidates shown are explained.
    """

    user_id: int
    name: str
    score: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # item key → how many
    ratings: list[int] = field(default_factory=list)  # mentees' stars
    rank: int = 0
    email: str = ""  # for the organizers' search; never shown to members

    @classmethod
    def scored(
        cls, user_id: int, name: str, email: str, counts: dict, ratings: list[int]
    ) -> Candidate:
        """A candidate with the score of these counts and ratings."""
        score = sum(
            counts.get(key, 0) * each
            for key, (_, each) in ITEMS.items()
            if each is not None
        ) + sum(rating_points(r) for r in ratings)
        return cls(user_id, name, score, dict(counts), list(ratings), email=email)

    @cached_property
    def lines(self) -> list[Line]:
        """The line items that made the score, in the order of ``ITEMS``."""
        return _lines(self.counts, self.ratings)

    def line(self, key: str) -> Line | None:
        """The line item ``key`` (a key of ``ITEMS``), if it counted."""
        return next((line for line in self.lines if line.key == key), None)

    def count(self, key: str) -> int:
        """How many of item ``key`` counted (0 when none)."""
        if key == "mentee_ratings":
            return len(self.ratings)
        return self.counts.get(key, 0)

    @property
    def breakdown(self) -> list[dict[str, Any]]:
        """The lines as stored on an award."""
        return [line.as_dict() for line in self.lines]

    @property
    def explanation(self) -> str:
        """Every line as a sentence, then the total."""
        parts = [line.text for line in self.lines]
        return ngettext(
            "%(lines)s. Total: %(num)d point.",
            "%(lines)s. Total: %(num)d points.",
            self.score,
            lines="; ".join(parts),
        )


def parse_month(month: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of "YYYY-MM"; ValueError when malformed."""
    match = MONTH_RE.fullmatch(month or "")
    if not match:
        raise ValueError(_("A month looks like 2026-03."))
    year, number = int(match.group(1)), int(match.group(2))
    if year < 2000:
        raise ValueError(_("A month looks like 2026-03."))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_of(when: datetime) -> str:
    """The "YYYY-MM" an instant falls in (UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m")


def previous_month(month: str) -> str:
    """The month before "YYYY-MM"."""
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def next_month(month: str) -> str:
    """The month after "YYYY-MM"."""
    year, number = int(month[:4]), int(month[5:])
    return f"{year + 1}-01" if number == 12 else f"{year}-{number + 1:02d}"


def month_label(month: str) -> str:
    """ "March 2026" for "2026-03", in the language in force ("März 2026")."""
    start = parse_month(month)[0]
    language = current_locale()
    if language != "en":
        return dates.format_skeleton("yMMMM", start, locale=language)
    return f"{MONTH_NAMES[start.month - 1]} {start.year}"


def date_label(when: datetime) -> str:
    """ "1 April 2026" (UTC), in the language in force ("1. April 2026")."""
    when = when.astimezone(UTC)
    language = current_locale()
    if language != "en":
        return dates.format_skeleton("yMMMMd", when, locale=language)
    return f"{when.day} {MONTH_NAMES[when.month - 1]} {when.year}"


def english(text: Any) -> str:
    """The English of a lazy label (what stored records keep)."""
    return str(getattr(text, "_args", (text,))[0])


def label(key: str, what: str) -> str:
    """A line's label in the reader's language, by its key (``ITEMS``); a key
    no longer listed keeps the words it was stored with."""
    item = ITEMS.get(key)
    return str(item[0]) if item is not None else str(what)


class _Tally:
    """Counts per person while the month's records are read."""

    def __init__(self) -> None:
        """Empty counts and ratings."""
        self.counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.ratings: dict[int, list[int]] = defaultdict(list)

    def add(self, user_id: int, key: str, n: int = 1) -> None:
        """Count ``n`` more of item ``key`` for ``user_id`` (nothing when 0)."""
        if n:
            self.counts[user_id][key] += n


def _has_text(value: Any) -> bool:
    """Whether a note is words, not blanks (blank notes earn nothing)."""
    return isinstance(value, str) and bool(value.strip())


# What a blank note is made of, for the database's trim (Python's str.strip also
# knows rarer Unicode spaces; notes are stripped when they are written anyway).
BLANKS = " \t\n\r\f\v\u00a0"


def note_by(
    user_id: ColumnElement[int] | QueryableAttribute[int],
) -> ColumnElement[bool]:
    """SQL: the meeting's notes hold words (a non-blank string) by ``user_id``.

    ``PairMeeting.notes`` is JSON keyed by the writer's id as a string; reading
    a key named by another column is spelled differently by each database, so
    the expression is chosen by the dialect in use.
    """
    key = cast(user_id, String)
    if db.session.get_bind().dialect.name == "postgresql":
        value = PairMeeting.notes.op("->")(key)
        words = PairMeeting.notes.op("->>")(key)
        return and_(
            func.json_typeof(value) == "string", func.btrim(words, BLANKS) != ""
        )
    path = literal('$."') + key + literal('"')
    return and_(
        func.json_type(PairMeeting.notes, path) == "text",
        func.trim(func.json_extract(PairMeeting.notes, path), BLANKS) != "",
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL: how many rows of the group meet ``condition``."""
    return func.sum(case((condition, 1), else_=0))


def score_month(org: Organization, month: str) -> list[Candidate]:
    """Rank the organization's members by this month's mentoring, best first.

    Each candidate carries the line items that made the score (see the module
    docstring for the formula). Members without points are left out.

    Three statements whatever the size of the organization: the database counts
    each pair's held check-ins and notes (one row per pair, not per check-in),
    then the month's end-of-term feedback and the members' names are read.
    """
    start, end = parse_month(month)
    tally = _Tally()
    per_pair = db.session.execute(
        select(
            Pair.a_id,
            Pair.b_id,
            Pair.mentor_id,
            func.count(),
            _count(note_by(Pair.a_id)),
            _count(note_by(Pair.b_id)),
        )
        .join(Pair, Pair.id == PairMeeting.pair_id)
        .where(
            Pair.org_id == org.id,
            PairMeeting.status == MeetingStatus.MET,
            PairMeeting.reported_at >= start,
            PairMeeting.reported_at < end,
        )
        .group_by(Pair.id, Pair.a_id, Pair.b_id, Pair.mentor_id)
    ).all()
    for a_id, b_id, mentor_id, held, by_a, by_b in per_pair:
        notes = {a_id: int(by_a or 0), b_id: int(by_b or 0)}
        if mentor_id is not None:
            mentee_id = b_id if mentor_id == a_id else a_id
            tally.add(mentor_id, "mentor_checkins", held)
            tally.add(mentor_id, "mentee_notes", notes[mentee_id])
        else:
            for person, other in ((a_id, b_id), (b_id, a_id)):
                tally.add(person, "peer_checkins", held)
                tally.add(person, "peer_notes", notes[other])
    feedback = db.session.execute(
        select(Pair.mentor_id, PairFeedback.rating, PairFeedback.helped)
        .join(Pair, Pair.id == PairFeedback.pair_id)
        .where(
            Pair.org_id == org.id,
            Pair.mentor_id.is_not(None),
            # Only the mentee's: the mentor's own says nothing about the mentor.
            PairFeedback.user_id != Pair.mentor_id,
            PairFeedback.user_id.in_((Pair.a_id, Pair.b_id)),
            PairFeedback.created_at >= start,
            PairFeedback.created_at < end,
        )
    ).all()
    for mentor_id, rating, helped in feedback:
        if mentor_id is None:  # peers: excluded by the query (NULL compares false)
            continue
        if rating is not None:
            tally.ratings[mentor_id].append(rating)
        if _has_text(helped):
            tally.add(mentor_id, "mentee_helped")
    _count_slots(org, start, end, tally)
    return _rank(org, tally)


def _count_slots(
    org: Organization, start: datetime, end: datetime, tally: _Tally
) -> None:
    """Five-minute slots whose guest said they helped (yes or somewhat), for the
    host, in the month the answer was first given: one statement."""
    rows = db.session.execute(
        select(SlotBooking.host_id, func.count(SlotBooking.id))
        .where(
            SlotBooking.org_id == org.id,
            SlotBooking.status == BookingStatus.BOOKED,
            SlotBooking.helped.in_((Helped.YES, Helped.SOMEWHAT)),
            SlotBooking.helped_at >= start,
            SlotBooking.helped_at < end,
        )
        .group_by(SlotBooking.host_id)
    ).all()
    for host_id, n in rows:
        tally.add(host_id, "slots_helped", int(n))


def _rank(org: Organization, tally: _Tally) -> list[Candidate]:
    """Candidates from the tally: current active members with points, ranked."""
    people = set(tally.counts) | set(tally.ratings)
    if not people:
        return []
    # Every active member's name and e-mail (for the search), then those with
    # points: one statement with no list of ids, however many candidates.
    members = db.session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id, User.is_active_account.is_(True))
    ).all()
    candidates = []
    for user_id, name, email in members:
        if user_id not in people:
            continue
        candidate = Candidate.scored(
            user_id,
            name,
            email,
            tally.counts.get(user_id, {}),
            tally.ratings.get(user_id, []),
        )
        if candidate.score > 0:
            candidates.append(candidate)
    candidates.sort(
        key=lambda c: (
            -c.score,
            -c.count("mentor_checkins"),
            -(c.count("mentee_notes") + c.count("mentee_helped")),
            c.name.casefold(),
            c.user_id,
        )
    )
    for rank, candidate in enumerate(candidates, start=1):
        candidate.rank = rank
    return candidates


def _lines(counts: dict[str, int], ratings: list[int]) -> list[Line]:
    """One person's line items, in the order of ``ITEMS``."""
    ratings = sorted(ratings, reverse=True)
    lines = []
    for key, (what, each) in ITEMS.items():
        if each is None:  # the mentees' ratings: points vary with the stars
            if ratings:
                lines.append(
                    Line(
                        key,
                        what,
                        len(ratings),
                        sum(rating_points(r) for r in ratings),
                        None,
                        ", ".join(f"{r}★" for r in ratings),
                    )
                )
            continue
        n = counts.get(key, 0)
        if n:
            lines.append(Line(key, what, n, n * each, each))
    return lines


def candidate_for(org: Organization, month: str, user_id: int) -> Candidate | None:
    """The one member's line items this month (None when they are no candidate)."""
    return next((c for c in score_month(org, month) if c.user_id == user_id), None)
