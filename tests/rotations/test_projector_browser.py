"""In a real browser: the projector fits every table on the screen, shows a QR of
"my table" and follows the organizer's controls in another window."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from mixer import clock
from mixer.extensions import db
from mixer.rotations import running, services
from mixer.rotations.services import Settings
from tests.browser_support import sign_in_page

# Screen layout: the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.once]

SIZES = ((1280, 720), (1920, 1080))
ROOMS = (30, 60, 120)  # people checked in: 15, 30 and 60 tables of two
FIRST = ("Alexandra", "Bo", "Chidinma", "Dmitri", "Eve", "Fernando", "Guo", "Hannah")
LAST = ("Montgomery-Smith", "Li", "Okonkwo", "Ivanova", "Ng", "Alvarez", "Wei", "Berg")


def _mixer(org, make_event, make_registration, people: int, *, start: bool):
    """A mixer with ``people`` checked in, planned in pairs (round 1 started)."""
    event = make_event(
        org,
        kind="mentor_mixer",
        title=f"Spring mixer for {people}",
        rounds=2,
        minutes_per_round=7,
        capacity=people,
    )
    for i in range(people):
        reg = make_registration(
            event,
            name=f"{FIRST[i % 8]} {LAST[(i // 8) % 8]} {i}",
            role="mentor" if i % 2 == 0 else "mentee",
            department=("Finance", "Sales", "Legal", "IT")[i % 4],
        )
        reg.checked_in_at = clock.now()
    db.session.commit()
    services.create_plan(event, Settings(rounds=2, minutes=7))
    if start:
        running.start_next_round(event)
    db.session.commit()
    return event


# What the projector shows, measured in the page: every table's box, the page's
# scroll size, the landmarks a site page would have, and the size chosen.
MEASURE = """() => {
  const inside = (r) => r.left >= 0 && r.top >= 0 &&
    r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
  const boxes = [...document.querySelectorAll("[data-table]")];
  const root = document.documentElement;
  const qr = document.querySelector("[data-qr]").getBoundingClientRect();
  const clock = document.querySelector("[data-countdown]");
  const list = document.querySelector("[data-tables]");
  return {
    tables: boxes.length,
    outside: boxes.filter((b) => !inside(b.getBoundingClientRect()))
      .map((b) => b.dataset.table),
    spilling: boxes.filter((b) => b.scrollHeight > b.clientHeight + 1 ||
      b.scrollWidth > b.clientWidth + 1).map((b) => b.dataset.table),
    scrollHeight: root.scrollHeight, scrollWidth: root.scrollWidth,
    nav: document.querySelectorAll("nav, .site-header, footer").length,
    forms: document.querySelectorAll("form, [type=submit]").length,
    qrInside: inside(qr), qrSide: qr.width,
    clockInside: inside(clock.getBoundingClientRect()),
    clockPx: parseFloat(getComputedStyle(clock).fontSize),
    tablePx: parseFloat(getComputedStyle(list).fontSize),
    columns: Number(list.dataset.columns || 0),
  };
}"""


def test_every_table_fits_the_screen_with_the_qr_and_full_screen(
    app, live_server, browser, org, organizer, make_event, make_registration
):
    events = {
        n: _mixer(org, make_event, make_registration, n, start=n != 30) for n in ROOMS
    }
    problems: list[str] = []
    sizes: dict[tuple[int, int, int], dict] = {}
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        sign_in_page(page, live_server, organizer.email)
        for people, event in events.items():
            page.goto(f"{live_server}/events/{event.id}/rotations/projector")
            page.wait_for_function(
                "document.querySelector('[data-tables]').dataset.columns"
            )
            seen = page.evaluate(MEASURE)
            sizes[(width, height, people)] = seen
            where = f"{people} people at {width}×{height}: {seen}"
            assert seen["tables"] == people // 2, where
            assert seen["outside"] == [] and seen["spilling"] == [], where
            assert seen["scrollHeight"] <= height, where
            assert seen["scrollWidth"] <= width, where
            assert seen["nav"] == 0 and seen["forms"] == 0, where
            assert seen["qrInside"] and seen["clockInside"], where
            # Readable: the clock across a room, the names from the tables.
            assert seen["clockPx"] >= 0.08 * width, where
            assert seen["tablePx"] >= 12, where
            label = page.inner_text("[data-round-label]")
            assert label == ("Round 1 starts soon" if people == 30 else "Round 1 of 2")

        if (width, height) == (1280, 720):
            # The QR on the screen opens the attendee's "my table" page.
            page.goto(f"{live_server}/events/{events[60].id}/rotations/projector")
            shot = page.screenshot()
            found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
            assert [b.text for b in found] == [
                f"{live_server}/events/{events[60].id}/rotations/me"
            ]
            # Full screen: a button reached by the keyboard, and the F key.
            button = page.locator("[data-fullscreen]")
            assert button.is_visible()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.matches('[data-fullscreen]')")
            page.keyboard.press("Enter")
            page.wait_for_function("document.fullscreenElement !== null")
            page.keyboard.press("f")
            page.wait_for_function("document.fullscreenElement === null")
        context.close()
    assert problems == []
    print(
        "\n".join(
            f"{w}×{h} {n} people: {s['tables']} tables in {s['columns']} columns "
            f"at {s['tablePx']} px, clock {s['clockPx']:.0f} px, "
            f"QR {s['qrSide']:.0f} px"
            for (w, h, n), s in sizes.items()
        )
    )


def test_the_organizer_drives_the_projector_in_another_window(
    app, live_server, browser, org, organizer, make_event, make_registration
):
    event = _mixer(org, make_event, make_registration, 12, start=False)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.on("page", lambda p: p.on("pageerror", lambda e: problems.append(str(e))))
    control = context.new_page()
    sign_in_page(control, live_server, organizer.email)
    control.goto(f"{live_server}/events/{event.id}/rotations")
    with context.expect_page() as opened:
        control.get_by_role("button", name="Open the projector").click()
    projector = opened.value
    projector.wait_for_load_state()
    assert projector.url.endswith(f"/events/{event.id}/rotations/projector")
    assert projector.inner_text("[data-round-label]") == "Round 1 starts soon"
    assert projector.locator("text=Where you sit in round 1").count() == 1
    projector.evaluate("window.__sameDocument = true")

    def shows(expected: str) -> None:
        projector.wait_for_function(
            "(text) => document.querySelector('[data-round-label]').textContent"
            " === text",
            arg=expected,
            timeout=6_000,
        )

    control.get_by_role("button", name="Start round 1").click()
    control.wait_for_load_state()
    shows("Round 1 of 2")
    assert projector.locator("text=Tables · round 1").count() == 1
    assert re.fullmatch(r"[67]:\d\d", projector.inner_text("[data-countdown]"))

    control.get_by_role("button", name="Pause the clock").click()
    control.wait_for_load_state()
    assert "paused" in control.inner_text("[data-progress]")
    projector.wait_for_selector("[data-paused-flag]:not([hidden])", timeout=6_000)
    frozen = projector.inner_text("[data-countdown]")
    projector.wait_for_timeout(1_500)
    assert projector.inner_text("[data-countdown]") == frozen

    control.get_by_role("button", name="Resume the clock").click()
    control.wait_for_load_state()
    projector.wait_for_selector("[data-paused-flag]", state="hidden", timeout=6_000)

    control.get_by_role("button", name="Next round (2)").click()
    control.wait_for_load_state()
    shows("Round 2 of 2")
    assert projector.locator("text=Tables · round 2").count() == 1
    assert projector.evaluate("window.__sameDocument") is True  # never reloaded
    assert problems == []
