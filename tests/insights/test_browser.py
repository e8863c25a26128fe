"""In a real browser: the programme dashboard over real events, check-ins,
meetings and pairs, on a phone (390 px, touch) and a desktop (1280 px). The
pictures are drawn, their tables open from the keyboard, nothing overflows, the
filter narrows the figures, and axe-core finds nothing serious."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from mixer import clock
from mixer.checkin.services import check_in
from mixer.connections.services import connect
from mixer.extensions import db
from mixer.pairs.lifecycle import create_pair
from tests.browser_support import sign_in_page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("INSIGHTS_SHOTS")  # a folder: keep screenshots to look at

DEPARTMENTS = {"Engineering": 7, "Sales": 5, "People": 3}
WINTER = datetime(2025, 12, 2, 17, 0, tzinfo=UTC)  # a Mentor Mixer
LUNCH = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)  # a lunch-and-learn, Engineering only


@pytest.fixture
def programme(frozen, org, make_user, make_event, make_registration):
    """Acme's winter: a Mentor Mixer of 15 (14 came; everyone met across the
    room) with three pairs formed from it, and a lunch-and-learn of the seven
    engineers (six came). The clock walks through it and ends at ``frozen``."""
    now = clock.now()
    olga = make_user(org, role="organizer", name="Olga Organizer", department="People")
    # Topics from profiles: six seek negotiation, which one offers.
    people = {
        dept: [
            make_user(
                org,
                name=f"{dept} {i}",
                department=dept,
                password=None,
                seeks=["Negotiation"] if i < 2 else [],
                offers=["Negotiation"] if (dept, i) == ("Sales", 4) else [],
            )
            for i in range(size)
        ]
        for dept, size in DEPARTMENTS.items()
    }
    everyone = [u for members in people.values() for u in members]

    clock.freeze(WINTER - timedelta(days=7))
    mixer = make_event(
        org,
        olga,
        kind="mentor_mixer",
        title="Winter Mixer",
        starts_at=WINTER,
        ends_at=WINTER + timedelta(hours=2),
        capacity=40,
    )
    regs = [
        make_registration(mixer, email=u.email, name=u.name, user=u, source="member")
        for u in everyone
    ]
    clock.freeze(WINTER + timedelta(minutes=30))
    for reg in regs[:-1]:  # the last person stayed away
        check_in(reg)
    came = regs[:-1]
    for i, first in enumerate(came):  # each met the next three
        for second in came[i + 1 : i + 4]:
            connect(mixer.id, first.id, second.id, "scan")
    db.session.commit()

    clock.freeze(WINTER + timedelta(days=3))
    eng, sales = people["Engineering"], people["Sales"]
    for a, b in ((eng[0], sales[0]), (eng[1], sales[1]), (eng[2], eng[3])):
        create_pair(org, a, b, kind="peer", source="event", event=mixer)
    db.session.commit()

    clock.freeze(LUNCH - timedelta(days=5))
    lunch = make_event(
        org, olga, title="Testing over lunch", starts_at=LUNCH, capacity=20
    )
    lunch_regs = [
        make_registration(lunch, email=u.email, name=u.name, user=u, source="member")
        for u in eng
    ]
    clock.freeze(LUNCH + timedelta(minutes=10))
    for reg in lunch_regs[:-1]:
        check_in(reg)
    db.session.commit()
    clock.freeze(now)
    return {"organizer": olga, "registered": len(regs) + len(lunch_regs)}


def _registered(page) -> str:
    """The "Registered" figure of the funnel's table."""
    return page.locator("table.figures tr[data-stage=registered] td").inner_text()


@pytest.mark.once  # layout on a phone: the SQLite pass only
def test_dashboard_on_a_phone_and_a_desktop(app, live_server, browser, programme):
    problems: list[str] = []
    for width in (390, 1280):
        phone = width < 600
        context = browser.new_context(
            viewport={"width": width, "height": 844 if phone else 900},
            has_touch=phone,
            is_mobile=phone,
        )
        page = context.new_page()
        page.on(
            "console",
            lambda msg: problems.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        sign_in_page(page, live_server, programme["organizer"].email)
        page.goto(f"{live_server}/o/acme/")
        page.get_by_role("link", name="Insights", exact=True).click()
        page.wait_for_load_state()
        assert page.url.endswith("/o/acme/insights")

        # The pictures are drawn: a bar a stage, a cell a pair of departments.
        funnel = page.locator("svg#funnel-chart")
        assert funnel.locator("g.funnel-stage").count() == 9
        assert funnel.bounding_box()["width"] > 300
        heat = page.locator("svg#silo-map")
        assert heat.locator("g.cell").count() == len(DEPARTMENTS) ** 2
        assert heat.bounding_box()["height"] > 100
        assert page.locator("svg[role=img]").count() == 5

        # A table, reached with Tab and opened with Enter, has the numbers.
        if phone:
            page.locator("#funnel-h").scroll_into_view_if_needed()
            page.locator("#main").focus()
            for _ in range(60):
                page.keyboard.press("Tab")
                focused = page.evaluate("document.activeElement.textContent")
                if focused == "Table: the funnel":
                    break
            else:
                pytest.fail("the funnel's table is not reached with Tab")
            page.keyboard.press("Enter")
            assert page.locator("details.chart-table").first.get_attribute("open") == ""
            assert _registered(page) == str(programme["registered"])
            checked = page.locator("tr[data-stage=checked_in] td").inner_text()
            assert checked == str(programme["registered"] - 2)

        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= page.evaluate("window.innerWidth"), f"{width_now}px"
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/insights-{width}.png", full_page=True)

        # The filter: only Sales; the page says so and its figures change.
        if phone:
            page.get_by_label("Department", exact=True).select_option(label="Sales")
            page.get_by_role("button", name="Show").click()
            page.wait_for_load_state()
            assert re.search(r"department=\d+", page.url)
            assert "· Sales" in page.locator("p.period").inner_text()
            assert page.get_by_label("Department", exact=True).input_value() != ""
            page.get_by_text("Table: the funnel", exact=True).click()
            assert _registered(page) == str(DEPARTMENTS["Sales"])
            assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert problems == []


@pytest.mark.once  # layout on a phone: the SQLite pass only
def test_dashboard_in_arabic_on_a_phone(app, live_server, browser, programme):
    """Right to left at 360 px: nothing scrolls sideways, the pictures are drawn
    with their words in Arabic (left to right inside), and "Refresh now" counts
    again and says so."""
    olga = programme["organizer"]
    olga.locale = "ar"
    db.session.commit()
    # The sign-in page in English (the browser's language); then Olga's own.
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in_page(page, live_server, olga.email)
    page.goto(f"{live_server}/o/acme/insights")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", name="رؤى البرنامج").is_visible()
    assert page.locator("svg#funnel-chart g.funnel-stage").count() == 9
    title = page.locator("svg#silo-map title").first.text_content()
    assert title == "من التقى بمن: اللقاءات حسب القسم"
    assert "الأرقام كما كانت في" in page.locator("form.freshness").inner_text()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= page.evaluate("window.innerWidth"), f"{scroll}px"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/insights-ar-360.png", full_page=True)
    page.get_by_role("button", name="حدّث الآن").click()
    page.wait_for_load_state()
    assert "أُعيد عدّ الأرقام" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
