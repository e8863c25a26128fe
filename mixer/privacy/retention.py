"""Retention: personal details of an event are removed a set number of months
after it ended (``docs/privacy.md``).

Each organization chooses the months (default 24; 0 keeps them). A daily job
(``RETENTION_JOB``, 03:00 UTC) takes the events that ended longer ago than
their organization's setting and have not been done yet, a batch at a time:
registrations lose name, address, dietary needs, tags and level; "we talked"
notes are deleted; follow-up answers lose their words. Statuses, check-ins,
connections, ratings and choices stay, so every figure still adds up.

Each event is claimed once by inserting its ``EventRetention`` row
(``insert_once``): two workers never do one event twice, and a run that fails
leaves the event for the next one. Running again changes nothing.
"""

from __future__ import annotations

import calendar
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, cast, delete, func, literal, select, update

from mixer import clock
from mixer.audit.services import record
from mixer.concurrency import changed_rows, insert_once
from mixer.connections.models import Connection, ConnectionNote
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.followup.models import FollowupPrompt
from mixer.jobs.services import schedule
from mixer.orgs.models import Organization
from mixer.privacy.erasure import ERASED_DOMAIN, ErasureError
from mixer.privacy.models import (
    DEFAULT_RETENTION_MONTHS,
    RETENTION_MONTHS_MAX,
    EventRetention,
    PrivacySettings,
)

RETENTION_JOB = "privacy.retention"
RUN_AT = time(3, 0)  # UTC: a quiet hour
EVENTS_PER_RUN = 25  # then the job schedules itself again at once
REMOVED_NAME = "Details removed"


def settings_of(org: Organization) -> PrivacySettings:
    """The organization's privacy settings (the defaults, unsaved, when none)."""
    found = db.session.get(PrivacySettings, org.id)
    return found or PrivacySettings(
        org_id=org.id, retention_months=DEFAULT_RETENTION_MONTHS
    )


def set_retention(org: Organization, months: int | str | None) -> PrivacySettings:
    """Keep personal details ``months`` after each event (0: until erased);
    recorded as ``retention.changed`` when it changes."""
    value = clean_months(months)
    settings = settings_of(org)
    before = settings.retention_months
    if db.session.get(PrivacySettings, org.id) is None:
        db.session.add(settings)
    settings.retention_months = value
    if before != value or settings.updated_at is None:
        record(
            org.id,
            "retention.changed",
            f"Personal details of events kept for {describe(value)} "
            f"(was {describe(before)}).",
            subject=("organization", org.id),
            details={"months": value, "was": before},
        )
    db.session.flush()
    ensure_scheduled()
    return settings


def clean_months(months: int | str | None) -> int:
    """A whole number of months from 0 to 120 (a refusal names ``months``)."""
    message = _(
        "Use a whole number of months from 0 (keep) to %(num)d.",
        num=RETENTION_MONTHS_MAX,
    )
    if months is None or isinstance(months, bool):
        raise ErasureError(message, field="months")
    try:
        value = int(str(months).strip())
    except ValueError as exc:
        raise ErasureError(message, field="months") from exc
    if not 0 <= value <= RETENTION_MONTHS_MAX:
        raise ErasureError(message, field="months")
    return value


def describe(months: int) -> str:
    """ "24 months", or "as long as the organization keeps them" for 0."""
    if months == 0:
        return "as long as nobody erases them"
    return f"{months} month{'s' if months != 1 else ''}"


def months_before(instant: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the 31st of a short
    month becomes its last day)."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def due_events(limit: int, now: datetime | None = None) -> list[int]:
    """Ids of events past their organization's retention, not done yet, oldest
    first, at most ``limit``."""
    now = now or clock.now()
    months = func.coalesce(PrivacySettings.retention_months, DEFAULT_RETENTION_MONTHS)
    settings = db.session.execute(
        select(Organization.id, months).outerjoin(
            PrivacySettings, PrivacySettings.org_id == Organization.id
        )
    ).all()
    due: list[tuple[datetime, int]] = []
    for org_id, kept in settings:
        if not kept:
            continue  # 0: kept until someone erases them
        rows = db.session.execute(
            select(Event.ends_at, Event.id)
            .outerjoin(EventRetention, EventRetention.event_id == Event.id)
            .where(
                Event.org_id == org_id,
                Event.ends_at < months_before(now, int(kept)),
                EventRetention.event_id.is_(None),
            )
            .order_by(Event.ends_at, Event.id)
            .limit(limit)
        ).all()
        due.extend((ends_at, event_id) for ends_at, event_id in rows)
    return [event_id for _, event_id in sorted(due)[:limit]]


