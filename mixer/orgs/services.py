"""Organizations: creation, departments, members, invitations.

The CSV import is ``mixer.orgs.importing``; managers, locations and languages
are ``mixer.orgs.details``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from mixer import clock, signals, tokens
from mixer.accounts.models import ApiToken, User
from mixer.accounts.services import (
    check_password_rules,
    get_or_create_user,
    normalise_email,
    normalise_tags,
    set_password,
)
from mixer.audit.services import changes, record
from mixer.errors import FieldProblems, LinkError
from mixer.extensions import db
from mixer.i18n import LANGUAGE_NAMES, recipient_locale, supported
from mixer.mail.services import queue_mail
from mixer.orgs.details import (
    find_manager,
    member_snapshot,
    record_member_changes,
    set_languages,
    set_location,
    set_manager,
)
from mixer.orgs.models import (
    ORG_KINDS,
    ROLES,
    Department,
    Invitation,
    Membership,
    Organization,
    OrgError,
    clean_level,
)
from mixer.urls import absolute_url

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
INVITATION_TITLE = _l("This invitation cannot be used")
RESERVED_SLUGS = {"api", "admin", "static", "login", "logout", "new", "o", "events"}


def get_org(slug: str) -> Organization:
    """The organization with ``slug``, or OrgError."""
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise OrgError(_("No organization with slug %(slug)r.", slug=slug), "slug")
    return org


def create_organization(
    slug: str, name: str, kind: str = "company", charter: str = ""
) -> Organization:
    """Create a tenant after checking its slug is well-formed and free."""
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise OrgError(
            _("A slug is 1–60 lower-case letters, digits or dashes, not reserved."),
            "slug",
        )
    if kind not in ORG_KINDS:
        raise OrgError(
            _("Kind must be one of %(kinds)s.", kinds=", ".join(ORG_KINDS)), "kind"
        )
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise OrgError(_("A name of 1–120 characters is needed."), "name")
    if db.session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise OrgError(_("The slug %(slug)r is taken.", slug=slug), "slug")
    org = Organization(slug=slug, name=name, kind=kind, charter=charter or "")
    db.session.add(org)
    db.session.flush()
    return org


def update_organization(
    org: Organization, name: str, kind: str, charter: str
) -> Organization:
    """Change an organization's name, kind and mentoring charter."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise OrgError(_("A name of 1–120 characters is needed."), "name")
    if kind not in ORG_KINDS:
        raise OrgError(
            _("Kind must be one of %(kinds)s.", kinds=", ".join(ORG_KINDS)), "kind"
        )
    before = {"name": org.name, "kind": org.kind, "charter": org.charter}
    org.name, org.kind, org.charter = name, kind, charter or ""
    db.session.flush()
    changed = changes(before, {"name": name, "kind": kind, "charter": org.charter})
    if changed:
        if "charter" in changed:  # long Markdown: that it changed is enough
            changed["charter"] = ["(before)", "(changed)"]
        record(
            org.id,
            "org.settings_changed",
            f"Changed the organization's {', '.join(changed)}",
            subject=("organization", org.id),
            details={"changes": changed},
        )
    return org


def set_default_locale(org: Organization, locale: str) -> bool:
    """Set the organization's default language (one of ``mixer.i18n.SUPPORTED``)
    and record the change (``org.language_changed``); False when unchanged."""
    if not supported(locale):
        raise OrgError(_("Choose a language from the list."), "default_locale")
    before = org.default_locale
    if locale == before:
        return False
    org.default_locale = locale
    record(
        org.id,
        "org.language_changed",
        f"Default language changed from {LANGUAGE_NAMES.get(before, before)} "
        f"to {LANGUAGE_NAMES[locale]}",
        subject=("organization", org.id),
        details={"from": before, "to": locale},
    )
    db.session.flush()
    return True


def add_department(org: Organization, name: str) -> Department:
    """Add a department; a name already in use (any case) is refused."""
    clean = " ".join((name or "").split())
    if not clean:
        raise OrgError(_("A department needs a name."), "name")
    if any(d.name.lower() == clean.lower() for d in org.departments):
        raise OrgError(
            _("There is already a department called %(name)r.", name=clean), "name"
        )
    if len(clean) > 80:
        raise OrgError(_("A department name can have at most 80 characters."), "name")
    dept = Department(org=org, name=clean)
    db.session.add(dept)
    db.session.flush()
    record(
        org.id,
        "department.added",
        f"Added the department {clean}",
        subject=("department", dept.id),
    )
    return dept


