"""What organizers see about an event's people: the dashboard, catering, the
attendee table and its CSV export.

Every page here runs a handful of queries at any size (counts and groups in SQL,
one page of rows at a time, the CSV streamed);
``tests/events/test_dashboard_queries.py`` holds them to it with 5,250
registrations.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_, select

from mixer.events.models import (
    REGISTRATION_STATUSES,
    Event,
    MixerRole,
    Registration,
    RegistrationStatus,
)
from mixer.events.queries import counts_for
from mixer.events.registration import waitlist_head
from mixer.extensions import db
from mixer.formatting import spreadsheet_text

NO_NEEDS = "No special needs"


@dataclass
class Dashboard:
    """What an organizer sees first about an event."""

    capacity: int
    counts: dict[str, int]
    checked_in: int
    catering: list[tuple[str, int]]
    recent: list[Registration]
    waitlist_head: list[Registration]
    roles: dict[str, int] = field(default_factory=dict)

    @property
    def seats_left(self) -> int:
        """Seats nobody holds yet."""
        return max(0, self.capacity - self.counts[RegistrationStatus.REGISTERED])


def dashboard(event: Event) -> Dashboard:
    """Counts, catering and the latest sign-ups: a handful of queries at any size."""
    counts = counts_for([event.id])[event.id]
    checked_in = db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event.id, Registration.is_checked_in
        )
    )
    roles: dict[str, int] = {}
    for role, count in db.session.execute(
        select(Registration.role, func.count())
        .where(Registration.event_id == event.id, Registration.holds_seat)
        .group_by(Registration.role)
    ):
        key = role or MixerRole.EITHER
        roles[key] = roles.get(key, 0) + count
    recent = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .order_by(Registration.created_at.desc(), Registration.id.desc())
            .limit(10)
        )
    )
    return Dashboard(
        counts=counts,
        checked_in=int(checked_in or 0),
        catering=catering_summary(event),
        recent=recent,
        waitlist_head=waitlist_head(event.id, 5),
        roles=roles,
        capacity=event.capacity,
    )


def catering_summary(event: Event) -> list[tuple[str, int]]:
    """Registered people per dietary need, most common first ("None" included)."""
    # No bound parameters in the grouped expression: PostgreSQL would not match it.
    need = func.lower(Registration.dietary)
    rows = db.session.execute(
        select(need, func.min(Registration.dietary), func.count())
        .where(Registration.event_id == event.id, Registration.holds_seat)
        .group_by(need)
    ).all()
    summary = [(label if key else NO_NEEDS, count) for key, label, count in rows]
    return sorted(summary, key=lambda row: (row[0] == NO_NEEDS, -row[1]))


def catering_list(event: Event) -> list[tuple[str, str]]:
    """(name, dietary need) of registered people with a need, for the caterer."""
    rows = db.session.execute(
        select(Registration.name, Registration.dietary)
        .where(
            Registration.event_id == event.id,
            Registration.holds_seat,
            Registration.dietary.is_not(None),
        )
        .order_by(Registration.dietary, Registration.name)
    ).all()
    return [(name, dietary or "") for name, dietary in rows]


def search_registrations(
    event: Event,
    query: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Registration], int]:
    """One page of an event's registrations matching ``query``; and the total."""
    stmt = select(Registration).where(Registration.event_id == event.id)
    if status in REGISTRATION_STATUSES:
        stmt = stmt.where(Registration.status == status)
    else:
        stmt = stmt.where(Registration.status != RegistrationStatus.CANCELLED)
    if query:
        like = f"%{query.strip().lower()[:100]}%"
        stmt = stmt.where(
            or_(
                func.lower(Registration.name).like(like),
                Registration.email.like(like),
                func.lower(func.coalesce(Registration.department, "")).like(like),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = case(
        (Registration.status == RegistrationStatus.REGISTERED, 0),
        (Registration.status == RegistrationStatus.WAITLISTED, 1),
        (Registration.status == RegistrationStatus.PENDING, 2),
        else_=3,
    )
    rows = db.session.scalars(
        stmt.order_by(
            order,
            Registration.waitlist_position,
            func.lower(Registration.name),
            Registration.id,
        )
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return list(rows), int(total or 0)


CSV_HEADER = (
    "id",
    "name",
    "email",
    "status",
    "waitlist_position",
    "role",
    "department",
    "level",
    "offers",
    "seeks",
    "dietary",
    "registered_at",
    "checked_in_at",
    "source",
)


def registrations_csv(event: Event) -> Iterator[str]:
    """The attendee list as CSV text, streamed in chunks (any size)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    stmt = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
        .execution_options(yield_per=500)
    )
    for number, reg in enumerate(db.session.scalars(stmt), start=1):
        writer.writerow(
            [
                spreadsheet_text(v)
                for v in (
                    reg.id,
                    reg.name,
                    reg.email if reg.has_email else "",
                    reg.status,
                    reg.waitlist_position,
                    reg.role,
                    reg.department,
                    reg.level,
                    ", ".join(reg.offers or []),
                    ", ".join(reg.seeks or []),
                    reg.dietary,
                    reg.created_at.isoformat(),
                    reg.checked_in_at.isoformat() if reg.checked_in_at else "",
                    reg.source,
                )
            ]
        )
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
