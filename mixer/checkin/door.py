"""Door volunteers: door helpers (members who may scan one event) and door links
(a revocable link that opens one event's scan page on any phone, no account).

Neither may manage the event: they check people in, undo their own check-ins,
search by name (no e-mail addresses) and add walk-ins. ``mixer.checkin.access``
decides who is at the door; this module holds the rules and the records.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, delete, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import joinedload

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.checkin.models import CheckinRecord, DoorHelper, DoorLink
from mixer.concurrency import insert_once, upsert
from mixer.errors import DomainError, LinkError
from mixer.events.models import Event, EventStatus, Registration
from mixer.extensions import db
from mixer.orgs.models import Membership
from mixer.urls import absolute_url

DOOR_PURPOSE = "door-link"
# A door link, a door session and the scan page's offline roster last until the
# event's end plus this much (people leave late; the queue syncs afterwards).
DOOR_GRACE = timedelta(hours=6)


class DoorError(DomainError):
    """A door helper or door link that cannot be added, used or changed."""


def door_until(event: Event) -> datetime:
    """When the event's door links, door sessions and offline roster end."""
    return event.ends_at + DOOR_GRACE


# ---------------------------------------------------------------------------
# Door helpers


def helpers(event: Event) -> list[DoorHelper]:
    """The event's door helpers, by name."""
    return list(
        db.session.scalars(
            select(DoorHelper)
            .join(User, User.id == DoorHelper.user_id)
            .where(DoorHelper.event_id == event.id)
            .order_by(User.name, DoorHelper.id)
        )
    )


def is_helper(event: Event, user: Any) -> bool:
    """Whether ``user`` is a door helper of ``event``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(DoorHelper.id).where(
                DoorHelper.event_id == event.id, DoorHelper.user_id == user.id
            )
        )
        is not None
    )


def helper_candidates(event: Event) -> list[User]:
    """Members of the event's organization who are not door helpers yet."""
    taken = select(DoorHelper.user_id).where(DoorHelper.event_id == event.id)
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == event.org_id, User.id.not_in(taken))
            .order_by(User.name, User.id)
        )
    )


def add_helper(event: Event, user_id: int | None, by: User) -> DoorHelper:
    """Make a member of the event's organization a door helper (once)."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.membership_in(event.org) is None:
        raise DoorError(
            _("Pick a member of the organization."), field="user_id", status=400
        )
    helper_id = insert_once(
        DoorHelper,
        {"event_id": event.id, "user_id": user.id, "added_by_id": by.id},
        unique=("event_id", "user_id"),
    )
    if helper_id is None:
        raise DoorError(
            _("%(name)s is already a door helper.", name=user.name),
            field="user_id",
            status=409,
        )
    record(
        event.org_id,
        "door.helper_added",
        f"Made {user.name} a door helper of “{event.title}”",
        subject=("door_helper", helper_id),
        details={"event_id": event.id, "user_id": user.id},
        actor=by,
    )
    return db.session.get_one(DoorHelper, helper_id)


def remove_helper(event: Event, helper_id: int) -> str:
    """Remove a door helper of ``event``; returns their name (404 when none)."""
    helper = db.session.scalar(
        select(DoorHelper).where(
            DoorHelper.id == helper_id, DoorHelper.event_id == event.id
        )
    )
    if helper is None:
        raise DoorError(_("No such door helper."), status=404)
    name = helper.user.name
    record(
        event.org_id,
        "door.helper_removed",
        f"Removed {name} as a door helper of “{event.title}”",
        subject=("door_helper", helper.id),
        details={"event_id": event.id, "user_id": helper.user_id},
    )
    db.session.delete(helper)
    db.session.flush()
    return name


# ---------------------------------------------------------------------------
# Door links


def create_link(event: Event, label: str | None, by: User | None) -> DoorLink:
    """A new door link for ``event`` (labelled, e.g. "Front desk")."""
    text = " ".join((label or "").split())
    if not text:
        raise DoorError(_("Give the link a name, e.g. Front desk."), field="label")
    if len(text) > 60:
        raise DoorError(_("At most 60 characters."), field="label")
    if event.status == EventStatus.CANCELLED or clock.now() >= door_until(event):
        raise DoorError(
            _("This event is over or cancelled: no door link."),
            field="label",
            status=409,
        )
    link = DoorLink(
        event_id=event.id,
        label=text,
        key=secrets.token_urlsafe(16),
        created_by_id=by.id if by else None,
    )
    db.session.add(link)
    db.session.flush()
    record(
        event.org_id,
        "door.link_created",
        f"Created the door link “{text}” for “{event.title}”",
        subject=("door_link", link.id),
        details={"event_id": event.id},
        actor=by,
    )
    return link


def links(event: Event) -> list[DoorLink]:
    """The event's door links that still work, oldest first."""
    return list(
        db.session.scalars(
            select(DoorLink)
            .where(DoorLink.event_id == event.id, DoorLink.revoked_at.is_(None))
            .order_by(DoorLink.id)
        )
    )


def link_of(event: Event, link_id: int) -> DoorLink:
    """A door link of ``event`` (404 when none)."""
    link = db.session.scalar(
        select(DoorLink).where(DoorLink.id == link_id, DoorLink.event_id == event.id)
    )
    if link is None:
        raise DoorError(_("No such door link."), status=404)
    return link


def revoke_link(link: DoorLink) -> None:
    """Stop a door link at once: its door sessions end with their next request."""
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        db.session.flush()
        event = db.session.get_one(Event, link.event_id)
        record(
            event.org_id,
            "door.link_revoked",
            f"Revoked the door link “{link.label}” of “{event.title}”",
            subject=("door_link", link.id),
            details={"event_id": event.id},
        )


