"""API: the token's organization, its departments and members.

Every query here is filtered by ``g.org``: another organization's departments and
members do not exist for the token (404, never listed).
"""

from __future__ import annotations

import marshmallow as ma
from flask import g
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from mixer.accounts.api_auth import token_required
from mixer.accounts.models import User
from mixer.api import Id, Schema, api_abort, blueprint
from mixer.api.schemas import TrimmedString
from mixer.extensions import db
from mixer.orgs.details import update_member
from mixer.orgs.models import (
    LANGUAGE_MAX,
    LANGUAGES_MAX,
    LOCATION_MAX,
    MENTORING_CAPACITY_MAX,
    ORG_KINDS,
    ROLES,
    Department,
    Membership,
    Organization,
)
from mixer.orgs.services import get_department, get_membership

blp = blueprint("orgs_api", __name__, "The organization, its departments and members.")


class OrganizationSchema(Schema):
    """The organization the token belongs to."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True, metadata={"example": "acme"})
    name = ma.fields.String(required=True, metadata={"example": "Acme Ltd"})
    kind = ma.fields.String(required=True, metadata={"enum": list(ORG_KINDS)})
    charter = ma.fields.String(
        required=True,
        metadata={"description": "The mentoring charter, in Markdown."},
    )
    created_at = ma.fields.AwareDateTime(required=True)


class DepartmentSchema(Schema):
    """A department, class or group."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    member_count = ma.fields.Integer(required=True)


class DepartmentRefSchema(Schema):
    """A department, briefly."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class MemberRefSchema(Schema):
    """A member, briefly."""

    id = ma.fields.Integer(required=True, metadata={"description": "Membership id."})
    name = ma.fields.String(required=True, attribute="user.name")


def _sees_emails() -> bool:
    return g.membership.has_role("organizer")


class MemberSchema(Schema):
    """A person's membership in the organization."""

    id = ma.fields.Integer(required=True, metadata={"description": "Membership id."})
    user_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, attribute="user.name")
    pronouns = ma.fields.String(allow_none=True, attribute="user.pronouns")
    email = ma.fields.Method(
        "get_email",
        allow_none=True,
        metadata={
            "type": "string",
            "format": "email",
            "description": "Shown to organizers and admins; null for other roles.",
        },
    )
    role = ma.fields.String(required=True, metadata={"enum": list(ROLES)})
    department = ma.fields.Nested(DepartmentRefSchema, allow_none=True)
    level = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Years of experience, or school year."},
    )
    offers = ma.fields.List(
        ma.fields.String(),
        attribute="user.offers",
        metadata={"description": 'Tags: "I can help with".'},
    )
    seeks = ma.fields.List(
        ma.fields.String(),
        attribute="user.seeks",
        metadata={"description": 'Tags: "I\'d like help with".'},
    )
    manager_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The membership id of their manager, or null."},
    )
    manager = ma.fields.Nested(MemberRefSchema, allow_none=True)
    location = ma.fields.String(
        allow_none=True, metadata={"description": "A site, campus or city."}
    )
    languages = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Languages they speak, in lower case."},
    )
    mentoring_capacity = ma.fields.Integer(
        required=True,
        metadata={
            "description": "How many mentees and mentoring pairs they take on at "
            "most (0: none right now)."
        },
    )
    available_from = ma.fields.Date(
        allow_none=True,
        metadata={
            "description": "They take on no mentees before this date; null (or a "
            "past date): from now on."
        },
    )
    joined_at = ma.fields.AwareDateTime(required=True)

    def get_email(self, membership: Membership) -> str | None:
        return membership.user.email if _sees_emails() else None


class MemberQuerySchema(Schema):
    """Filters for the member list."""

    q = TrimmedString(
        validate=ma.validate.Length(max=100),
        metadata={
            "description": "Part of the name (organizers and admins: or e-mail), "
            "case-insensitive."
        },
    )
    department = Id(
        metadata={"description": "Only members of this department (its id)."}
    )
    role = ma.fields.String(
        validate=ma.validate.OneOf(ROLES), metadata={"description": "Only this role."}
    )


