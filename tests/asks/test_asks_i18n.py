"""Asks and pairs in German and Arabic: the asks pages in German, each ask
e-mail in its recipient's language, and the main pages of both areas in Arabic
on a 360 px phone (right to left, nothing wider than the phone, axe clean)."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import or_, select

from mixer.extensions import db
from mixer.pairs.models import Pair
from tests.browser_support import sign_in_page
from tests.helpers import csrf_from, link_in, mail_text

GERMAN = {"Accept-Language": "de"}


def _subject(msg) -> str:
    """The subject as a mail client shows it (long ones are folded on the wire)."""
    return " ".join(str(msg["Subject"]).split())


def test_asks_pages_in_german_and_each_mail_in_its_recipients_language(
    client, auth, world, outbox
):
    world.ada.locale = "ar"  # Ada reads Arabic, Ben has no setting (English)
    db.session.commit()
    auth.login(world.rita.email)
    new = client.get("/o/acme/asks/new", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Um einen Mikro-Mentor bitten</h1>" in new
    assert '<label for="topic">Thema</label>' in new
    assert "Personen finden, die es anbieten" in new
    created = client.post(
        "/o/acme/asks/new",
        data={"topic": "public speaking", "csrf_token": csrf_from(new)},
        headers=GERMAN,
    )
    path = created.headers["Location"]
    show = client.get(path, headers=GERMAN).get_data(as_text=True)
    assert "Ein Mikro-Mentor zum Thema public speaking" in show
    assert "<legend>Wen fragen (bis zu 3)</legend>" in show
    # The pick script's words, a JSON catalogue in the form's data attribute.
    words = json.loads(re.search(r"data-messages='([^']*)'", show).group(1))
    assert words == {
        "1": "Sie haben 1 ausgewählt; Sie können noch 2 auswählen.",
        "2": "Sie haben 2 ausgewählt; Sie können noch 1 auswählen.",
        "3": "Sie haben 3 ausgewählt, mehr geht nicht auf einmal.",
    }
    assert "bietet public speaking an · Sales" in show  # a stored reason, said
    assert "bietet public speaking an · Finance (Ihre Abteilung)" in show
    for english in ("People who offer it", "Ask them", "Withdraw this ask", "offers"):
        assert english not in show
    picked = client.post(
        f"{path}/ask",
        data={"people": [world.ada.id, world.ben.id], "csrf_token": csrf_from(show)},
        headers=GERMAN,
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2 Personen gefragt. Wir schreiben Ihnen, sobald jemand zusagt." in picked
    assert "Wartet auf eine Antwort" in picked

    # The ask e-mail: Arabic for Ada (her setting), English for Ben.
    [arabic] = outbox(world.ada.email)
    assert _subject(arabic) == (
        "هل تودّ أن تكون مرشدًا مصغّرًا لـRita Requester في public speaking؟"
    )
    text = mail_text(arabic)
    assert text.startswith("مرحبًا Ada Archer،")
    assert "لقاء متابعة مدته 5 دقيقة كل أسبوعين لمدة 3 أشهر تقريبًا" in text
    html = arabic.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    [english] = outbox(world.ben.email)
    assert _subject(english) == (
        "Would you be Rita Requester's micro-mentor on public speaking?"
    )
    assert "a 5-minute check-in every 2 weeks for about 3 months" in mail_text(english)
    auth.logout()

    # Ben declines in German from the link; Ada's acceptance is refused in
    # her language when the link is spent, nothing else.
    url = link_in(english, "/asks/answer/[^ ]*choice=decline")
    url = urlsplit(url).path + "?" + urlsplit(url).query
    confirm = client.get(url, headers=GERMAN).get_data(as_text=True)
    assert "Mikro-Mentor von Rita Requester zum Thema public speaking sein?" in confirm
    assert "Bestätigen: diesmal nicht" in confirm
    done = client.post(
        url,
        data={"choice": "decline", "csrf_token": csrf_from(confirm)},
        headers=GERMAN,
    ).get_data(as_text=True)
    assert "Danke für Ihre Antwort" in done
    assert "Rita Requester erfährt nicht, wer abgesagt hat." in done

    # Rita's inbox of asks, in German.
    auth.login(world.rita.email)
    inbox = client.get("/asks", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Anfragen</h1>" in inbox and "Ihre Anfragen" in inbox
    assert ">offen</span>" in inbox
    for english in ("Your asks", "Asked of you", "Ask for a micro-mentor"):
        assert english not in inbox


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_pairs_and_asks_in_arabic_on_a_phone(app, live_server, browser, world):
    """Olga (an organizer, Dee's mentee) reads Arabic: her pairs, a pair, the
    organizers' overview, asking for a micro-mentor and picking people."""
    world.organizer.locale = "ar"
    db.session.commit()
    pair_id = db.session.scalar(
        select(Pair.id).where(
            or_(Pair.a_id == world.organizer.id, Pair.b_id == world.organizer.id)
        )
    )
    width = 360
    # An English browser: her own setting makes the pages Arabic once signed in.
    context = browser.new_context(viewport={"width": width, "height": 740})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    folder = os.environ.get("MIXER_SCREENSHOT_DIR")

    def fits(name: str) -> None:
        """Right to left, and nothing wider than the phone."""
        assert page.locator("html").get_attribute("dir") == "rtl"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert scroll <= inner, f"{page.url} scrolls sideways: {scroll} > {inner}"
        if folder:
            page.screenshot(path=f"{folder}/{name}-ar-{width}.png", full_page=True)

    sign_in_page(page, live_server, world.organizer.email)
    page.goto(f"{live_server}/pairs")
    fits("pairs-mine")
    assert page.get_by_role("heading", name="ثنائياتي").is_visible()
    assert page.get_by_text("مرشدك").first.is_visible()
    page.goto(f"{live_server}/pairs/{pair_id}")
    fits("pairs-show")
    assert page.get_by_role("heading", name="سجّل لقاء متابعة الآن").is_visible()
    assert page.get_by_role("button", name="احفظ الإيقاع").is_visible()
    page.goto(f"{live_server}/o/acme/pairs")
    fits("pairs-overview")
    assert page.get_by_role("heading", name="ثنائيات الإرشاد").is_visible()

    page.goto(f"{live_server}/o/acme/asks/new")
    fits("asks-new")
    page.get_by_label("الموضوع").fill("public speaking")
    page.get_by_role("button", name="ابحث عمّن يعرضه").click()
    page.get_by_role("heading", name="أشخاص يعرضونه").wait_for()
    fits("asks-show")
    assert page.get_by_text("يعرض public speaking · Sales").first.is_visible()
    page.get_by_role("checkbox").first.check()
    assert page.locator("#pick-help").inner_text().startswith("اخترت 1؛")
    page.get_by_role("button", name="اسألهم").click()
    page.get_by_role("heading", name="بانتظار إجابة").wait_for()
    page.goto(f"{live_server}/asks")
    fits("asks-index")
    assert page.get_by_role("heading", name="طلباتك").is_visible()
    assert problems == []
    context.close()
