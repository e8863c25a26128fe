"""The door in German and Arabic: the scan page and its script's words, the badge
page, the dashboard's door section, refusals, the badge sign-in e-mail in its
recipient's language, badge PDFs in the organization's language; and the door
and the room (check-in, badge card, rotations) in Arabic on a phone."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from mixer import clock
from mixer.badges.services import badge_words
from mixer.extensions import db
from mixer.orgs.services import set_default_locale
from mixer.rotations import running, services
from mixer.rotations.services import Settings
from tests.helpers import PASSWORD, csrf_from, mail_text

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _data_messages(html: str) -> dict:
    """The scan page's JSON catalogue (data-messages)."""
    match = re.search(r"data-messages='([^']*)'", html)
    assert match, "no data-messages on the scan page"
    return json.loads(match.group(1).replace("&#34;", '"').replace("&amp;", "&"))


def test_the_door_speaks_german(app, client, auth, door, make_user, make_registration):
    reg = make_registration(
        door.event, name="Tap Person", offers=["Python"], role="mentor"
    )
    auth.login(door.organizer.email)

    scan = client.get(f"/events/{door.event.id}/scan", headers=GERMAN).text
    assert '<html lang="de" dir="ltr">' in scan
    for german in (
        "Check-in · Spring Mixer",
        'von <span id="scan-registered">1</span> eingecheckt',
        "Kamera starten",
        "Kein Namensschild? Person suchen",
        "Spontane Person hinzufügen",
        "Letzte Scans",
    ):
        assert german in scan, german
    for english in ("Start the camera", "No badge?", "Add a walk-in", "Recent scans"):
        assert english not in scan, english
    # The script's words: {name} to fill in, plurals by CLDR category.
    words = _data_messages(scan)
    assert words["checkedInName"] == "Eingecheckt: {name}"
    assert words["sending"] == {
        "one": "{num} gespeicherter Scan wird gesendet…",
        "other": "{num} gespeicherte Scans werden gesendet…",
    }
    # A refusal the scan page shows, in German.
    refused = client.post(
        f"/events/{door.event.id}/scan/checkins",
        json={"url": "http://elsewhere.test/x", "nonce": "n-000001"},
        headers={"X-CSRFToken": csrf_from(scan), **GERMAN},
    )
    assert refused.status_code == 404
    assert refused.get_json()["error"]["message"].startswith(
        "Das ist kein Mixer-Namensschildcode"
    )

    # The badge page for the organizer, its one tap and the flash message.
    badge = client.get(f"/c/{reg.badge_token}", headers=GERMAN).text
    assert "Tap Person einchecken" in badge and "Scan-Seite öffnen" in badge
    done = client.post(
        f"/c/{reg.badge_token}/check-in",
        data={"csrf_token": csrf_from(badge)},
        headers=GERMAN,
        follow_redirects=True,
    ).text
    assert "Eingecheckt: Tap Person" in done
    assert "Bereits eingecheckt um" in done and "Check-in rückgängig machen" in done
    assert "Already checked in" not in done

    # The dashboard's door section and links to the badges.
    dash = client.get(f"/events/{door.event.id}/dashboard", headers=GERMAN).text
    for german in (
        "Am Einlass",
        "Einlasshelfer",
        "Einlasslink erstellen",
        'value="Empfang"',  # the new link's suggested name
        "Namensschilder am Einlass scannen",
        "Letzte Check-ins",
    ):
        assert german in dash, german
    for english in ("At the door", "Make a door link", "Recent check-ins"):
        assert english not in dash, english

    # A member who is not an organizer: refused in German.
    member = make_user(door.org, email="mo@acme.example.org")
    auth.logout()
    auth.login(member.email)
    forbidden = client.get(f"/events/{door.event.id}/badges.pdf", headers=GERMAN)
    assert forbidden.status_code == 403
    assert "Nur die Organisation der Veranstaltung kann das tun." in forbidden.text


def test_badges_are_printed_in_the_organizations_language(
    app, client, auth, door, make_registration
):
    make_registration(door.event, name="Greta Gast", offers=["Python"])
    set_default_locale(door.org, "de")
    db.session.commit()
    auth.login(door.organizer.email)
    # The organizer's browser says English; the badges are the organization's.
    english = {"Accept-Language": "en"}
    pdf = client.get(f"/events/{door.event.id}/badges.pdf", headers=english)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    # (the badge's style writes the labels in capitals)
    assert "KANN HELFEN BEI" in text and "TEILNEHMER" in text
    assert "CAN HELP WITH" not in text and "ATTENDEE" not in text
    # The date on the badge in German (the event's own zone, no zone name).
    start = door.event.starts_at
    assert re.search(r"\d{1,2}\. \w+\.? " + str(start.year), text), text
    # The document's title and the QR image's alt text through the catalogue too.
    title = PdfReader(io.BytesIO(pdf.data)).metadata.title
    assert title == f"Namensschilder: {door.event.title}"
    assert badge_words(door.event).qr_alt == "QR-Code"

    # English again: the cache key includes the language, so no German badge.
    set_default_locale(door.org, "en")
    db.session.commit()
    pdf = client.get(f"/events/{door.event.id}/badges.pdf", headers=english)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "CAN HELP WITH" in text and "KANN HELFEN BEI" not in text
    title = PdfReader(io.BytesIO(pdf.data)).metadata.title
    assert title == f"Badges: {door.event.title}"


