"""The org home and the navigation lead members to their mentoring."""

from __future__ import annotations

from mixer.extensions import db
from mixer.pairs.lifecycle import create_pair


def test_home_lists_my_open_pairs_and_the_way_to_ask(client, auth, make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    other_org = make_org(slug="beta", name="Beta")
    ada = make_user(org, email="ada@acme.example.org", name="Ada Lovelace")
    bo = make_user(org, email="bo@acme.example.org", name="Bo Chen")
    cy = make_user(org, email="cy@acme.example.org", name="Cy Twombly")
    make_user(other_org, email="ada@acme.example.org")  # Ada is in Beta too
    create_pair(org, ada, bo, kind="mentoring", mentor=ada)
    create_pair(org, bo, cy, kind="peer")  # not Ada's
    db.session.commit()

    auth.login("ada@acme.example.org")
    html = client.get("/o/acme/").get_data(as_text=True)
    mentoring = html.split('id="mentoring-h"', 1)[1].split("</section>", 1)[0]
    assert "Bo Chen" in mentoring and "next check-in" in mentoring
    assert "Cy Twombly" not in mentoring
    assert "/o/acme/asks/new" in mentoring
    nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert ">Pairs<" in nav and ">Asks<" in nav
    assert "Recognition" not in nav  # organizers only

    # Ada's pair lives in Acme: Beta's home does not show it.
    html = client.get("/o/beta/").get_data(as_text=True)
    mentoring = html.split('id="mentoring-h"', 1)[1].split("</section>", 1)[0]
    assert "Bo Chen" not in mentoring and "No mentoring pairs here yet" in mentoring


def test_organizers_see_recognition_and_the_pairs_overview(
    client, auth, make_org, make_user
):
    org = make_org(slug="acme")
    make_user(org, role="organizer", email="olu@acme.example.org")
    auth.login("olu@acme.example.org")
    html = client.get("/o/acme/").get_data(as_text=True)
    assert "/o/acme/recognition" in html and "/o/acme/pairs" in html
    assert "/o/acme/testimonials" in html


def test_removing_a_member_closes_their_pairs_there(make_org, make_user, outbox):
    from mixer.orgs.services import remove_member

    org = make_org(slug="acme")
    ada = make_user(org, email="ada@acme.example.org", name="Ada Lovelace")
    bo = make_user(org, email="bo@acme.example.org", name="Bo Chen")
    pair = create_pair(org, ada, bo, kind="mentoring", mentor=ada)
    db.session.commit()
    remove_member(bo.membership_in(org))
    db.session.commit()
    db.session.refresh(pair)
    assert pair.status == "closed" and pair.open_key is None
    closed = [m for m in outbox() if "closed" in m["Subject"]]
    assert sorted(m["To"].addresses[0].addr_spec for m in closed) == [
        "ada@acme.example.org",
        "bo@acme.example.org",
    ]


def test_pages_outside_an_organization_keep_the_mentoring_links(
    client, auth, make_org, make_user
):
    org = make_org(slug="acme")
    make_user(org, email="ada@acme.example.org")
    auth.login("ada@acme.example.org")
    for url in ("/pairs", "/asks", "/followup"):
        html = client.get(url).get_data(as_text=True)
        nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/pairs"' in nav and 'href="/asks"' in nav, url
