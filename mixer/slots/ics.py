"""The calendar invite of one booking (RFC 5545 / iTIP RFC 5546).

A booking keeps one UID for life (``SlotBooking.ics_uid``); the first invite is
SEQUENCE 0, a move sends the same UID with SEQUENCE + 1 (calendars move the
entry), a cancel METHOD:CANCEL with STATUS:CANCELLED and SEQUENCE + 1. Times are
written in the host's zone with its VTIMEZONE, as the pairs' series are. The
title is words: each person's file is made in their language (``send_invites``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, vCalAddress, vText
from icalendar import Event as VEvent

from mixer import clock
from mixer.slots.models import SlotBooking
from mixer.urls import absolute_url

PRODID = "-//Mixer//Mixer slots//EN"


def booking_ics(booking: SlotBooking, method: str = "REQUEST") -> bytes:
    """The booking as REQUEST (new or moved) or CANCEL."""
    zone = ZoneInfo(booking.offer.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    item = VEvent()
    item.add("uid", booking.ics_uid)
    item.add("sequence", booking.ics_sequence)
    item.add("dtstamp", clock.now())
    item.add("dtstart", booking.starts_at.astimezone(zone))
    item.add("dtend", booking.ends_at.astimezone(zone))
    item.add(
        "summary",
        _(
            "Five minutes: %(host)s & %(guest)s",
            host=booking.host.name,
            guest=booking.guest.name,
        ),
    )
    url = absolute_url("slots.week", slug=booking.offer.org.slug)
    about = f"{booking.about}\n\n" if booking.about else ""
    item.add("description", f"{about}{url}")
    item.add("url", url)
    if booking.offer.place:
        item.add("location", booking.offer.place)
    cancelled = method == "CANCEL"
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{booking.host.email}")
    organizer.params["cn"] = vText(booking.host.name)
    item.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.guest.email}")
    attendee.params["cn"] = vText(booking.guest.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    item.add("attendee", attendee, encode=False)
    cal.add_component(item)
    cal.add_missing_timezones()
    return cal.to_ical()
