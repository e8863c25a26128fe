"""API: ``GET /api/v1/insights``, the programme dashboard's figures as JSON.

Organizers and admins of the token's organization (a member's token: 403). The
filter is the dashboard's (``?from=&to=&department=&kind=&event=``, read by
``mixer.insights.params.parse_filter``, so the page, the exports and the API
refuse the same values with the same messages: 400 naming the field, also for a
department or event that is not the organization's).

Every count of people is an object ``{"value": 12, "hidden": false}``; a count of
1 to 4 is ``{"value": null, "hidden": true}``, never the number
(``figures.Count``). A rate built from a hidden count is null. The serializers are
plain functions, one per section, from the ``figures`` dataclasses. The figures
come from the snapshot cache (``mixer.insights.cache``), with ``computed_at``;
30 requests a minute per token (``INSIGHTS_API_RATE_LIMIT``), besides the API's
own limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import current_app, g

from mixer import clock
from mixer.accounts.api_auth import rate_key as token_key
from mixer.accounts.api_auth import token_required
from mixer.api import Schema, blueprint
from mixer.events.models import KINDS
from mixer.extensions import db, limiter
from mixer.insights import cache
from mixer.insights.figures import (
    SMALL,
    Count,
    Dashboard,
    EventFigures,
    Funnel,
    MentorLoad,
    PeopleFigures,
    SiloMap,
    TopicGap,
    Topics,
    rate,
)
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import AGES, KEYS
from mixer.insights.params import parse_filter

blp = blueprint(
    "insights_api", __name__, "Insights: the programme dashboard's figures."
)


# ---------------------------------------------------------------------------
# Serializers: one plain function per section, from the figures dataclasses.


def count_json(count: Count) -> dict[str, Any]:
    """A count as the API shows it: the number, or null and ``hidden`` for 1-4."""
    return {"value": count.value, "hidden": count.hidden}


def filter_json(flt: InsightFilter) -> dict[str, Any]:
    """The filter the figures were computed for (the defaults filled in)."""
    return {
        "from": flt.start.isoformat(),
        "to": flt.end.isoformat(),
        "department": flt.department_id,
        "kind": flt.kind.value if flt.kind else None,
        "event": flt.event_id,
    }


def funnel_json(funnel: Funnel) -> dict[str, Any]:
    """The funnel's stages, its trend by month and the pairs active at 30/60/90."""
    return {
        "stages": [
            {
                "key": stage.key,
                "label": str(stage.label),  # in the request's language
                "count": count_json(stage.count),
                "definition": str(stage.definition),
            }
            for stage in funnel.stages
        ],
        "months": [
            {
                "month": month.month,
                "counts": {key: count_json(c) for key, c in month.counts.items()},
            }
            for month in funnel.months
        ],
        "active": [
            {
                "days": days,
                "active": count_json(active),
                "old_enough": count_json(old_enough),
                "rate": rate(active, old_enough),
            }
            for days, (active, old_enough) in sorted(funnel.active.items())
        ],
    }


def silos_json(silos: SiloMap) -> dict[str, Any]:
    """The department × department matrix, the totals and who never meets."""
    return {
        "departments": [str(name) for name in silos.departments],
        "cells": [[count_json(c) for c in row] for row in silos.cells],
        "total": count_json(silos.total),
        "across": count_json(silos.across),
        "across_share": silos.across_share,
        "never_meet": [[str(a), str(b)] for a, b in silos.never_meet],
    }


def _gap_json(gap: TopicGap) -> dict[str, Any]:
    """One topic with its seekers and offerers."""
    return {
        "topic": gap.topic,
        "seekers": count_json(gap.seekers),
        "offerers": count_json(gap.offerers),
    }


def topics_json(topics: Topics) -> dict[str, Any]:
    """Suggested next topics (sought more than offered) and offers nobody seeks."""
    return {
        "suggested": [_gap_json(gap) for gap in topics.suggested],
        "unasked": [_gap_json(gap) for gap in topics.unasked],
    }


def events_json(events: EventFigures) -> dict[str, Any]:
    """Events held, attendance, no-shows, ratings, their trend and testimonials."""
    return {
        "held": events.held,
        "registered": count_json(events.registered),
        "attended": count_json(events.attended),
        "attendance_rate": events.attendance_rate,
        "no_show_rate": events.no_show_rate,
        "ratings": count_json(events.ratings),
        "rating": events.rating,
        "months": [
            {
                "month": month.month,
                "held": month.held,
                "registered": count_json(month.registered),
                "attended": count_json(month.attended),
                "rating": month.rating,
            }
            for month in events.months
        ],
        "testimonials": [
            {
                "author_name": quote.author_name,
                "body": quote.body,
                "event_title": quote.event_title,
                "on": quote.on.isoformat(),
            }
            for quote in events.testimonials
        ],
    }


def _mentor_json(load: MentorLoad) -> dict[str, Any]:
    """A mentor's open mentoring pairs and the number they take on."""
    return {
        "name": load.name,
        "department": load.department,
        "active_pairs": load.active_pairs,
        "capacity": load.capacity,
    }


