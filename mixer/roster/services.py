"""Check-in lists: who may keep them, the lists, their students and check-ins.

Lists exist in school-kind organizations only (``require_school``). A list
belongs to its keeper: every read and write here takes the keeper's
membership and finds only their own lists and entries, so a private note can
never be reached through anyone else (admins included).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from mixer import clock
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.concurrency import changed_rows, insert_once, lock_row
from mixer.errors import DomainError, NotFound
from mixer.extensions import db
from mixer.jobs.services import schedule
from mixer.orgs.models import Department, Membership, Organization
from mixer.roster.models import (
    LIST_NAME_MAX,
    NOTE_MAX,
    RosterCadence,
    RosterCheckin,
    RosterEntry,
    RosterList,
    RosterMentor,
)

NUDGE = "roster.nudge"  # the job kind (mixer.roster.jobs)
SEARCH_MAX = 25  # people shown for one search


class RosterError(DomainError):
    """A check-in list request that cannot be met; the message is for people."""


def require_school(org: Organization) -> None:
    """404, saying why, unless ``org`` is a school."""
    if org.kind != "school":
        raise NotFound(
            _(
                "Check-in lists are for schools, and %(org)s is not set up as a "
                "school. An admin can change the kind of organization in its "
                "settings.",
                org=org.name,
            )
        )


def is_student_mentor(membership: Membership) -> bool:
    """Whether an admin named this member a student mentor."""
    return db.session.get(RosterMentor, membership.id) is not None


def may_keep_lists(membership: Membership) -> bool:
    """Teachers (organizers and admins) and named student mentors keep lists."""
    return membership.has_role("organizer") or is_student_mentor(membership)


def require_keeper(membership: Membership) -> None:
    """403, saying why, unless this member may keep check-in lists."""
    if not may_keep_lists(membership):
        raise RosterError(
            _(
                "Check-in lists are kept by teachers (organizers and admins) and by "
                "the student mentors an admin names."
            ),
            status=403,
        )


# ---------------------------------------------------------------------------
# Student mentors (admins)


def student_mentors(org: Organization) -> list[Membership]:
    """The members named student mentors, by name."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(RosterMentor, RosterMentor.membership_id == Membership.id)
            .join(Membership.user)
            .where(RosterMentor.org_id == org.id)
            .options(joinedload(Membership.user))
            .order_by(func.lower(User.name), User.id)
        )
    )


def set_student_mentor(org: Organization, membership: Membership, on: bool) -> None:
    """Name a member a student mentor, or take it back (their lists go with it)."""
    if membership.org_id != org.id:
        raise NotFound(_("That member is not in this organization."))
    if on:
        if insert_once(
            RosterMentor,
            {"membership_id": membership.id, "org_id": org.id},
            unique=("membership_id",),
        ):
            record(
                org.id,
                "roster.mentor_named",
                f"Named {membership.user.name} a student mentor",
                subject=("membership", membership.id),
            )
        return
    gone = changed_rows(
        delete(RosterMentor).where(RosterMentor.membership_id == membership.id)
    )
    if gone and not membership.has_role("organizer"):
        db.session.execute(
            delete(RosterList).where(RosterList.owner_id == membership.id)
        )
    if gone:
        record(
            org.id,
            "roster.mentor_removed",
            f"Took back {membership.user.name}'s student mentor role",
            subject=("membership", membership.id),
        )
    db.session.expire_all()


# ---------------------------------------------------------------------------
# Lists


def clean_name(name: str | None) -> str:
    """A list's name: spaces collapsed, 1–80 characters."""
    text = " ".join((name or "").split())
    if not text:
        raise RosterError(_("Give the list a name, such as a class."), "name")
    if len(text) > LIST_NAME_MAX:
        raise RosterError(
            _("A list name can have at most %(num)d characters.", num=LIST_NAME_MAX),
            "name",
        )
    return text


