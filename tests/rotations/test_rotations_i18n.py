"""Rotations in German: the plan page and its report, the projector, the
attendee's phone, refusals, and the schedule and table cards printed in the
organization's language (the Arabic phone check is in
tests/checkin/test_checkin_i18n.py, with the door)."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from mixer.extensions import db
from mixer.orgs.services import set_default_locale
from mixer.rotations import services
from mixer.rotations.services import RotationError, Settings
from tests.helpers import csrf_from

GERMAN = {"Accept-Language": "de"}


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_room_speaks_german(client, auth, org, organizer, make_user, room):
    people = room(8, checked_in=8)
    event = people[0].event
    attendee = make_user(org, name="Mira Member", email="mira@acme.example.org")
    people[0].user_id = attendee.id
    db.session.commit()
    auth.login(organizer.email)
    url = f"/events/{event.id}/rotations"

    # Before a plan: the form, and a refusal said in German.
    page = client.get(url, headers=GERMAN).text
    assert '<html lang="de" dir="ltr">' in page
    for german in (
        "Runden planen",
        "Minuten pro Runde",
        "Paarung",
        "Weitere Einstellungen",
    ):
        assert german in page, german
    assert "8 Personen eingecheckt" in page
    refused = client.post(
        f"{url}/next",
        data={"csrf_token": csrf_from(page), "expected": "0"},
        headers=GERMAN,
        follow_redirects=True,
    )
    assert "Für diesen Mixer wurden noch keine Rotationen geplant." in refused.text
    # The engine's own refusal (too many rounds for four mentors and four mentees).
    settings = {"rounds": "5", "minutes": "6", "mode": "mentor_mentee"}
    refused = client.post(
        url,
        data={"csrf_token": csrf_from(page), **settings, "group_size": "2"},
        headers=GERMAN,
    )
    assert refused.status_code == 400
    assert (
        "5 Runden lassen sich nicht planen, ohne dass jemand dieselbe Person zweimal "
        "trifft: Mit diesen 8 Personen sind höchstens 4 möglich. Planen Sie 4 Runden "
        "oder weniger; oder fügen Sie der kleineren Seite Personen hinzu."
    ) in refused.text
    assert "can't be planned" not in refused.text
    with force_locale("ar"), pytest.raises(RotationError) as caught:
        services.create_plan(event, Settings(rounds=5, minutes=6))
    assert "خطّط لـ4 جولات أو أقل؛ أو أضف أشخاصًا إلى الجانب الأصغر." in str(caught.value)
    db.session.rollback()

    services.create_plan(event, Settings(rounds=3, minutes=7, seed=2))
    db.session.commit()
    page = client.get(url, headers=GERMAN).text
    for german in (
        "Den Raum leiten",
        "Nicht gestartet: 3 Runden zu je 7 Minuten geplant.",
        "Runde 1 starten",
        "Projektor öffnen",
        "Qualität des Plans",
        "Wiederholte Begegnungen",
        "Runde 1",
        "Tische)",
    ):
        assert german in page, german
    for english in (
        "Run the room",
        "Start round 1",
        "Quality of the plan",
        "Sitting out",
    ):
        assert english not in page, english
    started = client.post(
        f"{url}/next",
        data={"csrf_token": csrf_from(page), "expected": "0"},
        headers=GERMAN,
        follow_redirects=True,
    ).text
    assert "Runde 1 von 3 läuft" in started and "Nächste Runde (2)" in started
    assert 'data-time-up="Zeit ist um"' in started  # the script's words

    projector = client.get(f"{url}/projector", headers=GERMAN).text
    assert '<html lang="de" dir="ltr">' in projector
    assert "Runde 1 von 3" in projector and "Tische · Runde 1" in projector
    assert 'data-leave="Vollbild beenden"' in projector
    state = client.get(f"{url}/state.json", headers=GERMAN).get_json()
    assert state["label"] == "Runde 1 von 3"

    # The attendee's phone.
    auth.logout()
    auth.login(attendee.email)
    me = client.get(f"{url}/me", headers=GERMAN).text
    assert "Runde 1" in me and "Die Veranstaltungsseite" in me
    assert re.search(r"Tisch \d|Sie setzen diese Runde aus", me), me
    assert "The event page" not in me


def test_the_schedule_and_table_cards_are_printed_in_the_orgs_language(
    client, auth, org, organizer, room
):
    people = room(6, checked_in=6)
    event = people[0].event
    services.create_plan(event, Settings(rounds=2, minutes=7, seed=1))
    set_default_locale(org, "de")
    db.session.commit()
    auth.login(organizer.email)
    english = {"Accept-Language": "en"}  # the organizer's browser: English
    schedule = _pdf_text(
        client.get(f"/events/{event.id}/rotations/schedule.pdf", headers=english).data
    )
    assert "Runde 1" in schedule and "Tisch 1" in schedule
    assert "2 Runden zu je 7 Minuten" in schedule and "Seite 1 von 1" in schedule
    assert "Round 1" not in schedule and "Table 1" not in schedule
    cards = _pdf_text(
        client.get(f"/events/{event.id}/rotations/cards.pdf", headers=english).data
    )
    assert "TISCH" in cards and "TABLE" not in cards  # the card's style: capitals

    # Back to English: a new drawing, not the cached German one.
    set_default_locale(org, "en")
    db.session.commit()
    schedule = _pdf_text(
        client.get(f"/events/{event.id}/rotations/schedule.pdf", headers=english).data
    )
    assert "Round 1" in schedule and "Runde 1" not in schedule
