"""Text for people about a pair: labels, its rhythm, roles, streaks, what happened.

Pages and e-mails say "check-in" for a meeting, as the product always has.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mixer import clock
from mixer.formatting import localtime
from mixer.pairs.models import MeetingStatus, Pair, PairSource, PairStatus

if TYPE_CHECKING:
    from mixer.accounts.models import User

STATUS_LABELS = {
    PairStatus.ACTIVE: "Active",
    PairStatus.PAUSED: "Paused",
    PairStatus.ENDED: "Term ended",
    PairStatus.CLOSED: "Closed",
}
MEETING_LABELS = {
    MeetingStatus.SCHEDULED: "Planned",
    MeetingStatus.MET: "Met",
    MeetingStatus.MOVED: "Moved",
    MeetingStatus.SKIPPED: "Skipped",
    MeetingStatus.MISSED: "Missed",
}
ANSWER_LABELS = {
    MeetingStatus.MET: "Yes, we met",
    MeetingStatus.MOVED: "We moved it",
    MeetingStatus.SKIPPED: "We skipped this one",
}
STANDING_LABELS = {
    "keep": "Keep going",
    "pause": "Pause for now",
    "close": "Close the pair",
}
ACTION_DONE = {
    "pause": "The pair is paused; no check-ins until one of you resumes it.",
    "resume": "Welcome back! The next check-in is planned and the invite is sent.",
    "close": "The pair is closed. Thank you for the time you gave each other.",
}
STATUS_SUBJECTS = {
    "paused": "Check-ins with {other} are paused",
    "resumed": "Check-ins with {other} start again",
    "closed": "Your pair with {other} is closed",
    "updated": "New rhythm for your check-ins with {other}",
    "moved": "Check-in with {other} moved to {day}",
}
# The first line of a status e-mail: (to the one who did it, to the other one).
STATUS_LINES = {
    "paused": (
        "You paused the check-ins with {other}.",
        "{by} paused your check-ins.",
    ),
    "resumed": (
        "You resumed the check-ins with {other}: {cadence}.",
        "{by} resumed your check-ins: {cadence}.",
    ),
    "closed": ("You closed the pair with {other}.", "{by} closed your pair."),
    "updated": (
        "You changed the rhythm of the check-ins with {other}: {cadence}.",
        "{by} changed the rhythm of your check-ins: {cadence}.",
    ),
    "moved": (
        "You moved the check-in with {other} to {when}.",
        "{by} moved your check-in to {when}.",
    ),
}


def cadence_text(days: int, minutes: int) -> str:
    """ "a 5-minute check-in every 2 weeks"."""
    if days % 7 == 0:
        weeks = days // 7
        every = "week" if weeks == 1 else f"{weeks} weeks"
    else:
        every = "day" if days == 1 else f"{days} days"
    return f"a {minutes}-minute check-in every {every}"


def pair_cadence(pair: Pair) -> str:
    """The pair's rhythm in words."""
    return cadence_text(pair.cadence_days, pair.meeting_minutes)


def streak_text(pair: Pair) -> str:
    """ "3 held in a row", "2 missed in a row" or "—"."""
    if pair.missed_in_row:
        return f"{pair.missed_in_row} missed in a row"
    held = pair.streak
    return f"{held} held in a row" if held else "—"


def role_line(pair: Pair, user_id: int, other: User) -> str:
    """How the two relate, said to ``user_id``."""
    role = pair.role_of(user_id)
    if role == "mentor":
        return f"You mentor {other.name}."
    if role == "mentee":
        return f"{other.name} is your mentor."
    return f"You and {other.name} are peers who learn from each other."


def intro_line(pair: Pair, user: User, other: User) -> str:
    """How the two came together, said to ``user``."""
    if pair.source == PairSource.ASK and pair.mentor_id is not None:
        topic = f" on {pair.topic}" if pair.topic else ""
        if pair.mentor_id == user.id:
            return f"You said yes when {other.name} asked for a micro-mentor{topic}."
        return f"You asked for a micro-mentor{topic}, and {other.name} said yes."
    if pair.source == PairSource.RENEWAL:
        return f"You and {other.name} both asked for another term together."
    where = f" after {pair.event.title}" if pair.event is not None else ""
    return f"You and {other.name} both chose to keep in touch{where}."


def day_word(pair: Pair, when: datetime) -> str:
    """ "today", "tomorrow" or "on Friday": when ``when`` is, in the pair's zone."""
    zone = ZoneInfo(pair.timezone)
    local = when.astimezone(zone)
    days = (local.date() - clock.now().astimezone(zone).date()).days
    return {0: "today", 1: "tomorrow"}.get(days, f"on {local:%A}")


def short_day(pair: Pair, when: datetime | None) -> str:
    """ "Sat 02 May" in the pair's zone (empty for no date)."""
    return f"{when.astimezone(ZoneInfo(pair.timezone)):%a %d %b}" if when else ""


def status_line(pair: Pair, what: str, by: User | None, user: User) -> str:
    """What happened to the pair, said to ``user`` (who may be the one who did it)."""
    other = pair.other_person(user)
    if by is None and what == "closed":  # Mixer closes a pair when one leaves
        return (
            f"Your pair with {other.name} is closed, because one of "
            f"you no longer belongs to {pair.org.name}."
        )
    next_at = pair.next_meeting_at
    mine, theirs = STATUS_LINES[what]
    return (mine if by is not None and by.id == user.id else theirs).format(
        other=other.name,
        by=by.name if by is not None else "Mixer",
        cadence=pair_cadence(pair),
        when=localtime(next_at, pair.timezone) if next_at else "a new date",
    )
