"""iCalendar (RFC 5545 / iTIP RFC 5546) files for invitations and calendar feeds.

One event keeps one UID for life; its SEQUENCE rises whenever the time or place
changes or it is cancelled, so calendar programs replace the copy they hold.
Times are written in UTC (``…Z``): every client places them correctly in its
own zone, whatever daylight-saving rules apply.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from icalendar import Calendar, vCalAddress, vDuration, vText
from icalendar import Event as VEvent

from mixer import clock
from mixer.events.links import event_url
from mixer.events.models import (
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from mixer.formatting import markdown_to_text

PRODID = "-//Mixer//Mixer events//EN"


def _description(event: Event, url: str) -> str:
    parts = []
    if event.kind == EventKind.LUNCH_AND_LEARN and event.topic:
        parts.append(f"Topic: {event.topic}")
    if event.speakers:
        parts.append(f"Speakers: {event.speakers}")
    if event.description:
        parts.append(markdown_to_text(event.description))
    if event.online_url:
        parts.append(f"Join online: {event.online_url}")
    parts.append(f"Details and registration: {url}")
    return "\n\n".join(parts)


def _vevent(
    event: Event, registration: Registration | None = None, cancel: bool = False
) -> VEvent:
    url = event_url(event, guest=True)
    item = VEvent()
    item.add("uid", event.ical_uid)
    item.add("sequence", event.sequence)
    item.add("dtstamp", clock.now())
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    summary = event.title
    waitlisted = registration is not None and (
        registration.status == RegistrationStatus.WAITLISTED
    )
    if registration is not None and waitlisted:
        summary = f"[Waitlist #{registration.waitlist_position}] {summary}"
    item.add("summary", summary)
    item.add("description", _description(event, url))
    location = event.place or (event.online_url or "")
    if location:
        item.add("location", location)
    item.add("url", url)
    item.add("categories", [event.kind_label])
    if cancel or event.status == EventStatus.CANCELLED:
        status = "CANCELLED"
    elif waitlisted:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    item.add("status", status)
    item.add("transp", "OPAQUE" if status != "CANCELLED" else "TRANSPARENT")
    sender = email.utils.parseaddr(current_app.config["MAIL_FROM"])[1]
    organizer = vCalAddress(f"mailto:{sender}")
    organizer.params["cn"] = vText(event.org.name)
    item.add("organizer", organizer)
    return item


def event_ics(
    event: Event, method: str = "PUBLISH", attendee: Registration | None = None
) -> bytes:
    """One event as an .ics file: an invitation (REQUEST), CANCEL or PUBLISH."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    item = _vevent(event, attendee, cancel=method == "CANCEL")
    if attendee is not None:
        person = vCalAddress(f"mailto:{attendee.email}")
        person.params["cn"] = vText(attendee.name)
        person.params["role"] = vText("REQ-PARTICIPANT")
        person.params["partstat"] = vText(
            "DECLINED" if method == "CANCEL" else "ACCEPTED"
        )
        person.params["rsvp"] = vText("FALSE")
        item.add("attendee", person, encode=False)
    cal.add_component(item)
    return cal.to_ical()


def feed_ics(entries: Iterable[tuple[Event, Registration | None]], name: str) -> bytes:
    """A subscribable calendar of many events (no METHOD: it is a published feed)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(timedelta(hours=1)))
    for event, registration in entries:
        cal.add_component(_vevent(event, registration))
    return cal.to_ical()
