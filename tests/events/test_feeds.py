"""Calendar feeds behind secret URLs (``mixer.events.feeds``)."""

from __future__ import annotations

from icalendar import Calendar

from mixer.events import feeds
from mixer.extensions import db


def test_calendar_feeds(make_event, make_registration, org, make_user, make_org):
    member = make_user(org, password=None)
    mine = make_event(org, title="Mine")
    make_event(org, title="Someone else's")
    make_registration(mine, email=member.email, name=member.name, user=member)
    personal = feeds.feed_for(member)
    org_feed = feeds.feed_for(member, org)
    db.session.commit()
    titles = [
        str(e["SUMMARY"])
        for e in Calendar.from_ical(feeds.feed_calendar(personal.token)).walk("VEVENT")
    ]
    assert titles == ["Mine"]
    org_titles = {
        str(e["SUMMARY"])
        for e in Calendar.from_ical(feeds.feed_calendar(org_feed.token)).walk("VEVENT")
    }
    assert org_titles == {"Mine", "Someone else's"}
    old = org_feed.token
    feeds.reset_feed(member, org)
    db.session.commit()
    assert feeds.feed_calendar(old) is None
    assert feeds.feed_calendar("not-a-token") is None