def rename_department(dept: Department, name: str | None) -> Department:
    """Rename a department; its members move with it."""
    clean = " ".join((name or "").split())
    if not clean:
        raise OrgError(_("A department needs a name."), "name")
    if len(clean) > 80:
        raise OrgError(_("A department name can have at most 80 characters."), "name")
    for other in dept.org.departments:
        if other.id != dept.id and other.name.lower() == clean.lower():
            raise OrgError(
                _("There is already a department called %(name)r.", name=other.name),
                "name",
            )
    before = dept.name
    dept.name = clean
    db.session.flush()
    if before != clean:
        record(
            dept.org_id,
            "department.renamed",
            f"Renamed the department {before} to {clean}",
            subject=("department", dept.id),
            details={"changes": {"name": [before, clean]}},
        )
    return dept


def get_department(org: Organization, dept_id: int) -> Department | None:
    """A department of ``org`` by id; another organization's counts as missing."""
    dept = db.session.get(Department, dept_id)
    return dept if dept is not None and dept.org_id == org.id else None


def get_membership(org: Organization, membership_id: int) -> Membership | None:
    """A membership of ``org`` by id; another organization's counts as missing."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.org_id != org.id:
        return None
    return membership


def get_invitation(org: Organization, invitation_id: int) -> Invitation | None:
    """An invitation of ``org`` by id; another organization's counts as missing."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != org.id:
        return None
    return invitation


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_members(
    org: Organization, query: str = "", page: int = 1, per_page: int = 25
) -> Pagination:
    """One page of ``org``'s members by name, optionally filtered by name or e-mail."""
    stmt = (
        select(Membership)
        .join(Membership.user)
        .where(Membership.org_id == org.id)
        .options(
            joinedload(Membership.user),
            joinedload(Membership.department),
            joinedload(Membership.manager).joinedload(Membership.user),
        )
        .order_by(func.lower(User.name), User.id)
    )
    term = " ".join((query or "").split())
    if term:
        pattern = _like(term.lower())
        stmt = stmt.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    return db.paginate(
        stmt, page=max(page, 1), per_page=per_page, max_per_page=100, error_out=False
    )


def organizers_of(org_id: int, exclude: int | None = None) -> list[User]:
    """The organization's active organizers and admins, by account id."""
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.org_id == org_id,
            Membership.role.in_(("admin", "organizer")),
            User.is_active_account.is_(True),
        )
        .order_by(User.id)
    )
    if exclude is not None:
        stmt = stmt.where(User.id != exclude)
    return list(db.session.scalars(stmt))


def department_counts(org: Organization) -> dict[int, int]:
    """How many members each department of ``org`` has, by department id."""
    rows = db.session.execute(
        select(Membership.department_id, func.count(Membership.id))
        .where(Membership.org_id == org.id, Membership.department_id.is_not(None))
        .group_by(Membership.department_id)
    )
    return {dept_id: n for dept_id, n in rows if dept_id is not None}


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise OrgError(
            _("Role must be one of %(roles)s.", roles=", ".join(ROLES)), "role"
        )
    return role


def add_member(
    org: Organization,
    email: str,
    name: str,
    role: str = "member",
    department: str | None = None,
    level: int | str | None = None,
    password: str | None = None,
    offers: str | list[str] | None = None,
    seeks: str | list[str] | None = None,
) -> Membership:
    """Add a person (created if new) to ``org``, or update their membership."""
    _check_role(role)
    level_value = clean_level(level)
    user, created = get_or_create_user(email, name)
    if password:
        set_password(user, password)
    if offers is not None:
        user.offers = normalise_tags(offers)
    if seeks is not None:
        user.seeks = normalise_tags(seeks)
    dept = org.department_named(department)
    membership = user.membership_in(org) if not created else None
    if membership is None:
        membership = Membership(org=org, user=user, role=role)
        db.session.add(membership)
    membership.role = role
    if dept is not None:
        membership.department = dept
    if level_value is not None:
        membership.level = level_value
    db.session.flush()
    return membership


def _keep_an_admin(membership: Membership, role: str) -> None:
    """Refuse to take the role of the organization's last admin away."""
    if membership.role == "admin" and role != "admin":
        admins = db.session.scalars(
            select(Membership).where(
                Membership.org_id == membership.org_id, Membership.role == "admin"
            )
        ).all()
        if len(admins) <= 1:
            raise OrgError(_("An organization needs at least one admin."), "role")