def test_the_badge_sign_in_link_is_in_the_readers_language(
    app, client, door, make_user, make_registration, outbox
):
    german = make_user(door.org, name="Greta", email="greta@acme.example.org")
    german.locale = "de"
    db.session.commit()
    reg = make_registration(door.event, name="Someone Met")
    guest = make_registration(door.event, name="Gus Guest", email="gus@example.org")
    assert guest.user_id is None

    # A member asks from an Arabic browser: their own language, German.
    page = client.get(f"/c/{reg.badge_token}", headers={"Accept-Language": "ar"})
    assert "هذه شارة Mixer" in page.text  # "This is a Mixer badge"
    client.post(
        f"/c/{reg.badge_token}/sign-in",
        data={"email": german.email, "csrf_token": csrf_from(page.text)},
        headers={"Accept-Language": "ar"},
    )
    (message,) = outbox(german.email)
    assert message["Subject"] == "Ihr Anmeldelink für Mixer"
    assert mail_text(message).startswith("Hallo Greta,")

    # A guest without an account: the language of the page that asked (Arabic),
    # and the page says in Arabic that a link is on its way.
    done = client.post(
        f"/c/{reg.badge_token}/sign-in",
        data={"email": guest.email, "csrf_token": csrf_from(page.text)},
        headers={"Accept-Language": "ar"},
        follow_redirects=True,
    )
    assert "فرابط تسجيل الدخول في طريقه إليك" in done.text
    message = outbox(guest.email)[-1]  # after their registration's confirmation
    assert message["Subject"] == "رابط تسجيل الدخول إلى Mixer"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_the_door_and_the_room_in_arabic_on_a_phone(
    app, live_server, browser, door, make_user, make_registration
):
    organizer = door.organizer
    organizer.locale = "ar"
    attendee = make_user(door.org, name="Mira Member", email="mira@acme.example.org")
    attendee.locale = "ar"
    mine = make_registration(
        door.event,
        email=attendee.email,
        name=attendee.name,
        user=attendee,
        role="mentee",
        seeks=["negotiation"],
    )
    people = [
        make_registration(
            door.event,
            name=f"Person {i}",
            role=("mentor", "mentee")[i % 2],
            department=("Finance", "Sales", "Legal")[i % 3],
            offers=["negotiation"],
        )
        for i in range(5)
    ]
    for reg in (mine, *people[:4]):  # Person 4 comes in at the door below
        reg.checked_in_at = clock.now() - timedelta(minutes=5)
    db.session.commit()
    services.create_plan(door.event, Settings(rounds=3, minutes=10, seed=1))
    running.start_next_round(door.event, 0)
    db.session.commit()
    width = 360
    context = browser.new_context(viewport={"width": width, "height": 740}, locale="ar")
    page = context.new_page()
    folder = os.environ.get("MIXER_SCREENSHOT_DIR")

    def fits(name: str) -> None:
        """Right to left, and nothing wider than the phone."""
        assert page.locator("html").get_attribute("dir") == "rtl"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{page.url} scrolls sideways: {scroll} > {width}"
        if folder:
            page.screenshot(path=f"{folder}/{name}-ar-{width}.png", full_page=True)

    def sign_in(email: str) -> None:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="تسجيل الدخول", exact=True).click()
        page.wait_for_url(re.compile(r".*/o/acme/$"))

    # The organizer: the scan page and its manual search, the rotations.
    sign_in(organizer.email)
    page.goto(f"{live_server}/events/{door.event.id}/scan")
    assert page.get_by_role("button", name="تشغيل الكاميرا").is_visible()
    page.get_by_label("الاسم أو القسم").fill("Person 4")
    page.get_by_role("button", name="سجّل الحضور", exact=True).click()
    page.get_by_text("سُجّل الحضور في").wait_for()  # "Checked in at …"
    fits("scan")
    page.goto(f"{live_server}/events/{door.event.id}/rotations")
    assert page.get_by_role("heading", name="إدارة القاعة").is_visible()
    fits("rotations")
    page.goto(f"{live_server}/events/{door.event.id}/rotations/projector")
    assert page.get_by_text("الجولة 1 من 3", exact=True).is_visible()
    fits("projector")
    page.goto(f"{live_server}/events/{door.event.id}/dashboard")
    assert page.get_by_role("heading", name="عند الباب").is_visible()
    fits("dashboard")
    context.clear_cookies()

    # The attendee: another person's badge card and their own table.
    sign_in(attendee.email)
    page.goto(f"{live_server}/c/{people[0].badge_token}")
    assert page.get_by_text("حُفظ: التقيت Person 0.").is_visible()
    fits("badge")
    page.goto(f"{live_server}/events/{door.event.id}/rotations/me")
    assert page.get_by_text("الجولة 1", exact=True).is_visible()
    fits("me")
    context.close()
