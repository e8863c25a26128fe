"""How much mentoring a member takes on, and from when: the rules every way into
a pair respects (asks, their suggestions, and follow-up matching).

A membership says ``mentoring_capacity`` (default 3, 0..20): the most mentees a
person mentors at once in the organization. Their *load* is their open
(active or paused) mentoring pairs in which they are the mentor; peer pairs and
pairs in which they are the mentee do not count. ``available_from`` ("not
before <date>") holds back every new pair of theirs, of any kind, until that
date (a calendar date in UTC, as ``mixer.clock`` tells it).

Plain functions that only read; the profile page that sets both belongs to
``mixer.orgs``. docs/pairs.md explains the rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import dates
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select

from mixer import clock
from mixer.extensions import db
from mixer.i18n import current_locale
from mixer.orgs.models import Membership
from mixer.pairs.models import OPEN_STATUSES, Pair, PairKind

NUMBERS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def today() -> date:
    """Today's date in UTC, from ``mixer.clock`` (what "not before" compares with)."""
    return clock.now().date()


def _open_mentoring(org_id: int) -> tuple[ColumnElement[bool], ...]:
    """SQL conditions: open mentoring pairs of the organization."""
    return (
        Pair.org_id == org_id,
        Pair.kind == PairKind.MENTORING,
        Pair.status.in_(OPEN_STATUSES),
    )


def mentoring_load(membership: Membership) -> int:
    """How many people ``membership``'s person mentors now in its organization
    (open mentoring pairs in which they are the mentor)."""
    return (
        db.session.scalar(
            select(func.count(Pair.id)).where(
                *_open_mentoring(membership.org_id),
                Pair.mentor_id == membership.user_id,
            )
        )
        or 0
    )


def mentoring_loads(org_id: int, user_ids: Iterable[int]) -> Counter[int]:
    """``mentoring_load`` of many people of one organization, in one query."""
    ids = set(user_ids)
    if not ids:
        return Counter()
    rows = db.session.execute(
        select(Pair.mentor_id, func.count(Pair.id))
        .where(*_open_mentoring(org_id), Pair.mentor_id.in_(ids))
        .group_by(Pair.mentor_id)
    ).all()
    return Counter({m: n for m, n in rows if m is not None})


def is_at_capacity(membership: Membership, load: int | None = None) -> bool:
    """Whether the person mentors as many people as they said they would (or more).

    ``load`` saves a query when the caller counted it already."""
    if load is None:
        load = mentoring_load(membership)
    return load >= membership.mentoring_capacity


def available(membership: Membership, on: date | None = None) -> bool:
    """Whether the person takes on new pairs on ``on`` (default today, UTC)."""
    return membership.is_available_on(on or today())


def can_mentor(membership: Membership, load: int | None = None) -> bool:
    """Whether the person may take on one more mentee now."""
    return available(membership) and not is_at_capacity(membership, load)


def count_words(n: int) -> str:
    """ "three": the load as the prompt says it (a number word in English,
    digits in the other languages)."""
    if current_locale() == "en" and 0 <= n < len(NUMBERS):
        return NUMBERS[n]
    return str(n)


def day_text(day: date) -> str:
    """ "12 March 2026" ("12. März 2026"): a "not before" date in words."""
    language = current_locale()
    if language == "en":
        return f"{day.day} {day:%B %Y}"
    return dates.format_date(day, "long", locale=language)


@dataclass(frozen=True)
class Hold:
    """Why a pair both people want cannot start yet, in words for people.

    ``until`` is the date it may start (a "not before"), None while it waits
    for a place to open (capacity); then ``load`` is how many they mentor.
    ``reason`` is lazy: an e-mail says it in its recipient's language."""

    reason: Any
    until: date | None = None
    load: int = 0


def _away_words(name: str, you: bool, start: date) -> str:
    """The reason of a "not before" hold, in the language in force."""
    if you:
        return _(
            "You are not taking on new pairs before %(date)s; we'll keep your "
            "choice until then.",
            date=day_text(start),
        )
    return _(
        "%(name)s is not taking on new pairs before %(date)s; we'll keep your "
        "choice until then.",
        name=name,
        date=day_text(start),
    )


def _full_words(name: str, you: bool, load: int) -> str:
    """The reason of a capacity hold, in the language in force."""
    if not load:
        if you:
            return _(
                "You are not taking on mentees at the moment; we'll keep your "
                "choice for when a place opens."
            )
        return _(
            "%(name)s is not taking on mentees at the moment; we'll keep your "
            "choice for when a place opens.",
            name=name,
        )
    if you:
        return ngettext(
            "You are mentoring %(count)s person already; we'll keep your choice "
            "for when a place opens.",
            "You are mentoring %(count)s people already; we'll keep your choice "
            "for when a place opens.",
            load,
            count=count_words(load),
        )
    return ngettext(
        "%(name)s is mentoring %(count)s person already; we'll keep your choice "
        "for when a place opens.",
        "%(name)s is mentoring %(count)s people already; we'll keep your choice "
        "for when a place opens.",
        load,
        name=name,
        count=count_words(load),
    )


def hold_for(
    membership: Membership, *, as_mentor: bool, name: str, you: bool = False
) -> Hold | None:
    """What holds back a new pair of ``membership``'s person (None: nothing).

    ``as_mentor``: they would mentor in it, so their capacity counts. ``name``
    and ``you`` only shape the words ("Ada is …" or "You are …").
    """
    if not available(membership):
        start = membership.available_from
        assert start is not None  # noqa: S101 - available() said so
        return Hold(LazyString(_away_words, name, you, start), until=start)
    if as_mentor:
        load = mentoring_load(membership)
        if is_at_capacity(membership, load):
            return Hold(LazyString(_full_words, name, you, load), load=load)
    return None
