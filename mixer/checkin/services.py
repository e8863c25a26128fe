"""Checking people in at the door, by badge scan or by hand, and undoing it.

The check-in itself is one conditional ``UPDATE … SET checked_in_at = now WHERE
id = ? AND checked_in_at IS NULL AND status = 'registered'``: whatever the number of
phones scanning one badge at once, exactly one statement changes the row and the
others see zero rows changed (PostgreSQL re-checks the WHERE clause after waiting
for the row lock; SQLite runs writers one at a time). No read-then-write race.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, bindparam, exists, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from mixer import clock, signals
from mixer.accounts.services import (
    AccountError,
    find_user,
    normalise_email,
    send_first_sign_in_link,
    send_magic_link,
)
from mixer.audit.services import record
from mixer.checkin import door
from mixer.checkin.models import CheckinNonce, DoorLink, ScanOutcome
from mixer.concurrency import changed_rows, insert_once
from mixer.connections.models import Connection, ConnectionSource
from mixer.connections.services import connect
from mixer.errors import DomainError
from mixer.events import registration as registrations
from mixer.events.access import can_manage
from mixer.events.links import badge_download_url
from mixer.events.models import (
    Event,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from mixer.events.queries import registration_for
from mixer.extensions import db

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,32}")
NONCE_RE = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
BADGE_PATH_RE = re.compile(r"/c/([^/?#]+)/?$")
NOT_A_BADGE = _l("That is not a Mixer badge code: expected a link ending in /c/<code>.")


class CheckinError(DomainError):
    """A scan that cannot check anyone in; ``str(exc)`` is shown to the organizer.

    409 unless said otherwise: the badge is real but its owner may not come in
    (here); 404 for a code that is no badge of this organization.
    """

    status = 409


@dataclass
class CheckinResult:
    """The answer to one scan: what the JSON needs, no model (a check-in is
    answered from what its UPDATE returned, without reading the row again)."""

    status: ScanOutcome
    registration_id: int
    event_id: int
    name: str
    registration_status: RegistrationStatus
    checked_in_at: datetime
    replayed: bool = False  # the client sent this scan (nonce) before

    @classmethod
    def of(
        cls,
        status: ScanOutcome,
        reg: Registration,
        checked_in_at: datetime,
        replayed: bool = False,
    ) -> CheckinResult:
        """The answer about a loaded registration."""
        return cls(
            status, reg.id, reg.event_id, reg.name, reg.status, checked_in_at, replayed
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON the API and the scan page answer with."""
        return {
            "status": self.status,
            "registration_id": self.registration_id,
            "event_id": self.event_id,
            "name": self.name,
            "checked_in_at": self.checked_in_at.isoformat(),
            "replayed": self.replayed,
            "registration_status": RegistrationStatus(self.registration_status).value,
        }


def token_from(value: str | None) -> str | None:
    """The badge token in a scanned ``…/c/<token>`` URL or a bare token, else None."""
    value = (value or "").strip()
    if "/" in value:
        match = BADGE_PATH_RE.search(urlsplit(value).path)
        if match is None:
            return None
        value = match.group(1)
    return value if TOKEN_RE.fullmatch(value) else None


def badge_registration(token: str | None) -> Registration | None:
    """The registration a badge token belongs to (any organization), or None."""
    if not token or not TOKEN_RE.fullmatch(token):
        return None
    return db.session.scalar(
        select(Registration)
        .where(Registration.badge_token == token)
        .options(joinedload(Registration.event))
        .execution_options(populate_existing=True)
    )


def resolve_scan(
    org_id: int, scanned: str | None, event_id: int | None = None
) -> Registration:
    """The registration a scanned URL or token names, checked for check-in.

    Another organization's badge is reported exactly like an unknown one (404).
    """
    token = token_from(scanned)
    if token is None:
        raise CheckinError(str(NOT_A_BADGE), status=404)
    reg = badge_registration(token)
    if reg is None or reg.event.org_id != org_id:
        raise CheckinError(
            _("Unknown badge: no registration in this organization has this code."),
            status=404,
        )
    if event_id is not None and reg.event_id != event_id:
        raise CheckinError(
            _(
                "This badge is for “%(title)s”: %(name)s is not registered "
                "for this event.",
                title=reg.event.title,
                name=reg.name,
            )
        )
    check_can_enter(reg)
    return reg


