"""People: who carries the programme, who is full, where nobody mentors
(``docs/insights.md``).

The organization as it stands: open (active or paused) mentoring pairs now,
whatever the period; only the filter's department narrows it. Three statements
whatever the size.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, func, select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.insights.figures import MentorLoad, PeopleFigures
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Department, Membership, Organization
from mixer.pairs.models import Pair, PairKind

TOP = 10  # mentors listed under "most active pairs"
# Name, department (None for no department), open pairs, capacity.
Loads = Select[str, str, int, int]


def people_figures(org: Organization, flt: InsightFilter) -> PeopleFigures:
    """The mentors with most open pairs, those at capacity, and the departments
    none of whose members mentors anyone."""
    loads = _loads(org, flt)
    pairs = func.count(Pair.id)
    top = loads.order_by(pairs.desc(), User.name, User.id).limit(TOP)
    # Capacity 0 means "none right now": a mentor at 0 with a pair is over it.
    full = loads.having(pairs >= Membership.mentoring_capacity).order_by(
        User.name, User.id
    )
    return PeopleFigures(
        top_mentors=_rows(top),
        at_capacity=_rows(full),
        departments_without_mentor=_without_mentor(org, flt),
    )


def _mentoring(org: Organization) -> list[Any]:
    """Conditions on ``Pair``: an open mentoring pair of the organization."""
    return [Pair.org_id == org.id, Pair.is_open, Pair.kind == PairKind.MENTORING]


def _loads(org: Organization, flt: InsightFilter) -> Loads:
    """Each current member's open mentoring pairs as the mentor (one row each)."""
    query = (
        select(
            User.name,
            Department.name,
            func.count(Pair.id),
            Membership.mentoring_capacity,
        )
        .select_from(Pair)
        .join(User, User.id == Pair.mentor_id)
        .join(
            Membership,
            and_(Membership.org_id == org.id, Membership.user_id == Pair.mentor_id),
        )
        .outerjoin(Department, Department.id == Membership.department_id)
        .where(*_mentoring(org))
        .group_by(User.id, User.name, Department.name, Membership.mentoring_capacity)
    )
    if flt.department_id is not None:
        query = query.where(Membership.department_id == flt.department_id)
    return query


def _rows(query: Loads) -> list[MentorLoad]:
    """The mentors a load query finds."""
    return [
        MentorLoad(name=name, department=dept, active_pairs=int(n), capacity=cap)
        for name, dept, n, cap in db.session.execute(query)
    ]


def _without_mentor(org: Organization, flt: InsightFilter) -> list[str]:
    """Departments with members, none of whom is the mentor of an open pair."""
    mentors = exists().where(
        Membership.org_id == org.id,
        Membership.department_id == Department.id,
        exists().where(Pair.mentor_id == Membership.user_id, *_mentoring(org)),
    )
    members = exists().where(
        Membership.org_id == org.id, Membership.department_id == Department.id
    )
    query = (
        select(Department.name)
        .where(Department.org_id == org.id, members, ~mentors)
        .order_by(Department.name)
    )
    if flt.department_id is not None:
        query = query.where(Department.id == flt.department_id)
    return list(db.session.scalars(query))
