"""Managers, locations, languages and mentoring capacity, through the services."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from mixer.errors import DomainError
from mixer.extensions import db
from mixer.orgs import details, services
from mixer.orgs.models import (
    DEFAULT_MENTORING_CAPACITY,
    Membership,
    OrgError,
    clean_languages,
    clean_location,
    clean_mentoring_capacity,
)


@pytest.fixture
def team(org, make_user):
    """Acme's Ada (admin), Bo, Cy, Di, and Ed of another organization."""

    def member(name: str, **kw):
        email = f"{name.lower()}@acme.example.org"
        return make_user(org, name=name, email=email, **kw).membership_in(org)

    return {
        "ada": member("Ada", role="admin"),
        "bo": member("Bo"),
        "cy": member("Cy"),
        "di": member("Di"),
    }


def fresh(membership: Membership) -> Membership:
    db.session.expire_all()
    return db.session.get(Membership, membership.id)


def test_find_manager_by_email_name_or_part(app, org, team, make_user):
    assert details.find_manager(org, "  ") is None
    assert details.find_manager(org, "BO@acme.example.org") is team["bo"]
    assert details.find_manager(org, "cy") is team["cy"]  # the whole name, any case
    assert details.find_manager(org, "Di@") is team["di"]  # part of an e-mail
    make_user(org, name="Cyrus", email="cyrus@acme.example.org")
    # "cy" is still only Cy (an exact name wins over parts of others).
    assert details.find_manager(org, "cy") is team["cy"]
    with pytest.raises(OrgError) as several:
        details.find_manager(org, "acme.example")
    assert several.value.field == "manager"
    assert "Several members match" in str(several.value)
    assert "(ada@acme.example.org)" in str(several.value)
    with pytest.raises(OrgError, match="No member of Acme has the e-mail x@y.org"):
        details.find_manager(org, "x@y.org")
    with pytest.raises(OrgError, match="No member of Acme is called “Zed”"):
        details.find_manager(org, "Zed")
    with pytest.raises(OrgError, match="No member of Acme is called") as bad:
        details.find_manager(org, "not@an@address")
    assert bad.value.field == "manager"


def test_find_manager_never_finds_another_organization(app, org, team, make_org):
    other = make_org(slug="other", name="Other")
    services.add_member(other, "zed@other.example.org", "Zed")
    with pytest.raises(OrgError, match="No member of Acme"):
        details.find_manager(org, "zed@other.example.org")
    with pytest.raises(OrgError, match="No member of Acme"):
        details.find_manager(org, "Zed")


def test_set_manager_refuses_self_other_org_and_loops(app, org, team, make_org):
    ada, bo, cy, di = team["ada"], team["bo"], team["cy"], team["di"]
    details.set_manager(bo, ada)
    details.set_manager(cy, bo)
    details.set_manager(di, cy)
    db.session.commit()
    assert [m.user.name for m in details.reporting_line(fresh(di))] == [
        "Cy",
        "Bo",
        "Ada",
    ]
    with pytest.raises(OrgError, match="cannot be their own manager"):
        details.set_manager(bo, bo)
    # A → B → A
    with pytest.raises(OrgError) as two:
        details.set_manager(fresh(ada), fresh(bo))
    assert two.value.field == "manager"
    assert "Ada → Bo → Ada" in str(two.value)
    db.session.rollback()
    # Longer: Ada's manager Di, while Di → Cy → Bo → Ada.
    with pytest.raises(OrgError) as four:
        details.set_manager(fresh(ada), fresh(di))
    assert "Ada → Di → Cy → Bo → Ada" in str(four.value)
    db.session.rollback()
    other = make_org(slug="other", name="Other")
    zed = services.add_member(other, "zed@other.example.org", "Zed")
    with pytest.raises(OrgError, match="Zed is not a member of Acme"):
        details.set_manager(fresh(bo), zed)
    db.session.rollback()
    assert fresh(ada).manager_id is None
    assert fresh(bo).manager_id == ada.id
    # Clearing works, and a manager who leaves leaves no dangling line.
    details.set_manager(fresh(di), None)
    services.remove_member(fresh(bo))
    db.session.commit()
    assert fresh(di).manager_id is None and fresh(cy).manager_id is None
    assert details.direct_reports(fresh(ada)) == []


def test_the_database_itself_refuses_a_self_manager(app, org, team):
    bo = team["bo"]
    bo.manager_id = bo.id
    with pytest.raises(Exception, match="(?i)check"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("English, Deutsch", ["english", "deutsch"]),
        ("English; german ;  Old   Norse", ["english", "german", "old norse"]),
        (" en , EN, en ", ["en"]),
        (["Français", " français "], ["français"]),
        ("", []),
        (None, []),
        (" , ; ", []),
    ],
)
def test_languages_are_trimmed_lower_cased_and_deduplicated(given, stored):
    assert clean_languages(given) == stored