def check_can_enter(reg: Registration) -> None:
    """Refuse registrations that hold no seat: cancelled, waitlisted, unconfirmed."""
    if reg.status == RegistrationStatus.CANCELLED:
        raise CheckinError(
            _(
                "Not registered: %(name)s's registration was cancelled. "
                "Nobody was checked in.",
                name=reg.name,
            )
        )
    if reg.status == RegistrationStatus.WAITLISTED:
        raise CheckinError(
            _(
                "Not registered: %(name)s is on the waitlist (#%(position)s), "
                "without a seat. Nobody was checked in.",
                name=reg.name,
                position=reg.waitlist_position,
            )
        )
    if not reg.holds_seat:
        raise CheckinError(
            _(
                "Not registered: %(name)s has not confirmed their e-mail address "
                "yet. Nobody was checked in.",
                name=reg.name,
            )
        )


def check_in_badge(
    org_id: int,
    scanned: str | None,
    event_id: int | None = None,
    nonce: str | None = None,
    *,
    by_user_id: int | None = None,
    by_link_id: int | None = None,
) -> CheckinResult:
    """Check in the owner of a scanned badge (URL or token) of the organization.

    The hot path is one conditional ``UPDATE … RETURNING`` keyed by the badge
    token (of this organization, and of ``event_id`` when given), answered from
    what it returned. Only when it changed nothing (a repeat, a replayed nonce,
    a refusal) is the registration read, to say why, as :func:`resolve_scan`
    and :func:`check_in` always did.
    """
    token = token_from(scanned)
    if token is None:
        raise CheckinError(str(NOT_A_BADGE), status=404)
    _check_nonce(nonce)
    now = clock.now()
    params = {"b_token": token, "b_org": org_id, "b_event": event_id, "b_nonce": nonce}
    row = _stamp(params, now, by_user_id, by_link_id)
    if row is not None:
        reg_id, reg_event_id, name, status = row
        result = CheckinResult(
            ScanOutcome.CHECKED_IN, reg_id, reg_event_id, name, status, now
        )
        return _stamped(result, nonce)
    reg = resolve_scan(org_id, token, event_id)  # refusals say why, as before
    return _unchanged(reg, nonce)


def check_in(
    reg: Registration,
    nonce: str | None = None,
    *,
    by_user_id: int | None = None,
    by_link_id: int | None = None,
) -> CheckinResult:
    """Check ``reg`` in once; a repeat is ``already_checked_in``, a replay a no-op.

    The check-in records who made it: a person (``by_user_id``) or a door link.
    """
    _check_nonce(nonce)
    now = clock.now()
    stamped = _stamp({"b_reg": reg.id, "b_nonce": nonce}, now, by_user_id, by_link_id)
    if stamped is not None:
        set_committed_value(reg, "checked_in_at", now)  # what the UPDATE wrote
        result = CheckinResult.of(ScanOutcome.CHECKED_IN, reg, now)
        return _stamped(result, nonce)
    db.session.refresh(reg)
    return _unchanged(reg, nonce)


def _check_nonce(nonce: str | None) -> None:
    if nonce is not None and not NONCE_RE.fullmatch(nonce):
        raise CheckinError(
            "nonce must be 8 to 64 letters, digits or - _ . :", status=400
        )


def _stamp(
    params: dict[str, Any],
    now: datetime,
    by_user_id: int | None,
    by_link_id: int | None,
) -> Row[int, int, str, RegistrationStatus] | None:
    """The check-in itself: stamp the registration ``params`` name (``b_reg``, or
    a badge ``b_token`` of ``b_org`` and maybe ``b_event``) if it holds a seat, is
    not checked in and (with a ``b_nonce``) this scan was never seen, and record
    who made it. Returns its id, event, name and status, or None when nothing
    changed.

    Exactly once: PostgreSQL re-checks the WHERE clause after waiting for the row
    lock (READ COMMITTED); SQLite runs one writer at a time. On PostgreSQL the
    record of who checked in is written by the same statement (a data-modifying
    ``WITH``); SQLite has no such statement, and writes it by a second one.
    """
    # On the session's connection, as Core: the statement is built once and only
    # its parameters change (the hot path's CPU is mostly statement building).
    # Core skips the session's autoflush: flush what is pending (a seat just
    # given) first, so the WHERE clause sees it.
    db.session.flush()
    connection = db.session.connection()
    with_record = connection.dialect.name == "postgresql"
    stmt = _stamp_statement(
        by_badge="b_token" in params,
        with_event=params.get("b_event") is not None,
        with_nonce=params.get("b_nonce") is not None,
        with_record=with_record,
    )
    values = {**params, "b_now": now, "b_user": by_user_id, "b_link": by_link_id}
    row = connection.execute(stmt, values).first()
    if row is not None and not with_record:
        door.record_check_in(row[0], by_user_id, by_link_id)
    return row


