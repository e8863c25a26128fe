"""The app builds, migrates and answers on a real database."""

from sqlalchemy import select

from mixer.orgs.models import Organization


def test_healthz_reports_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"


def test_factories_write_real_rows(app, make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    user = make_user(org, role="organizer", department="Finance")
    from mixer.extensions import db

    db.session.expire_all()
    stored = db.session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert stored.name == "Acme"
    assert user.membership_in(stored).department.name == "Finance"


def test_org_home_is_404_for_outsiders(client, auth, make_org, make_user):
    a, b = make_org(), make_org()
    user = make_user(a)
    make_user(b)
    assert auth.login(user.email).status_code in (302, 303)
    assert client.get(f"/o/{b.slug}/").status_code == 404
