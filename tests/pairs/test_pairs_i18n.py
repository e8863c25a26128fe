"""Pairs in German and Arabic: the pages in the reader's language, each pair
e-mail in its recipient's, and a hold reason (``capacity.hold_for``) said in
the language of whoever reads it, not of the request that made it."""

from __future__ import annotations

from flask_babel import force_locale

from mixer.extensions import db
from mixer.pairs import answers
from mixer.pairs.capacity import hold_for
from mixer.pairs.lifecycle import create_pair
from tests.helpers import csrf_from, mail_text

from .helpers import invite_of, mails

GERMAN = {"Accept-Language": "de"}


def test_pair_pages_in_german_and_each_mail_in_its_recipients_language(
    app, client, auth, world, outbox
):
    world.mentee.locale = "de"  # Bo reads German; Ada has no setting (English)
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        pair = create_pair(
            world.org,
            world.mentor,
            world.mentee,
            kind="mentoring",
            mentor=world.mentor,
            topic="negotiation",
            source="request",
        )
        db.session.commit()
    pair_id = pair.id

    # The introduction: German for Bo, English for Ada, whoever's request.
    [intro] = mails(outbox, world.mentee.email, "Lernen Sie")
    subject = "Lernen Sie Ada Lovelace kennen: Ihr neues Mentoring-Paar"
    assert intro["Subject"] == subject
    text = mail_text(intro)
    assert text.startswith("Hallo Bo Chen,")
    assert "Sie haben um einen Mikro-Mentor zum Thema negotiation gebeten" in text
    assert "Ada Lovelace ist Ihr Mentor." in text
    assert "Erstes Check-in: Mi., 4. März 2026, 12:30 UTC (5 Minuten)" in text
    assert "ein 5-minütiges Check-in alle 2 Wochen, bis " in text
    html = intro.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html
    assert ">Seite Ihres Paares öffnen</a>" in html
    [english] = mails(outbox, world.mentor.email, "Meet Bo Chen")
    assert english["Subject"] == "Meet Bo Chen: your new mentoring pair"
    assert "You mentor Bo Chen." in mail_text(english)
    # Each person's calendar file in their language; the same series (UID, SEQUENCE).
    german_event = invite_of(intro).walk("VEVENT")[0]
    english_event = invite_of(english).walk("VEVENT")[0]
    assert str(german_event["SUMMARY"]) == "Check-in: Ada Lovelace & Bo Chen"
    assert "Thema: negotiation" in str(german_event["DESCRIPTION"])
    assert "5-minütiges Check-in alle 14 Tage" in str(german_event["DESCRIPTION"])
    assert str(english_event["DESCRIPTION"]).startswith("Topic: negotiation")
    for key in ("UID", "SEQUENCE", "DTSTART", "RRULE"):
        assert german_event[key].to_ical() == english_event[key].to_ical()

    # A status e-mail made by Ada's (English) request: still German for Bo.
    answers.log_meeting(pair, world.mentee, "met")
    db.session.commit()
    auth.login(world.mentor.email)
    page = client.get(f"/pairs/{pair_id}").get_data(as_text=True)
    assert "Log a check-in now" in page  # Ada's page stays English
    client.post(
        f"/pairs/{pair_id}/pause",
        data={"csrf_token": csrf_from(page)},
    )
    [paused] = mails(outbox, world.mentee.email, "pausiert")
    assert paused["Subject"] == "Check-ins mit Ada Lovelace sind pausiert"
    assert "Ada Lovelace hat Ihre Check-ins pausiert." in mail_text(paused)
    auth.logout()

    # Bo's pages, in German (his setting): no English left that one can see.
    auth.login(world.mentee.email)
    mine = client.get("/pairs").get_data(as_text=True)
    assert "<h1>Meine Paare</h1>" in mine
    assert "Ihr Mentor" in mine and "Pausiert" in mine
    assert "1 gehalten in Folge" in mine
    for english_text in ("Next check-in", "Streak", "See the history", "Your mentor"):
        assert english_text not in mine
    show = client.get(f"/pairs/{pair_id}").get_data(as_text=True)
    assert "<h1>Sie &amp; Ada Lovelace</h1>" in show
    assert "Ada Lovelace ist Ihr Mentor." in show
    assert "Ein 5-minütiges Check-in alle 2 Wochen" in show
    assert "Fortsetzen oder schließen" in show and "Tage zwischen Check-ins" in show
    for english_text in ("Rhythm<", "Resume", "Held<", "Check-ins per", "Close the"):
        assert english_text not in show
    auth.logout()

    # The organizers' overview, German from the browser.
    auth.login(world.organizer.email)
    overview = client.get("/o/acme/pairs", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Mentoring-Paare</h1>" in overview
    assert "Check-ins pro Monat" in overview and "März 2026" in overview
    assert "5 Min. / 14 T." in overview
    assert '<span class="badge-role">Mentor</span>' in overview
    leftovers = ("All pairs", "Missed or skipped", "Rhythm<", "mentee<", "Weiter")
    for english_text in leftovers:
        assert english_text not in overview


def test_a_hold_reason_is_said_in_the_language_it_is_read_in(app, world):
    place = world.mentor.membership_in(world.org)
    place.mentoring_capacity = 0
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        hold = hold_for(place, as_mentor=True, name="Ada Lovelace")
        assert hold is not None
        # Made in an Arabic request, read later in each reader's language.
        with force_locale("de"):
            assert str(hold.reason) == (
                "Ada Lovelace nimmt derzeit keine Mentees an; wir behalten Ihre "
                "Wahl, bis ein Platz frei wird."
            )
        with force_locale("en"):
            assert str(hold.reason) == (
                "Ada Lovelace is not taking on mentees at the moment; we'll keep "
                "your choice for when a place opens."
            )
        assert str(hold.reason).startswith("Ada Lovelace لا يقبل متدرّبين")
