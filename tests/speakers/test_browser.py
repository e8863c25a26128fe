"""In a real browser: a speaker follows the invitation link, uploads a PDF with
the progress bar, and an attendee downloads it from the event page."""

from __future__ import annotations

import hashlib

import pytest

from mixer.extensions import db
from mixer.speakers.services import invite_speaker
from tests.browser_support import sign_in_page
from tests.helpers import link_in
from tests.speakers.conftest import PDF

pytestmark = pytest.mark.browser


def test_speaker_uploads_attendee_downloads(
    app, live_server, browser, world, outbox, tmp_path
):
    invite_speaker(world.event, "nia@example.org", "Nia New", by=world.organizer)
    db.session.commit()
    [msg] = outbox("nia@example.org")
    base_in_mail = "http://mixer.test"
    link = link_in(msg, "/speakers/accept/").replace(base_in_mail, live_server)
    problems: list[str] = []

    ctx = browser.new_context()
    page = ctx.new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.goto(link)
    page.get_by_role("button", name="Open my speaker page").click()
    page.wait_for_url(f"**/events/{world.event.id}/speaker")
    pdf = tmp_path / "talk.pdf"
    pdf.write_bytes(PDF)
    page.set_input_files("input[name=files]", str(pdf))
    page.get_by_role("button", name="Upload", exact=True).click()
    bar = page.locator("[data-upload-list] progress")
    bar.wait_for()
    page.locator("[data-upload-list] li.upload-done").wait_for()
    assert bar.get_attribute("value") == "100" or bar.evaluate("b => b.value") == 100
    ctx.close()

    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in_page(page, live_server, world.attendee.email)
    page.goto(f"{live_server}/events/{world.event.id}")
    anchor = page.locator("a.material-download", has_text="talk")
    href = anchor.get_attribute("href")
    got = page.request.get(f"{live_server}{href}")
    assert got.status == 200
    assert hashlib.sha256(got.body()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    ctx.close()
    assert problems == []


def test_your_material_list_updates_after_an_upload_without_a_reload(
    app, live_server, browser, world, tmp_path
):
    problems: list[str] = []
    ctx = browser.new_context()
    page = ctx.new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    sign_in_page(page, live_server, world.speaker.email)
    page.goto(f"{live_server}/events/{world.event.id}/speaker")
    mine = page.locator("ul.material-list")
    assert "No material yet." in mine.inner_text()
    page.evaluate("window.__samePage = true")
    deck, notes = tmp_path / "keynote.pdf", tmp_path / "notes.md"
    deck.write_bytes(PDF)
    notes.write_text("# Notes\n\nRead more.\n")
    page.set_input_files("input[name=files]", [str(deck), str(notes)])
    page.get_by_role("button", name="Upload", exact=True).click()
    mine.locator("a.material-download", has_text="keynote").wait_for()
    mine.locator("a.material-download", has_text="notes").wait_for()
    assert "No material yet." not in mine.inner_text()
    assert page.evaluate("window.__samePage") is True  # no reload happened
    # The new rows work: their delete forms carry a valid CSRF token.
    page.get_by_role("button", name="Delete notes").click()
    page.wait_for_load_state()
    assert "notes.md" not in page.locator("ul.material-list").inner_text()
    assert "keynote.pdf" in page.locator("ul.material-list").inner_text()
    ctx.close()
    assert problems == []
