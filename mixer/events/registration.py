"""Places at an event: registering, the waitlist and its promotions, guests'
confirmation, cancelling and organizers' moves.

Seats and the waitlist of one event only change while that event's row is locked
(:func:`lock_seats`, which is ``mixer.concurrency.lock_row``): the counts are
read and the decision made after the lock, in the same transaction, so
concurrent registrations, cancellations and capacity changes never oversell and
never leave gaps in waitlist positions. ``docs/events.md`` says why this holds
on SQLite and on PostgreSQL. A registration's status changes only through
``Registration.update_state``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update

from mixer import clock, signals
from mixer.accounts.models import User
from mixer.accounts.services import (
    AccountError,
    find_user,
    normalise_email,
    normalise_tags,
)
from mixer.audit.services import changes, record
from mixer.concurrency import insert_once, lock_row
from mixer.events import links
from mixer.events.models import (
    ACTIVE_STATUSES,
    NO_EMAIL_DOMAIN,
    ROLES,
    Event,
    EventStatus,
    MixerRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from mixer.events.notifications import mail_registrant, send_guest_confirmation
from mixer.events.rules import EventError, check_int, check_text, local, required_int
from mixer.extensions import db
from mixer.formatting import local_text
from mixer.orgs.models import Organization

# Sources whose registrations are confirmed at once (no e-mail confirmation) and
# may be made after the event started (walk-ins), until it ends.
BY_ORGANIZER = (RegistrationSource.ORGANIZER, RegistrationSource.API)
NOTHING_TO_CANCEL = _l("This event is over or cancelled; nothing to cancel.")


def lock_seats(event_id: int) -> Event:
    """Lock the event's row before counting or changing its seats and waitlist;
    returns the event, read afresh (EventError 404 when it is gone)."""
    event = lock_row(Event, event_id)
    if event is None:
        raise EventError(_("No such event."), field="event", status=404)
    return event


def registration_defaults(user: User, org: Organization) -> dict[str, Any]:
    """What a member's registration starts with: their profile."""
    membership = user.membership_in(org)
    department = (
        membership.department.name if membership and membership.department else None
    )
    return {
        "name": user.name,
        "email": user.email,
        "department": department,
        "level": membership.level if membership else None,
        "offers": list(user.offers or []),
        "seeks": list(user.seeks or []),
        "role": MixerRole.EITHER,
    }