@functools.cache
def _stamp_statement(  # parameters named b_*: a column's name would join the SET
    by_badge: bool, with_event: bool, with_nonce: bool, with_record: bool
) -> Any:
    where = [Registration.checked_in_at.is_(None), Registration.holds_seat]
    if by_badge:
        in_org = select(Event.id).where(Event.org_id == bindparam("b_org"))
        where += [
            Registration.badge_token == bindparam("b_token"),
            Registration.event_id.in_(in_org.scalar_subquery()),
        ]
    else:
        where.append(Registration.id == bindparam("b_reg"))
    if with_event:
        where.append(Registration.event_id == bindparam("b_event"))
    if with_nonce:  # a replay changes nothing, even after an undo
        where.append(~exists().where(CheckinNonce.nonce == bindparam("b_nonce")))
    stamp = Registration.__table__.c.checked_in_at
    stamped = (
        update(Registration)
        .where(*where)
        .values(checked_in_at=bindparam("b_now", type_=stamp.type))
        .returning(
            Registration.id,
            Registration.event_id,
            Registration.name,
            Registration.status,
        )
    )
    if not with_record:
        return stamped
    return door.stamped_and_recorded(stamped.cte("stamped"), stamp.type)


def _stamped(result: CheckinResult, nonce: str | None) -> CheckinResult:
    """After a check-in changed the row (and recorded who made it): the nonce."""
    signals.checked_in.send(result.registration_id)
    return _remember(nonce, result) if nonce is not None else result


def _unchanged(reg: Registration, nonce: str | None) -> CheckinResult:
    """The answer when the check-in's UPDATE changed nothing (``reg`` read after
    it): a replayed nonce's first answer, a refusal, or ``already_checked_in``."""
    if nonce is not None:
        replay = _replay(nonce, reg.id)
        if replay is not None:
            return replay
    check_can_enter(reg)  # it may have been cancelled meanwhile
    # (Undone between the UPDATE and this read: it was in when the UPDATE ran.)
    when = reg.checked_in_at or clock.now()
    result = CheckinResult.of(ScanOutcome.ALREADY_CHECKED_IN, reg, when)
    return _remember(nonce, result) if nonce is not None else result


def _replay(nonce: str, registration_id: int) -> CheckinResult | None:
    seen = db.session.scalar(select(CheckinNonce).where(CheckinNonce.nonce == nonce))
    if seen is None:
        return None
    if seen.registration_id != registration_id:
        raise CheckinError(_("This scan's nonce was already used for another badge."))
    reg = db.session.get_one(Registration, registration_id, populate_existing=True)
    when = reg.checked_in_at or seen.created_at
    return CheckinResult.of(seen.status, reg, when, replayed=True)


def _remember(nonce: str, result: CheckinResult) -> CheckinResult:
    """Store the nonce; when the same scan raced us, give its answer instead."""
    stored = insert_once(
        CheckinNonce,
        {
            "nonce": nonce,
            "registration_id": result.registration_id,
            "status": result.status,
        },
        unique=("nonce",),
    )
    if stored is None:  # the same nonce won the race (for this badge, or another)
        replay = _replay(nonce, result.registration_id)
        if replay is not None:
            return replay
    return result


def undo_check_in(reg: Registration, by_link: DoorLink | None = None) -> bool:
    """Clear a check-in (a mistaken scan); False when it was not checked in.

    ``by_link``: undone by a phone with a door link (no account), so the audit
    trail names the link."""
    changed = changed_rows(
        update(Registration)
        .where(Registration.id == reg.id, Registration.checked_in_at.is_not(None))
        .values(checked_in_at=None)
        .execution_options(synchronize_session=False)
    )
    if changed == 1:
        door.forget_check_in(reg)
    db.session.refresh(reg)
    if changed == 1:
        record(
            reg.event.org_id,
            "checkin.undone",
            f"Undid the check-in of {reg.name} at “{reg.event.title}”",
            subject=("registration", reg.id),
            details={"event_id": reg.event_id},
            actor_name=f"Door link “{by_link.label}”" if by_link else None,
        )
    return changed == 1


