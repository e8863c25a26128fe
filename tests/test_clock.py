"""The clock's stamps: one compact UTC form, read back in both of its spellings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mixer import clock

NOON = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


def test_a_stamp_is_compact_utc_with_a_z():
    plus_two = timezone(timedelta(hours=2))
    assert clock.stamp(NOON) == "20261205T123000Z"
    assert clock.stamp(NOON.astimezone(plus_two)) == "20261205T123000Z"
    with pytest.raises(ValueError, match="aware datetime"):
        clock.stamp(NOON.replace(tzinfo=None))


def test_parse_stamp_reads_both_spellings_as_the_same_instant():
    assert clock.parse_stamp("20261205T123000Z") == NOON
    # Stamps made before the "Z" (links already e-mailed) are UTC as well.
    assert clock.parse_stamp("20261205T123000") == NOON
    assert clock.parse_stamp(clock.stamp(NOON)) == NOON
    assert clock.parse_stamp("20261205T123000").tzinfo is UTC


@pytest.mark.parametrize("text", ["", "2026-12-05T12:30:00", "20261205T1230", None, 7])
def test_parse_stamp_refuses_anything_else(text):
    with pytest.raises(ValueError, match="not a stamp"):
        clock.parse_stamp(text)
