"""A school with a teacher, an admin, a second teacher and a class of students."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mixer.accounts.models import User
from mixer.orgs.models import Organization


@dataclass
class School:
    org: Organization
    teacher: User
    other_teacher: User
    admin: User
    students: list[User]  # Ana, Ben (7b), Cleo (7a)


@pytest.fixture
def school(make_org, make_user, frozen) -> School:
    org = make_org(slug="school", name="Hill School", kind="school")
    return School(
        org=org,
        teacher=make_user(org, role="organizer", name="Tara Teacher"),
        other_teacher=make_user(org, role="organizer", name="Otto Other"),
        admin=make_user(org, role="admin", name="Ada Admin"),
        students=[
            make_user(org, name="Ana Student", department="7b"),
            make_user(org, name="Ben Student", department="7b"),
            make_user(org, name="Cleo Student", department="7a"),
        ],
    )