def _answers(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a registration's answers (name, role, tags, department, dietary)."""
    clean: dict[str, Any] = {}
    clean["name"] = check_text(values.get("name"), "name", 120, _l("Your name"), True)
    role = values.get("role") or None
    if role is not None and role not in ROLES:
        raise EventError(f"Role must be one of {', '.join(ROLES)}.", field="role")
    clean["role"] = MixerRole(role) if role else None
    clean["department"] = check_text(
        values.get("department"), "department", 80, _l("Department")
    )
    clean["level"] = check_int(values.get("level"), "level", _l("Level"), 0, 80, False)
    for name in ("offers", "seeks"):
        raw = values.get(name)
        if raw is not None and not isinstance(raw, str | list | tuple):
            raise EventError(
                _("Give tags as a list or comma-separated text."), field=name
            )
        clean[name] = normalise_tags(list(raw) if isinstance(raw, tuple) else raw)
    dietary = check_text(values.get("dietary"), "dietary", 120, _l("Dietary needs"))
    if dietary and dietary.lower() in ("none", "no", "-", "n/a"):
        dietary = None
    clean["dietary"] = dietary
    return clean


def closed_reason(event: Event, by_organizer: bool = False) -> str | None:
    """Why ``event`` takes no registrations now, or None when it is open.

    Organizers may still add people after the start (walk-ins), until the end.
    """
    now = clock.now()
    if event.status == EventStatus.CANCELLED:
        return _("This event was cancelled; registration is closed.")
    if event.status == EventStatus.ENDED or event.ends_at <= now:
        return _("This event is over; registration is closed.")
    if event.status != EventStatus.PUBLISHED:
        return _("This event is not published yet; registration is not open.")
    if by_organizer:
        return None
    if event.starts_at <= now:
        return _("This event has started; registration is closed.")
    if event.registration_opens_at and now < event.registration_opens_at:
        opens = local(event.registration_opens_at, event.timezone)
        return _(
            "Registration opens %(when)s.", when=local_text(opens, "%d %b %Y %H:%M")
        )
    if event.registration_closes_at and now >= event.registration_closes_at:
        return _("Registration has closed.")
    return None


def check_open(event: Event, by_organizer: bool = False) -> None:
    """Refuse registration for events that are not open (409 naming ``event``)."""
    reason = closed_reason(event, by_organizer)
    if reason:
        raise EventError(reason, field="event", status=409)


def register(
    event: Event,
    *,
    email: str | None,
    source: str,
    user: User | None = None,
    **answers: Any,
) -> Registration:
    """Sign someone up: registered while seats last, then waitlisted.

    ``source`` is member, organizer or api (confirmed at once) or guest (pending
    until the e-mailed link is followed; see :func:`confirm_guest`). Organizers
    may leave ``email`` out (a walk-in at the door): the place gets an address in
    ``NO_EMAIL_DOMAIN``, which is never written to.
    """
    origin = RegistrationSource(source)
    by_organizer = origin in BY_ORGANIZER
    address = _address(email, by_organizer)
    clean = _answers(answers)
    check_open(event, by_organizer)
    event = lock_seats(event.id)
    check_open(event, by_organizer)  # again: it may have changed while we waited
    reg = db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email == address
        )
    )
    guest_again = (
        reg is not None
        and reg.status == RegistrationStatus.PENDING
        and origin == RegistrationSource.GUEST
    )
    if (
        reg is not None
        and reg.status != RegistrationStatus.CANCELLED
        and not guest_again
    ):
        if reg.status == RegistrationStatus.PENDING:
            taken = _("%(email)s is already signed up for this event.", email=address)
        else:
            taken = _("%(email)s is already registered for this event.", email=address)
        raise EventError(taken, field="email", status=409)
    now = clock.now()
    account = user or (reg.user if reg is not None else None) or find_user(address)
    if reg is None:
        reg = _new_registration(event, address, account, origin, now, clean)
    else:  # a cancelled place (or a guest's unconfirmed one) is used again
        reg.user = account
        reg.source, reg.created_at = origin, now
        for key, value in clean.items():
            setattr(reg, key, value)
    reg.update_state(RegistrationStatus.PENDING, now)
    db.session.flush()
    if origin == RegistrationSource.GUEST:
        send_guest_confirmation(reg)
    else:
        _seat(event, reg)
    signals.registration_created.send(reg)
    return reg


def _address(email: str | None, by_organizer: bool) -> str:
    """The normalised address, or a fresh no-mail one for an organizer's walk-in."""
    if not (email or "").strip() and by_organizer:
        return f"walk-in-{secrets.token_hex(8)}@{NO_EMAIL_DOMAIN}"
    try:
        return normalise_email(email or "")
    except AccountError as exc:
        raise EventError(str(exc), field="email") from exc


def _new_registration(
    event: Event,
    address: str,
    account: User | None,
    origin: RegistrationSource,
    now: datetime,
    clean: dict[str, Any],
) -> Registration:
    """Insert the place, once: the unique (event, e-mail) is the backstop behind
    the lock (a second insert of the address becomes the same 409)."""
    reg_id = insert_once(
        Registration,
        {
            "event_id": event.id,
            "email": address,
            "user_id": account.id if account is not None else None,
            "source": origin,
            "status": RegistrationStatus.PENDING,
            "created_at": now,
            **clean,
        },
        unique=("event_id", "email"),
    )
    reg = db.session.get(Registration, reg_id) if reg_id is not None else None
    if reg is None:
        raise EventError(
            _("%(email)s is already registered for this event.", email=address),
            field="email",
            status=409,
        )
    return reg


def _seat(event: Event, reg: Registration) -> None:
    """Give ``reg`` a seat or the next waitlist place (the event is locked)."""
    registered, waitlisted = _active_counts(event.id)
    now = clock.now()
    if registered < event.capacity:
        reg.update_state(RegistrationStatus.REGISTERED, now)
        db.session.flush()
        mail_registrant(
            reg,
            "event_confirmation",
            _l("You're registered: %(title)s", title=event.title),
            "REQUEST",
        )
    else:
        reg.update_state(RegistrationStatus.WAITLISTED, now, position=waitlisted + 1)
        db.session.flush()
        mail_registrant(
            reg,
            "event_waitlisted",
            _l(
                "Waitlist #%(position)d: %(title)s",
                position=waitlisted + 1,
                title=event.title,
            ),
        )