def registration_in(event: Event, registration_id: int) -> Registration | None:
    """A registration of ``event`` by id (manual check-in, undo), or None."""
    return db.session.scalar(
        select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )


def registration_in_org(org_id: int, registration_id: int) -> Registration | None:
    """A registration of any event of the organization, or None (API undo)."""
    return db.session.scalar(
        select(Registration)
        .join(Event)
        .where(Registration.id == registration_id, Event.org_id == org_id)
    )


def checked_in_count(event: Event) -> dict[str, int]:
    """Checked-in and registered counts for the live dashboard counter."""
    row = db.session.execute(
        select(
            func.count().filter(Registration.is_checked_in),
            func.count(Registration.id),
        ).where(Registration.event_id == event.id, Registration.holds_seat)
    ).one()
    return {"checked_in": int(row[0]), "registered": int(row[1])}


STATUS_LABELS = {
    RegistrationStatus.REGISTERED: _l("Registered"),
    RegistrationStatus.WAITLISTED: _l("Waitlisted"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
    RegistrationStatus.PENDING: _l("Unconfirmed"),
}
# Who may get "Give a seat and check in" (organizers only).
SEATABLE = (RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)


def find_people(event: Event, query: str, limit: int = 20) -> list[Registration]:
    """People of every status whose name or department matches (manual check-in)."""
    like = f"%{query.strip().lower()[:100]}%"
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                func.lower(Registration.name).like(like)
                | func.lower(func.coalesce(Registration.department, "")).like(like),
            )
            .order_by(func.lower(Registration.name), Registration.id)
            .limit(limit)
        )
    )


def search_entry(reg: Registration, may_give_seat: bool) -> dict[str, Any]:
    """One search result for the scan page: never the e-mail address."""
    return {
        "registration_id": reg.id,
        "name": reg.name,
        "department": reg.department or "",
        "status": reg.status.value,
        "status_label": str(STATUS_LABELS[reg.status]),
        "checked_in_at": reg.checked_in_at.isoformat() if reg.checked_in_at else None,
        "can_check_in": reg.holds_seat and reg.checked_in_at is None,
        "can_give_seat": may_give_seat and reg.status in SEATABLE,
    }


def give_seat_and_check_in(
    reg: Registration,
    nonce: str | None,
    *,
    over_capacity: bool,
    by_user_id: int | None,
) -> CheckinResult:
    """An organizer seats a waitlisted or unconfirmed person and checks them in
    (409 ``over_capacity`` when full and not confirmed)."""
    registrations.give_seat(reg, over_capacity=over_capacity)
    return check_in(reg, nonce, by_user_id=by_user_id)


def walk_in(
    event: Event,
    data: dict[str, Any],
    *,
    over_capacity: bool,
    by_user_id: int | None,
    by_link_id: int | None,
) -> tuple[CheckinResult, str]:
    """Register someone who turned up unannounced and check them in at once.

    ``data`` holds ``name`` (required), ``email`` and ``department``. Returns the
    check-in and the link to their badge PDF. A full event refuses (409
    ``over_capacity``) unless ``over_capacity`` (organizers only) says go on.
    """
    nonce = data.get("nonce") or None
    seen = _walk_in_sent(event, nonce)
    if seen is not None:  # the same walk-in sent again (a retry): its first answer
        return check_in(seen, nonce), badge_download_url(seen)
    values = {k: data.get(k) for k in ("name", "email", "department")}
    for key, value in values.items():
        if value is not None and not isinstance(value, str):
            raise CheckinError(
                _("%(field)s must be text.", field=key), field=key, status=400
            )
    reg = registrations.register(
        event,
        email=(values["email"] or "").strip() or None,
        source=RegistrationSource.ORGANIZER,
        name=values["name"],
        department=values["department"],
    )
    if not reg.holds_seat:
        if not over_capacity:
            raise CheckinError(
                _(
                    "The event is full (%(capacity)s seats): %(name)s can only "
                    "come in over the capacity, which an organizer decides.",
                    capacity=event.capacity,
                    name=reg.name,
                ),
                field="over_capacity",
                code="over_capacity",
            )
        registrations.give_seat(reg, over_capacity=True)
    result = check_in(reg, nonce, by_user_id=by_user_id, by_link_id=by_link_id)
    return result, badge_download_url(reg)


