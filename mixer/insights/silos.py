"""The silo map: who met whom, department × department (``docs/insights.md``).

A meeting is a ``connection`` (two registrations that met at an event of the
period: a rotation round, a badge scan, a "we talked" note, an organizer's entry)
or a pair formed in the period without an event (an ask). Each meeting counts
once, in the cell of the two people's departments as they are now. The database
does the counting: one ``GROUP BY`` over the meetings joined to both sides'
memberships, so the map costs three statements however many meetings there are.
"""

from __future__ import annotations

from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, union_all
from sqlalchemy.orm import aliased

from mixer.connections.models import Connection
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.insights.figures import Count, SiloMap
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Department, Membership, Organization
from mixer.pairs.models import Pair, PairSource

# Lazy: said in the page's language (a cached snapshot stores it as null).
NO_DEPARTMENT = cast(str, _l("No department"))


def silo_map(org: Organization, flt: InsightFilter) -> SiloMap:
    """The department × department matrix of meetings in the period."""
    departments = db.session.execute(
        select(Department.id, Department.name).where(Department.org_id == org.id)
    ).all()
    members = dict(
        db.session.execute(
            select(Membership.department_id, func.count(Membership.id))
            .where(Membership.org_id == org.id)
            .group_by(Membership.department_id)
        ).all()
    )
    tally = _meeting_counts(org, flt)

    # Every department, alphabetical; "No department" last, when anyone is in it.
    ordered = sorted(departments, key=lambda d: (d.name.casefold(), d.name))
    keys: list[int | None] = [d.id for d in ordered]
    names = [d.name for d in ordered]
    if members.get(None) or any(None in pair for pair in tally):
        keys.append(None)
        names.append(NO_DEPARTMENT)
    index = {key: i for i, key in enumerate(keys)}

    size = len(keys)
    grid = [[0] * size for _ in range(size)]
    total = across = 0
    for (first, second), n in tally.items():
        i, j = index[first], index[second]
        grid[i][j] += n
        if i != j:
            grid[j][i] += n
            across += n
        total += n

    chosen = flt.department_id
    never_meet = [
        (names[i], names[j])
        for i in range(size)
        for j in range(i + 1, size)
        if grid[i][j] == 0
        and members.get(keys[i])
        and members.get(keys[j])
        # Under a department filter only its own pairs can tell anything.
        and (chosen is None or chosen in (keys[i], keys[j]))
    ]
    return SiloMap(
        departments=names,
        cells=[[Count(n) for n in row] for row in grid],
        total=Count(total),
        across=Count(across),
        never_meet=never_meet,
    )


def _meeting_counts(
    org: Organization, flt: InsightFilter
) -> dict[tuple[int | None, int | None], int]:
    """Meetings by the (unordered) departments of their two sides, one statement."""
    branches: list[Select] = [_connections(org, flt)]
    if flt.kind is None and flt.event_id is None:
        # A pair without an event belongs to no kind and to no one event.
        branches.append(_pairs_without_event(org, flt))
    meetings = union_all(*branches).subquery("meetings")
    stmt = select(meetings.c.da, meetings.c.db, func.count()).group_by(
        meetings.c.da, meetings.c.db
    )
    if flt.department_id is not None:
        stmt = stmt.where(
            or_(meetings.c.da == flt.department_id, meetings.c.db == flt.department_id)
        )
    tally: dict[tuple[int | None, int | None], int] = {}
    for da, db_, n in db.session.execute(stmt).all():
        key = _unordered(da, db_)
        tally[key] = tally.get(key, 0) + n
    return tally


def _connections(org: Organization, flt: InsightFilter) -> Select:
    """(department of a, department of b) per connection at the period's events."""
    reg_a, reg_b = aliased(Registration), aliased(Registration)
    mem_a, mem_b = aliased(Membership), aliased(Membership)
    return (
        select(mem_a.department_id.label("da"), mem_b.department_id.label("db"))
        .select_from(Connection)
        .join(Event, Event.id == Connection.event_id)
        .join(reg_a, reg_a.id == Connection.a_id)
        .join(reg_b, reg_b.id == Connection.b_id)
        # Guests (no account) and people no longer members have no department.
        .outerjoin(mem_a, and_(mem_a.user_id == reg_a.user_id, mem_a.org_id == org.id))
        .outerjoin(mem_b, and_(mem_b.user_id == reg_b.user_id, mem_b.org_id == org.id))
        .where(*flt.event_conditions(org.id))
    )


def _pairs_without_event(org: Organization, flt: InsightFilter) -> Select:
    """(department of a, department of b) per pair started in the period from an
    ask, or without an event (its event deleted, and its connections with it).
    A renewal continues a pair already counted, so it is no new meeting."""
    mem_a, mem_b = aliased(Membership), aliased(Membership)
    return (
        select(mem_a.department_id.label("da"), mem_b.department_id.label("db"))
        .select_from(Pair)
        .outerjoin(mem_a, and_(mem_a.user_id == Pair.a_id, mem_a.org_id == org.id))
        .outerjoin(mem_b, and_(mem_b.user_id == Pair.b_id, mem_b.org_id == org.id))
        .where(
            Pair.org_id == org.id,
            Pair.started_at >= flt.since,
            Pair.started_at < flt.until,
            or_(
                Pair.source == PairSource.ASK,
                and_(Pair.event_id.is_(None), Pair.source != PairSource.RENEWAL),
            ),
        )
    )


def _unordered(first: int | None, second: int | None) -> tuple[int | None, int | None]:
    """The two departments in one order (None last), so a–b and b–a meet once."""
    if first is None or (second is not None and second < first):
        return second, first
    return first, second