def people_json(people: PeopleFigures) -> dict[str, Any]:
    """Top mentors, mentors at capacity, departments where nobody mentors."""
    return {
        "top_mentors": [_mentor_json(m) for m in people.top_mentors],
        "at_capacity": [_mentor_json(m) for m in people.at_capacity],
        "departments_without_mentor": list(people.departments_without_mentor),
    }


def dashboard_json(
    board: Dashboard, flt: InsightFilter, computed_at: datetime | None = None
) -> dict[str, Any]:
    """Every section of the dashboard, with the filter it was computed for and
    when (the stored snapshot's time; now when counted for this answer)."""
    return {
        "filter": filter_json(flt),
        "computed_at": (computed_at or clock.now()).isoformat(),
        "funnel": funnel_json(board.funnel),
        "silos": silos_json(board.silos),
        "topics": topics_json(board.topics),
        "events": events_json(board.events),
        "people": people_json(board.people),
    }


# ---------------------------------------------------------------------------
# Schemas: the query and the answer, for the OpenAPI document.

HIDDEN = (
    f"A count of people: `{{value, hidden}}`. A count of 1 to {SMALL - 1} is "
    f'`{{"value": null, "hidden": true}}` (shown as "fewer than {SMALL}"), '
    "never the number."
)
RATE = "A share from 0 to 1; null when a count it is built from is hidden or zero."


def _rate(description: str = RATE) -> ma.fields.Float:
    """A nullable 0..1 share."""
    return ma.fields.Float(allow_none=True, metadata={"description": description})


def _count(description: str) -> ma.fields.Nested:
    """A nested ``Count`` with its own description before the hiding rule."""
    return ma.fields.Nested(
        CountSchema, required=True, metadata={"description": f"{description} {HIDDEN}"}
    )


class InsightsQuerySchema(Schema):
    """The dashboard's filter. Every parameter is optional; an empty value is
    absent. Values are checked as the dashboard's form checks them."""

    start = ma.fields.String(
        data_key="from",
        attribute="from",  # loaded under the query's name, as parse_filter reads
        metadata={
            "format": "date",
            "description": "First day of the period (event start dates, UTC), "
            "YYYY-MM-DD. Default: 365 days before `to`; with `event` and no "
            "dates, that event's day.",
        },
    )
    end = ma.fields.String(
        data_key="to",
        attribute="to",
        metadata={
            "format": "date",
            "description": "Last day of the period (included), YYYY-MM-DD; on or "
            "after `from`. Default: today.",
        },
    )
    department = ma.fields.String(
        metadata={
            "pattern": "^[1-9][0-9]*$",
            "description": "Only people whose membership is in this department "
            "now (an id of one of the organization's departments).",
        }
    )
    kind = ma.fields.String(
        metadata={"enum": list(KINDS), "description": "Only events of this kind."}
    )
    event = ma.fields.String(
        metadata={
            "pattern": "^[1-9][0-9]*$",
            "description": "Only this event (an id of one of the organization's "
            "events).",
        }
    )


class CountSchema(Schema):
    """A count of people, hidden from 1 to 4."""

    value = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The number; null when hidden.", "minimum": 0},
    )
    hidden = ma.fields.Boolean(
        required=True,
        metadata={"description": f'True for 1 to {SMALL - 1} ("fewer than {SMALL}").'},
    )


class FilterEchoSchema(Schema):
    """The filter the figures are for, defaults filled in."""

    # "from" cannot name a class attribute: the field is read from that key.
    start = ma.fields.String(
        data_key="from", attribute="from", required=True, metadata={"format": "date"}
    )
    end = ma.fields.String(
        data_key="to", attribute="to", required=True, metadata={"format": "date"}
    )
    department = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String(allow_none=True, metadata={"enum": [*KINDS, None]})
    event = ma.fields.Integer(allow_none=True)


class StageSchema(Schema):
    """One stage of the funnel."""

    key = ma.fields.String(required=True, metadata={"enum": list(KEYS)})
    label = ma.fields.String(required=True)
    count = _count("Registrations that reached this stage.")
    definition = ma.fields.String(required=True)


class FunnelMonthSchema(Schema):
    """The funnel of the events that started in one month."""

    month = ma.fields.String(required=True, metadata={"example": "2026-03"})
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(CountSchema),
        required=True,
        metadata={"description": f"By stage key. {HIDDEN}"},
    )


class ActiveSchema(Schema):
    """Pairs active on their 30th, 60th or 90th day."""

    days = ma.fields.Integer(required=True, metadata={"enum": list(AGES)})
    active = _count("Pairs with a check-in held in the two cadence periods before.")
    old_enough = _count("Pairs at least `days` days old.")
    rate = _rate()


class FunnelSchema(Schema):
    """Registered → checked in → … → pairs still active at 30, 60 and 90 days."""

    stages = ma.fields.List(ma.fields.Nested(StageSchema), required=True)
    months = ma.fields.List(ma.fields.Nested(FunnelMonthSchema), required=True)
    active = ma.fields.List(ma.fields.Nested(ActiveSchema), required=True)


