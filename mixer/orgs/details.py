"""A member's place in the organization beyond role and department: their manager
(another member), location and languages.

A mixer never seats anyone with their own manager or direct report, prefers a
shared language at a table and may prefer or avoid the same location
(``mixer/rotations``), so these rules keep the data it reads sound: a manager is a
member of the same organization, never the person themself, and reporting lines
never loop (A → B → A).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from mixer.accounts.models import User
from mixer.accounts.services import AccountError, normalise_email
from mixer.audit.services import changes as changed_fields
from mixer.audit.services import record
from mixer.concurrency import lock_row
from mixer.errors import FieldProblems
from mixer.extensions import db
from mixer.orgs.models import (
    Membership,
    Organization,
    OrgError,
    clean_languages,
    clean_location,
)

# How many people a "which one did you mean?" message names at most.
CANDIDATES_SHOWN = 5
# Up to this many members, the manager field offers everyone in a datalist;
# larger organizations type a name or e-mail (the server finds the person).
MANAGER_CHOICES_MAX = 300


def _member_by_email(org: Organization, address: str) -> Membership | None:
    return db.session.scalar(
        select(Membership)
        .join(Membership.user)
        .where(Membership.org_id == org.id, User.email == address)
    )


def _as_email(term: str) -> str | None:
    """``term`` as an e-mail address, or None when it is not one (part of one is
    searched for like a name)."""
    if "@" not in term:
        return None
    try:
        return normalise_email(term)
    except AccountError:
        return None


def find_manager(org: Organization, text: str | None) -> Membership | None:
    """The member of ``org`` that ``text`` names (an e-mail, or a name that only one
    member has, or part of one); None for a blank text.

    Refuses an unknown e-mail, a name nobody has, and a name several members share
    (the message names them by e-mail, so the admin can type the right one).
    """
    term = " ".join((text or "").split())
    if not term:
        return None
    address = _as_email(term)
    if address is not None:
        found = _member_by_email(org, address)
        if found is None:
            raise OrgError(
                _(
                    "No member of %(org)s has the e-mail %(email)s.",
                    org=org.name,
                    email=address,
                ),
                "manager",
            )
        return found
    exact = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.org_id == org.id, func.lower(User.name) == term.lower())
            .order_by(User.id)
            .limit(CANDIDATES_SHOWN + 1)
        )
    )
    candidates = exact or list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(
                Membership.org_id == org.id,
                or_(
                    func.lower(User.name).contains(term.lower(), autoescape=True),
                    func.lower(User.email).contains(term.lower(), autoescape=True),
                ),
            )
            .order_by(func.lower(User.name), User.id)
            .limit(CANDIDATES_SHOWN + 1)
        )
    )
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise OrgError(
            _("No member of %(org)s is called “%(term)s”.", org=org.name, term=term),
            "manager",
        )
    named = ", ".join(
        f"{m.user.name} ({m.user.email})" for m in candidates[:CANDIDATES_SHOWN]
    )
    if len(candidates) > CANDIDATES_SHOWN:
        message = _(
            "Several members match “%(term)s”: %(named)s and others. Type the "
            "e-mail of the one you mean.",
            term=term,
            named=named,
        )
    else:
        message = _(
            "Several members match “%(term)s”: %(named)s. Type the e-mail of the "
            "one you mean.",
            term=term,
            named=named,
        )
    raise OrgError(message, "manager")


def reporting_line(membership: Membership) -> list[Membership]:
    """The membership's managers, nearest first (stops at a loop, which the rules
    below never let in)."""
    chain: list[Membership] = []
    seen = {membership.id}
    current = membership.manager
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = current.manager
    return chain


def set_manager(membership: Membership, manager: Membership | None) -> Membership:
    """Give ``membership`` the manager ``manager`` (None: no manager).

    Refuses the person themself, a member of another organization and a loop in
    the reporting lines (A's manager is B, whose manager is … A). Changes of the
    reporting lines in one organization take turns (the organization's row is
    locked), so two admins cannot close a loop between them at the same moment.
    """
    if manager is None:
        membership.manager = None
        db.session.flush()
        return membership
    if manager.org_id != membership.org_id:
        raise OrgError(
            _(
                "%(name)s is not a member of %(org)s.",
                name=manager.user.name,
                org=membership.org.name,
            ),
            "manager",
        )
    if manager.id == membership.id:
        raise OrgError(_("A member cannot be their own manager."), "manager")
    if membership.manager_id == manager.id:
        return membership
    # Read the reporting lines only after taking the turn: what was read before
    # may be another admin's old news.
    lock_row(Organization, membership.org_id, expire_all=True)
    line = reporting_line(manager)
    if any(m.id == membership.id for m in line):
        loop = [membership, manager]
        for above in line:
            loop.append(above)
            if above.id == membership.id:
                break
        names = " → ".join(m.user.name for m in loop)
        raise OrgError(
            _(
                "%(manager)s reports to %(name)s already (%(names)s): reporting "
                "lines cannot go round in a circle.",
                manager=manager.user.name,
                name=membership.user.name,
                names=names,
            ),
            "manager",
        )
    membership.manager = manager
    db.session.flush()
    return membership


def known_location(
    org: Organization, location: str | None, member_id: int | None = None
) -> str | None:
    """``location`` cleaned, spelt as another member of ``org`` (not
    ``member_id``) already spells it when it differs only in case ("berlin"
    becomes "Berlin"), so that one place has one name for the planner to compare."""
    text = clean_location(location)
    if text is None:
        return None
    same = db.session.scalar(
        select(Membership.location)
        .where(
            Membership.org_id == org.id,
            Membership.id != (member_id or 0),
            func.lower(Membership.location) == text.lower(),
        )
        .order_by(Membership.id)
        .limit(1)
    )
    return same or text


def set_location(membership: Membership, location: str | None) -> Membership:
    """Set where the member works (a site, campus or city); blank clears it."""
    membership.location = known_location(membership.org, location, membership.id)
    db.session.flush()
    return membership


def set_languages(
    membership: Membership, languages: str | list[str] | None
) -> Membership:
    """Set the languages the member speaks (``clean_languages``); blank clears."""
    membership.languages = clean_languages(languages)
    db.session.flush()
    return membership


def locations(org: Organization) -> list[str]:
    """The locations members of ``org`` have, alphabetically (for a datalist)."""
    return list(
        db.session.scalars(
            select(Membership.location)
            .where(Membership.org_id == org.id, Membership.location.is_not(None))
            .distinct()
            .order_by(Membership.location)
        )
    )


def manager_choices(org: Organization) -> list[tuple[str, str]]:
    """(e-mail, name) of every member, by name, for the manager field's datalist;
    empty for an organization too large to list (people type instead)."""
    rows = db.session.execute(
        select(User.email, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id)
        .order_by(func.lower(User.name), User.id)
        .limit(MANAGER_CHOICES_MAX + 1)
    ).all()
    if len(rows) > MANAGER_CHOICES_MAX:
        return []
    return [(email, name) for email, name in rows]


def direct_reports(membership: Membership) -> list[Membership]:
    """The members whose manager ``membership`` is, by name."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.manager_id == membership.id)
            .order_by(func.lower(User.name), User.id)
        )
    )


