"""Demo data: reporting lines, locations and languages for the demo organization,
so that the members pages (and the rotation planner) have something to show."""

from __future__ import annotations

from sqlalchemy import select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.details import set_languages, set_location, set_manager
from mixer.orgs.models import Membership, Organization

LOCATIONS = ["Riverside Hospital", "Northgate Clinic", "Head Office"]
# Everyone speaks English; some speak one more.
SECOND_LANGUAGES = ["", "polski", "", "español", "", "français", "urdu", "", "deutsch"]


def seed_member_details(org: Organization, head_email: str) -> None:
    """Give ``org``'s members a manager (the first member of each department,
    by e-mail, leads it and reports to ``head_email``), a location and languages.
    Idempotent: the same people get the same details every time."""
    people = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.org_id == org.id)
            .order_by(User.email)
        )
    )
    head = next((m for m in people if m.user.email == head_email), None)
    leads: dict[int | None, Membership] = {}
    for n, member in enumerate(people):
        set_location(member, LOCATIONS[n % len(LOCATIONS)])
        second = SECOND_LANGUAGES[n % len(SECOND_LANGUAGES)]
        set_languages(member, ["English", second] if second else ["English"])
        if member is head:
            continue
        lead = leads.setdefault(member.department_id, member)
        set_manager(member, head if lead is member else lead)