def remove_details(event_id: int) -> dict[str, int]:
    """Strip one event's personal details (registrations, notes, answers' words);
    counts of what changed. Places already erased stay as they are."""
    address = (
        literal("removed-r")
        + cast(Registration.id, String)
        + literal(f"@{ERASED_DOMAIN}")
    )
    regs = changed_rows(
        update(Registration)
        .where(
            Registration.event_id == event_id,
            Registration.email.not_like(f"%@{ERASED_DOMAIN}"),
        )
        .values(
            name=REMOVED_NAME,
            email=address,
            dietary=None,
            level=None,
            offers=[],
            seeks=[],
        )
        .execution_options(synchronize_session=False)
    )
    notes = changed_rows(
        delete(ConnectionNote)
        .where(
            ConnectionNote.connection_id.in_(
                select(Connection.id).where(Connection.event_id == event_id)
            )
        )
        .execution_options(synchronize_session=False)
    )
    answers = changed_rows(
        update(FollowupPrompt)
        .where(
            FollowupPrompt.event_id == event_id,
            FollowupPrompt.comment.is_not(None)
            | FollowupPrompt.reflection.is_not(None),
        )
        .values(comment=None, reflection=None)
        .execution_options(synchronize_session=False)
    )
    return {
        "registrations": regs,
        "notes": notes,
        "answers": answers,
    }


def apply_retention(limit: int = EVENTS_PER_RUN) -> dict[str, Any]:
    """Remove the details of up to ``limit`` due events; what was done, and
    whether more are due (``more``)."""
    now = clock.now()
    totals = {"events": 0, "registrations": 0, "notes": 0, "answers": 0}
    by_org: dict[int, int] = {}
    ids = due_events(limit + 1, now)
    for event_id in ids[:limit]:
        # The claim: a second worker's insert finds the row and skips the event.
        if (
            insert_once(
                EventRetention,
                {"event_id": event_id, "applied_at": now},
                unique=("event_id",),
            )
            is None
        ):
            continue
        for key, n in remove_details(event_id).items():
            totals[key] += n
        totals["events"] += 1
        org_id = db.session.scalars(
            select(Event.org_id).where(Event.id == event_id)
        ).one()
        by_org[org_id] = by_org.get(org_id, 0) + 1
    for org_id, n in by_org.items():
        record(
            org_id,
            "retention.applied",
            f"Personal details removed from {n} event{'s' if n != 1 else ''} "
            "past the retention period.",
            details={"events": n},
        )
    db.session.flush()
    return {**totals, "more": len(ids) > limit}


def next_run(now: datetime) -> datetime:
    """The next daily run: today's 03:00 UTC if still ahead, else tomorrow's."""
    today = datetime.combine(now.date(), RUN_AT, tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)


def ensure_scheduled() -> None:
    """Make sure the next daily run is on the queue (once per day: its key)."""
    run_at = next_run(clock.now())
    schedule(
        RETENTION_JOB,
        {},
        run_at=run_at,
        dedupe_key=f"{RETENTION_JOB}:{run_at:%Y-%m-%d}",
    )


def run_retention() -> dict[str, Any]:
    """The job: one batch now, the next batch at once when more are due, and
    tomorrow's run."""
    done = apply_retention()
    if done["more"]:
        now = clock.now()
        schedule(
            RETENTION_JOB,
            {},
            run_at=now,
            dedupe_key=f"{RETENTION_JOB}:{clock.stamp(now)}",
        )
    ensure_scheduled()
    return done
