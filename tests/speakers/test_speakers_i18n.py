"""The speakers' pages, refusals and e-mails in German and Arabic (issue 18):
pages in the reader's language, e-mails in the recipient's."""

from __future__ import annotations

import io
import json
import re
from html import unescape

from mixer.extensions import db
from mixer.orgs.services import set_default_locale
from tests.helpers import csrf_from, mail_text
from tests.speakers.conftest import PDF


def test_speaker_pages_in_german_and_e_mails_in_the_recipients_language(
    client, auth, world, outbox
):
    set_default_locale(world.org, "ar")  # people without a setting read Arabic
    world.organizer.locale = "de"
    world.speaker.locale = "de"
    world.member.locale = "de"
    db.session.commit()
    event = world.event

    # The organizer's page, in German (her setting), nothing left in English.
    auth.login(world.organizer.email)
    html = client.get(f"/events/{event.id}/speakers").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    for german in (
        "Per E-Mail einladen",
        "Ein Mitglied als vortragende Person eintragen",
        "Material selbst hochladen",
        "Noch kein Material.",
    ):
        assert german in html, german
    for english in (
        "Invite by e-mail",
        "Make a member a speaker",
        "Upload material yourself",
        "No material yet",
        "Send the invitation",
    ):
        assert english not in html, english
    # An invitation to an address without an account: the organization's
    # language (Arabic), whatever the organizer reads.
    session_id = str(event.sessions[0].id)
    sent = client.post(
        f"/events/{event.id}/speakers/invite",
        data={
            "csrf_token": csrf_from(html),
            "name": "Nia New",
            "email": "nia@example.org",
            "session_id": session_id,
        },
        follow_redirects=True,
    )
    assert "Einladung an nia@example.org gesendet." in sent.get_data(as_text=True)
    (invitation,) = outbox("nia@example.org")
    assert invitation["Subject"] == "أنت متحدّث في Negotiation over lunch"
    text = mail_text(invitation)
    assert text.startswith("مرحبًا Nia New،")
    assert "يدعوك Olga Organizer للتحدّث في Negotiation over lunch" in text
    body = invitation.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in body
    # A member made a speaker: their own setting, German.
    client.post(
        f"/events/{event.id}/speakers/add",
        data={
            "csrf_token": csrf_from(html),
            "member": str(world.member.membership_in(world.org).id),
            "session_id": session_id,
        },
    )
    (added,) = outbox(world.member.email)
    assert added["Subject"] == "Sie sprechen bei Negotiation over lunch"
    text = mail_text(added)
    assert text.startswith("Hallo Max Member,")
    assert "Olga Organizer hat Sie als vortragende Person für" in text
    auth.logout()

    # The speaker's own page: German, with the upload script's words.
    auth.login(world.speaker.email)
    page = client.get(f"/events/{event.id}/speaker").get_data(as_text=True)
    assert "Ihr Vortrag bei Negotiation over lunch" in page
    assert "Ihr Profil als vortragende Person" in page and "Your talk" not in page
    words = json.loads(unescape(re.search(r"data-messages='([^']*)'", page).group(1)))
    assert words["uploaded"] == "Hochgeladen."
    assert words["failed"] == "Hochladen fehlgeschlagen (%(status)s)."
    # One file stored, one refused: each said in German.
    done = client.post(
        f"/events/{event.id}/materials",
        data={
            "csrf_token": csrf_from(page),
            "session_id": session_id,
            "visibility": "attendees",
            "available": "anytime",
            "files": [
                (io.BytesIO(PDF), "folien.pdf"),
                (io.BytesIO(b""), "leer.pdf"),
            ],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "leer.pdf: Die Datei ist leer." in html
    assert "Hochgeladen: folien.pdf." in html
    assert re.search(r"folien\.pdf · \d+ KB", html)  # the size, in German words
    assert '<small class="muted">· Teilnehmende</small>' in html
