"""From an iCalendar feed to busy intervals (UTC) in a window.

Recurrences (RRULE, RDATE, EXDATE, moved or cancelled occurrences through
RECURRENCE-ID) are expanded by ``recurring-ical-events``; times honour their
TZID. Free are: events marked TRANSP:TRANSPARENT ("show as free") and
STATUS:CANCELLED ones. An all-day event is busy for its whole local day(s), in
the calendar's zone (X-WR-TIMEZONE, else its first VTIMEZONE, else UTC); a
floating time is read in that zone too. Only start and end are kept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from mixer.freebusy.fetch import FeedProblem

Interval = tuple[datetime, datetime]
MAX_OCCURRENCES = 20_000  # in one window: more is a feed built to exhaust us


def busy_intervals(data: bytes, start: datetime, end: datetime) -> list[Interval]:
    """The busy intervals of the feed ``data`` between ``start`` and ``end``,
    clipped to them and merged where they touch; ``FeedProblem`` if unreadable."""
    if not data.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:VCALENDAR"):
        raise FeedProblem("not_ics")
    try:
        calendar = icalendar.Calendar.from_ical(data)
        zone = _calendar_zone(calendar)
        found: list[Interval] = []
        for seen, event in enumerate(recurring_ical_events.of(calendar).after(start)):
            # Every occurrence counts, free ones too: an endless daily series
            # shown as free must end the loop as surely as a busy one.
            if seen >= MAX_OCCURRENCES:
                raise FeedProblem("too_many", str(MAX_OCCURRENCES))
            begin = event.get("DTSTART")
            if begin is None:
                continue
            if _instant(begin.dt, zone) >= end:
                break
            span = _span(event, zone)
            if span is not None:
                found.append((max(span[0], start), min(span[1], end)))
    except FeedProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure: hostile input
        raise FeedProblem("unreadable", type(exc).__name__) from exc
    return merge(found)


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, overlapping or touching intervals joined."""
    out: list[Interval] = []
    for begin, finish in sorted(i for i in intervals if i[1] > i[0]):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], finish))
        else:
            out.append((begin, finish))
    return out


def _calendar_zone(calendar: icalendar.Calendar) -> tzinfo:
    """The zone of all-day and floating times: X-WR-TIMEZONE, the first
    VTIMEZONE, else UTC."""
    names = [str(calendar.get("X-WR-TIMEZONE") or "")]
    names += [str(tz.get("TZID") or "") for tz in calendar.walk("VTIMEZONE")]
    for name in names:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return UTC


def _span(event: Any, zone: tzinfo) -> Interval | None:
    """The occurrence's busy time in UTC, or None when it leaves one free."""
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    first = event["DTSTART"].dt
    ends = event.get("DTEND")
    duration = event.get("DURATION")
    if ends is not None:
        last = ends.dt
    elif duration is not None:
        last = first + duration.dt
    else:  # RFC 5545: a day for a date, nothing for a date-time
        last = first + timedelta(days=1) if not isinstance(first, datetime) else first
    span = (_instant(first, zone), _instant(last, zone))
    return span if span[1] > span[0] else None


def _instant(value: date | datetime, zone: tzinfo) -> datetime:
    """A date (its local midnight), a floating or an aware time, in UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)
