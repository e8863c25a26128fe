"""Reading events: an organization's lists, counts per status, and a person's
registrations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select

from mixer import clock
from mixer.accounts.models import User
from mixer.events.models import (
    KINDS,
    REGISTRATION_STATUSES,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from mixer.extensions import db
from mixer.orgs.models import Membership, Organization


def list_events(
    org: Organization,
    *,
    when: str = "upcoming",
    kind: str | None = None,
    query: str | None = None,
    include_drafts: bool = False,
    limit: int | None = None,
) -> list[Event]:
    """An organization's events: ``when`` is upcoming, past or all."""
    stmt = select(Event).where(Event.org_id == org.id)
    if not include_drafts:
        stmt = stmt.where(Event.status != EventStatus.DRAFT)
    if when == "upcoming":
        stmt = stmt.where(~Event.is_past).order_by(Event.starts_at, Event.id)
    elif when == "past":
        stmt = stmt.where(Event.is_past).order_by(
            Event.starts_at.desc(), Event.id.desc()
        )
    else:
        stmt = stmt.order_by(Event.starts_at.desc(), Event.id.desc())
    if kind in KINDS:
        stmt = stmt.where(Event.kind == kind)
    if query:
        like = f"%{query.strip().lower()[:100]}%"
        stmt = stmt.where(
            or_(
                func.lower(Event.title).like(like),
                func.lower(func.coalesce(Event.topic, "")).like(like),
            )
        )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def upcoming_events(org: Organization, limit: int = 5) -> list[Event]:
    """The next published events of ``org`` (for its home page)."""
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.org_id == org.id,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at > clock.now(),
            )
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )


def counts_for(event_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Registrations per status for many events, in one query."""
    ids = list(event_ids)
    result: dict[int, dict[str, int]] = {
        i: dict.fromkeys(REGISTRATION_STATUSES, 0) for i in ids
    }
    if not ids:
        return result
    rows = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, count in rows:
        result[event_id][status.value] = count
    return result


def my_registrations(user: User, org: Organization | None = None) -> list[Registration]:
    """A person's registrations (by account or e-mail), soonest event first."""
    stmt = (
        select(Registration)
        .join(Event)
        .where(
            or_(Registration.user_id == user.id, Registration.email == user.email),
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Event.starts_at)
    )
    if org is not None:
        stmt = stmt.where(Event.org_id == org.id)
    return list(db.session.scalars(stmt))


def registration_for(event: Event, user: Any) -> Registration | None:
    """The signed-in person's registration for ``event`` (any status), if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            or_(Registration.user_id == user.id, Registration.email == user.email),
        )
    )


def memberships_of(org_id: int, regs: list[Registration]) -> dict[int, Membership]:
    """The membership in the organization of each person registered (by account,
    else by e-mail address), keyed by registration id; guests have none."""
    if not regs:
        return {}
    linked = {r.user_id for r in regs if r.user_id is not None}
    emails = {r.email.lower() for r in regs if r.user_id is None}
    rows = db.session.execute(
        select(Membership, User.id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.org_id == org_id,
            User.id.in_(linked) | func.lower(User.email).in_(emails),
        )
    ).all()
    by_id = {uid: m for m, uid, _ in rows}
    by_email = {(email or "").lower(): m for m, _, email in rows}
    found = {}
    for reg in regs:
        m = by_id.get(reg.user_id) if reg.user_id else by_email.get(reg.email.lower())
        if m is not None:
            found[reg.id] = m
    return found
