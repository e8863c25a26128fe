"""Calendar feeds: a secret, revocable ``/calendar/<token>.ics`` address with a
person's own events, or an organization's events for one of its members."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import or_, select

from mixer import clock
from mixer.accounts.models import User
from mixer.events import ics
from mixer.events.models import (
    ACTIVE_STATUSES,
    CalendarFeed,
    Event,
    EventStatus,
    Registration,
)
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.urls import absolute_url

# Feeds keep events that ended up to this long ago.
HORIZON = timedelta(days=90)


def feed_for(user: User, org: Organization | None = None) -> CalendarFeed:
    """The person's feed (``org=None``) or their feed of ``org``'s events."""
    same_org = CalendarFeed.org_id == org.id if org else CalendarFeed.org_id.is_(None)
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, same_org)
    )
    if feed is None:
        feed = CalendarFeed(
            user_id=user.id,
            org_id=org.id if org else None,
            token=secrets.token_urlsafe(32),
        )
        db.session.add(feed)
        db.session.flush()
    return feed


def reset_feed(user: User, org: Organization | None = None) -> CalendarFeed:
    """Give a feed a new secret; the old URL stops working."""
    feed = feed_for(user, org)
    feed.token = secrets.token_urlsafe(32)
    db.session.flush()
    return feed


def feed_url(feed: CalendarFeed) -> str:
    """The absolute, secret, subscribable address of a feed."""
    return absolute_url("events.feed", token=feed.token)


def feed_calendar(token: str) -> bytes | None:
    """The ICS text of the feed behind ``token``, or None when it does not exist."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not feed.user.is_active:
        return None
    horizon = clock.now() - HORIZON
    entries: list[tuple[Event, Registration | None]]
    if feed.org is None:
        regs = db.session.scalars(
            select(Registration)
            .join(Event)
            .where(
                or_(
                    Registration.user_id == feed.user_id,
                    Registration.email == feed.user.email,
                ),
                Registration.status.in_(ACTIVE_STATUSES),
                Event.status != EventStatus.DRAFT,
                Event.ends_at > horizon,
            )
            .order_by(Event.starts_at)
        ).all()
        entries = [(reg.event, reg) for reg in regs]
        name = f"{feed.user.name} · Mixer"
    else:
        if feed.user.membership_in(feed.org) is None:
            return None  # left the organization: the feed stops
        events = db.session.scalars(
            select(Event)
            .where(
                Event.org_id == feed.org.id,
                Event.status != EventStatus.DRAFT,
                Event.ends_at > horizon,
            )
            .order_by(Event.starts_at)
        ).all()
        entries = [(event, None) for event in events]
        name = f"{feed.org.name} events · Mixer"
    return ics.feed_ics(entries, name)
