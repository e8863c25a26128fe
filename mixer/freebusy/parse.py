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
        plain, series = _split(calendar)
        spans = [_span(event, zone) for event in plain]
        if series is not None:
            days = (end - start).total_seconds() / 86400 + 1
            if _estimate(series, days) > MAX_OCCURRENCES:
                raise FeedProblem("too_many", str(MAX_OCCURRENCES))
            occurrences = recurring_ical_events.of(series).between(start, end)
            if len(occurrences) > MAX_OCCURRENCES:
                raise FeedProblem("too_many", str(MAX_OCCURRENCES))
            spans += [_span(event, zone) for event in occurrences]
    except FeedProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure: hostile input
        raise FeedProblem("unreadable", type(exc).__name__) from exc
    return merge(
        [
            (max(span[0], start), min(span[1], end))
            for span in spans
            if span is not None and span[0] < end and span[1] > start
        ]
    )


def _split(
    calendar: icalendar.Calendar,
) -> tuple[list[Any], icalendar.Calendar | None]:
    """Single events (read directly: most of a big feed, and the expander's cost
    grows with every event it is given) and a calendar of the recurring series
    (RRULE, RDATE, moved or cancelled occurrences, with the time zones), or None."""
    events = list(calendar.walk("VEVENT"))
    recurring = {
        str(e.get("UID"))
        for e in events
        if e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID")
    }
    plain = [e for e in events if str(e.get("UID")) not in recurring]
    if not recurring:
        return plain, None
    series = icalendar.Calendar()
    for name in ("VERSION", "PRODID", "X-WR-TIMEZONE"):
        if calendar.get(name) is not None:
            series.add(name, calendar.get(name))
    for component in calendar.walk("VTIMEZONE"):
        series.add_component(component)
    for event in events:
        if str(event.get("UID")) in recurring:
            series.add_component(event)
    return plain, series


# Occurrences a day per rule, before BY… parts multiply them (an upper bound).
PER_DAY = {
    "SECONDLY": 86400.0,
    "MINUTELY": 1440.0,
    "HOURLY": 24.0,
    "DAILY": 1.0,
    "WEEKLY": 1 / 7,
    "MONTHLY": 1 / 28,
    "YEARLY": 1 / 365,
}
EXPANDING = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY")


def _estimate(series: icalendar.Calendar, days: float) -> float:
    """At most how many occurrences the series make in ``days``: a feed built to
    expand into millions (``FREQ=MINUTELY``) is refused before it is expanded."""
    total = 0.0
    for event in series.walk("VEVENT"):
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            freq = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
            interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
            count = PER_DAY.get(freq, 1.0) * days / interval + 1
            for part in EXPANDING:
                count *= max(1, len(rule.get(part) or []))
            total += count
        dates = event.get("RDATE")
        for rdate in dates if isinstance(dates, list) else [dates] if dates else []:
            total += len(getattr(rdate, "dts", []) or [1])
    return total


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
    begin = event.get("DTSTART")
    if begin is None:
        return None
    first = begin.dt
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