def lists_of(keeper: Membership) -> list[RosterList]:
    """The keeper's lists with their students (and each student's account)."""
    return list(
        db.session.scalars(
            select(RosterList)
            .where(RosterList.owner_id == keeper.id)
            .options(
                selectinload(RosterList.entries)
                .joinedload(RosterEntry.student)
                .options(joinedload(Membership.user), joinedload(Membership.department))
            )
            .order_by(func.lower(RosterList.name), RosterList.id)
        )
    )


def get_list(keeper: Membership, list_id: int) -> RosterList:
    """One of the keeper's own lists; 404 for any other."""
    roster_list = db.session.get(RosterList, list_id)
    if roster_list is None or roster_list.owner_id != keeper.id:
        raise NotFound(_("There is no such check-in list of yours."))
    return roster_list


def create_list(keeper: Membership, name: str, cadence: str) -> RosterList:
    """A new, empty list of the keeper's."""
    require_keeper(keeper)
    text = clean_name(name)
    if db.session.scalar(
        select(RosterList.id).where(
            RosterList.owner_id == keeper.id, RosterList.name == text
        )
    ):
        raise RosterError(_("You already have a list of that name."), "name")
    roster_list = RosterList(
        org_id=keeper.org_id,
        owner_id=keeper.id,
        name=text,
        cadence=RosterCadence(cadence),
    )
    db.session.add(roster_list)
    db.session.flush()
    return roster_list


def update_list(roster_list: RosterList, name: str, cadence: str) -> None:
    """Rename a list or change its cadence (the nudges follow the new cadence)."""
    text = clean_name(name)
    clash = db.session.scalar(
        select(RosterList.id).where(
            RosterList.owner_id == roster_list.owner_id,
            RosterList.name == text,
            RosterList.id != roster_list.id,
        )
    )
    if clash:
        raise RosterError(_("You already have a list of that name."), "name")
    changed = roster_list.cadence != RosterCadence(cadence)
    roster_list.name = text
    roster_list.cadence = RosterCadence(cadence)
    db.session.flush()
    if changed:
        for entry in roster_list.entries:
            plan_nudge(entry)


def delete_list(roster_list: RosterList) -> None:
    """Delete a list with its check-ins and notes."""
    db.session.delete(roster_list)
    db.session.flush()


