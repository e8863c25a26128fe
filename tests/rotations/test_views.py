"""Rotations pages: plan form and report, projector, the attendee's phone, PDFs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mixer.connections.models import Connection, ConnectionNote
from mixer.extensions import db
from mixer.rotations import running, services
from mixer.rotations.models import RotationPlan
from mixer.rotations.services import Settings
from tests.helpers import csrf_from


@pytest.fixture
def member(org, make_user):
    return make_user(org, name="Priya Shah", department="Finance")


@pytest.fixture
def mixer_event(org, make_event, make_registration, member):
    event = make_event(
        org,
        kind="mentor_mixer",
        title="Spring mixer",
        rounds=3,
        minutes_per_round=7,
        capacity=20,
    )
    make_registration(
        event,
        email=member.email,
        name=member.name,
        user=member,
        role="mentor",
        department="Finance",
        offers=["negotiation", "public speaking"],
    )
    for dept in ["Sales", "Legal", "IT"]:
        make_registration(
            event,
            name=f"Mentee {dept}",
            role="mentee",
            department=dept,
            seeks=["negotiation"],
        )
    make_registration(event, name="Mentor IT", role="mentor", department="IT")
    make_registration(event, name="Mentor Legal", role="mentor", department="Legal")
    return event


def test_organizer_plans_and_sees_the_quality_report(
    client, auth, organizer, mixer_event
):
    auth.login(organizer.email)
    url = f"/events/{mixer_event.id}/rotations"
    page = client.get(url)
    assert page.status_code == 200
    html = page.text
    assert "Nobody is checked in yet: planning for all 6 registered" in html
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_from(html),
            "rounds": "3",
            "minutes": "6",
            "mode": "mentor_mentee",
            "group_size": "2",
            "seed": "1",
        },
    )
    assert resp.status_code == 302
    report = client.get(url).text
    assert "The rounds are planned." in report
    assert re.search(r'data-quality="repeats">0<', report)
    assert "<meter" in report and "<svg" in report  # a figure, not only numbers
    assert "People by how many rounds they sit out" in report
    assert "Priya Shah (Finance)" in report
    assert "schedule.pdf" in report and "projector" in report
    db.session.expire_all()
    plan = db.session.scalar(select(RotationPlan))
    assert (plan.rounds, plan.minutes, plan.seed) == (3, 6, 1)


def test_bad_settings_show_the_suggestion_inline(client, auth, organizer, mixer_event):
    auth.login(organizer.email)
    url = f"/events/{mixer_event.id}/rotations"
    html = client.get(url).text
    resp = client.post(
        url,
        data={
            "csrf_token": csrf_from(html),
            "rounds": "5",
            "minutes": "6",
            "mode": "mentor_mentee",
            "group_size": "2",
        },
    )
    assert resp.status_code == 400
    assert "field-error" in resp.text
    assert "Plan 3 rounds or fewer" in resp.text
    db.session.expire_all()
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 0


@pytest.mark.parametrize("action", ["replan", "next"])
def test_buttons_before_any_plan_say_so_and_go_back(
    client, auth, organizer, mixer_event, action
):
    """Re-plan or next round with nothing planned: a message on the page the
    button belongs to, not an error page."""
    auth.login(organizer.email)
    page = client.get(f"/events/{mixer_event.id}/rotations")
    resp = client.post(
        f"/events/{mixer_event.id}/rotations/{action}",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert resp.status_code == 302
    landed = client.get(resp.headers["Location"], follow_redirects=True)
    assert "No rotations have been planned for this mixer yet" in landed.text
    assert db.session.scalar(select(func.count(RotationPlan.id))) == 0


def test_members_cannot_plan_and_outsiders_get_404(
    client, auth, member, mixer_event, make_org, make_user
):
    auth.login(member.email)
    assert client.get(f"/events/{mixer_event.id}/rotations").status_code == 403
    assert (
        client.get(f"/events/{mixer_event.id}/rotations/projector").status_code == 403
    )
    auth.logout()
    other = make_org(slug="other", name="Other")
    stranger = make_user(other, role="organizer")
    auth.login(stranger.email)
    assert client.get(f"/events/{mixer_event.id}/rotations").status_code == 404
    assert client.get(f"/events/{mixer_event.id}/rotations/me").status_code == 404


def test_projector_advances_and_the_phone_shows_the_table(
    client, auth, organizer, member, mixer_event
):
    services.create_plan(mixer_event, Settings(rounds=3, minutes=7, seed=2))
    db.session.commit()
    auth.login(organizer.email)
    url = f"/events/{mixer_event.id}/rotations/projector"
    html = client.get(url).text
    assert "Round 1 starts soon" in html and "Where you sit in round 1" in html
    assert 'src="/static/js/projector.js?v=' in html
    assert "Start round 1" not in html  # the controls are on the plan page
    control = client.get(f"/events/{mixer_event.id}/rotations").text
    assert "Start round 1" in control and "Open the projector" in control
    resp = client.post(
        f"/events/{mixer_event.id}/rotations/next",
        data={"csrf_token": csrf_from(control), "expected": "0"},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(
        f"/events/{mixer_event.id}/rotations#run-h"
    )
    html = client.get(url).text
    assert "Round 1 of 3" in html and "Tables · round 1" in html
    assert re.search(r"data-countdown[^>]*>[67]:\d\d<", html)
    assert html.count("data-table=") == 3
    control = client.get(f"/events/{mixer_event.id}/rotations").text
    assert "Next round (2)" in control and "Pause the clock" in control
    # A stale second click (the page showed round 0) does not skip round 2.
    client.post(
        f"/events/{mixer_event.id}/rotations/next",
        data={"csrf_token": csrf_from(control), "expected": "0"},
    )
    db.session.expire_all()
    assert db.session.scalar(select(RotationPlan.current_round)) == 1
    assert db.session.scalar(select(func.count(Connection.id))) == 3
    auth.logout()

    auth.login(member.email)
    me = client.get(f"/events/{mixer_event.id}/rotations/me")
    assert me.status_code == 200
    text = me.text
    assert '<meta name="viewport" content="width=device-width' in text
    assert "Round 1" in text and "Table " in text
    assert "can help with" not in text or "negotiation" in text
    assert re.search(r"with <strong>Mentee \w+</strong> \((Sales|Legal|IT)\)", text), (
        text[text.find("<main") :]
    )
    assert "would like help with: negotiation" in text
    live = client.get(f"/events/{mixer_event.id}/rotations/me.json").json
    assert live["key"].startswith("seated:1:")
    assert "Round 1" in live["html"]

    partner = int(re.search(r'name="partner" value="(\d+)"', text).group(1))
    resp = client.post(
        f"/events/{mixer_event.id}/rotations/me/note",
        data={"csrf_token": csrf_from(text), "partner": partner, "body": "Pricing!"},
    )
    assert resp.status_code == 302
    assert "Pricing!" in client.get(f"/events/{mixer_event.id}/rotations/me").text
    db.session.expire_all()
    assert db.session.scalar(select(ConnectionNote.body)) == "Pricing!"


def test_mentee_view_says_what_the_mentor_can_help_with(
    client, auth, org, make_user, make_event, make_registration
):
    event = make_event(
        org, kind="mentor_mixer", rounds=1, minutes_per_round=7, capacity=5
    )
    mentee = make_user(org, name="Sam Mentee")
    make_registration(
        event, email=mentee.email, name="Sam Mentee", user=mentee, role="mentee"
    )
    make_registration(
        event,
        name="Priya Shah",
        role="mentor",
        department="Finance",
        offers=["negotiation", "public speaking"],
    )
    services.create_plan(event, Settings(rounds=1, minutes=7))
    running.start_next_round(event)
    db.session.commit()
    auth.login(mentee.email)
    text = client.get(f"/events/{event.id}/rotations/me").text
    assert "Round 1" in text and "Table 1" in text
    assert "with <strong>Priya Shah</strong> (Finance)" in text
    assert "can help with: negotiation, public speaking" in text


def test_pdfs_are_pdfs_with_the_schedule(client, auth, organizer, mixer_event):
    services.create_plan(mixer_event, Settings(rounds=2, minutes=7))
    db.session.commit()
    auth.login(organizer.email)
    for name in ("schedule.pdf", "cards.pdf"):
        resp = client.get(f"/events/{mixer_event.id}/rotations/{name}")
        assert resp.status_code == 200
        assert resp.mimetype == "application/pdf"
        assert resp.data.startswith(b"%PDF")
    from mixer.rotations.pdf import schedule_html

    with client.application.test_request_context():
        html = schedule_html(mixer_event, services.plan_for(mixer_event))
    assert "Round 2" in html and "Priya Shah (Finance)" in html
