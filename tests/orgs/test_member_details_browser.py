"""An admin on a phone gives a member a manager and languages, by keyboard."""

from __future__ import annotations

import os

import pytest

from mixer.extensions import db
from mixer.orgs.models import Membership
from tests.browser_support import sign_in_page

WIDTH = 390


@pytest.mark.browser
def test_admin_sets_manager_and_languages_on_a_phone(
    app, live_server, browser, make_org, make_user
):
    acme = make_org(slug="acme", name="Acme")
    make_user(acme, role="admin", email="root@acme.example.org", name="Root")
    mo = make_user(acme, name="Mo Member", email="mo@acme.example.org")
    nia = make_user(acme, name="Nia", email="nia@acme.example.org")
    make_user(acme, name="Nia Two", email="nia2@acme.example.org")
    mid, nia_id = mo.membership_in(acme).id, nia.membership_in(acme).id

    context = browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "422" not in m.text  # the refused save, on purpose
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def assert_fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{page.url} scrolls sideways: {width} > {WIDTH}"

    sign_in_page(page, live_server, "root@acme.example.org")
    page.goto(f"{live_server}/o/acme/members")
    assert_fits()
    page.get_by_role("button", name="Edit Mo Member’s department").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/o/acme/members/{mid}/edit")
    assert_fits()

    # "Ni" could be Nia or Nia Two: the page says so, beside the field.
    manager = page.get_by_label("Manager", exact=True)
    manager.focus()
    page.keyboard.type("Ni")
    page.keyboard.press("Tab")  # to Location
    page.keyboard.press("Tab")  # to Languages
    page.keyboard.type("English, Urdu")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert manager.get_attribute("aria-invalid") == "true"
    help_text = page.locator("#manager-help")
    assert "Several members match “Ni”" in help_text.inner_text()
    assert page.get_by_label("Languages").input_value() == "English, Urdu"
    assert_fits()

    manager.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("nia@acme.example.org")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/o/acme/members#member-{mid}")
    row = page.locator(f"#member-{mid}")
    assert row.locator('td[data-label="Manager"]').inner_text() == "Nia"
    assert "english, urdu" in row.inner_text()
    assert_fits()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/member-details-390.png", full_page=True)
    assert problems == []
    context.close()

    db.session.expire_all()
    saved = db.session.get(Membership, mid)
    assert (saved.manager_id, saved.languages) == (nia_id, ["english", "urdu"])