def reissue_link(link: DoorLink, by: User | None) -> DoorLink:
    """Revoke ``link`` and make a new one with the same name (a lost phone)."""
    revoke_link(link)
    return create_link(db.session.get_one(Event, link.event_id), link.label, by)


def link_token(link: DoorLink) -> str:
    """The signed secret in a door link's URL."""
    return tokens.make(DOOR_PURPOSE, {"l": link.id, "k": link.key})


def link_url(link: DoorLink) -> str:
    """The absolute address a door link's QR code holds."""
    return absolute_url("checkin.door", token=link_token(link))


def link_problem(link: DoorLink | None) -> str | None:
    """Why a door link does not work now, or None when it does."""
    if link is None or link.revoked_at is not None:
        return _("This door link was revoked. Ask the organizer for a new one.")
    event = db.session.get(Event, link.event_id)
    if event is None or event.status == EventStatus.CANCELLED:
        return _("This event was cancelled.")
    if clock.now() >= door_until(event):
        return _("This event is over: its door link no longer works.")
    return None


def read_link(token: str) -> DoorLink:
    """The door link behind a door URL, checked (``LinkError`` when unusable)."""
    title = _("This door link cannot be used")
    data = tokens.read(DOOR_PURPOSE, token, title=title)
    link = db.session.get(DoorLink, data.get("l")) if data.get("l") else None
    if link is not None and not secrets.compare_digest(
        str(data.get("k", "")), link.key
    ):
        link = None
    if link is None:
        raise LinkError("invalid", _("This door link is not valid."), title=title)
    problem = link_problem(link)
    if problem:
        raise LinkError("expired", problem, title=title)
    return link


def session_link(data: Any, event_id: int) -> DoorLink | None:
    """The door link a door session (``{"l", "k"}``) holds for ``event_id``, if it
    still works; None otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get("l"), int):
        return None
    link = db.session.get(DoorLink, data["l"])
    if link is None or link.event_id != event_id:
        return None
    if not secrets.compare_digest(str(data.get("k", "")), link.key):
        return None
    return None if link_problem(link) else link


# ---------------------------------------------------------------------------
# Who checked people in


def record_check_in(
    registration_id: int, user_id: int | None, door_link_id: int | None
) -> None:
    """Remember who checked a registration in (called once its check-in changed
    the row); one statement, replacing any record left from before."""
    upsert(
        CheckinRecord,
        {
            "registration_id": registration_id,
            "user_id": user_id,
            "door_link_id": door_link_id,
            "created_at": clock.now(),
        },
        unique=("registration_id",),
    )


def stamped_and_recorded(stamped: Any, stamp_type: Any) -> Any:
    """PostgreSQL: one statement that runs the check-in's ``UPDATE … RETURNING``
    (the CTE ``stamped``) and records who made it (parameters ``b_user``,
    ``b_link``, ``b_now``) for the row it changed, answering the UPDATE's row.
    What :func:`record_check_in` writes, in the same statement."""
    columns = ["registration_id", "user_id", "door_link_id", "created_at"]
    record = postgresql.insert(CheckinRecord).from_select(
        columns,
        select(
            stamped.c.id,
            bindparam("b_user", type_=Integer),
            bindparam("b_link", type_=Integer),
            bindparam("b_now", type_=stamp_type),
        ),
    )
    record = record.on_conflict_do_update(
        index_elements=["registration_id"],
        set_={name: record.excluded[name] for name in columns[1:]},
    )
    return select(
        stamped.c.id, stamped.c.event_id, stamped.c.name, stamped.c.status
    ).add_cte(record.cte("recorded"))


def forget_check_in(reg: Registration) -> None:
    """An undone check-in was made by nobody."""
    db.session.execute(
        delete(CheckinRecord).where(CheckinRecord.registration_id == reg.id)
    )


def record_of(reg: Registration) -> CheckinRecord | None:
    """Who checked ``reg`` in, when recorded."""
    return db.session.get(CheckinRecord, reg.id)


def made_by(
    record: CheckinRecord | None, user_id: int | None, door_link_id: int | None
) -> bool:
    """Whether the check-in ``record`` was made by this person or door link."""
    if record is None:
        return False
    if user_id is not None and record.user_id == user_id:
        return True
    return door_link_id is not None and record.door_link_id == door_link_id


def who_text(record: CheckinRecord | None) -> str:
    """ "by Ada", "by door link “Front desk”", or "" when unknown."""
    if record is None:
        return ""
    if record.user is not None:
        return _("by %(name)s", name=record.user.name)
    if record.door_link is not None:
        return _("by door link “%(label)s”", label=record.door_link.label)
    return ""


def records_of(regs: list[Registration]) -> dict[int, CheckinRecord]:
    """Who checked each of ``regs`` in (with the person or link), in one query."""
    ids = [reg.id for reg in regs]
    if not ids:
        return {}
    records = db.session.scalars(
        select(CheckinRecord)
        .where(CheckinRecord.registration_id.in_(ids))
        .options(joinedload(CheckinRecord.user), joinedload(CheckinRecord.door_link))
    )
    return {record.registration_id: record for record in records}


def who_checked_in(regs: list[Registration]) -> dict[int, str]:
    """``who_text`` of each registration, by id, in one query."""
    return {reg_id: who_text(rec) for reg_id, rec in records_of(regs).items()}


def undoable(
    regs: list[Registration], user_id: int | None, door_link_id: int | None
) -> set[int]:
    """The ids among ``regs`` whose check-in this person or door link made."""
    return {
        reg_id
        for reg_id, record in records_of(regs).items()
        if made_by(record, user_id, door_link_id)
    }