def set_member_role(
    membership: Membership, role: str, acting: Membership
) -> Membership:
    """Change a member's role; an organization always keeps at least one admin."""
    _check_role(role)
    _keep_an_admin(membership, role)
    before = membership.role
    membership.role = role
    db.session.flush()
    if before != role:
        record(
            membership.org_id,
            "member.role_changed",
            f"Changed {membership.user.name}'s role from {before} to {role}",
            subject=("membership", membership.id),
            details={
                "user_id": membership.user_id,
                "changes": {"role": [before, role]},
            },
        )
    return membership


def remove_member(membership: Membership) -> None:
    """Take a person out of an organization (the last admin stays).

    Their API tokens for the organization are revoked too, so a later return does
    not bring old tokens back to life, and their open mentoring pairs there are
    closed (both are told).
    """
    signals.member_leaving.send(membership)  # pairs close theirs
    _keep_an_admin(membership, "member")
    user = membership.user
    record(
        membership.org_id,
        "member.removed",
        f"Removed {user.name} ({user.email}) from the organization",
        subject=("membership", membership.id),
        details={"user_id": user.id, "role": membership.role},
    )
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.org_id == membership.org_id,
            ApiToken.user_id == membership.user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.delete(membership)
    db.session.flush()


def invite_member(
    org: Organization,
    email: str,
    role: str = "member",
    name: str | None = None,
    department: str | None = None,
    level: int | str | None = None,
    invited_by: User | None = None,
) -> Invitation:
    """Record an invitation and e-mail its single-use link.

    Inviting an address that already has an open invitation refreshes that one
    (new details, new expiry, a new e-mail) instead of stacking duplicates.
    """
    address = normalise_email(email)
    _check_role(role)
    level_value = clean_level(level)
    name = " ".join((name or "").split()) or None
    if name and len(name) > 120:
        raise OrgError(_("A name can have at most 120 characters."), "name")
    existing = db.session.scalar(select(User).where(User.email == address))
    if existing is not None and existing.membership_in(org) is not None:
        raise OrgError(
            _("%(email)s is already a member of %(org)s.", email=address, org=org.name),
            "email",
        )
    dept = org.department_named(department)
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.org_id == org.id,
            Invitation.email == address,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if invitation is None:
        invitation = Invitation(org=org, email=address, expires_at=clock.now())
        db.session.add(invitation)
    invitation.name = name
    invitation.role = role
    invitation.department = dept
    invitation.level = level_value
    invitation.invited_by_id = invited_by.id if invited_by else None
    db.session.flush()
    _mail_invitation(invitation, invited_by)
    record(
        org.id,
        "invitation.sent",
        f"Invited {address} as {role}",
        subject=("invitation", invitation.id),
        details={"role": role, "department": dept.name if dept else None},
        actor=invited_by,
    )
    return invitation


def _mail_invitation(invitation: Invitation, inviter: User | None) -> None:
    """Give the invitation a fresh expiry and e-mail a new link to it."""
    days = current_app.config["INVITATION_DAYS"]
    invitation.expires_at = clock.now() + timedelta(days=days)
    org = invitation.org
    token = tokens.make("invite", {"inv": invitation.id}, single_use=True)
    link = absolute_url("orgs.accept_invitation", token=token)
    queue_mail(
        invitation.email,
        _l("You are invited to %(org)s on Mixer", org=org.name),
        "invitation",
        {
            "org": org,
            "invitation": invitation,
            "link": link,
            "days": days,
            "inviter": inviter,
        },
        org=org,
        kind="auth",
        locale=recipient_locale(invited_user(invitation), org),
    )
    db.session.flush()


