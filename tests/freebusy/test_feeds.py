"""A calendar feed fetched by the job worker from a real HTTP server: what is
kept, what is refused and said in words, and the refresh that keeps itself."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.freebusy import FreeBusyError, feeds
from mixer.freebusy.busy import busy_for
from mixer.freebusy.fetch import FeedProblem, get
from mixer.freebusy.models import BusyInterval, FreeBusyFeed
from mixer.jobs.models import JobStatus
from tests.freebusy.conftest import Route, ics, refresh_jobs, work

WHEN = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)  # a Monday
SECRET = "/private-7f3a9c/basic.ics"  # the part of the address that is a secret

WEEKLY = """
UID:weekly@example.org
DTSTART;TZID=Europe/Berlin:20261006T123000
DTEND;TZID=Europe/Berlin:20261006T130000
RRULE:FREQ=WEEKLY;BYDAY=TU
SUMMARY:Therapy with Dr. Zanzibar
DESCRIPTION:Private things
"""


@pytest.fixture
def clock_at():
    return WHEN


@pytest.fixture
def person(org, make_user):
    return make_user(org, name="Fay Feed")


def _feed(user) -> FreeBusyFeed:
    db.session.expire_all()
    feed = feeds.feed_of(user.id)
    assert feed is not None
    return feed


def test_fetched_by_the_job_kept_as_busy_times_only(
    frozen, local, feeds_server, person, caplog
):
    url = feeds_server.serve(SECRET, Route(ics(WEEKLY)))
    caplog.set_level(logging.DEBUG)
    feeds.save_feed(person.id, url)
    db.session.commit()
    stored = db.session.scalar(select(FreeBusyFeed.url_sealed))
    assert SECRET not in stored and "127.0.0.1" not in stored  # sealed at rest

    work()

    feed = _feed(person)
    assert feed.error is None and feed.synced_at == WHEN and feed.fetched_at == WHEN
    # Tuesdays 12:30 Berlin: 10:30 UTC in summer time, 11:30 after 25 October;
    # nine weeks in the window (now − 1 day … now + 60 days).
    busy = busy_for([person.id], WHEN, WHEN + timedelta(days=60))[person.id]
    assert busy[0] == (
        datetime(2026, 10, 13, 10, 30, tzinfo=UTC),
        datetime(2026, 10, 13, 11, 0, tzinfo=UTC),
    )
    assert busy[2][0] == datetime(2026, 10, 27, 11, 30, tzinfo=UTC)
    assert len(busy) == feed.busy_count == 9
    # Nothing of the event but its times, and the address in no log or job.
    columns = {c.name for c in BusyInterval.__table__.columns}
    assert columns == {"id", "user_id", "starts_at", "ends_at"}
    assert SECRET not in caplog.text and "Zanzibar" not in caplog.text
    jobs = refresh_jobs(JobStatus.DONE) + refresh_jobs()
    assert all(SECRET not in str(j.payload) + str(j.result) for j in jobs)


def test_the_refresh_keeps_itself_one_job_per_person(
    frozen, local, feeds_server, person
):
    url = feeds_server.serve(SECRET, Route(ics(WEEKLY)))
    feeds.save_feed(person.id, url)
    db.session.commit()
    work()
    pending = refresh_jobs()
    assert [j.run_at for j in pending] == [WHEN + timedelta(minutes=30)]

    # Saving again (a new address) fetches now, and still one refresh waits.
    feeds.save_feed(person.id, url + "?v=2")
    db.session.commit()
    assert [j.run_at for j in refresh_jobs()] == [WHEN]
    work()
    assert len(feeds_server.hits) == 2
    clock.advance(timedelta(minutes=31))
    work()
    assert len(feeds_server.hits) == 3
    assert [j.run_at for j in refresh_jobs()] == [clock.now() + timedelta(minutes=30)]

    assert feeds.remove_feed(person.id)
    db.session.commit()
    assert refresh_jobs() == []
    assert db.session.scalar(select(func.count()).select_from(BusyInterval)) == 0
    assert busy_for([person.id], WHEN, WHEN + timedelta(days=60)) == {}


@pytest.mark.parametrize(
    ("route", "config", "code", "words"),
    [
        (
            Route(ics(WEEKLY) + b"X" * (300 * 1024)),
            {"FREEBUSY_MAX_BYTES": 256 * 1024},
            "too_large",
            "larger than 0 MB",
        ),
        (  # the same without a Content-Length: refused while it streams
            Route(ics(WEEKLY) + b"X" * (300 * 1024), length=False),
            {"FREEBUSY_MAX_BYTES": 256 * 1024},
            "too_large",
            "so it was not read",
        ),
        (
            Route(ics(WEEKLY), delay=1.5),
            {"FREEBUSY_TIMEOUT_SECONDS": 0.3},
            "timeout",
            "did not answer within 0.3 seconds",
        ),
        (
            Route(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\n"),
            {},
            "unreadable",
            "The calendar could not be read",
        ),
        (Route(b"hello"), {}, "not_ics", "did not give an iCalendar"),
        (
            Route(b"<html></html>", content_type="text/html"),
            {},
            "not_calendar",
            "gave a web page or other file (text/html)",
        ),
        (Route(b"gone", status=404), {}, "status", "HTTP status 404"),
    ],
    ids=[
        "oversize",
        "oversize-streamed",
        "timeout",
        "bad-ics",
        "not-ics",
        "html",
        "404",
    ],
)
def test_a_feed_that_fails_is_recorded_in_words(
    app, frozen, local, feeds_server, person, auth, route, config, code, words
):
    app.config.update(config)
    url = feeds_server.serve(SECRET, route)
    feeds.save_feed(person.id, url)
    db.session.commit()
    work()

    feed = _feed(person)
    assert feed.error == code and feed.synced_at is None
    assert words in feeds.problem_text(feed)
    # Without a good fetch nothing is known: the person is absent, not "free".
    assert busy_for([person.id], WHEN, WHEN + timedelta(days=9)) == {}
    assert [j.run_at for j in refresh_jobs()] == [WHEN + timedelta(minutes=30)]
    auth.login(person.email)
    page = auth.client.get("/profile/calendar").get_data(as_text=True)
    assert words.split("(")[0] in page.replace("&#39;", "'")


def test_a_failure_keeps_the_last_good_busy_times(frozen, local, feeds_server, person):
    url = feeds_server.serve(SECRET, Route(ics(WEEKLY)))
    feeds.save_feed(person.id, url)
    db.session.commit()
    work()
    feeds_server.routes[SECRET] = Route(b"oops", status=500)
    clock.advance(timedelta(minutes=30))
    work()
    feed = _feed(person)
    assert feed.error == "status" and feed.synced_at == WHEN
    assert len(busy_for([person.id], WHEN, WHEN + timedelta(days=60))[person.id]) == 9


def test_redirects_are_followed_each_checked_and_counted(local, feeds_server, app):
    target = feeds_server.serve("/real.ics", Route(ics(WEEKLY)))
    feeds_server.serve("/moved.ics", Route(status=302, headers={"Location": target}))
    data = get(
        feeds_server.url("/moved.ics"), timeout=5, max_bytes=10**6, allow_local=True
    )
    assert data.startswith(b"BEGIN:VCALENDAR")
    for n in range(4):  # a chain longer than MAX_REDIRECTS
        feeds_server.serve(
            f"/r{n}", Route(status=301, headers={"Location": f"/r{n + 1}"})
        )
    with pytest.raises(FeedProblem, match="redirects"):
        get(feeds_server.url("/r0"), timeout=5, max_bytes=10**6, allow_local=True)


@pytest.mark.once
def test_private_addresses_and_http_are_refused_outside_tests(app, feeds_server):
    """Without FREEBUSY_ALLOW_LOCAL (production): https only, public hosts only."""
    port = feeds_server.base.rsplit(":", 1)[1]
    for url in (f"https://127.0.0.1:{port}/a.ics", "https://localhost/a.ics"):
        with pytest.raises(FeedProblem, match="private"):
            get(url, timeout=2, max_bytes=10**6, allow_local=False)
    with pytest.raises(FeedProblem, match="address"):
        get(feeds_server.url("/a.ics"), timeout=2, max_bytes=10**6, allow_local=False)
    assert feeds_server.hits == []
    for bad in (
        "http://calendar.example.org/a.ics",
        "https://u:p@x.example/a.ics",
        "x",
    ):
        with pytest.raises(FreeBusyError, match="starting with https://") as refused:
            feeds.save_feed(1, bad)
        assert refused.value.field == "url"


def test_a_webcal_address_is_kept_as_https(org, make_user):
    """Apple's webcal:// links are accepted as the https:// they stand for."""
    person = make_user(org)
    feed = feeds.save_feed(person.id, "WEBCAL://p01-caldav.icloud.com/published/2/x")
    db.session.commit()
    assert feed.host == "p01-caldav.icloud.com"
    assert feeds._fernet().decrypt(feed.url_sealed.encode()).decode() == (
        "https://p01-caldav.icloud.com/published/2/x"
    )
