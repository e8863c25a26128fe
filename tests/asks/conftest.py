"""Fixtures for asks: an organization whose people offer overlapping topics."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import delete

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from mixer.orgs.models import Organization


@dataclass
class World:
    """Rita (Finance) asks; the others offer public speaking, or not."""

    org: Organization
    other_org: Organization
    organizer: User
    rita: User  # the requester, Finance
    ada: User  # Sales, "public speaking"
    ben: User  # Finance (Rita's own department), "public speaking"
    cy: User  # Engineering, "speaking" (a partial match)
    dee: User  # Sales, "Public-Speaking", two open pairs already
    eve: User  # Sales, "public speaking", account deactivated
    fay: User  # Engineering, "negotiation" only
    gus: User  # no department, "public speaking skills" (a partial match)
    outsider: User  # another organization, "public speaking"


@pytest.fixture
def world(app, make_org, make_user) -> World:
    """People with departments and offers; Dee already mentors two others."""
    from mixer.pairs.lifecycle import create_pair

    org = make_org(slug="acme", name="Acme")
    other_org = make_org(slug="globex", name="Globex")

    def person(name, department, offers, role="member", **kw):
        """One member of Acme, their e-mail made from their first name."""
        first = name.split()[0].lower()
        return make_user(
            org,
            role=role,
            name=name,
            email=f"{first}@acme.example.org",
            department=department,
            offers=offers,
            **kw,
        )

    organizer = person("Olga Organizer", None, [], role="organizer")
    rita = person("Rita Requester", "Finance", ["budgeting"])
    ada = person("Ada Archer", "Sales", ["public speaking", "negotiation"])
    ben = person("Ben Baker", "Finance", ["public speaking"])
    cy = person("Cy Cole", "Engineering", ["speaking"])
    dee = person("Dee Dunn", "Sales", ["Public-Speaking"])
    eve = person("Eve Evans", "Sales", ["public speaking"])
    fay = person("Fay Field", "Engineering", ["negotiation"])
    gus = person("Gus Gray", None, ["public speaking skills"])
    outsider = make_user(
        other_org,
        name="Otto Outsider",
        email="otto@globex.example.org",
        offers=["public speaking"],
    )
    eve.is_active_account = False
    for mentee in (fay, organizer):
        create_pair(org, dee, mentee, kind="mentoring", mentor=dee, source="event")
    # Start each test with an empty outbox: the introductions are not its mail.
    db.session.execute(delete(OutboxMessage))
    db.session.commit()
    return World(
        org, other_org, organizer, rita, ada, ben, cy, dee, eve, fay, gus, outsider
    )