def _like(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, its wildcards escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_members(
    org: Organization, query: str = "", department_id: int | None = None, *conditions
) -> list[Membership]:
    """Active members by part of their name or e-mail, or by department."""
    term = " ".join((query or "").split()).lower()
    if not term and department_id is None:
        return []
    stmt = (
        select(Membership)
        .join(Membership.user)
        .where(Membership.org_id == org.id, User.is_active_account.is_(True))
        .where(*conditions)
        .options(joinedload(Membership.user), joinedload(Membership.department))
        .order_by(func.lower(User.name), User.id)
        .limit(SEARCH_MAX)
    )
    if term:
        pattern = _like(term)
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if department_id is not None:
        stmt = stmt.where(Membership.department_id == department_id)
    return list(db.session.scalars(stmt))


def find_students(
    roster_list: RosterList, query: str = "", department_id: int | None = None
) -> list[Membership]:
    """Members not yet on the list, by part of their name or by department."""
    on_list = select(RosterEntry.student_id).where(
        RosterEntry.list_id == roster_list.id
    )
    return find_members(
        roster_list.owner.org,
        query,
        department_id,
        Membership.id != roster_list.owner_id,
        Membership.id.not_in(on_list),
    )


def add_students(roster_list: RosterList, membership_ids: list[int]) -> int:
    """Put these members of the list's organization on it; how many were new."""
    members = db.session.scalars(
        select(Membership).where(
            Membership.id.in_(membership_ids),
            Membership.org_id == roster_list.org_id,
            Membership.id != roster_list.owner_id,
        )
    ).all()
    added = 0
    for member in members:
        entry_id = insert_once(
            RosterEntry,
            {
                "list_id": roster_list.id,
                "student_id": member.id,
                "added_at": clock.now(),
            },
            unique=("list_id", "student_id"),
        )
        if entry_id is not None:
            added += 1
            plan_nudge(db.session.get_one(RosterEntry, entry_id))
    db.session.expire(roster_list, ["entries"])
    return added


def add_department(roster_list: RosterList, department_id: int) -> int:
    """Put every member of a department (a class) on the list; how many were new."""
    department = db.session.get(Department, department_id)
    if department is None or department.org_id != roster_list.org_id:
        raise RosterError(_("Choose a class or department."), "department")
    ids = db.session.scalars(
        select(Membership.id).where(Membership.department_id == department.id)
    ).all()
    return add_students(roster_list, list(ids))


def get_entry(keeper: Membership, entry_id: int) -> RosterEntry:
    """One student on one of the keeper's own lists; 404 for anyone else's."""
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None or entry.roster_list.owner_id != keeper.id:
        raise NotFound(_("There is no such student on your check-in lists."))
    return entry


def remove_student(place: RosterEntry) -> None:
    """Take a student off a list, with the check-ins and notes about them there."""
    db.session.delete(place)
    db.session.flush()


# ---------------------------------------------------------------------------
# Check-ins


def check_in(
    keeper: Membership, entry_id: int, note: str | None = None
) -> RosterCheckin:
    """Record a check-in with a student now, with an optional private note.

    The entry is locked first so that two taps (two phones) record two check-ins
    in order and ``last_checkin_at`` is the later one.
    """
    entry = lock_row(RosterEntry, entry_id)
    if entry is None or entry.roster_list.owner_id != keeper.id:
        raise NotFound(_("There is no such student on your check-in lists."))
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise RosterError(
            _("A note can have at most %(num)d characters.", num=NOTE_MAX), "note"
        )
    now = clock.now()
    checkin = RosterCheckin(entry=entry, at=now, note=text or None)
    db.session.add(checkin)
    entry.last_checkin_at = now
    db.session.flush()
    plan_nudge(entry)
    return checkin


def by_longest_wait(entries: list[RosterEntry]) -> list[RosterEntry]:
    """Whom the keeper has not checked in with for longest first."""
    return sorted(entries, key=lambda e: (e.since, e.student.user.name.lower()))


def history(entry: RosterEntry, limit: int = 100) -> list[RosterCheckin]:
    """The entry's check-ins, latest first."""
    return list(
        db.session.scalars(
            select(RosterCheckin)
            .where(RosterCheckin.entry_id == entry.id)
            .order_by(RosterCheckin.at.desc(), RosterCheckin.id.desc())
            .limit(limit)
        )
    )


def plan_nudge(entry: RosterEntry) -> None:
    """Schedule the nudge for this spell without a check-in (once: its key names
    the entry, the spell's start and the cadence)."""
    cadence = entry.roster_list.cadence
    schedule(
        NUDGE,
        {"entry_id": entry.id, "since": clock.stamp(entry.since), "cadence": cadence},
        run_at=entry.nudge_at(),
        dedupe_key=f"{NUDGE}:{entry.id}:{clock.stamp(entry.since)}:{cadence}",
        org_id=entry.roster_list.org_id,
    )


# ---------------------------------------------------------------------------
# For students


def mentors_of(membership: Membership) -> list[Membership]:
    """Who keeps this student on a check-in list: their mentors, by name."""
    keepers = (
        select(RosterList.owner_id)
        .join(RosterEntry, RosterEntry.list_id == RosterList.id)
        .where(RosterEntry.student_id == membership.id)
    )
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.id.in_(keepers))
            .options(joinedload(Membership.user))
            .order_by(func.lower(User.name), Membership.id)
        )
    )


def overdue(entries: list[RosterEntry], now: datetime | None = None) -> int:
    """How many of these entries are overdue."""
    moment = now or clock.now()
    return sum(1 for e in entries if e.state(moment) == "overdue")
