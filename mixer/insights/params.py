"""The insights filter read from a query string (exports, the dashboard, the API).

``?from=2026-01-01&to=2026-12-31&department=3&kind=workshop&event=12``: every key
is optional and an empty value counts as absent (a form sends its empty fields).
Without ``to`` the period ends today; without ``from`` it is the 365 days up to
``to``; with ``event`` and neither date, it is that event's start day (UTC), so a
link to one event's export needs only its id. A value that cannot be used is
refused with a message for people (``InsightsError``, 400, naming the field), all
fields at once, never a server error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import select

from mixer import clock
from mixer.errors import DomainError, FieldProblems
from mixer.events.models import KIND_LABELS, Event, EventKind
from mixer.extensions import db
from mixer.insights.filters import DEFAULT_DAYS, InsightFilter
from mixer.orgs.models import Department, Organization
from mixer.urls import MAX_ID

# Dates people may ask for: far enough apart for any programme's history, and far
# from ``date.max``, whose next day Python cannot count to.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ID = re.compile(r"[1-9]\d{0,9}", re.ASCII)
Owned = TypeVar("Owned", Department, Event)


class InsightsError(DomainError):
    """A filter the insights cannot use (400, naming the field)."""


def parse_filter(org: Organization, args: Mapping[str, str]) -> InsightFilter:
    """The ``InsightFilter`` that ``args`` (a query string) asks for in ``org``."""
    problems = FieldProblems()
    start = end = None
    department_id = event = kind = None
    with problems.check():
        start = _date(args, "from", _("From"))
    with problems.check():
        end = _date(args, "to", _("To"))
    with problems.check():
        department_id = _department(org, args)
    with problems.check():
        kind = _kind(args)
    with problems.check():
        event = _event(org, args)
    problems.raise_any()
    if event is not None and start is None and end is None:
        start = end = event.starts_at.date()
    end = end or clock.now().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InsightsError(_("“From” must be on or before “To”."), field="from")
    return InsightFilter(
        start=start,
        end=end,
        department_id=department_id,
        kind=kind,
        event_id=event.id if event else None,
    )


def _value(args: Mapping[str, str], key: str) -> str | None:
    """The trimmed value of ``key``, None when absent or empty."""
    value = (args.get(key) or "").strip()
    return value or None


def _date(args: Mapping[str, str], key: str, label: str) -> date | None:
    """A YYYY-MM-DD day between ``FIRST_DAY`` and ``LAST_DAY``."""
    value = _value(args, key)
    if value is None:
        return None
    message = _(
        "“%(field)s” must be a date written as YYYY-MM-DD, like 2026-01-31.",
        field=label,
    )
    if not _DATE.fullmatch(value):
        raise InsightsError(message, field=key)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InsightsError(message, field=key) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InsightsError(
            _(
                "“%(field)s” must be between %(first)d and %(last)d.",
                field=label,
                first=FIRST_DAY.year,
                last=LAST_DAY.year,
            ),
            field=key,
        )
    return day


def _department(org: Organization, args: Mapping[str, str]) -> int | None:
    """The id of one of ``org``'s departments."""
    department = _owned(org, args, "department", Department)
    return department.id if department else None


def _kind(args: Mapping[str, str]) -> EventKind | None:
    """One of the event kinds, by its value (``lunch_and_learn``)."""
    value = _value(args, "kind")
    if value is None:
        return None
    try:
        return EventKind(value)
    except ValueError:
        kinds = ", ".join(f"{k.value} ({label})" for k, label in KIND_LABELS.items())
        raise InsightsError(
            _("The kind must be one of %(kinds)s.", kinds=kinds), field="kind"
        ) from None


def _event(org: Organization, args: Mapping[str, str]) -> Event | None:
    """One of ``org``'s events, by id."""
    return _owned(org, args, "event", Event)


def _owned(
    org: Organization, args: Mapping[str, str], key: str, model: type[Owned]
) -> Owned | None:
    """The ``model`` row of ``org`` whose id ``args[key]`` gives (the same answer
    for another organization's as for none: which ids exist elsewhere is not
    told)."""
    value = _value(args, key)
    if value is None:
        return None
    found = None
    if _ID.fullmatch(value) and int(value) <= MAX_ID:
        found = db.session.scalar(
            select(model).where(model.id == int(value), model.org_id == org.id)
        )
    if found is None:
        name = org.name
        message = (
            _("That department is not one of %(organization)s's.", organization=name)
            if key == "department"
            else _("That event is not one of %(organization)s's.", organization=name)
        )
        raise InsightsError(message, field=key)
    return found
