"""What the two say: a meeting logged on the pair page, an answer or a note from
a "did you meet?" link, a meeting moved to another day, and the answer to
"pause or close?".

The first answer to a meeting sets its status; later ones (the other person's
link, an older e-mail after a move) only add that person's own note.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.formatting import local_text
from mixer.i18n import current_locale
from mixer.pairs import PairError, notifications
from mixer.pairs.lifecycle import close, pause
from mixer.pairs.links import (
    MEETING,
    STANDING,
    STANDING_CHOICES,
    MeetingLink,
    StandingLink,
)
from mixer.pairs.models import (
    ANSWERS,
    MeetingStatus,
    Pair,
    PairMeeting,
    PairStatus,
    locked,
)
from mixer.pairs.schedule import plan, settle

MOVE_BY = timedelta(days=3)  # "moved" proposes this much later by default


def log_meeting(
    pair: Pair, by: User, status: str, note: str | None = None
) -> PairMeeting:
    """A member logs from the pair page that they met (or skipped) just now.

    It settles the open meeting, whatever its date; with none left in the term
    it records an extra one, due now.
    """
    if status not in (MeetingStatus.MET, MeetingStatus.SKIPPED):
        raise PairError(_("Say whether you met or skipped."))
    status = MeetingStatus(status)
    pair = locked(pair)
    if pair.status != PairStatus.ACTIVE:
        raise PairError(_("Resume the pair first: it is not active."), status=409)
    note = _clean(note)
    meeting = pair.open_meeting
    if meeting is None:
        meeting = PairMeeting(pair=pair, number=pair.next_number, due_at=clock.now())
        db.session.add(meeting)
        db.session.flush()
        meeting.record(status, by, note)
        pair.missed_in_row = (
            0 if status == MeetingStatus.MET else pair.missed_in_row + 1
        )
    else:
        settle(pair, meeting, status, by, note)
    plan(pair)
    db.session.flush()
    return meeting


def _clean(text: str | None, limit: int = 1000) -> str:
    """A note on one line, trimmed to ``limit`` characters."""
    return " ".join((text or "").split())[:limit] if text else ""


def default_move(meeting: PairMeeting) -> datetime:
    """Where "moved" proposes the meeting: a few days on, same time of day."""
    return max(meeting.due_at, clock.now()) + MOVE_BY


def move_time(pair: Pair, meeting: PairMeeting, day: date, at: time | None) -> datetime:
    """A date (and time, default the meeting's) in the pair's zone, as UTC."""
    zone = ZoneInfo(pair.timezone)
    when = at or meeting.due_at.astimezone(zone).time().replace(tzinfo=None)
    try:
        return datetime.combine(day, when, tzinfo=zone).astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise PairError(_("Pick a moment in the future."), field="moved_date") from exc


def _move(
    pair: Pair, meeting: PairMeeting, by: User, when: datetime, note: str
) -> None:
    """The meeting keeps its number and gets a new date; it is asked again then.

    The rhythm follows the new date (the next meeting is one cadence after it),
    so both get the series again from there (SEQUENCE + 1): their calendars and
    Mixer's reminders stay in step, and the other person learns of the move.
    """
    if when <= clock.now():
        raise PairError(_("Pick a moment in the future."), field="moved_date")
    if when >= pair.term_ends_at:
        ends = pair.term_ends_at.astimezone(ZoneInfo(pair.timezone))
        raise PairError(
            _(
                "Pick a moment before the term ends (%(date)s).",
                date=(
                    f"{ends:%d %b %Y}"
                    if current_locale() == "en"
                    else local_text(ends, "%-d %b %Y")
                ),
            ),
            field="moved_date",
        )
    meeting.record(MeetingStatus.MOVED, by, note)
    meeting.due_at = when
    pair.ics_sequence += 1
    db.session.flush()
    notifications.notify_status(pair, by, "moved", notifications.invite(pair, when))


def answer_meeting(
    link: MeetingLink,
    answer: str,
    note: str | None = None,
    moved_on: date | None = None,
    moved_at: time | None = None,
) -> str:
    """Record an answer from a link and spend it: "answered" or "noted".

    "moved" needs the new day (``moved_on``; the time defaults to the meeting's,
    both in the pair's zone). The first answer sets the meeting's status. When
    someone else answered in the meantime, only this person's own "what helped"
    note is kept ("noted").
    """
    if answer not in ANSWERS:
        raise PairError(_("Choose one of the answers."), field="answer")
    pair = locked(link.pair)
    db.session.refresh(link.meeting)
    if not link.answerable:
        return add_meeting_note(link, note)
    note = _clean(note)
    if answer == MeetingStatus.MOVED:
        if moved_on is None:
            raise PairError(_("Say when you will meet instead."), field="moved_date")
        when = move_time(pair, link.meeting, moved_on, moved_at)
        _move(pair, link.meeting, link.user, when, note)
    else:
        settle(pair, link.meeting, MeetingStatus(answer), link.user, note)
    tokens.spend(MEETING, link.data)
    plan(pair)
    db.session.flush()
    return "answered"


def add_meeting_note(link: MeetingLink, note: str | None) -> str:
    """The holder of a link adds their own note to an answered meeting; "noted".

    The answer itself stays as the first person gave it.
    """
    locked(link.pair)
    db.session.refresh(link.meeting)
    if not link.notable:
        raise PairError(
            _("This check-in is closed; there is nothing to add."), status=409
        )
    link.meeting.add_note(link.user.id, _clean(note))
    tokens.spend(MEETING, link.data)
    db.session.flush()
    return "noted"


def answer_standing(link: StandingLink, choice: str) -> bool:
    """Keep going, pause or close, and spend the link; whether anything changed."""
    if choice not in STANDING_CHOICES:
        raise PairError(_("Choose one of the answers."), field="choice")
    pair = locked(link.pair)
    if not link.answerable:
        raise PairError(_("This question was answered already."), status=409)
    tokens.spend(STANDING, link.data)
    if choice == "pause":
        return pause(pair, link.user)
    if choice == "close":
        return close(pair, link.user)
    pair.missed_in_row = 0  # keep going: a fresh start for the streak
    db.session.flush()
    return True
