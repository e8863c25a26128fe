"""The e-mails of a pair, each to both people, each once ever (a dedupe key).

Every pair e-mail respects the ``pair_checkins`` notification preference and
carries a one-click unsubscribe link. The outbox records each under a stored
``kind`` ("pairs.intro", "pairs.checkin", …) that keeps its first name. The
calendar invite of a pair (``mixer.pairs.ics``) travels with the introduction
and with every change of the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from mixer.clock import stamp
from mixer.i18n import recipient_locale
from mixer.mail.services import Attachment, queue_mail
from mixer.pairs import ics
from mixer.pairs.display import (
    STATUS_SUBJECTS,
    day_headline,
    day_word,
    intro_line,
    pair_cadence,
    role_line,
    short_day,
    status_line,
)
from mixer.pairs.links import feedback_link, meeting_links, standing_links
from mixer.pairs.models import Pair, PairMeeting
from mixer.urls import absolute_url

if TYPE_CHECKING:
    from mixer.accounts.models import User

PREFERENCE = "pair_checkins"


def _key_time(due: datetime) -> str:
    """The due time as these e-mails' dedupe keys have always spelled it (no
    trailing "Z"): keys already in the outbox must keep matching, or a reminder
    due across an upgrade would go out twice."""
    return stamp(due).removesuffix("Z")


def calendar_host() -> str:
    """The host of ``BASE_URL``, for calendar UIDs."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "mixer.invalid"


@dataclass(frozen=True)
class Invite:
    """The pair's series from ``starts_at`` (REQUEST or CANCEL), made into a file
    for each recipient inside ``_speaking_to``: its title and description are in
    their language; UID, SEQUENCE and times are the same for both."""

    pair: Pair
    starts_at: datetime
    method: str = "REQUEST"

    def attachment(self) -> Attachment:
        """The .ics attachment, in the current language."""
        return Attachment(
            "invite.ics" if self.method == "REQUEST" else "cancel.ics",
            ics.pair_ics(self.pair, self.starts_at, self.method, self.pair.timezone),
            f"text/calendar; method={self.method}; charset=utf-8",
        )


def invite(pair: Pair, starts_at: datetime, method: str = "REQUEST") -> Invite:
    """The pair's series as an invite to attach (REQUEST or CANCEL)."""
    return Invite(pair, starts_at, method)


def _context(pair: Pair, user: User) -> dict[str, Any]:
    """What every pair e-mail to ``user`` may use."""
    other = pair.other_person(user)
    return {
        "org": pair.org,
        "pair": pair,
        "me": user,
        "other": other,
        "role_line": role_line(pair, user.id, other),
        "tz": pair.timezone,
        "cadence": pair_cadence(pair),
        "pair_link": absolute_url("pairs.show", pair_id=pair.id),
    }


