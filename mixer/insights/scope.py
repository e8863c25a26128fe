"""What a filter selects, as SQL: the events of the period, a department's
people, the month of an event, and instants a number of days apart.

Written once for the funnel, events and people sections so that each counts
the same events the same way, and portable: SQLite keeps ``UTCDateTime`` as
naive text, PostgreSQL as ``timestamptz``, so date arithmetic between two
columns has one construct (``days_after``) compiled for each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, case, exists, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from mixer import clock
from mixer.events.models import Event, EventStatus
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Membership, Organization

# Published, or closed after it happened; drafts and cancelled events never met.
HELD_STATUSES = (EventStatus.PUBLISHED, EventStatus.ENDED)
MONTH = "bucket"  # the label of the month column (GROUP BY names it)


def held_events(org: Organization, flt: InsightFilter) -> list[ColumnElement[bool]]:
    """Conditions on ``Event``: held (published or ended, started) by ``org`` in
    the filter's period, of its kind, or the one event it names."""
    return [
        *flt.event_conditions(org.id),
        Event.status.in_(HELD_STATUSES),
        Event.starts_at <= clock.now(),
    ]


def in_department(
    org: Organization, user_id: Any, department_id: int
) -> ColumnElement[bool]:
    """Whether the account ``user_id`` (a column) is in the department now.

    A guest without an account (``user_id`` NULL) is in none.
    """
    return exists().where(
        Membership.org_id == org.id,
        Membership.user_id == user_id,
        Membership.department_id == department_id,
    )


def month_start(month: str) -> datetime:
    """The first instant (UTC) of a month ("2026-03")."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


def month_of(column: Any, flt: InsightFilter) -> Any:
    """The month ("2026-03") of an instant inside the filter's period, labelled
    ``MONTH``: a CASE on month bounds computed here, the same on every database."""
    months = flt.months()
    if len(months) == 1:
        return literal(months[0]).label(MONTH)
    whens = [(column >= month_start(m), m) for m in reversed(months[1:])]
    return case(*whens, else_=months[0]).label(MONTH)


class instant(FunctionElement):
    """A ``UTCDateTime`` column as a value ``days_after`` compares with exactly."""

    type = Float()
    inherit_cache = True


class days_after(FunctionElement):
    """``days_after(column, n)``: the instant ``n`` whole days (of 24 hours, ``n``
    an integer expression, possibly negative) after a ``UTCDateTime`` column,
    comparable with ``instant(other_column)``."""

    type = Float()
    inherit_cache = True


@compiles(instant)
def _instant_default(element: instant, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(instant, "sqlite")
def _instant_sqlite(element: instant, compiler: Any, **kw: Any) -> str:
    # julianday() of the stored text: SQLite computes it from whole
    # milliseconds, exactly as it computes julianday(x, '+N days') below.
    (column,) = element.clauses
    return f"julianday({compiler.process(column, **kw)})"


@compiles(days_after)
def _days_after_default(element: days_after, compiler: Any, **kw: Any) -> str:
    # Seconds, not '1 day': a day interval follows the session's time zone
    # across a change of summer time; a pair's day is 24 hours.
    column, days = element.clauses
    return (
        f"({compiler.process(column, **kw)} + "
        f"({compiler.process(days, **kw)}) * 86400 * INTERVAL '1 second')"
    )


@compiles(days_after, "sqlite")
def _days_after_sqlite(element: days_after, compiler: Any, **kw: Any) -> str:
    column, days = element.clauses
    return (
        f"julianday({compiler.process(column, **kw)}, "
        f"({compiler.process(days, **kw)}) || ' days')"
    )