def _active_counts(event_id: int) -> tuple[int, int]:
    """(registered, waitlisted) of one event, counted now."""
    row = db.session.execute(
        select(
            func.count(case((Registration.status == RegistrationStatus.REGISTERED, 1))),
            func.count(case((Registration.status == RegistrationStatus.WAITLISTED, 1))),
        ).where(Registration.event_id == event_id)
    ).one()
    return int(row[0]), int(row[1])


def confirm_guest(token: str) -> Registration:
    """Turn a guest's pending registration into a seat (or waitlist place).

    Everything that stops it is a link problem on the link's page: a broken or
    used link (400), or an event that no longer takes registrations (409).
    """
    reg, data = links.guest_link(token)
    reason = closed_reason(reg.event)
    if reason:
        raise links.refused(reason)
    event = lock_seats(reg.event_id)
    reason = closed_reason(event)
    if reason:
        raise links.refused(reason)
    db.session.refresh(reg)
    if reg.status != RegistrationStatus.PENDING:
        raise links.unusable("used", "This link has already been used.")
    links.spend_guest_link(data)
    _seat(event, reg)
    return reg


def cancel_registration(
    reg: Registration,
    by: User | None = None,
    notify: bool = True,
    *,
    from_link: bool = False,
) -> list[Registration]:
    """Cancel a place; a freed seat goes to the waitlist's first. Returns promoted.

    ``from_link``: the person followed the cancel link in an e-mail, so a refusal
    is a problem with that link (shown on its page, 409).
    """
    event = lock_seats(reg.event_id)
    db.session.refresh(reg)
    if reg.status == RegistrationStatus.CANCELLED:
        return []
    if event.status == EventStatus.CANCELLED or event.is_past:
        if from_link:
            raise links.refused(str(NOTHING_TO_CANCEL))
        raise EventError(str(NOTHING_TO_CANCEL), field="event", status=409)
    was, position = reg.status, reg.waitlist_position
    reg.update_state(RegistrationStatus.CANCELLED, clock.now())
    db.session.flush()
    if position is not None:
        _close_gap(event.id, position)
    promoted = fill_from_waitlist(event) if was == RegistrationStatus.REGISTERED else []
    signals.registration_cancelled.send(reg)
    if by is not None and by.id != reg.user_id:  # an organizer took them off
        record(
            event.org_id,
            "registration.removed",
            f"Took {reg.name} off “{event.title}” (was {was})",
            subject=("registration", reg.id),
            details={"event_id": event.id, "changes": {"status": [was, reg.status]}},
            actor=by,
        )
    if notify and was in ACTIVE_STATUSES:
        mail_registrant(
            reg,
            "event_registration_cancelled",
            _l("Cancelled: your place at %(title)s", title=event.title),
            method="CANCEL" if was == RegistrationStatus.REGISTERED else None,
            extra={"by_organizer": by is not None and by.id != reg.user_id},
        )
    return promoted


def _close_gap(event_id: int, position: int, size: int = 1) -> None:
    """Move everyone behind ``position`` in the queue up by ``size``."""
    _shift_waitlist(event_id, Registration.waitlist_position > position, -size)


def _shift_waitlist(event_id: int, behind: Any, by: int) -> None:
    db.session.execute(
        update(Registration)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            behind,
        )
        .values(waitlist_position=Registration.waitlist_position + by)
        .execution_options(synchronize_session="fetch")
    )


