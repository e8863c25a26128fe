"""Recognition in German and Arabic (issue 18): the organizer's pages in their
language, the award e-mail and certificate in the language of the person
awarded, and the Arabic pages on a phone (right to left, nothing sideways)."""

from __future__ import annotations

import os
import re
from html import unescape
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mixer.audit.models import AuditEntry
from mixer.extensions import db
from mixer.orgs.services import set_default_locale
from mixer.recognition import awards
from mixer.recognition.models import Award
from mixer.recognition.testimonials import submit_testimonial
from mixer.speakers.services import add_speaker
from tests.helpers import PASSWORD, csrf_from, mail_text
from tests.recognition.conftest import MARCH


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_organizer_pages_in_german_and_the_award_in_the_winners_language(
    client, auth, month_data, outbox
):
    org, cy = month_data["org"], month_data["cy"]
    set_default_locale(org, "ar")  # Cy has no setting of his own: Arabic
    month_data["organizer"].locale = "de"
    submit_testimonial(
        org.id, body="Sehr hilfreich.", author_name="Bo Chen", source_key="p:bo"
    )
    db.session.commit()
    auth.login(month_data["organizer"].email)

    html = _page(client, "/o/riverside/recognition")
    assert '<html lang="de" dir="ltr">' in html
    assert "Nominierte für März 2026" in html
    assert "Check-ins als Mentor:in: 2 × 3 = 6 Punkte" in html  # a scoring line
    assert "4 Personen haben Punkte." in html
    assert "So wird gezählt" in html and "je 3 Punkte" in html  # the rules
    for english in ("Candidates for", "How the score works", " points", "March"):
        assert english not in html, english
    # Saving the draft and publishing it, in German.
    token = csrf_from(html)
    saved = client.post(
        f"/o/riverside/recognition/{MARCH}/draft",
        data={"csrf_token": token, "user_id": cy.id, "citation": ""},
        follow_redirects=True,
    )
    html = saved.get_data(as_text=True)
    assert "Entwurf gespeichert. Prüfen Sie ihn unten" in html
    assert "Prüfen und veröffentlichen" in html
    form = re.search(r'action="[^"]*/publish">(.*?)</form>', html, re.S).group(1)
    citation = unescape(re.search(r'name="citation" value="([^"]*)"', form).group(1))
    assert citation == "Für 3 Mentoring-Check-ins im März 2026."  # the suggestion
    published = client.post(
        f"/o/riverside/recognition/{MARCH}/publish",
        data={"csrf_token": token, "user_id": cy.id, "citation": citation},
        follow_redirects=True,
    )
    html = published.get_data(as_text=True)
    assert "Veröffentlicht: Cy Young ist Micro-Mentor des Monats für März 2026." in html
    assert "Urkunde (PDF)" in html and "Was gezählt hat" in html
    assert (
        "Check-ins als Mentor:in: 3 × 3 = 9 Punkte" in html
    )  # stored, shown in German
    assert "Gesamt: 9 Punkte." in html
    assert "Micro-Mentoren des Monats" in _page(client, "/o/riverside/awards")
    html = _page(client, "/o/riverside/testimonials")
    assert "Testimonials von Bo Chen freigeben" not in html  # not a made-up phrase
    assert 'aria-label="Testimonial von Bo Chen freigeben">Freigeben</button>' in html
    assert "Approve" not in html

    # The e-mail: Arabic, the language of the person awarded.
    (message,) = outbox(cy.email)
    assert message["Subject"] == (
        "أنت المرشد المصغّر للشهر في Riverside College عن مارس 2026"
    )
    text = mail_text(message)
    assert text.startswith("مرحبًا Cy Young،")
    assert "تهانينا! اختارك منظِّمو Riverside College" in text
    body = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in body and "border-right:4px" in body
    # The certificate too, whoever downloads it.
    pdf = client.get(f"/o/riverside/awards/{MARCH}/certificate.pdf")
    title = PdfReader(BytesIO(pdf.data)).metadata.title
    assert title == "المرشد المصغّر للشهر · مارس 2026 · Cy Young"
    # The audit trail stays English.
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "award.published")
    )
    assert entry.summary == "Published the award of March 2026 to Cy Young"
    # The stored breakdown keeps the English label (the page translates by key).
    award = db.session.scalar(select(Award))
    assert award.breakdown[0]["what"] == "Check-ins held as mentor"


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_recognition_and_speaker_pages_in_arabic_on_a_phone(
    app, live_server, browser, month_data, make_event
):
    org, olga = month_data["org"], month_data["organizer"]
    olga.locale = "ar"
    awards.save_draft(org, MARCH, month_data["cy"].id, "", olga)
    db.session.commit()
    awards.publish(
        org,
        MARCH,
        olga,
        user_id=month_data["cy"].id,
        citation=awards.award_for(org, MARCH).citation,
    )
    submit_testimonial(
        org.id,
        body="Five minutes every fortnight changed how I plan my week.",
        author_name="Bo Chen",
        source_key="prompt:bo",
    )
    event = make_event(org, olga, title="Negotiation over lunch")
    add_speaker(event.sessions[0], olga)
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

    page.goto(f"{live_server}/login")
    page.get_by_label("البريد الإلكتروني").fill(olga.email)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول", exact=True).click()
    page.wait_for_url(f"{live_server}/o/riverside/")

    page.goto(f"{live_server}/o/riverside/recognition")
    fits("recognition")
    assert page.get_by_role("heading", name="المرشد المصغّر للشهر").is_visible()
    assert page.get_by_role("heading", name="منشور").is_visible()
    # The "previous month" arrow points right in a right-to-left page.
    arrow = page.locator(".month-step .icon").first
    assert "matrix(-1" in arrow.evaluate("e => getComputedStyle(e).transform")
    page.get_by_role("button", name="صفحة التكريم").click()
    fits("award")
    assert page.get_by_role("heading", name="ما احتُسب").is_visible()
    page.goto(f"{live_server}/o/riverside/testimonials")
    fits("testimonials")
    assert page.get_by_role("button", name="وافق على شهادة Bo Chen").is_visible()
    page.goto(f"{live_server}/events/{event.id}/speaker")
    fits("speaker")
    assert page.get_by_role(
        "heading", name="حديثك في Negotiation over lunch"
    ).is_visible()
    page.goto(f"{live_server}/events/{event.id}/speakers")
    fits("speakers")
    assert page.get_by_role("heading", name="ادعُ بالبريد الإلكتروني").is_visible()
    context.close()
