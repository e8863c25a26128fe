"""Text for people about a pair: labels, its rhythm, roles, streaks, what happened.

Pages and e-mails say "check-in" for a meeting, as the product always has.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel import dates
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from mixer import clock
from mixer.formatting import localtime
from mixer.i18n import current_locale
from mixer.pairs.models import MeetingStatus, Pair, PairSource, PairStatus

if TYPE_CHECKING:
    from mixer.accounts.models import User

STATUS_LABELS = {
    PairStatus.ACTIVE: _l("Active"),
    PairStatus.PAUSED: _l("Paused"),
    PairStatus.ENDED: _l("Term ended"),
    PairStatus.CLOSED: _l("Closed"),
}
MEETING_LABELS = {
    MeetingStatus.SCHEDULED: _l("Planned"),
    MeetingStatus.MET: _l("Met"),
    MeetingStatus.MOVED: _l("Moved"),
    MeetingStatus.SKIPPED: _l("Skipped"),
    MeetingStatus.MISSED: _l("Missed"),
}
# The same, inside a sentence ("… answered already: met").
MEETING_WORDS = {
    MeetingStatus.SCHEDULED: _l("planned"),
    MeetingStatus.MET: _l("met"),
    MeetingStatus.MOVED: _l("moved"),
    MeetingStatus.SKIPPED: _l("skipped"),
    MeetingStatus.MISSED: _l("missed"),
}
# A pair's status inside a sentence ("the pair is paused").
STATUS_WORDS = {
    PairStatus.ACTIVE: _l("active"),
    PairStatus.PAUSED: _l("paused"),
    PairStatus.ENDED: _l("term ended"),
    PairStatus.CLOSED: _l("closed"),
}
# A person's role in a pair, as the organizers' list shows it.
ROLE_LABELS = {"mentor": _l("mentor"), "mentee": _l("mentee"), "peer": _l("peer")}
ANSWER_LABELS = {
    MeetingStatus.MET: _l("Yes, we met"),
    MeetingStatus.MOVED: _l("We moved it"),
    MeetingStatus.SKIPPED: _l("We skipped this one"),
}
STANDING_LABELS = {
    "keep": _l("Keep going"),
    "pause": _l("Pause for now"),
    "close": _l("Close the pair"),
}
ACTION_DONE = {
    "pause": _l("The pair is paused; no check-ins until one of you resumes it."),
    "resume": _l("Welcome back! The next check-in is planned and the invite is sent."),
    "close": _l("The pair is closed. Thank you for the time you gave each other."),
}
# Lazy, with named placeholders filled by ``%``: said in the recipient's language.
STATUS_SUBJECTS = {
    "paused": _l("Check-ins with %(other)s are paused"),
    "resumed": _l("Check-ins with %(other)s start again"),
    "closed": _l("Your pair with %(other)s is closed"),
    "updated": _l("New rhythm for your check-ins with %(other)s"),
    "moved": _l("Check-in with %(other)s moved to %(day)s"),
}
# The first line of a status e-mail: (to the one who did it, to the other one).
STATUS_LINES = {
    "paused": (
        _l("You paused the check-ins with %(other)s."),
        _l("%(by)s paused your check-ins."),
    ),
    "resumed": (
        _l("You resumed the check-ins with %(other)s: %(cadence)s."),
        _l("%(by)s resumed your check-ins: %(cadence)s."),
    ),
    "closed": (
        _l("You closed the pair with %(other)s."),
        _l("%(by)s closed your pair."),
    ),
    "updated": (
        _l("You changed the rhythm of the check-ins with %(other)s: %(cadence)s."),
        _l("%(by)s changed the rhythm of your check-ins: %(cadence)s."),
    ),
    "moved": (
        _l("You moved the check-in with %(other)s to %(when)s."),
        _l("%(by)s moved your check-in to %(when)s."),
    ),
}


def _fill(text: Any, **values: Any) -> str:
    """A lazy message with ``%(name)s`` placeholders, in the language now in force."""
    return str(text) % values


def first_upper(text: str) -> str:
    """``text`` with its first letter a capital, the rest as it is (German nouns
    keep theirs; ``capitalize`` would lower them)."""
    return text[:1].upper() + text[1:]


def cadence_text(days: int, minutes: int) -> str:
    """ "a 5-minute check-in every 2 weeks"."""
    if days % 7 == 0:
        return ngettext(
            "a %(minutes)d-minute check-in every week",
            "a %(minutes)d-minute check-in every %(num)d weeks",
            days // 7,
            minutes=minutes,
        )
    return ngettext(
        "a %(minutes)d-minute check-in every day",
        "a %(minutes)d-minute check-in every %(num)d days",
        days,
        minutes=minutes,
    )


def pair_cadence(pair: Pair) -> str:
    """The pair's rhythm in words."""
    return cadence_text(pair.cadence_days, pair.meeting_minutes)