def _send(
    pair: Pair,
    user: User,
    template: str,
    subject: str,
    *,
    kind: str,
    key: str,
    extra: dict[str, Any] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> bool:
    """One pair e-mail to one of the two, once ever per ``key``; whether queued.

    Called inside ``_speaking_to(user, pair)``: the subject and the words made
    in Python (``mixer.pairs.display``) are already in the recipient's language,
    and the templates are rendered in it."""
    return (
        queue_mail(
            user.email,
            subject,
            template,
            {**_context(pair, user), **(extra or {})},
            user=user,
            preference=PREFERENCE,
            org=pair.org,
            kind=kind,
            dedupe_key=key,
            attachments=attachments,
            locale=recipient_locale(user, pair.org),
        )
        is not None
    )


def _speaking_to(user: User, pair: Pair):
    """Words made in Python in ``user``'s language (their setting, else the
    organization's default), whoever's request or job sends the e-mail."""
    return force_locale(recipient_locale(user, pair.org))


def send_intro(pair: Pair, user: User, first_slot: datetime) -> bool:
    """The introduction to one of the two, with the calendar invite from the
    first slot proposed."""
    other = pair.other_person(user)
    with _speaking_to(user, pair):
        return _send(
            pair,
            user,
            "pair_intro",
            _("Meet %(name)s: your new mentoring pair", name=other.name),
            kind="pairs.intro",
            key=f"pairs.intro:{pair.id}:{user.id}",
            extra={
                "first_slot": first_slot,
                "intro": intro_line(pair, user, other),
            },
            attachments=(invite(pair, first_slot).attachment(),),
        )


def notify_status(
    pair: Pair, by: User | None, what: str, attachment: Invite | None
) -> None:
    """Tell both about a pause, resumption, closing, move or new rhythm."""
    next_at = pair.next_meeting_at
    for user in pair.people:
        with _speaking_to(user, pair):
            _send(
                pair,
                user,
                "pair_status",
                str(STATUS_SUBJECTS[what])
                % {
                    "other": pair.other_person(user).name,
                    "day": short_day(pair, next_at),
                },
                kind="pairs.status",
                key=f"pairs.{what}:{pair.id}:{pair.ics_sequence}:{user.id}",
                extra={
                    "what": what,
                    "line": status_line(pair, what, by, user),
                    "next_at": next_at,
                },
                attachments=(attachment.attachment(),) if attachment else (),
            )


def remind(pair: Pair, meeting: PairMeeting) -> int:
    """The reminder before a meeting to both; how many were queued.

    It normally goes a day before; a late one (the worker was down) still says
    the right day.
    """
    sent = 0
    for user in pair.people:
        with _speaking_to(user, pair):
            when = day_word(pair, meeting.due_at)
            headline = day_headline(pair, meeting.due_at)
            sent += _send(
                pair,
                user,
                "pair_reminder",
                _(
                    "%(day)s: your check-in with %(name)s",
                    day=headline,
                    name=pair.other_person(user).name,
                ),
                kind="pairs.reminder",
                key=(
                    f"pairs.reminder:{pair.id}:{meeting.number}:"
                    f"{_key_time(meeting.due_at)}:{user.id}"
                ),
                extra={"meeting": meeting, "when": when, "headline": headline},
            )
    return sent


def ask(pair: Pair, meeting: PairMeeting) -> int:
    """ "Did you meet?" with one-tap links to both; how many were queued."""
    sent = 0
    for user in pair.people:
        with _speaking_to(user, pair):
            sent += _send(
                pair,
                user,
                "pair_ask",
                _("Did you meet %(name)s?", name=pair.other_person(user).name),
                kind="pairs.checkin",  # the stored kind keeps its first name
                key=(
                    f"pairs.ask:{pair.id}:{meeting.number}:"
                    f"{_key_time(meeting.due_at)}:{user.id}"
                ),
                extra={
                    "meeting": meeting,
                    "links": meeting_links(pair, meeting, user),
                },
            )
    return sent


def nudge(pair: Pair, meeting: PairMeeting) -> None:
    """A gentle nudge to both after two misses in a row."""
    for user in pair.people:
        with _speaking_to(user, pair):
            _send(
                pair,
                user,
                "pair_nudge",
                _("Five minutes with %(name)s?", name=pair.other_person(user).name),
                kind="pairs.nudge",
                key=f"pairs.nudge:{pair.id}:{meeting.number}:{user.id}",
                extra={"meeting": meeting},
            )


def ask_standing(pair: Pair, meeting: PairMeeting) -> None:
    """ "Pause or close?" to both after three misses in a row."""
    for user in pair.people:
        with _speaking_to(user, pair):
            _send(
                pair,
                user,
                "pair_standing",
                _(
                    "Pause or close your pair with %(name)s?",
                    name=pair.other_person(user).name,
                ),
                kind="pairs.standing",
                key=f"pairs.standing:{pair.id}:{meeting.number}:{user.id}",
                extra={
                    "meeting": meeting,
                    "links": standing_links(pair, meeting, user),
                },
            )


def ask_feedback(pair: Pair) -> None:
    """The term is over: the feedback form to both."""
    for user in pair.people:
        with _speaking_to(user, pair):
            _send(
                pair,
                user,
                "pair_feedback",
                _(
                    "Your mentoring term with %(name)s: how did it go?",
                    name=pair.other_person(user).name,
                ),
                kind="pairs.feedback",
                key=f"pairs.feedback:{pair.id}:{user.id}",
                extra={"feedback_link": feedback_link(pair, user)},
            )
