"""The mentoring charter: writing it, asking members to read it, and who has.

A member "has read" the charter when their acknowledgement's version is the
charter's current version. An empty charter asks nothing of anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from mixer import clock
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.charter.models import Charter, CharterAck
from mixer.concurrency import insert_once, lock_row
from mixer.errors import DomainError
from mixer.extensions import db
from mixer.orgs.models import Membership, Organization

CHARTER_MAX = 20_000  # characters of Markdown


class CharterError(DomainError):
    """A charter request that cannot be met; the message is for people."""


@dataclass(frozen=True)
class Acknowledgements:
    """How many members have read the current charter, and who has not."""

    acknowledged: int
    members: int
    missing: list[Membership]


def current_version(org_id: int) -> int:
    """The charter's current version (1 until an admin asks everyone again)."""
    charter = db.session.get(Charter, org_id)
    return charter.version if charter else 1


def needs_ack(membership: Membership) -> bool:
    """Whether this member should be asked to read the charter now.

    Asked on every organization page, so one statement reads both the member's
    acknowledged version and the charter's current one."""
    if not (membership.org.charter or "").strip():
        return False
    acked, current = db.session.execute(
        select(
            select(CharterAck.version)
            .where(CharterAck.membership_id == membership.id)
            .scalar_subquery(),
            select(Charter.version)
            .where(Charter.org_id == membership.org_id)
            .scalar_subquery(),
        )
    ).one()
    return acked is None or acked < (current or 1)


def acknowledge(membership: Membership) -> CharterAck:
    """Record that the member read the current charter (again: a no-op)."""
    version = current_version(membership.org_id)
    values = {"membership_id": membership.id, "version": version}
    if insert_once(CharterAck, values, unique=("membership_id",)) is None:
        db.session.execute(
            update(CharterAck)
            .where(
                CharterAck.membership_id == membership.id,
                CharterAck.version < version,
            )
            .values(version=version, acked_at=clock.now())
        )
    db.session.expire_all()
    return db.session.get_one(CharterAck, membership.id)


def save_charter(org: Organization, text: str, ask_again: bool) -> int:
    """Change the charter's words; with ``ask_again`` every member is asked to
    read it again (its version goes up). Returns the version."""
    words = (text or "").strip()
    if len(words) > CHARTER_MAX:
        raise CharterError(
            _("The charter can have at most %(num)d characters.", num=CHARTER_MAX),
            "charter",
        )
    lock_row(Organization, org.id)  # two admins saving take turns on the version
    changed = words != (org.charter or "").strip()
    org.charter = words
    charter = db.session.get(Charter, org.id)
    if charter is None:
        charter = Charter(org_id=org.id, version=1)
        db.session.add(charter)
    if ask_again and words:
        charter.version += 1
        charter.changed_at = clock.now()
    db.session.flush()
    if changed or ask_again:
        record(
            org.id,
            "charter.changed",
            "Changed the mentoring charter"
            + (" and asked everyone to read it again" if ask_again and words else ""),
            subject=("organization", org.id),
            details={"version": charter.version},
        )
    return charter.version


def acknowledgements(org: Organization) -> Acknowledgements:
    """Who of the organization's active members has read the current charter."""
    version = current_version(org.id)
    members = db.session.scalars(
        select(Membership)
        .join(Membership.user)
        .where(Membership.org_id == org.id, User.is_active_account.is_(True))
        .options(joinedload(Membership.user))
        .order_by(func.lower(User.name), User.id)
    ).all()
    read = set(
        db.session.scalars(
            select(CharterAck.membership_id)
            .join(Membership, Membership.id == CharterAck.membership_id)
            .where(Membership.org_id == org.id, CharterAck.version >= version)
        )
    )
    missing = [m for m in members if m.id not in read]
    return Acknowledgements(len(members) - len(missing), len(members), missing)