def streak_text(pair: Pair) -> str:
    """ "3 held in a row", "2 missed in a row" or "—"."""
    if pair.missed_in_row:
        return ngettext(
            "%(num)d missed in a row", "%(num)d missed in a row", pair.missed_in_row
        )
    held = pair.streak
    if not held:
        return "—"
    return ngettext("%(num)d held in a row", "%(num)d held in a row", held)


def role_line(pair: Pair, user_id: int, other: User) -> str:
    """How the two relate, said to ``user_id``."""
    role = pair.role_of(user_id)
    if role == "mentor":
        return _("You mentor %(name)s.", name=other.name)
    if role == "mentee":
        return _("%(name)s is your mentor.", name=other.name)
    return _("You and %(name)s are peers who learn from each other.", name=other.name)


def intro_line(pair: Pair, user: User, other: User) -> str:
    """How the two came together, said to ``user``."""
    name = other.name
    if pair.source == PairSource.ASK and pair.mentor_id is not None:
        topic = pair.topic
        if pair.mentor_id == user.id:
            if topic:
                return _(
                    "You said yes when %(name)s asked for a micro-mentor on %(topic)s.",
                    name=name,
                    topic=topic,
                )
            return _("You said yes when %(name)s asked for a micro-mentor.", name=name)
        if topic:
            return _(
                "You asked for a micro-mentor on %(topic)s, and %(name)s said yes.",
                name=name,
                topic=topic,
            )
        return _("You asked for a micro-mentor, and %(name)s said yes.", name=name)
    if pair.source == PairSource.RENEWAL:
        return _("You and %(name)s both asked for another term together.", name=name)
    if pair.event is not None:
        return _(
            "You and %(name)s both chose to keep in touch after %(title)s.",
            name=name,
            title=pair.event.title,
        )
    return _("You and %(name)s both chose to keep in touch.", name=name)


def _days_ahead(pair: Pair, when: datetime) -> tuple[int, datetime]:
    """How many days from today ``when`` is, and ``when``, in the pair's zone."""
    zone = ZoneInfo(pair.timezone)
    local = when.astimezone(zone)
    return (local.date() - clock.now().astimezone(zone).date()).days, local


def _weekday(local: datetime) -> str:
    """The day of the week ("Friday") in the language in force."""
    return dates.format_date(local.date(), "EEEE", locale=current_locale())


def day_word(pair: Pair, when: datetime) -> str:
    """ "today", "tomorrow" or "on Friday": when ``when`` is, in the pair's zone."""
    days, local = _days_ahead(pair, when)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return _("on %(weekday)s", weekday=_weekday(local))


def day_headline(pair: Pair, when: datetime) -> str:
    """ "Today", "Tomorrow" or "On Friday": the reminder's first word."""
    days, local = _days_ahead(pair, when)
    if days == 0:
        return _("Today")
    if days == 1:
        return _("Tomorrow")
    return _("On %(weekday)s", weekday=_weekday(local))


def short_day(pair: Pair, when: datetime | None) -> str:
    """ "Sat 02 May" in the pair's zone (empty for no date)."""
    if not when:
        return ""
    local = when.astimezone(ZoneInfo(pair.timezone))
    language = current_locale()
    if language == "en":
        return f"{local:%a %d %b}"
    return dates.format_skeleton("MMMEd", local, locale=language)


def status_line(pair: Pair, what: str, by: User | None, user: User) -> str:
    """What happened to the pair, said to ``user`` (who may be the one who did it)."""
    other = pair.other_person(user)
    if by is None and what == "closed":  # Mixer closes a pair when one leaves
        return _(
            "Your pair with %(other)s is closed, because one of "
            "you no longer belongs to %(org)s.",
            other=other.name,
            org=pair.org.name,
        )
    next_at = pair.next_meeting_at
    mine, theirs = STATUS_LINES[what]
    return _fill(
        mine if by is not None and by.id == user.id else theirs,
        other=other.name,
        by=by.name if by is not None else "Mixer",
        cadence=pair_cadence(pair),
        when=localtime(next_at, pair.timezone) if next_at else _("a new date"),
    )
