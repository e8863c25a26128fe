"""Who is busy when: busy_for, overlaps and first_free over candidate slots
(across daylight-saving changes, with a fixed clock), a new pair's first slot,
and nobody else ever seeing a person's address or busy times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.freebusy import feeds
from mixer.freebusy.busy import busy_for, first_free, overlaps, pair_candidates
from mixer.freebusy.models import BusyInterval, FreeBusyFeed
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.schedule import SLOT_LEAD, next_slot
from mixer.privacy.erasure import erase_account
from tests.freebusy.conftest import Route, ics, work

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAYS = """
UID:tuesdays@example.org
DTSTART;TZID=Europe/Berlin:20260106T123000
DTEND;TZID=Europe/Berlin:20260106T130000
RRULE:FREQ=WEEKLY;BYDAY=TU
SUMMARY:Choir
"""


def _fetch(person, feeds_server, path: str, *events: str) -> None:
    """Give ``person`` a feed of ``events`` and let the worker fetch it."""
    url = feeds_server.serve(path, Route(ics(*events)))
    feeds.save_feed(person.id, url)
    db.session.commit()
    work()


def _tuesday_slots(day: datetime) -> list[tuple[datetime, datetime]]:
    """Half-hour candidates on a Tuesday at 12:00, 12:30 and 13:00 in Berlin."""
    return [
        (start, start + timedelta(minutes=30))
        for at in (time(12, 0), time(12, 30), time(13, 0))
        for start in [datetime.combine(day.date(), at, tzinfo=BERLIN).astimezone(UTC)]
    ]


@pytest.mark.parametrize(
    ("now", "before", "after"),
    [
        # The last Sunday of October 2026 is the 25th (CEST → CET)…
        (
            datetime(2026, 10, 15, 9, tzinfo=UTC),
            datetime(2026, 10, 20),
            datetime(2026, 10, 27),
        ),
        # …of March 2027 the 28th (CET → CEST).
        (
            datetime(2027, 3, 18, 9, tzinfo=UTC),
            datetime(2027, 3, 23),
            datetime(2027, 3, 30),
        ),
    ],
    ids=["october", "march"],
)
def test_a_weekly_busy_time_hides_its_slot_across_daylight_saving(
    local, feeds_server, org, make_user, now, before, after
):
    clock.freeze(now)
    try:
        person = make_user(org)
        _fetch(person, feeds_server, "/choir.ics", TUESDAYS)
        start, end = now, now + timedelta(days=21)
        busy = busy_for([person.id], start, end)[person.id]
        for day in (before, after):
            slots = _tuesday_slots(day)
            free = [s for s in slots if not overlaps(busy, *s)]
            # 12:30 Berlin is hidden both weeks; 12:00 and 13:00 (touching) stay.
            assert free == [slots[0], slots[2]], day
        # The same UTC instant is busy in one week and free in the other: the
        # busy time follows Berlin's wall clock, not UTC.
        utc_before = _tuesday_slots(before)[1]
        shifted = tuple(t + timedelta(days=7) for t in utc_before)
        assert overlaps(busy, *utc_before)
        assert not overlaps(busy, *shifted)
    finally:
        clock.reset()


@pytest.mark.once
def test_overlaps_and_first_free_are_plain_rules():
    t = datetime(2026, 10, 14, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    busy = [(t, t + hour)]
    assert overlaps(busy, t + hour / 2, t + 2 * hour)
    assert not overlaps(busy, t + hour, t + 2 * hour)  # touching is fine
    assert not overlaps(busy, t - hour, t)
    candidates = [(t, t + hour), (t + hour, t + 2 * hour), (t + 2 * hour, t + 3 * hour)]
    by_user = {1: busy, 2: [(t + hour, t + 2 * hour)]}
    assert first_free(candidates, by_user, [1, 2]) == candidates[2]
    assert first_free(candidates, by_user, [2, 3]) == candidates[0]  # 3: unknown
    assert first_free(candidates[:2], by_user, [1, 2]) is None
    # With nobody busy, a pair's first candidate is the usual slot.
    for after in (t, t.replace(hour=14), datetime(2026, 10, 16, 9, tzinfo=UTC)):
        first = pair_candidates(after, "Europe/Berlin", 5, SLOT_LEAD)[0][0]
        assert first == next_slot(after, "Europe/Berlin")


def test_busy_for_is_one_statement_whatever_the_number(
    frozen, local, feeds_server, org, make_user
):
    people = [make_user(org) for _ in range(4)]
    for n, person in enumerate(people[:3]):
        _fetch(person, feeds_server, f"/p{n}.ics", TUESDAYS)
    feeds.remove_feed(people[2].id)
    db.session.commit()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        start, end = frozen, frozen + timedelta(days=14)
        one = busy_for([people[0].id], start, end)
        many = busy_for([p.id for p in people], start, end)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if "busy_interval" in s]) == 2
    assert set(one) == {people[0].id}
    # Removed and never given: absent (nothing known), not free.
    assert set(many) == {people[0].id, people[1].id}
    assert len(many[people[1].id]) == 2  # two Tuesdays in two weeks
    assert all(s.tzinfo == UTC and e > s for s, e in many[people[1].id])


WHEN = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)  # a Monday; the usual slot:
USUAL = datetime(2026, 10, 14, 12, 30, tzinfo=UTC)  # Wednesday 12:30 (UTC pair)


@pytest.fixture
def clock_at():
    return WHEN


def test_a_new_pairs_first_slot_is_free_for_both(
    frozen, local, feeds_server, org, make_user
):
    ann, ben, cy = (make_user(org, name=n) for n in ("Ann", "Ben", "Cy"))
    _fetch(
        ann,
        feeds_server,
        "/ann.ics",
        "UID:a\r\nDTSTART:20261014T120000Z\r\nDTEND:20261014T130000Z",
    )
    _fetch(
        ben,
        feeds_server,
        "/ben.ics",
        "UID:b\r\nDTSTART:20261014T130000Z\r\nDTEND:20261014T133000Z",
    )
    assert next_slot(WHEN, "UTC") == USUAL

    pair = create_pair(org, ann, ben, kind="peer")
    db.session.commit()
    # 12:30 and 12:00 collide with Ann, 13:00 with Ben: 11:30 is free for both.
    assert pair.first_slot_at == datetime(2026, 10, 14, 11, 30, tzinfo=UTC)
    assert pair.meetings[0].due_at == pair.first_slot_at

    # Cy gave no calendar: today's behaviour, the usual lunchtime.
    other = create_pair(org, ann, cy, kind="peer")
    db.session.commit()
    assert other.first_slot_at == USUAL


def test_nobody_else_sees_the_address_or_the_busy_times(
    frozen, local, feeds_server, org, make_user, auth, client, token_for
):
    owner = make_user(org, name="Owner")
    admin = make_user(org, role="admin", name="Admin")
    _fetch(owner, feeds_server, "/private-9d8e7f/owner.ics", TUESDAYS)

    auth.login(owner.email)
    mine = client.get("/profile/calendar").get_data(as_text=True)
    assert "127.0.0.1/…" in mine and "private-9d8e7f" not in mine
    assert "9 busy times" in mine  # the Tuesdays of the next 60 days
    auth.logout()

    auth.login(admin.email)
    theirs = client.get("/profile/calendar").get_data(as_text=True)
    assert "127.0.0.1" not in theirs and "busy times, as of" not in theirs
    profile = client.get("/profile").get_data(as_text=True)
    assert "private-9d8e7f" not in profile
    auth.logout()
    bearer = {"Authorization": f"Bearer {token_for(admin, org)}"}
    for path in ("/api/v1/members", f"/api/v1/members/{owner.id}"):
        answer = client.get(path, headers=bearer)
        assert answer.status_code == 200
        assert "private-9d8e7f" not in answer.get_data(as_text=True)
        assert "busy" not in answer.get_data(as_text=True)

    # Erasing the account takes the address and every busy time with it.
    erase_account(owner)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(FreeBusyFeed)) == 0
    assert db.session.scalar(select(func.count()).select_from(BusyInterval)) == 0


def test_a_pairs_early_candidates_see_busy_times_that_end_before_lunch(
    frozen, local, feeds_server, org, make_user
):
    ann, ben = make_user(org, name="Ann"), make_user(org, name="Ben")
    # Wednesday: Ann from 10:00 all afternoon, Ben until 10:00; only 09:30 is
    # left that day, and Ben is busy then. So: Thursday, the usual 12:30.
    _fetch(
        ann,
        feeds_server,
        "/a.ics",
        "UID:a\r\nDTSTART:20261014T100000Z\r\nDTEND:20261014T170000Z",
    )
    _fetch(
        ben,
        feeds_server,
        "/b.ics",
        "UID:b\r\nDTSTART:20261014T090000Z\r\nDTEND:20261014T100000Z",
    )
    pair = create_pair(org, ann, ben, kind="peer")
    db.session.commit()
    assert pair.first_slot_at == USUAL + timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "before", "after"),
    [
        (
            datetime(2026, 10, 15, 9, tzinfo=UTC),
            datetime(2026, 10, 20),
            datetime(2026, 10, 27),
        ),
        (
            datetime(2027, 3, 18, 9, tzinfo=UTC),
            datetime(2027, 3, 23),
            datetime(2027, 3, 30),
        ),
    ],
    ids=["october", "march"],
)
def test_a_hosts_weekly_busy_time_hides_their_open_slots_across_daylight_saving(
    local, feeds_server, org, make_user, now, before, after
):
    """The whole way: the host's feed fetched by the worker, their Tuesday
    half-hour slots 12:00–13:30 in Berlin; the finding page leaves out the 12:30
    slot before and after the clocks change, and booking it is refused."""
    from mixer.slots import availability
    from mixer.slots.services import OfferValues, SlotError, book, create_offer

    clock.freeze(now)
    try:
        host = make_user(org, offers=["negotiation"], department="Sales")
        guest = make_user(org, department="Finance")
        offer = create_offer(
            org,
            host,
            OfferValues(
                kind="weekly",
                weekdays=[2],
                on_date=None,
                start_time=time(12, 0),
                end_time=time(13, 30),
                slot_minutes=30,
                timezone="Europe/Berlin",
                place="Room 4",
                weekly_cap=None,
                topics=["negotiation"],
            ),
        )
        db.session.commit()
        _fetch(host, feeds_server, "/host.ics", TUESDAYS)
        found = availability.find_slots(org, guest, clock.now(), days=21)
        shown = {start for start, _ in found[0].slots}
        for day in (before, after):
            noon, half_past, one = (s for s, _ in _tuesday_slots(day))
            assert {noon, one} <= shown, day
            assert half_past not in shown, day
        with pytest.raises(SlotError, match="not one of the open slots"):
            book(offer.id, guest, _tuesday_slots(after)[1][0])
    finally:
        clock.reset()