class SilosSchema(Schema):
    """Who met whom, department × department (symmetric)."""

    departments = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": 'Names; "No department" last when anyone has none.'},
    )
    cells = ma.fields.List(
        ma.fields.List(ma.fields.Nested(CountSchema)),
        required=True,
        metadata={
            "description": "`cells[i][j]`: meetings between `departments[i]` and "
            f"`departments[j]`. {HIDDEN}"
        },
    )
    total = _count("Meetings.")
    across = _count("Meetings between two different departments.")
    across_share = _rate("Across / total; null when either is hidden or zero.")
    never_meet = ma.fields.List(
        ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "Pairs of departments with no meeting."},
    )


class TopicGapSchema(Schema):
    """A topic, how many people seek it and how many offer it."""

    topic = ma.fields.String(required=True)
    seekers = _count("People who seek it.")
    offerers = _count("People who offer it.")


class TopicsSchema(Schema):
    """What people seek that few offer, and offers nobody asks for."""

    suggested = ma.fields.List(
        ma.fields.Nested(TopicGapSchema),
        required=True,
        metadata={"description": "Suggested next lunch-and-learn topics."},
    )
    unasked = ma.fields.List(ma.fields.Nested(TopicGapSchema), required=True)


class EventMonthSchema(Schema):
    """Events that started in one month and how they went."""

    month = ma.fields.String(required=True, metadata={"example": "2026-03"})
    held = ma.fields.Integer(required=True)
    registered = _count("Places held.")
    attended = _count("People checked in.")
    rating = _rate("Average rating 1 to 5; null with fewer than 5 ratings.")


class QuoteSchema(Schema):
    """An approved testimonial."""

    author_name = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    event_title = ma.fields.String(allow_none=True)
    on = ma.fields.String(required=True, metadata={"format": "date"})


class EventsSchema(Schema):
    """Events held in the period, attendance, no-shows, ratings."""

    held = ma.fields.Integer(required=True)
    registered = _count("Places held at events that used check-in.")
    attended = _count("People checked in.")
    attendance_rate = _rate()
    no_show_rate = _rate()
    ratings = _count("Follow-up ratings given.")
    rating = _rate("Average rating 1 to 5; null with fewer than 5 ratings.")
    months = ma.fields.List(ma.fields.Nested(EventMonthSchema), required=True)
    testimonials = ma.fields.List(ma.fields.Nested(QuoteSchema), required=True)


class MentorLoadSchema(Schema):
    """A mentor, their open mentoring pairs and how many they take on."""

    name = ma.fields.String(required=True)
    department = ma.fields.String(allow_none=True)
    active_pairs = ma.fields.Integer(required=True)
    capacity = ma.fields.Integer(required=True)


class PeopleSchema(Schema):
    """Who carries the programme, who is full, where nobody mentors."""

    top_mentors = ma.fields.List(ma.fields.Nested(MentorLoadSchema), required=True)
    at_capacity = ma.fields.List(ma.fields.Nested(MentorLoadSchema), required=True)
    departments_without_mentor = ma.fields.List(ma.fields.String(), required=True)


class InsightsSchema(Schema):
    """The programme dashboard's figures (``docs/insights.md`` defines each)."""

    filter = ma.fields.Nested(FilterEchoSchema, required=True)
    computed_at = ma.fields.String(
        required=True,
        metadata={
            "format": "date-time",
            "description": "When these figures were counted (UTC). The figures "
            "are kept for a few minutes (`INSIGHTS_CACHE_MINUTES`, 10 by default) "
            "and counted again in the background once older: an answer may be "
            "that old, or a little older while the new count runs.",
        },
    )
    funnel = ma.fields.Nested(FunnelSchema, required=True)
    silos = ma.fields.Nested(SilosSchema, required=True)
    topics = ma.fields.Nested(TopicsSchema, required=True)
    events = ma.fields.Nested(EventsSchema, required=True)
    people = ma.fields.Nested(PeopleSchema, required=True)


def _insights_limit() -> str:
    return current_app.config.get("INSIGHTS_API_RATE_LIMIT", "30 per minute")


@blp.route("/insights", methods=["GET"])
@token_required("organizer")
# On top of the API's limit per token: an answer not stored yet counts a year of
# the organization (most of a second at 50,000 registrations).
@limiter.limit(_insights_limit, key_func=token_key)
@blp.arguments(InsightsQuerySchema, location="query")
@blp.response(200, InsightsSchema)
def insights(query: dict[str, str]):
    """The programme dashboard's figures for a period, department, kind or event.

    Counts of 1 to 4 people come as `{"value": null, "hidden": true}`. A date that
    is not YYYY-MM-DD, `from` after `to`, an unknown kind, or a department or
    event of another organization is a 400 naming the parameter.
    """
    flt = parse_filter(g.org, query)  # InsightsError → 400 JSON naming the field
    snap = cache.snapshot(g.org, flt)
    db.session.commit()  # the snapshot, its "read at" and a refresh job
    return dashboard_json(snap.figures, flt, snap.computed_at)
