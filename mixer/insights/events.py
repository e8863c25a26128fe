"""Events: how many were held, who came, how people rated them, and the latest
approved testimonials (``docs/insights.md``).

Four statements whatever the size: events held by month; registered and
checked in by month over the events that used check-in; ratings by month; the
testimonials.
"""

from __future__ import annotations

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.followup.models import FollowupPrompt
from mixer.insights.figures import Count, EventFigures, EventMonth, Quote
from mixer.insights.filters import InsightFilter
from mixer.insights.scope import MONTH, held_events, in_department, month_of
from mixer.orgs.models import Organization
from mixer.recognition.models import Testimonial, TestimonialStatus

MIN_RATINGS = 5  # an average of fewer ratings could be one person's
TESTIMONIALS = 3  # the latest approved ones the dashboard quotes


def event_figures(org: Organization, flt: InsightFilter) -> EventFigures:
    """Held, attendance and no-shows, ratings, their trend by month, and quotes."""
    held = _held(org, flt)
    attendance = _attendance(org, flt)
    ratings = _ratings(org, flt)
    months = [
        EventMonth(
            month=month,
            held=held.get(month, 0),
            registered=Count(attendance.get(month, (0, 0))[0]),
            attended=Count(attendance.get(month, (0, 0))[1]),
            rating=_average(*ratings.get(month, (0, 0))),
        )
        for month in flt.months()
    ]
    rated = sum(n for n, _ in ratings.values())
    total = sum(points for _, points in ratings.values())
    return EventFigures(
        held=sum(held.values()),
        registered=Count(sum(r for r, _ in attendance.values())),
        attended=Count(sum(a for _, a in attendance.values())),
        ratings=Count(rated),
        rating=_average(rated, total),
        months=months,
        testimonials=_quotes(org, flt),
    )


def _average(ratings: int, points: int) -> float | None:
    """The average rating, or None when too few people rated."""
    return points / ratings if ratings >= MIN_RATINGS else None


def _held(org: Organization, flt: InsightFilter) -> dict[str, int]:
    """Month → events held. A department does not narrow events, only people."""
    query = (
        select(month_of(Event.starts_at, flt), func.count())
        .where(*held_events(org, flt))
        .group_by(MONTH)
    )
    return {month: int(n) for month, n in db.session.execute(query)}


def _attendance(org: Organization, flt: InsightFilter) -> dict[str, tuple[int, int]]:
    """Month → (registered, checked in) at the events where anyone checked in:
    an event that did not use check-in tells nothing about no-shows."""
    door = aliased(Registration)
    used_checkin = exists().where(
        door.event_id == Event.id, door.checked_in_at.is_not(None)
    )
    query = (
        select(
            month_of(Event.starts_at, flt),
            func.count(),
            func.count(case((Registration.is_checked_in, 1))),
        )
        .select_from(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.holds_seat, used_checkin)
        .where(*held_events(org, flt))
        .group_by(MONTH)
    )
    if flt.department_id is not None:
        query = query.where(in_department(org, Registration.user_id, flt.department_id))
    return {
        month: (int(registered), int(attended))
        for month, registered, attended in db.session.execute(query)
    }


def _ratings(org: Organization, flt: InsightFilter) -> dict[str, tuple[int, int]]:
    """Month → (ratings given, their sum) in the events' follow-ups."""
    query = (
        select(
            month_of(Event.starts_at, flt),
            func.count(FollowupPrompt.rating),
            func.coalesce(func.sum(FollowupPrompt.rating), 0),
        )
        .select_from(FollowupPrompt)
        .join(Event, Event.id == FollowupPrompt.event_id)
        .where(FollowupPrompt.rating.is_not(None), *held_events(org, flt))
        .group_by(MONTH)
    )
    if flt.department_id is not None:
        # The person the prompt went to: its registration's account.
        query = query.join(
            Registration, Registration.id == FollowupPrompt.registration_id
        ).where(in_department(org, Registration.user_id, flt.department_id))
    return {
        month: (int(n), int(points)) for month, n, points in db.session.execute(query)
    }


def _quotes(org: Organization, flt: InsightFilter) -> list[Quote]:
    """The latest approved testimonials about the period's events (a pair's
    words count for the event the pair was formed at)."""
    approved_at = func.coalesce(Testimonial.moderated_at, Testimonial.created_at)
    query = (
        select(
            Testimonial.author_name,
            Testimonial.body,
            Event.title,
            Testimonial.created_at,
        )
        .join(Event, Event.id == Testimonial.event_id)
        .where(
            Testimonial.org_id == org.id,
            Testimonial.status == TestimonialStatus.APPROVED,
            *held_events(org, flt),
        )
        .order_by(approved_at.desc(), Testimonial.id.desc())
        .limit(TESTIMONIALS)
    )
    if flt.department_id is not None:
        query = query.where(
            in_department(org, Testimonial.author_id, flt.department_id)
        )
    return [
        Quote(author_name=name, body=body, event_title=title, on=created.date())
        for name, body, title, created in db.session.execute(query)
    ]
