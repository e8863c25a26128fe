"""The member CSV import's manager, location and languages columns."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs import importing, services
from mixer.orgs.importing import ImportProblem
from mixer.orgs.models import Department, Membership

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "members-sample.csv"


def members(org) -> dict[str, Membership]:
    """Every membership of ``org`` by e-mail, read fresh."""
    db.session.expire_all()
    return {
        m.user.email: m
        for m in db.session.scalars(
            select(Membership).where(Membership.org_id == org.id)
        )
    }


def manager_of(by_email: dict[str, Membership], email: str) -> str | None:
    m = by_email[email].manager
    return m.user.email if m else None


def test_managers_may_come_later_in_the_file_or_be_members_already(app, org):
    services.add_member(org, "boss@example.org", "Boss")
    csv_text = (
        "name,email,manager,location,languages\n"
        "Ann,ann@example.org,bea@example.org,Berlin,English; Deutsch\n"
        'Bea,bea@example.org,BOSS@example.org,berlin,"en, FR, en"\n'
        "Cas,cas@example.org,,Lagos,\n"
    )
    report = importing.import_members_csv(org, csv_text)
    assert report.errors == []
    assert (report.created, report.updated) == (3, 0)
    by_email = members(org)
    assert manager_of(by_email, "ann@example.org") == "bea@example.org"
    assert manager_of(by_email, "bea@example.org") == "boss@example.org"
    assert manager_of(by_email, "cas@example.org") is None
    assert by_email["ann@example.org"].languages == ["english", "deutsch"]
    assert by_email["bea@example.org"].languages == ["en", "fr"]
    # One place, one spelling: the first one the organization has.
    assert by_email["bea@example.org"].location == "Berlin"
    assert by_email["cas@example.org"].languages == []


def test_an_unknown_manager_refuses_the_whole_row_and_names_line_and_column(app, org):
    services.add_member(org, "old@example.org", "Old").location = "Athens"
    db.session.commit()
    csv_text = (
        "name,email,department,manager,location,languages\n"
        "Ann,ann@example.org,Finance,ghost@example.org,Oslo,norsk\n"  # 2
        "Old,old@example.org,Sales,nobody,Rome,italiano\n"  # 3
        "Cas,cas@example.org,Legal,,Lagos,\n"  # 4
    )
    report = importing.import_members_csv(org, csv_text)
    assert report.errors == [
        ImportProblem(
            2,
            "No member of Acme and no row of this file has the e-mail "
            "ghost@example.org (the manager).",
            "manager",
        ),
        ImportProblem(3, "The manager's e-mail is not valid: nobody.", "manager"),
    ]
    assert (report.created, report.updated) == (1, 0)
    by_email = members(org)
    # Nothing of the refused rows was written: no person, no department, and the
    # member already here kept their details.
    assert set(by_email) == {"old@example.org", "cas@example.org"}
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert sorted(db.session.scalars(select(Department.name))) == ["Legal"]
    old = by_email["old@example.org"]
    assert (old.department, old.location, old.languages) == (None, "Athens", [])


def test_a_row_whose_manager_row_is_refused_is_refused_too(app, org):
    csv_text = (
        "name,email,level,manager\n"
        "Ann,ann@example.org,1,bea@example.org\n"  # 2: Bea is refused
        "Bea,bea@example.org,99,cas@example.org\n"  # 3: bad level
        "Cas,cas@example.org,2,\n"  # 4
        "Dan,dan@example.org,3,ann@example.org\n"  # 5: Ann is refused in turn
    )
    report = importing.import_members_csv(org, csv_text)
    assert [(p.line, p.column) for p in report.errors] == [
        (2, "manager"),
        (3, "level"),
        (5, "manager"),
    ]
    assert "bea@example.org is on line 3, which was not imported" in (
        report.errors[0].message
    )
    assert "ann@example.org is on line 2" in report.errors[2].message
    assert report.imported == 1
    assert set(members(org)) == {"cas@example.org"}


def test_a_loop_in_the_file_is_refused_and_nothing_half_imported(app, org):
    csv_text = (
        "name,email,manager\n"
        "Ann,ann@example.org,bea@example.org\n"
        "Bea,bea@example.org,ann@example.org\n"
        "Self,self@example.org,SELF@example.org\n"
        "Cas,cas@example.org,\n"
    )
    report = importing.import_members_csv(org, csv_text)
    problems = {p.line: p for p in report.errors}
    assert set(problems) == {2, 3, 4}
    assert all(p.column == "manager" for p in report.errors)
    assert "circle" in problems[3].message
    assert "cannot be their own manager" in problems[4].message
    assert set(members(org)) == {"cas@example.org"}


def test_blank_cells_keep_details_and_a_second_import_updates(app, org):
    boss = services.add_member(org, "boss@example.org", "Boss")
    first = importing.import_members_csv(
        org,
        "name,email,manager,location,languages\n"
        "Ann,ann@example.org,boss@example.org,Leeds,English\n",
    )
    assert first.errors == [] and first.created == 1
    again = importing.import_members_csv(
        org, "name,email,manager,location,languages\nAnn,ann@example.org,,,\n"
    )
    assert again.errors == [] and again.updated == 1
    ann = members(org)["ann@example.org"]
    assert (ann.manager_id, ann.location, ann.languages) == (
        boss.id,
        "Leeds",
        ["english"],
    )
    # Too many languages, or too long a location: the column is named.
    report = importing.import_members_csv(
        org,
        "name,email,location,languages\n"
        f"Ann,ann@example.org,{'x' * 81},\n"
        f'Bo,bo@example.org,,"{",".join(str(n) for n in range(11))}"\n',
    )
    assert [(p.line, p.column) for p in report.errors] == [
        (2, "location"),
        (3, "languages"),
    ]
    assert members(org)["ann@example.org"].location == "Leeds"


def test_the_sample_file_imports_cleanly(app, org):
    report = importing.import_members_csv(org, SAMPLE.read_bytes())
    assert report.errors == [] and report.created == 3
    by_email = members(org)
    assert manager_of(by_email, "alan@example.org") == "grace@example.org"
    assert manager_of(by_email, "grace@example.org") == "ada@example.org"
    assert by_email["alan@example.org"].languages == ["english", "german"]
    assert by_email["ada@example.org"].languages == ["english", "french"]


def test_the_header_lists_the_optional_columns(app, org):
    report = importing.import_members_csv(org, "email,manager\nx@example.org,\n")
    assert report.errors[0].line == 1
    assert "manager, location, languages" in report.errors[0].message
