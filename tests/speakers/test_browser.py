"""In a real browser: a speaker follows the invitation link, uploads a PDF with
the progress bar, and an attendee downloads it from the event page."""

from __future__ import annotations

import hashlib

import pytest

from mixer.extensions import db
from mixer.speakers.services import invite_speaker
from tests.helpers import PASSWORD, link_in
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
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", world.attendee.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/events/{world.event.id}")
    anchor = page.locator("a.material-download", has_text="talk")
    href = anchor.get_attribute("href")
    got = page.request.get(f"{live_server}{href}")
    assert got.status == 200
    assert hashlib.sha256(got.body()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    ctx.close()
    assert problems == []
