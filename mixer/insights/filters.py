"""The filter every insights figure takes: a period, a department, an event kind.

The period is of **event start dates** (UTC calendar days, both ends included):
the funnel, the silo map and the events section count the events that started in
it, and what followed from them however late (a pair formed at a March event is
in March's funnel even if its 90th day is in June). Topics count profiles as they
stand plus registrations at the period's events and asks opened in the period;
people describe the organization as it stands (open pairs) and take only the
department.

A department narrows to people whose membership is in it now: their
registrations, their meetings (a meeting counts when either side is in it), their
topics. ``event_id`` narrows to one event (the event report uses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement

from mixer import clock
from mixer.events.models import Event, EventKind

DEFAULT_DAYS = 365


@dataclass(frozen=True)
class InsightFilter:
    """What the dashboard, reports, exports and API are narrowed to."""

    start: date
    end: date  # included
    department_id: int | None = None
    kind: EventKind | None = None
    event_id: int | None = None  # one event (its report), within the period

    @classmethod
    def default(cls) -> InsightFilter:
        """The last twelve months up to today."""
        today = clock.now().date()
        return cls(start=today - timedelta(days=DEFAULT_DAYS - 1), end=today)

    @property
    def since(self) -> datetime:
        """The first instant of the period (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period (UTC)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def event_conditions(self, org_id: int) -> list[ColumnElement[bool]]:
        """WHERE clauses for the organization's events this filter takes: started
        in the period, of the kind and the one event when set."""
        conditions = [
            Event.org_id == org_id,
            Event.starts_at >= self.since,
            Event.starts_at < self.until,
        ]
        if self.kind is not None:
            conditions.append(Event.kind == self.kind)
        if self.event_id is not None:
            conditions.append(Event.id == self.event_id)
        return conditions

    def months(self) -> list[str]:
        """The months the period touches, oldest first ("2026-03")."""
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        return out