# What the API's PATCH of a member may change, and who may: admins anything, a
# member the mentoring fields of their own membership.
ADMIN_FIELDS = ("manager_id", "location", "languages")
OWN_FIELDS = ("mentoring_capacity", "available_from")


def update_member(
    membership: Membership, acting: Membership, changes: dict[str, Any]
) -> Membership:
    """Change the fields ``changes`` names (``ADMIN_FIELDS``, ``OWN_FIELDS``);
    every refusal at once, each naming its field.

    An admin may change any of them on any member; anyone may change their own
    mentoring capacity and "not before" date (403 for anything else).
    """
    allowed = set(OWN_FIELDS) if membership.id == acting.id else set()
    if acting.has_role("admin"):
        allowed |= {*ADMIN_FIELDS, *OWN_FIELDS}
    refused = [name for name in changes if name not in allowed]
    if refused:
        fields = ", ".join(refused)
        raise OrgError(
            _("Only an admin may change %(fields)s of another member.", fields=fields)
            if membership.id != acting.id
            else _("Only an admin may change %(fields)s.", fields=fields),
            refused[0],
            status=403,
        )
    before = member_snapshot(membership)
    problems = FieldProblems()
    if "manager_id" in changes:
        with problems.check():
            _set_manager_by_id(membership, changes["manager_id"])
    if "location" in changes:
        with problems.check():
            set_location(membership, changes["location"])
    if "languages" in changes:
        with problems.check():
            set_languages(membership, changes["languages"])
    if OWN_FIELDS[0] in changes or OWN_FIELDS[1] in changes:
        capacity = changes.get("mentoring_capacity", membership.mentoring_capacity)
        available: date | None = changes.get(
            "available_from", membership.available_from
        )
        with problems.check():
            membership.update_mentoring(capacity, available)
    problems.raise_any()
    record_member_changes(membership, before)  # an admin's fields only
    return membership


def _set_manager_by_id(membership: Membership, manager_id: int | None) -> None:
    """``set_manager`` with the member ``manager_id`` of the same organization
    (None: no manager); refusals name the API's field, ``manager_id``."""
    manager = None
    if manager_id is not None:
        manager = db.session.get(Membership, manager_id)
        if manager is None or manager.org_id != membership.org_id:
            raise OrgError(
                _("No member %(id)s in this organization.", id=manager_id),
                "manager_id",
            )
    try:
        set_manager(membership, manager)
    except OrgError as exc:
        raise OrgError(exc.message, "manager_id") from exc


def member_snapshot(membership: Membership) -> dict[str, Any]:
    """What an admin may change about a member, for the audit trail's
    before/after (the manager by membership id: no names kept)."""
    return {
        "department": membership.department.name if membership.department else None,
        "level": membership.level,
        "manager_id": membership.manager_id,
        "location": membership.location,
        "languages": list(membership.languages or []),
    }


def record_member_changes(membership: Membership, before: dict[str, Any]) -> None:
    """Record an admin's change of a member's details, if anything changed."""
    changed = changed_fields(before, member_snapshot(membership))
    if not changed:
        return
    record(
        membership.org_id,
        "member.updated",
        f"Changed {membership.user.name}'s {', '.join(changed)}",
        subject=("membership", membership.id),
        details={"user_id": membership.user_id, "changes": changed},
    )