def _walk_in_sent(event: Event, nonce: Any) -> Registration | None:
    """The walk-in a nonce already registered at ``event``, if any."""
    if not isinstance(nonce, str) or not NONCE_RE.fullmatch(nonce):
        return None
    return db.session.scalar(
        select(Registration)
        .join(CheckinNonce, CheckinNonce.registration_id == Registration.id)
        .where(CheckinNonce.nonce == nonce, Registration.event_id == event.id)
    )


def badge_hash(token: str) -> str:
    """The hex SHA-256 of a badge token: the offline roster's key."""
    return hashlib.sha256(token.encode()).hexdigest()


ELSEWHERE_DAYS = 7


def door_roster(event: Event) -> dict[str, Any]:
    """What the scan page keeps offline: the event's people by badge hash (name,
    status, check-in) and, for the organization's events a week either side,
    only which event a badge is for."""
    regs = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    )
    window = timedelta(days=ELSEWHERE_DAYS)
    others = db.session.execute(
        select(Registration.badge_token, Event.title)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Event.org_id == event.org_id,
            Event.id != event.id,
            Event.starts_at >= event.starts_at - window,
            Event.starts_at <= event.ends_at + window,
        )
        .order_by(Event.starts_at, Registration.id)
    )
    return {
        "event_id": event.id,
        "keep_until": door.door_until(event).isoformat(),
        "entries": [
            {
                "h": badge_hash(reg.badge_token),
                "name": reg.name,
                "status": reg.status.value,
                "checked_in_at": reg.checked_in_at.isoformat()
                if reg.checked_in_at
                else None,
            }
            for reg in regs
        ],
        "elsewhere": [
            {"h": badge_hash(token), "event_title": title} for token, title in others
        ],
    }


def recent_checkins(event: Event, limit: int = 10) -> list[Registration]:
    """The latest people checked in, newest first.

    By the stamp alone: a scan the organizer may want to undo stays listed even
    if the registration was cancelled since.
    """
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.checked_in_at.is_not(None),
            )
            .order_by(Registration.checked_in_at.desc(), Registration.id.desc())
            .limit(limit)
        )
    )


class Audience(StrEnum):
    """Who opened a badge URL, and so what they may see."""

    ORGANIZER = "organizer"  # may check the person in
    ATTENDEE = "attendee"  # another registered person of the event: they met
    SELF = "self"  # their own badge
    OUTSIDER = "outsider"  # learns nothing about the person


@dataclass
class BadgeVisit:
    """Who opened a badge URL, and what they may see (a connection was recorded
    when the visitor is another attendee)."""

    audience: Audience
    registration: Registration | None = None
    mine: Registration | None = None
    connection: Connection | None = None


def visit_badge(token: str, user: Any) -> BadgeVisit:
    """Decide what opening ``/c/<token>`` shows ``user``; records a scan connection."""
    reg = badge_registration(token)
    if reg is None or not getattr(user, "is_authenticated", False):
        return BadgeVisit(Audience.OUTSIDER)
    if can_manage(reg.event, user):
        return BadgeVisit(Audience.ORGANIZER, reg)
    mine = registration_for(reg.event, user)
    if mine is None or not mine.holds_seat or not reg.holds_seat:
        return BadgeVisit(Audience.OUTSIDER)
    if mine.id == reg.id:
        return BadgeVisit(Audience.SELF, reg, mine)
    connection = connect(reg.event_id, mine.id, reg.id, ConnectionSource.SCAN)
    return BadgeVisit(Audience.ATTENDEE, reg, mine, connection)


def send_badge_sign_in(token: str, email: str) -> None:
    """E-mail a sign-in link that leads back to the badge ``token`` (where the
    scan is then recorded): to the account with this address, or to a guest with
    a place at the badge's event under it (the link then makes their account).
    Anyone else gets nothing, and the answer never says which it was."""
    try:
        address = normalise_email(email)
    except AccountError:
        return
    back = f"/c/{token}" if TOKEN_RE.fullmatch(token) else None
    if find_user(address) is not None:
        send_magic_link(address, back)
        return
    reg = badge_registration(token)
    if reg is None:
        return
    guest = db.session.scalar(
        select(Registration).where(
            Registration.event_id == reg.event_id,
            func.lower(Registration.email) == address,
            Registration.holds_seat,
        )
    )
    if guest is not None:
        send_first_sign_in_link(address, guest.name, back)
