"""The signed links a pair's e-mails carry: made here, and read back here.

Three kinds, one ``mixer.tokens`` purpose each (the purposes keep their first
names, so links already in people's inboxes still open):

* "did you meet?" (``pairs.checkin``): the pair, the meeting's number and the
  due time asked about (``d``, a ``clock.stamp``), the person and the proposed
  answer. The three buttons of one e-mail share one single-use ``jti``.
* "pause or close?" (``pairs.standing``): the pair, the meeting that made the
  third miss, the person and the choice; one ``jti`` per e-mail as well.
* end-of-term feedback (``pairs.feedback``): the pair and the person, once.

Reading a link checks that it belongs to the pair in the address and to whoever
holds it (a signed-in person must be the one it was sent to), and raises
``LinkError`` otherwise: the pairs' link-problem page says so, nothing changes.
What an answer does is in ``mixer.pairs.answers``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.pairs.models import (
    ANSWERS,
    MeetingStatus,
    Pair,
    PairMeeting,
    PairStatus,
)
from mixer.urls import absolute_url

MEETING = "pairs.checkin"  # token purposes, as first named (links in inboxes)
STANDING = "pairs.standing"
FEEDBACK = "pairs.feedback"
MEETING_LINK_AGE = timedelta(days=14)
STANDING_LINK_AGE = timedelta(days=21)
FEEDBACK_LINK_AGE = timedelta(days=30)
STANDING_CHOICES = ("keep", "pause", "close")


# ---------------------------------------------------------------------------
# Making links (for the e-mails)


def meeting_links(pair: Pair, meeting: PairMeeting, user: User) -> dict[str, str]:
    """One-tap answer links for one person; they share one single-use ``jti``."""
    jti = secrets.token_urlsafe(16)
    links = {}
    for answer in ANSWERS:
        token = tokens.make(
            MEETING,
            {
                "p": pair.id,
                "n": meeting.number,
                "d": clock.stamp(meeting.due_at),
                "u": user.id,
                "a": answer.value,
                "jti": jti,
            },
        )
        links[answer.value] = absolute_url(
            "pairs.meeting_link", pair_id=pair.id, token=token
        )
    return links


def standing_links(pair: Pair, meeting: PairMeeting, user: User) -> dict[str, str]:
    """Keep / pause / close links for one person, sharing one single-use ``jti``."""
    jti = secrets.token_urlsafe(16)
    links = {}
    for choice in STANDING_CHOICES:
        token = tokens.make(
            STANDING,
            {"p": pair.id, "n": meeting.number, "u": user.id, "a": choice, "jti": jti},
        )
        links[choice] = absolute_url(
            "pairs.standing_link", pair_id=pair.id, token=token
        )
    return links


def feedback_link(pair: Pair, user: User) -> str:
    """The e-mailed end-of-term feedback link of one person."""
    token = tokens.make(FEEDBACK, {"p": pair.id, "u": user.id}, single_use=True)
    return absolute_url("pairs.feedback_link", pair_id=pair.id, token=token)


# ---------------------------------------------------------------------------
# Reading links (for the pages they open)


@dataclass
class MeetingLink:
    """A valid "did you meet?" link: whose, which meeting, what it proposes."""

    pair: Pair
    meeting: PairMeeting
    user: User
    answer: MeetingStatus
    asked_about: datetime  # the due time the e-mail asked about
    data: dict[str, Any]

    @property
    def answerable(self) -> bool:
        """Nobody answered yet, and the meeting is still at the date asked about."""
        return (
            self.pair.status == PairStatus.ACTIVE
            and self.meeting.is_open
            and clock.stamp(self.meeting.due_at) == clock.stamp(self.asked_about)
        )

    @property
    def notable(self) -> bool:
        """Whether this person can still add their own note."""
        return self.meeting.takes_notes


@dataclass
class StandingLink:
    """A valid keep / pause / close link."""

    pair: Pair
    user: User
    choice: str
    data: dict[str, Any]

    @property
    def answerable(self) -> bool:
        """Nobody has answered the question, nor met since it was asked."""
        return self.pair.standing_in_question


def _subject(
    purpose: str, pair_id: int, token: str, max_age: timedelta, viewer: Any
) -> tuple[Pair, User, dict[str, Any]]:
    """Read a pair link and check it belongs to this pair and its holder."""
    data = tokens.read(purpose, token, max_age=int(max_age.total_seconds()))
    if data.get("p") != pair_id:
        raise LinkError("invalid", _("This link belongs to another pair."))
    pair = db.session.get(Pair, pair_id)
    uid = data.get("u")
    if pair is None or not isinstance(uid, int) or not pair.has(uid):
        raise LinkError("invalid", _("This link is not valid."))
    if getattr(viewer, "is_authenticated", False) and viewer.id != uid:
        raise LinkError(
            "invalid",
            _(
                "This link was sent to someone else. Use the link in your own "
                "e-mail, or sign out first."
            ),
        )
    user = db.session.get(User, uid)
    if user is None:  # pragma: no cover - the pair's people cascade with it
        raise LinkError("invalid", _("This link is not valid."))
    return pair, user, data


def read_meeting_link(pair_id: int, token: str, viewer: Any = None) -> MeetingLink:
    """The meeting a "did you meet?" link is about (LinkError if unusable)."""
    pair, user, data = _subject(MEETING, pair_id, token, MEETING_LINK_AGE, viewer)
    try:
        # Links e-mailed before stamps ended in "Z" carry the same instant.
        asked_about = clock.parse_stamp(str(data.get("d", "")))
    except ValueError:
        raise LinkError("invalid", _("This link is not valid.")) from None
    if data.get("a") not in ANSWERS:
        raise LinkError("invalid", _("This link is not valid."))
    if pair.status == PairStatus.CLOSED:
        raise LinkError(
            "expired", _("This pair was closed, so there is nothing to add.")
        )
    meeting = next((m for m in pair.meetings if m.number == data.get("n")), None)
    if meeting is None:  # planned, then dropped by a pause or a new rhythm
        raise LinkError(
            "expired",
            _("This check-in is no longer planned, so there is nothing to add."),
        )
    return MeetingLink(pair, meeting, user, MeetingStatus(data["a"]), asked_about, data)


def read_standing_link(pair_id: int, token: str, viewer: Any = None) -> StandingLink:
    """The pair a "pause or close?" link is about (LinkError if unusable)."""
    pair, user, data = _subject(STANDING, pair_id, token, STANDING_LINK_AGE, viewer)
    if data.get("a") not in STANDING_CHOICES:
        raise LinkError("invalid", _("This link is not valid."))
    return StandingLink(pair, user, data["a"], data)


def read_feedback_link(
    pair_id: int, token: str, viewer: Any = None
) -> tuple[Pair, User, dict[str, Any]]:
    """The ended pair, the person and the data of a feedback link (or LinkError)."""
    pair, user, data = _subject(FEEDBACK, pair_id, token, FEEDBACK_LINK_AGE, viewer)
    if pair.status != PairStatus.ENDED:
        raise LinkError("invalid", _("This link is not valid."))
    return pair, user, data