def pending_invitations(org: Organization) -> list[Invitation]:
    """Invitations of ``org`` neither accepted nor withdrawn, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.org_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def resend_invitation(invitation: Invitation, by: User | None = None) -> Invitation:
    """E-mail an open invitation again, with a fresh expiry."""
    if not invitation.is_pending:
        raise OrgError(_("This invitation is no longer open."), "invitation")
    _mail_invitation(invitation, by)
    record(
        invitation.org_id,
        "invitation.resent",
        f"Sent the invitation to {invitation.email} again",
        subject=("invitation", invitation.id),
        actor=by,
    )
    return invitation


def revoke_invitation(invitation: Invitation) -> Invitation:
    """Withdraw an open invitation: its links stop working."""
    if invitation.accepted_at is not None:
        raise OrgError(_("This invitation has already been accepted."), "invitation")
    if invitation.revoked_at is None:
        invitation.revoked_at = clock.now()
        record(
            invitation.org_id,
            "invitation.revoked",
            f"Withdrew the invitation to {invitation.email}",
            subject=("invitation", invitation.id),
        )
    db.session.flush()
    return invitation


def read_invitation(token: str) -> tuple[Invitation, dict]:
    """The invitation behind a link, if it is still open."""
    try:
        data = tokens.read(
            "invite",
            token,
            max_age=current_app.config["INVITATION_DAYS"] * 86400,
            title=str(INVITATION_TITLE),
        )
    except LinkError as exc:
        if exc.reason == "expired":
            raise _invitation_problem(
                "expired", _("This invitation has expired. Ask for a new one.")
            ) from exc
        raise
    invitation = db.session.get(Invitation, data.get("inv"))
    if invitation is None:
        raise _invitation_problem("invalid", _("This invitation is not valid."))
    if invitation.accepted_at is not None:
        raise _invitation_problem(
            "used", _("This invitation has already been accepted.")
        )
    if invitation.revoked_at is not None:
        raise _invitation_problem(
            "used", _("This invitation has been withdrawn by the organization.")
        )
    if invitation.has_expired():
        raise _invitation_problem(
            "expired", _("This invitation has expired. Ask for a new one.")
        )
    return invitation, data


def invited_user(invitation: Invitation) -> User | None:
    """The account the invited address already has, if any."""
    return db.session.scalar(select(User).where(User.email == invitation.email))


def _invitation_problem(reason: str, message: str) -> LinkError:
    return LinkError(reason, message, title=str(INVITATION_TITLE))


def accept_invitation(
    token: str, name: str | None, password: str | None = None
) -> Membership:
    """Join the organization through an invitation link (which then stops working).

    A person who already has an account keeps their name and password: the link
    only proves they read the invited mailbox, as a magic link does.
    """
    invitation, data = read_invitation(token)
    existing = invited_user(invitation)
    if existing is not None and existing.password_hash:
        password = None
    if password:
        # Checked before spending the link, so a short password can be retried.
        check_password_rules(password)
    tokens.spend("invite", data, title=INVITATION_TITLE)
    membership = add_member(
        invitation.org,
        invitation.email,
        name or invitation.name or invitation.email.split("@")[0],
        role=invitation.role,
        department=invitation.department.name if invitation.department else None,
        level=invitation.level,
        password=password,
    )
    membership.user.email_confirmed_at = (
        membership.user.email_confirmed_at or clock.now()
    )
    invitation.accepted_at = clock.now()
    db.session.flush()
    return membership


def edit_member(
    membership: Membership,
    department: str | None,
    level: int | str | None,
    role: str,
    acting: Membership,
    *,
    manager: str | None,
    location: str | None,
    languages: str | list[str] | None,
) -> Membership:
    """An admin's edit of a member's department, level, role, manager (a name or
    e-mail), location and languages, all or nothing; every field's refusal at once.

    The role goes first so that the last-admin rule refuses before anything else
    is written; its message then says who must be made admin, in plain words.
    """
    before = member_snapshot(membership)
    problems = FieldProblems()
    with problems.check():
        _change_role(membership, role, acting)
    with problems.check():
        membership.update_details(department, level)
    with problems.check():
        set_manager(membership, find_manager(membership.org, manager))
    with problems.check():
        set_location(membership, location)
    with problems.check():
        set_languages(membership, languages)
    problems.raise_any()
    record_member_changes(membership, before)
    return membership


def _change_role(membership: Membership, role: str, acting: Membership) -> None:
    """``set_member_role``, with the last admin's refusal in plain words."""
    if role == membership.role:
        return
    was_admin = membership.role == "admin"
    try:
        set_member_role(membership, role, acting)
    except OrgError as exc:
        if not (was_admin and role in ROLES):
            raise
        org = membership.org.name
        if membership.id == acting.id:
            message = _(
                "You are the only admin of %(org)s. Make someone else an admin "
                "first: an organization always needs one.",
                org=org,
            )
        else:
            message = _(
                "%(name)s is the only admin of %(org)s. Make someone else an admin "
                "first: an organization always needs one.",
                name=membership.user.name,
                org=org,
            )
        raise OrgError(message, "role") from exc