class MemberPatchSchema(Schema):
    """Changes to a member: admins may change any field of anyone; every member
    may change `mentoring_capacity` and `available_from` of their own membership."""

    manager_id = Id(
        allow_none=True,
        metadata={
            "description": "Their manager's membership id (another member of this "
            "organization; reporting lines never loop), or null for none."
        },
    )
    location = TrimmedString(
        allow_none=True,
        validate=ma.validate.Length(max=LOCATION_MAX),
        metadata={
            "description": "A site, campus or city; empty or null for none. Spelt "
            "as other members already spell it when it differs only in case."
        },
    )
    languages = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=LANGUAGE_MAX)),
        validate=ma.validate.Length(max=LANGUAGES_MAX),
        metadata={
            "description": "Languages they speak: trimmed, lower-cased, duplicates "
            "and blanks dropped."
        },
    )
    mentoring_capacity = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(0, MENTORING_CAPACITY_MAX),
        metadata={"description": "Mentees and mentoring pairs at most (0: none)."},
    )
    available_from = ma.fields.Date(
        allow_none=True,
        metadata={"description": "No mentees before this date; null clears it."},
    )


def members_query(
    org: Organization,
    q: str | None = None,
    department_id: int | None = None,
    role: str | None = None,
    match_email: bool = False,
) -> Select:
    """Members of ``org`` by name, optionally filtered; people see no other org."""
    stmt = (
        select(Membership)
        .join(Membership.user)
        .options(
            contains_eager(Membership.user),
            selectinload(Membership.department),
            selectinload(Membership.manager).joinedload(Membership.user),
        )
        .where(Membership.org_id == org.id)
    )
    if q:
        needle = q.lower()
        matches = [func.lower(User.name).contains(needle, autoescape=True)]
        if match_email:
            matches.append(func.lower(User.email).contains(needle, autoescape=True))
        stmt = stmt.where(or_(*matches))
    if department_id is not None:
        stmt = stmt.where(Membership.department_id == department_id)
    if role:
        stmt = stmt.where(Membership.role == role)
    return stmt.order_by(func.lower(User.name), Membership.id)


@blp.route("/org")
@token_required()
@blp.response(200, OrganizationSchema)
def organization():
    """The token's organization: name, slug, kind and mentoring charter."""
    return g.org


@blp.route("/departments")
@token_required()
@blp.paginated(DepartmentSchema)
def departments():
    """The organization's departments (or classes, groups), by name."""
    return (
        select(
            Department.id,
            Department.name,
            func.count(Membership.id).label("member_count"),
        )
        .outerjoin(Membership, Membership.department_id == Department.id)
        .where(Department.org_id == g.org_id)
        .group_by(Department.id, Department.name)
        .order_by(Department.name, Department.id)
    )


@blp.route("/members")
@token_required()
@blp.arguments(MemberQuerySchema, location="query", as_kwargs=True)
@blp.paginated(MemberSchema)
def members(q: str | None = None, department: int | None = None, role=None):
    """The organization's members by name; search with `q`, filter by department."""
    if department is not None and get_department(g.org, department) is None:
        api_abort(
            404,
            f"department: no department {department} in this organization.",
            code="not_found",
            fields={"department": [f"No department {department} here."]},
        )
    return members_query(g.org, q, department, role, match_email=_sees_emails())


@blp.route("/members/<int:member_id>")
@token_required()
@blp.response(200, MemberSchema)
@blp.alt_response(404, response="NOT_FOUND")
def member(member_id: int):
    """One member of the organization (404 for anyone outside it)."""
    membership = get_membership(g.org, member_id)
    if membership is None:
        api_abort(404, f"No member {member_id} in this organization.")
    return membership


@blp.route("/members/<int:member_id>", methods=["PATCH"])
@token_required()
@blp.arguments(MemberPatchSchema)
@blp.response(200, MemberSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_member_details(changes: dict, member_id: int):
    """Change a member's manager, location and languages (admins), or your own
    mentoring capacity and "not before" date."""
    membership = get_membership(g.org, member_id)
    if membership is None:
        api_abort(404, f"No member {member_id} in this organization.")
    update_member(membership, g.membership, changes)
    db.session.commit()
    return membership
