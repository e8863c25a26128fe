"""On a 360 px phone: the requester picks people (at most three), and a person
asked answers from the e-mailed link, all by keyboard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mixer.asks import services
from mixer.extensions import db
from mixer.pairs.models import Pair
from tests.helpers import PASSWORD, link_in

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


def _no_sideways_scroll(page) -> None:
    """The page fits the phone's width."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide"


def test_phone_pick_and_answer_by_keyboard(app, live_server, browser, world, outbox):
    """Pick with the keyboard (the script caps picks at three), then answer."""
    ask = services.create_ask(world.org, world.rita, "public speaking", "Help!")
    db.session.commit()
    problems: list[str] = []
    ctx = browser.new_context(viewport=PHONE, has_touch=True)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", world.rita.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/asks/{ask.id}")
    _no_sideways_scroll(page)

    # Keyboard: focus the first checkbox, Space ticks, Tab moves on.
    boxes = page.get_by_role("checkbox")
    assert boxes.count() == 5
    boxes.nth(0).focus()
    for _ in range(3):
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
    assert [boxes.nth(i).is_checked() for i in range(5)] == [True] * 3 + [False] * 2
    assert boxes.nth(3).is_disabled() and boxes.nth(4).is_disabled()
    assert "the most at once" in page.locator("#pick-help").inner_text()
    page.keyboard.press("Shift+Tab")  # back on the third: untick frees the others
    page.keyboard.press("Space")
    assert not boxes.nth(4).is_disabled()
    page.get_by_role("checkbox", name="Ada Archer").check()
    page.get_by_role("checkbox", name="Ada Archer").focus()
    page.get_by_role("button", name="Ask them").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Waiting for an answer").wait_for()
    ctx.close()

    link = link_in(outbox(world.cy.email)[0], "/asks/answer/[^ ]*choice=accept")
    ctx = browser.new_context(viewport=PHONE, has_touch=True)
    page = ctx.new_page()
    page.goto(link.replace("http://mixer.test", live_server))
    _no_sideways_scroll(page)
    confirm = page.get_by_role("button", name="Confirm: I'll help")
    confirm.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you for helping").wait_for()
    _no_sideways_scroll(page)
    ctx.close()
    db.session.expire_all()
    pair = db.session.scalar(select(Pair).where(Pair.ask_id == ask.id))
    assert pair is not None and pair.mentor_id == world.cy.id
    assert problems == []