def waitlist_head(event_id: int, limit: int) -> list[Registration]:
    """The first ``limit`` people on the waitlist, first in line first."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.waitlist_position)
            .limit(limit)
        )
    )


def fill_from_waitlist(event: Event) -> list[Registration]:
    """Promote waitlisted people, first in line first, while seats are free.

    Call with the event locked (:func:`lock_seats`).
    """
    registered, _waiting = _active_counts(event.id)
    free = event.capacity - registered
    if free <= 0:
        return []
    promoted = waitlist_head(event.id, free)
    if not promoted:
        return []
    now = clock.now()
    for reg in promoted:
        reg.update_state(RegistrationStatus.REGISTERED, now)
    db.session.flush()
    _close_gap(event.id, len(promoted), len(promoted))
    for reg in promoted:
        _tell_promoted(event, reg)
    return promoted


def _tell_promoted(event: Event, reg: Registration) -> None:
    mail_registrant(
        reg,
        "event_promoted",
        _l("A seat opened up: you're in for %(title)s", title=event.title),
        method="REQUEST",
    )


def give_seat(reg: Registration, *, over_capacity: bool = False) -> Registration:
    """At the door: a waitlisted or unconfirmed person gets a seat now.

    Past the capacity only when ``over_capacity`` says the organizer confirmed
    it; otherwise a full event refuses with 409 ``over_capacity``. The seats are
    counted under the event's lock, so two taps for the last seat never both
    take it silently.
    """
    event = lock_seats(reg.event_id)
    db.session.refresh(reg)
    if reg.holds_seat:
        return reg
    if reg.status == RegistrationStatus.CANCELLED:
        raise EventError(
            _(
                "%(name)s's registration was cancelled: add them as a walk-in.",
                name=reg.name,
            ),
            field="status",
            status=409,
        )
    check_open(event, by_organizer=True)
    registered, _waiting = _active_counts(event.id)
    if registered >= event.capacity and not over_capacity:
        raise EventError(
            _(
                "The event is full (%(taken)d of %(capacity)d seats taken). "
                "Give %(name)s a seat over the capacity?",
                taken=registered,
                capacity=event.capacity,
                name=reg.name,
            ),
            field="over_capacity",
            status=409,
            code="over_capacity",
        )
    old, was = reg.waitlist_position, reg.status
    reg.update_state(RegistrationStatus.REGISTERED, clock.now())
    db.session.flush()
    if old is not None:
        _close_gap(event.id, old)
    _tell_promoted(event, reg)
    over = registered >= event.capacity
    _record_move(
        event,
        reg,
        "registration.seat_given",
        f"Gave {reg.name} a seat at the door of “{event.title}”"
        + (" over the capacity" if over else ""),
        [was, old],
        over_capacity=over,
    )
    return reg


def _record_move(
    event: Event,
    reg: Registration,
    action: str,
    summary: str,
    before: list[Any],
    **facts: Any,
) -> None:
    """Record an organizer's move of ``reg``: status and waitlist place before
    and after."""
    after = [reg.status, reg.waitlist_position]
    record(
        event.org_id,
        action,
        summary,
        subject=("registration", reg.id),
        details={
            "event_id": event.id,
            "changes": changes(
                {"status": before[0], "waitlist_position": before[1]},
                {"status": after[0], "waitlist_position": after[1]},
            ),
            **facts,
        },
    )


def move_registration(
    reg: Registration, to: str, position: int | None = None
) -> Registration:
    """Organizers move people: ``to`` is "registered" (even past capacity) or
    "waitlist" (at ``position``, default last)."""
    event = lock_seats(reg.event_id)
    db.session.refresh(reg)
    if not reg.is_active:
        raise EventError(
            _("Only registered or waitlisted people can be moved."),
            field="status",
            status=409,
        )
    _seated, waitlisted = _active_counts(event.id)
    now = clock.now()
    before = [reg.status, reg.waitlist_position]
    if to == "registered":
        if reg.holds_seat:
            return reg
        old = reg.waitlist_position
        reg.update_state(RegistrationStatus.REGISTERED, now)
        db.session.flush()
        if old is not None:
            _close_gap(event.id, old)
        _tell_promoted(event, reg)
        _record_move(
            event,
            reg,
            "registration.moved",
            f"Gave {reg.name} a seat at “{event.title}”"
            + (f" (was #{old} on the waitlist)" if old else ""),
            before,
        )
        return reg
    if to != "waitlist":
        raise EventError(_("Move to 'registered' or 'waitlist'."), field="to")
    was_registered = reg.holds_seat
    last = waitlisted + (1 if was_registered else 0)
    target = required_int(position or last, "position", _l("Position"), 1, last)
    # Step out of the queue (position 0 never clashes), close the gap, re-enter.
    old = reg.waitlist_position
    reg.update_state(RegistrationStatus.WAITLISTED, now, position=0)
    db.session.flush()
    if old is not None:
        _close_gap(event.id, old)
    _shift_waitlist(event.id, Registration.waitlist_position >= target, 1)
    reg.update_state(RegistrationStatus.WAITLISTED, now, position=target)
    db.session.flush()
    if was_registered:
        mail_registrant(
            reg,
            "event_waitlisted",
            _l("Waitlist #%(position)d: %(title)s", position=target, title=event.title),
        )
    if before != [reg.status, reg.waitlist_position]:
        _record_move(
            event,
            reg,
            "registration.moved",
            f"Put {reg.name} at #{target} on the waitlist of “{event.title}”"
            + (" (from a seat)" if was_registered else f" (was #{before[1]})"),
            before,
        )
    return reg
