"""The values the insights sections return, shared by the page, the PDFs and the API.

Privacy first: a count of people is a ``Count``, which shows itself as "fewer
than 5" when it is 1 to 4 (``SMALL``), so that no figure singles out a person's
private choice (whom they chose after an event, how they rated it). Rates built
from a hidden count are hidden too (``rate``). Code that shows a figure uses
``Count.value`` (None when hidden) or ``str(count)``, never ``Count.n``, which
exists only for computing and for tests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from mixer.formatting import format_number
from mixer.i18n import current_locale

SMALL = 5  # counts of 1..SMALL-1 people are shown as "fewer than 5"
FEWER = f"fewer than {SMALL}"  # in exports, which are data (English)


def fewer() -> str:
    """ "fewer than 5" in the language in force (pages, PDFs, charts)."""
    return _("fewer than %(num)d", num=SMALL)


@functools.lru_cache(maxsize=8192)
def _grouped(n: int, language: str) -> str:
    """``n`` grouped as ``language`` groups digits; remembered, because a page
    shows hundreds of counts and Babel takes a tenth of a millisecond each."""
    return format_number(n, language)


@dataclass(frozen=True, order=True)
class Count:
    """A number of people (or of meetings between people) as it may be shown."""

    n: int

    @property
    def hidden(self) -> bool:
        """1 to 4: shown as "fewer than 5", never as the number."""
        return 0 < self.n < SMALL

    @property
    def value(self) -> int | None:
        """The number to show, or None when it is hidden."""
        return None if self.hidden else self.n

    def __str__(self) -> str:
        """ "fewer than 5", or the number grouped as the language groups it."""
        return fewer() if self.hidden else _grouped(self.n, current_locale())


def rate(part: Count, whole: Count) -> float | None:
    """``part / whole`` (0..1), or None when either is hidden or ``whole`` is 0."""
    if part.hidden or whole.hidden or whole.n == 0:
        return None
    return part.n / whole.n


@dataclass(frozen=True)
class Stage:
    """One step of the funnel: how many people reached it."""

    key: str  # registered, checked_in, prompted, answered, chose, paired,
    #           active_30, active_60, active_90
    label: str  # "Checked in"
    count: Count
    definition: str  # one sentence, shown one click away


@dataclass(frozen=True)
class FunnelMonth:
    """The funnel of the events that started in one month ("2026-03")."""

    month: str
    counts: dict[str, Count]  # by Stage.key


@dataclass(frozen=True)
class Funnel:
    """Registered → … → pair active at 30/60/90 days, and its trend by month.

    ``active`` gives, for 30, 60 and 90 days, (pairs active at that age, pairs
    old enough to tell): the figure a speed-mentoring study reports (about 60 %
    of pairs still in contact four months on).
    """

    stages: list[Stage]
    months: list[FunnelMonth]
    active: dict[int, tuple[Count, Count]] = field(default_factory=dict)


@dataclass(frozen=True)
class SiloMap:
    """Who met whom, department × department (symmetric; the diagonal is within).

    ``cells[i][j]`` counts meetings between ``departments[i]`` and
    ``departments[j]`` (rotations, badge scans and notes recorded as connections,
    and pairs), each meeting once.
    """

    departments: list[str]  # names; "No department" last when anyone has none
    cells: list[list[Count]]
    total: Count
    across: Count  # meetings between two different departments
    never_meet: list[tuple[str, str]]  # pairs of departments with no meeting

    @property
    def across_share(self) -> float | None:
        """The share of meetings across departments (0..1), None when hidden."""
        return rate(self.across, self.total)


@dataclass(frozen=True)
class TopicGap:
    """A topic, how many people seek it and how many offer it."""

    topic: str
    seekers: Count
    offerers: Count


@dataclass(frozen=True)
class Topics:
    """What people seek that few offer, and offers nobody asks for."""

    suggested: list[TopicGap]  # most sought, fewest offers first
    unasked: list[TopicGap]  # offered, sought by nobody


@dataclass(frozen=True)
class EventMonth:
    """Events that started in one month ("2026-03") and how they went."""

    month: str
    held: int
    registered: Count
    attended: Count
    rating: float | None  # average of 1..5, None with fewer than 5 ratings


@dataclass(frozen=True)
class Quote:
    """An approved testimonial, as the dashboard and reports show it."""

    author_name: str
    body: str
    event_title: str | None
    on: date


@dataclass(frozen=True)
class EventFigures:
    """Events held in the period, attendance, no-shows and ratings."""

    held: int
    registered: Count
    attended: Count
    ratings: Count
    rating: float | None  # average of 1..5, None with fewer than 5 ratings
    months: list[EventMonth]
    testimonials: list[Quote]

    @property
    def attendance_rate(self) -> float | None:
        """Checked in / registered."""
        return rate(self.attended, self.registered)

    @property
    def no_show_rate(self) -> float | None:
        """Registered and never checked in / registered."""
        if self.attendance_rate is None:
            return None
        return 1 - self.attendance_rate


@dataclass(frozen=True)
class MentorLoad:
    """A mentor, their open mentoring pairs and how many they take."""

    name: str
    department: str | None
    active_pairs: int
    capacity: int


@dataclass(frozen=True)
class PeopleFigures:
    """Who carries the programme, who is full, where nobody mentors."""

    top_mentors: list[MentorLoad]
    at_capacity: list[MentorLoad]
    departments_without_mentor: list[str]


@dataclass(frozen=True)
class Dashboard:
    """Every section of the programme dashboard for one filter."""

    funnel: Funnel
    silos: SiloMap
    topics: Topics
    events: EventFigures
    people: PeopleFigures
