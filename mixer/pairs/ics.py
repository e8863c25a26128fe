"""The recurring calendar invite of a pair (RFC 5545 / iTIP RFC 5546).

A pair keeps one UID for life (``Pair.ics_uid``); every new version of the invite
(cadence changed, paused, resumed, closed) carries a higher SEQUENCE, so calendar
programs replace the series they hold instead of adding a second one. Unlike a
one-off event (``mixer.events.ics`` writes UTC), a series starts in the pair's own
zone with its VTIMEZONE: a check-in at 12:30 stays at 12:30 across daylight-saving
changes, as the check-ins Mixer plans do (``UNTIL`` is in UTC, as RFC 5545 asks).
The title and description are words: each person's file is made in their language
(``notifications.Invite``, built inside ``_speaking_to``); UID, SEQUENCE and times
are the same in both.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from icalendar import Calendar, vCalAddress, vRecur, vText
from icalendar import Event as VEvent

from mixer import clock
from mixer.urls import absolute_url

if TYPE_CHECKING:
    from mixer.pairs.models import Pair

PRODID = "-//Mixer//Mixer pairs//EN"


def recurrence(cadence_days: int, until: datetime) -> vRecur:
    """Every ``cadence_days`` until ``until``: weekly when it divides into weeks."""
    if cadence_days % 7 == 0:
        rule = {"freq": "weekly", "interval": cadence_days // 7}
    else:
        rule = {"freq": "daily", "interval": cadence_days}
    return vRecur({**rule, "until": until})


def summary(pair: Pair) -> str:
    """The calendar title: both names, so each person sees whom they meet."""
    return _("Check-in: %(a)s & %(b)s", a=pair.a.name, b=pair.b.name)


def pair_ics(
    pair: Pair, starts_at: datetime, method: str = "REQUEST", tz: str = "UTC"
) -> bytes:
    """The pair's series from ``starts_at`` in zone ``tz``: REQUEST or CANCEL."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    item = VEvent()
    item.add("uid", pair.ics_uid)
    item.add("sequence", pair.ics_sequence)
    item.add("dtstamp", clock.now())
    item.add("dtstart", starts_at.astimezone(ZoneInfo(tz)))
    item.add("duration", timedelta(minutes=pair.meeting_minutes))
    # UNTIL is inclusive; the last check-in starts before the term ends.
    item.add("rrule", recurrence(pair.cadence_days, pair.term_ends_at))
    item.add("summary", summary(pair))
    url = absolute_url("pairs.show", pair_id=pair.id)
    about = _("Topic: %(topic)s", topic=pair.topic) + "\n\n" if pair.topic else ""
    rhythm = ngettext(
        "A %(minutes)s-minute check-in every %(num)d day. Change the rhythm, pause "
        "or log a check-in: %(url)s",
        "A %(minutes)s-minute check-in every %(num)d days. Change the rhythm, pause "
        "or log a check-in: %(url)s",
        pair.cadence_days,
        minutes=pair.meeting_minutes,
        url=url,
    )
    item.add("description", about + rhythm)
    item.add("url", url)
    cancelled = method == "CANCEL"
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    item.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    sender = email.utils.parseaddr(current_app.config["MAIL_FROM"])[1]
    organizer = vCalAddress(f"mailto:{sender}")
    organizer.params["cn"] = vText(pair.org.name)
    item.add("organizer", organizer)
    for person in (pair.a, pair.b):
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("FALSE")
        item.add("attendee", attendee, encode=False)
    cal.add_component(item)
    if tz != "UTC":
        cal.add_missing_timezones()
    return cal.to_ical()
