"""From ICS to busy intervals: what is free, all-day days, exceptions, bombs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mixer.freebusy.fetch import FeedProblem
from mixer.freebusy.parse import busy_intervals
from tests.freebusy.conftest import ics

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, after the October change
END = START + timedelta(days=14)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.once
def test_free_cancelled_all_day_and_exceptions():
    found = busy_intervals(
        ics(
            # Free: shown as free, and cancelled.
            "UID:t\r\nDTSTART:20261103T090000Z\r\nDTEND:20261103T100000Z\r\n"
            "TRANSP:TRANSPARENT",
            "UID:c\r\nDTSTART:20261103T110000Z\r\nDTEND:20261103T120000Z\r\n"
            "STATUS:CANCELLED",
            # All day on Wednesday 4 November: the whole Berlin day.
            "UID:d\r\nDTSTART;VALUE=DATE:20261104\r\nDTEND;VALUE=DATE:20261105",
            # Daily at 08:00 Berlin; the 9th is left out, the 10th moved to 15:00,
            # the 11th cancelled through its RECURRENCE-ID.
            "UID:s\r\nDTSTART;TZID=Europe/Berlin:20261109T080000\r\n"
            "DTEND;TZID=Europe/Berlin:20261109T083000\r\nRRULE:FREQ=DAILY;COUNT=4\r\n"
            "EXDATE;TZID=Europe/Berlin:20261109T080000",
            "UID:s\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261110T080000\r\n"
            "DTSTART;TZID=Europe/Berlin:20261110T150000\r\n"
            "DTEND;TZID=Europe/Berlin:20261110T153000",
            "UID:s\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261111T080000\r\n"
            "DTSTART;TZID=Europe/Berlin:20261111T080000\r\n"
            "DTEND;TZID=Europe/Berlin:20261111T083000\r\nSTATUS:CANCELLED",
            # Before the window, and touching it: clipped.
            "UID:e\r\nDTSTART:20261101T230000Z\r\nDTEND:20261102T003000Z",
        ),
        START,
        END,
    )
    assert found == [
        (_utc(2026, 11, 2, 0, 0), _utc(2026, 11, 2, 0, 30)),
        (_utc(2026, 11, 3, 23, 0), _utc(2026, 11, 4, 23, 0)),
        (_utc(2026, 11, 10, 14, 0), _utc(2026, 11, 10, 14, 30)),
        (_utc(2026, 11, 12, 7, 0), _utc(2026, 11, 12, 7, 30)),
    ]


@pytest.mark.once
@pytest.mark.parametrize(
    "rule",
    [
        "RRULE:FREQ=MINUTELY",
        "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,"
        "20,21,22,23;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55;BYSECOND=0,30",
    ],
)
def test_a_series_built_to_explode_is_refused_before_it_is_expanded(rule):
    bomb = ics(f"UID:b\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1M\r\n{rule}")
    with pytest.raises(FeedProblem, match="too_many"):
        busy_intervals(bomb, START, START + timedelta(days=61))