def test_languages_are_capped_in_count_and_length():
    assert len(clean_languages(",".join(f"l{n}" for n in range(10)))) == 10
    with pytest.raises(OrgError, match="at most 10 languages") as many:
        clean_languages(",".join(f"l{n}" for n in range(11)))
    assert many.value.field == "languages"
    assert clean_languages("x" * 40) == ["x" * 40]
    with pytest.raises(OrgError, match="at most 40 characters"):
        clean_languages("x" * 41)


def test_location_keeps_its_first_spelling(app, org, team):
    assert clean_location("  Berlin   HQ ") == "Berlin HQ"
    assert clean_location("   ") is None
    with pytest.raises(OrgError, match="at most 80"):
        clean_location("x" * 81)
    details.set_location(team["bo"], "Berlin HQ")
    details.set_location(team["cy"], "berlin   hq")
    details.set_languages(team["cy"], "english;Deutsch")
    details.set_location(team["di"], "Lagos")
    db.session.commit()
    assert fresh(team["cy"]).location == "Berlin HQ"  # one place, one name
    assert fresh(team["cy"]).languages == ["english", "deutsch"]
    assert details.locations(org) == ["Berlin HQ", "Lagos"]
    # Alone in a place, a member's spelling may change.
    details.set_location(team["di"], "LAGOS")
    assert team["di"].location == "LAGOS"


@pytest.mark.parametrize(
    ("given", "stored"),
    [(None, DEFAULT_MENTORING_CAPACITY), ("", 3), (" 0 ", 0), (20, 20), ("7", 7)],
)
def test_mentoring_capacity_values(given, stored):
    assert clean_mentoring_capacity(given) == stored


@pytest.mark.parametrize("given", ["-1", "21", "two", "2.5", True])
def test_mentoring_capacity_refusals(given):
    with pytest.raises(OrgError) as exc:
        clean_mentoring_capacity(given)
    assert exc.value.field == "mentoring_capacity"
    assert "from 0 (none right now) to 20" in str(exc.value)


def test_update_mentoring_keeps_a_past_date_and_clears_with_none(app, org, team):
    bo = team["bo"]
    assert bo.mentoring_capacity == 3 and bo.available_from is None
    bo.update_mentoring("0", date(2027, 3, 1))
    db.session.commit()
    bo = fresh(bo)
    assert (bo.mentoring_capacity, bo.available_from) == (0, date(2027, 3, 1))
    assert not bo.is_available_on(date(2027, 2, 28))
    assert bo.is_available_on(date(2027, 3, 1))
    bo.update_mentoring(5, date(2020, 1, 1))  # the past: available now
    assert bo.is_available_on(date(2026, 3, 2))
    bo.update_mentoring(5, None)
    db.session.commit()
    assert fresh(bo).available_from is None


def test_edit_member_refuses_every_field_at_once_and_writes_nothing(app, org, team):
    bo = team["bo"]
    with pytest.raises(DomainError) as exc:
        services.edit_member(
            bo,
            "Design",
            "99",
            "member",
            team["ada"],
            manager="Bo",
            location="x" * 81,
            languages=";".join(f"l{n}" for n in range(11)),
        )
    assert exc.value.fields == {
        "level": ["Level must be a whole number of years (0–80)."],
        "manager": ["A member cannot be their own manager."],
        "location": ["A location can have at most 80 characters."],
        "languages": ["List at most 10 languages (11 given)."],
    }
    db.session.rollback()
    services.edit_member(
        fresh(bo),
        "Design",
        "4",
        "member",
        team["ada"],
        manager="ada@acme.example.org",
        location="Leeds",
        languages="English, Urdu",
    )
    db.session.commit()
    bo = fresh(bo)
    assert (bo.manager.user.name, bo.location, bo.languages) == (
        "Ada",
        "Leeds",
        ["english", "urdu"],
    )
    assert db.session.scalar(
        select(Membership.manager_id).where(Membership.id == bo.id)
    ) == (team["ada"].id)


def test_admins_at_once_cannot_close_a_loop(app, org, make_user):
    """Four admins each set one link of a ring A → B → C → D → A at the same
    moment (threads, each with its own connection): the lines take turns, so
    exactly one link is refused and no loop is stored."""
    ring = [
        make_user(org, name=f"R{n}", email=f"r{n}@acme.example.org").membership_in(org)
        for n in range(4)
    ]
    ids = [m.id for m in ring]
    barrier = threading.Barrier(len(ids))

    def link(n: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                member = db.session.get(Membership, ids[n])
                manager = db.session.get(Membership, ids[(n + 1) % len(ids)])
                details.set_manager(member, manager)
                db.session.commit()
                return "set"
            except OrgError:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        outcomes = list(pool.map(link, range(len(ids))))
    assert sorted(outcomes) == ["refused", "set", "set", "set"]
    db.session.expire_all()
    managers = {
        m.id: m.manager_id
        for m in db.session.scalars(select(Membership).where(Membership.id.in_(ids)))
    }
    for start in ids:  # walking up from anyone ends at someone without a manager
        seen, current = set(), start
        while current is not None:
            assert current not in seen, f"a loop through {current}"
            seen.add(current)
            current = managers[current]
