"""Organization services called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.accounts.services import AccountError, authenticate
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.orgs import importing, services
from mixer.orgs.models import Invitation, OrgError
from mixer.tokens.models import UsedToken
from tests.helpers import PASSWORD, link_in


def invite_token(outbox, address: str) -> str:
    return link_in(outbox(address)[-1], "/invitations/").rsplit("/", 1)[1]


def test_csv_import_line_numbers_and_updates(app, org):
    services.add_member(org, "old@example.org", "Old", role="organizer")
    data = (
        "\ufeffname,email,department,level\n"
        "Ann,ann@example.org,Finance,4\n"
        "Bad,@example.org,,\n"
        "\n"
        '"Quoted, Name",quoted@example.org,"Sales, EMEA",\n'
        "Old,OLD@example.org,Finance,81\n"
        "Old,old@example.org,Finance,7\n"
    ).encode()
    report = importing.import_members_csv(org, data)
    assert (report.created, report.updated, report.imported) == (2, 1, 3)
    assert [p.line for p in report.errors] == [3, 6]
    assert "not valid" in report.errors[0][1]
    assert "Level must be a whole number" in report.errors[1][1]
    old = services.get_membership(org, org.memberships[0].id)
    assert old.role == "organizer" and old.level == 7  # the role is kept
    names = sorted(d.name for d in org.departments)
    assert names == ["Finance", "Sales, EMEA"]


def test_csv_import_refuses_files_it_cannot_read(app, org):
    report = importing.import_members_csv(org, "email\nx@example.org\n")
    assert report.imported == 0
    assert report.errors[0][0] == 1 and "missing: name" in report.errors[0][1]
    report = importing.import_members_csv(
        org, "name,email\nZoë,z@example.org\n".encode("latin-1")
    )
    assert report.imported == 0 and "not UTF-8" in report.errors[0][1]
    assert importing.import_members_csv(org, b"").errors[0][0] == 1


def test_an_organization_keeps_its_last_admin(app, org):
    admin = services.add_member(org, "a@example.org", "A", role="admin")
    with pytest.raises(OrgError, match="at least one admin"):
        services.set_member_role(admin, "member", admin)
    with pytest.raises(OrgError, match="at least one admin"):
        services.remove_member(admin)
    second = services.add_member(org, "b@example.org", "B", role="admin")
    services.set_member_role(admin, "member", second)
    assert admin.role == "member"


def test_inviting_twice_refreshes_one_invitation(app, org, outbox):
    clock.freeze(clock.now())
    first = services.invite_member(org, "new@example.org", name="New")
    clock.advance(timedelta(days=3))
    again = services.invite_member(org, "NEW@example.org", role="speaker")
    db.session.commit()
    assert again.id == first.id and again.role == "speaker"
    assert again.expires_at == clock.now() + timedelta(days=14)
    assert len(outbox("new@example.org")) == 2
    assert len(services.pending_invitations(org)) == 1


def test_invitation_expiry_follows_the_clock(app, org, outbox):
    clock.freeze(clock.now())
    services.invite_member(org, "new@example.org")
    db.session.commit()
    token = invite_token(outbox, "new@example.org")
    clock.advance(timedelta(days=13, hours=23))
    assert services.read_invitation(token)[0].email == "new@example.org"
    clock.advance(timedelta(hours=2))
    with pytest.raises(LinkError) as exc:
        services.read_invitation(token)
    assert exc.value.reason == "expired"


def test_a_short_password_does_not_spend_the_invitation(app, org, outbox):
    services.invite_member(org, "new@example.org")
    db.session.commit()
    token = invite_token(outbox, "new@example.org")
    with pytest.raises(AccountError, match="at least 10 characters") as exc:
        services.accept_invitation(token, "New", "short")
    assert exc.value.field == "password"
    assert db.session.scalar(select(func.count()).select_from(UsedToken)) == 0
    membership = services.accept_invitation(token, "New", "long enough pass")
    assert membership.role == "member" and membership.user.name == "New"


def test_accepting_never_replaces_an_existing_password(
    app, org, make_org, make_user, outbox
):
    person = make_user(make_org(), email="known@example.org")
    services.invite_member(org, "known@example.org")
    db.session.commit()
    token = invite_token(outbox, "known@example.org")
    services.accept_invitation(token, "Someone Else", "attacker chosen pass")
    assert authenticate("known@example.org", PASSWORD) == person
    assert person.name != "Someone Else"


def test_revoked_invitation_cannot_be_resent_or_used(app, org, outbox):
    invitation = services.invite_member(org, "new@example.org")
    db.session.commit()
    token = invite_token(outbox, "new@example.org")
    services.revoke_invitation(invitation)
    with pytest.raises(OrgError, match="no longer open"):
        services.resend_invitation(invitation)
    with pytest.raises(LinkError, match="withdrawn"):
        services.read_invitation(token)
    assert services.pending_invitations(org) == []
    assert db.session.get(Invitation, invitation.id).revoked_at is not None


def test_departments_are_unique_per_org_ignoring_case(app, org, make_org):
    finance = services.add_department(org, "Finance")
    sales = services.add_department(org, "Sales")
    with pytest.raises(OrgError, match="already a department called 'FINANCE'"):
        services.add_department(org, "FINANCE")
    with pytest.raises(OrgError, match="already a department called 'Finance'"):
        services.rename_department(sales, "finance")
    services.rename_department(finance, "Money")
    assert sorted(d.name for d in org.departments) == ["Money", "Sales"]
    other = make_org()
    assert services.add_department(other, "Sales").org_id == other.id
    assert services.get_department(org, sales.id) == sales
    assert services.get_department(other, sales.id) is None


def test_member_details_and_search(app, org):
    m = services.add_member(org, "p_1@example.org", "Percy Under_Score")
    services.add_member(org, "plain@example.org", "Plain Person")
    m.update_details("R&D", "5")
    assert (m.department.name, m.level) == ("R&D", 5)
    with pytest.raises(OrgError, match="whole number of years") as exc:
        m.update_details("R&D", "81")
    assert exc.value.field == "level"
    m.update_details("", None)
    assert m.department is None and m.level is None
    assert [x.user.name for x in services.search_members(org, "_").items] == [
        "Percy Under_Score"
    ]
    assert services.search_members(org, "PERSON").total == 1
    assert services.search_members(org, "", page=99).items == []
