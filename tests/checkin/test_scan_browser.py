"""The scan page in a phone-sized Chromium (390×844, touch) whose fake camera
films printed badges: the badge PDF's pages, rendered with pypdfium2, written as
a YUV4MPEG2 video that Chromium plays (and loops) as the camera.

Chromium reads the fake camera's file when it is launched, so a test that films
badges launches its own Chromium from the session's Playwright. Each time the
page opens the camera the video starts again from its first frame, so a video is
a timeline: "Ada for 12 s, then Ben for 3 s …".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import func, select

from mixer import clock
from mixer.badges.render import render_badges_pdf
from mixer.badges.services import badge_data
from mixer.checkin import door as door_rules
from mixer.checkin.models import CheckinNonce, CheckinRecord, DoorLink
from mixer.events.models import Registration
from mixer.events.registration import cancel_registration
from mixer.extensions import db
from mixer.formatting import localtime
from tests.browser_support import BROWSER_ARGS, CHROMIUM
from tests.checkin.conftest import count_checked_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
FRAME_W, FRAME_H, FPS = 480, 360, 2

# Every change of the big result, as [class, text], recorded from the first moment.
RECORD_RESULTS = """
window.__results = [];
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("scan-result");
  if (!el) return;
  new MutationObserver(function () {
    var last = window.__results[window.__results.length - 1];
    var now = [el.className.replace("scan-result ", ""), el.textContent];
    if (!last || last[0] !== now[0] || last[1] !== now[1]) window.__results.push(now);
  }).observe(el, { attributes: true, childList: true, characterData: true,
                   subtree: true });
});
"""


COUNT_ROSTERS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("mixer-scan", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("rosters",
                                                             { keyPath: "event_id" });
  open.onsuccess = () => {
    const count = open.result.transaction("rosters").objectStore("rosters").count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); };
  };
  open.onerror = () => reject(open.error);
})"""


def badge_frames(registrations) -> list[np.ndarray]:
    """Each registration's printed badge (one PDF, one 4×3 in page each) as the
    luma plane of a camera frame: the badge held up, filling most of the view."""
    pdf = pdfium.PdfDocument(
        render_badges_pdf([badge_data(reg) for reg in registrations], "badge-4x3")
    )
    frames = []
    for index in range(len(pdf)):
        page = pdf[index]
        scale = (FRAME_W - 40) / page.get_width()
        image = page.render(scale=scale).to_pil().convert("L")
        frame = Image.new("L", (FRAME_W, FRAME_H), 235)  # a pale wall behind
        frame.paste(
            image, ((FRAME_W - image.width) // 2, (FRAME_H - image.height) // 2)
        )
        frames.append(np.asarray(frame, dtype=np.uint8))
    pdf.close()
    return frames


def write_y4m(path, timeline: list[tuple[np.ndarray | None, float]]) -> None:
    """A YUV4MPEG2 4:2:0 video: each (frame, seconds) in turn; None is a blank wall."""
    chroma = np.full((FRAME_H // 2, FRAME_W // 2), 128, dtype=np.uint8).tobytes()
    blank = np.full((FRAME_H, FRAME_W), 235, dtype=np.uint8)
    with open(path, "wb") as fh:
        fh.write(
            f"YUV4MPEG2 W{FRAME_W} H{FRAME_H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode()
        )
        for frame, seconds in timeline:
            data = (blank if frame is None else frame).tobytes()
            for _ in range(round(seconds * FPS)):
                fh.write(b"FRAME\n" + data + chroma + chroma)


@dataclass
class Phone:
    browser: object
    context: object
    page: object


def phone(playwright, base: str, email: str, video=None, camera: bool = True) -> Phone:
    """A signed-in phone; with ``video``, a Chromium of its own filming it.
    ``camera``: the site may use the camera (else the browser would ask)."""
    args = list(BROWSER_ARGS)
    if video is not None:
        args += [
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=args
    )
    context = browser.new_context(**PHONE)
    if camera:
        context.grant_permissions(["camera"], origin=base)
    context.add_init_script(RECORD_RESULTS)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Sign in')")
    page.wait_for_url(lambda url: "/login" not in url)
    return Phone(browser, context, page)


def check_in_posts(page) -> list[str]:
    """The URLs of check-in POSTs the page sends, appended as they go."""
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.url)
            if r.method == "POST" and r.url.endswith("/scan/checkins")
            else None
        ),
    )
    return posts


def results(page) -> list[list[str]]:
    """[kind, text] of every result shown, in order (idle prompts left out)."""
    return [r for r in page.evaluate("window.__results") if r[0] != "scan-idle"]


def nonces_of(reg_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(CheckinNonce.registration_id == reg_id)
    )


def test_a_badge_held_in_view_is_one_scan_and_another_badge_is_read_at_once(
    app, live_server, door, make_event, make_registration, tmp_path, playwright
):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    door.event.timezone = "Europe/Berlin"  # a zone whose name differs by season
    db.session.commit()
    other = make_event(door.org, door.organizer, title="Autumn Summit")
    ada = make_registration(door.event, name="Ada Camera")
    ben = make_registration(door.event, name="Ben Camera")
    cy = make_registration(other, name="Cy Elsewhere")
    frame_ada, frame_ben, frame_cy = badge_frames([ada, ben, cy])
    video = tmp_path / "door.y4m"
    write_y4m(video, [(frame_ada, 12), (frame_ben, 3), (frame_cy, 3)])
    event_id, ada_id, ben_id = door.event.id, ada.id, ben.id

    p = phone(playwright, live_server, door.organizer.email, video)
    try:
        page = p.page
        posts = check_in_posts(page)
        page.goto(f"{live_server}/events/{event_id}/scan")
        result = page.locator("#scan-result")
        expect(result).to_have_text("Checked in: Ada Camera", timeout=20_000)
        expect(page.locator("#scan-camera")).to_be_visible()
        # Ada's badge stays in view: six seconds on, still green, still one scan.
        page.wait_for_timeout(6_000)
        expect(result).to_have_text("Checked in: Ada Camera")
        expect(result).to_have_class("scan-result scan-ok")
        assert len(posts) == 1
        # The next badge is read at once; another event's badge names that event.
        expect(result).to_have_text("Checked in: Ben Camera", timeout=15_000)
        expect(result).to_contain_text("Autumn Summit", timeout=15_000)
        expect(result).to_have_class("scan-result scan-bad")
        assert results(page) == [
            ["scan-ok", "Checked in: Ada Camera"],
            ["scan-ok", "Checked in: Ben Camera"],
            ["scan-bad", page.locator("#scan-result").text_content()],
        ]
        assert len(posts) == 3
        rows = page.locator("#scan-recent li")
        expect(rows).to_have_count(2)
        script_rows = rows.all_text_contents()
        width = page.evaluate("document.documentElement.scrollWidth")
        # One scan each so far. (After the reload below the fake camera's video
        # starts again with Ada's badge: a new scan, answered "already checked
        # in", which is right but not what this counts.)
        scans = (nonces_of(ada_id), nonces_of(ben_id))
        # The server writes the same rows, times in the same words.
        page.reload()
        expect(rows).to_have_count(2)
        server_rows = rows.all_text_contents()
    finally:
        p.browser.close()
    assert width <= 390
    assert count_checked_in(event_id) == 2
    assert scans == (1, 1)
    db.session.expire_all()
    ada, ben = (
        db.session.get(Registration, ada_id),
        db.session.get(Registration, ben_id),
    )
    zone = "Europe/Berlin"
    expected = [
        f"{reg.name} · {localtime(reg.checked_in_at, zone, '%H:%M')} · Checked in"
        for reg in (ben, ada)
    ]
    squash = [" ".join(text.split()).removesuffix(" Undo") for text in script_rows]
    assert squash == expected
    assert [" ".join(t.split()).removesuffix(" Undo") for t in server_rows] == expected


def test_offline_the_page_opens_names_each_badge_and_syncs_each_once(
    app, live_server, door, make_registration, tmp_path, playwright
):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    people = [
        make_registration(door.event, name=n) for n in ("Ada Off", "Ben Off", "Cy Off")
    ]
    frames = badge_frames(people)
    video = tmp_path / "offline.y4m"
    write_y4m(video, [(frames[0], 9), (frames[1], 3), (frames[2], 3)])
    event_id, ids = door.event.id, [reg.id for reg in people]
    scan_url = f"{live_server}/events/{event_id}/scan"

    # First visit online, the camera not yet allowed (so nothing is scanned):
    # the service worker keeps the page, the roster is stored.
    p = phone(playwright, live_server, door.organizer.email, video, camera=False)
    try:
        page = p.page
        posts = check_in_posts(page)
        page.goto(scan_url)
        expect(page.locator("#scan-app")).to_have_attribute("data-offline", "ready")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        expect(page.locator("#scan-offline")).to_contain_text("3 people")

        p.context.grant_permissions(["camera"], origin=live_server)
        p.context.set_offline(True)
        # The service worker's own fetches go offline a moment later.
        page.wait_for_function(
            """() => fetch('/static/css/checkin.css?probe=' + Math.random())
                     .then(() => false, () => true)"""
        )
        response = page.reload()
        assert response is not None and response.from_service_worker
        expect(page.locator("h1")).to_have_text("Check-in · Spring Mixer")

        rows = page.locator("#scan-recent li")
        for name in ("Ada Off", "Ben Off", "Cy Off"):
            expect(rows.filter(has_text=name)).to_contain_text(
                "will sync", timeout=25_000
            )
        expect(page.locator("#scan-queue")).to_have_text(
            "3 scans waiting for the connection"
        )
        kinds = [r[0] for r in results(page)]
        assert kinds == ["scan-queued"] * 3
        queued = page.evaluate(
            f"JSON.parse(localStorage.getItem('mixer-scan-queue-{event_id}'))"
        )
        assert len(queued) == 3  # Ada, held for 9 s, is one item
        assert posts == []

        p.context.set_offline(False)
        for name in ("Ada Off", "Ben Off", "Cy Off"):
            expect(rows.filter(has_text=name)).to_contain_text(
                "Checked in", timeout=15_000
            )
        expect(page.locator("#scan-queue")).to_be_hidden()
        expect(page.locator("#scan-result")).to_have_text("Checked in: Cy Off")
        expect(page.locator("#scan-checked-in")).to_have_text("3")
        assert len(posts) == 3

        # Signing out forgets the roster and the kept page.
        page.locator("form[action='/logout'] button").click()
        page.wait_for_url(lambda url: "/scan" not in url)
        assert "mixer-scan-v1" not in page.evaluate("caches.keys()")
        assert page.evaluate(COUNT_ROSTERS) == 0
    finally:
        p.browser.close()
    assert count_checked_in(event_id) == 3
    assert [nonces_of(i) for i in ids] == [1, 1, 1]


def test_desk_check_in_give_a_seat_and_walk_in_by_keyboard(
    app, live_server, door, make_event, make_registration, browser
):
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    event = make_event(
        door.org,
        door.organizer,
        title="Small Table",
        capacity=1,
        starts_at=clock.now().replace(microsecond=0) + timedelta(hours=1),
    )
    dora = make_registration(event, name="Dora Keys", department="Finance")
    dorian = make_registration(event, name="Dorian Wait")  # the waitlist
    dorothy = make_registration(event, name="Dorothy Gone")
    cancel_registration(dorothy, notify=False)
    db.session.commit()
    event_id = event.id

    context = browser.new_context(**PHONE)  # the camera was never allowed
    page = context.new_page()
    keys = page.keyboard
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", door.organizer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Sign in')")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{live_server}/events/{event_id}/scan")

    # A refused camera: a message, the search focused, no black box.
    page.focus("#scan-start")
    keys.press("Enter")
    expect(page.locator("#scan-camera-note")).to_contain_text(
        "Find people by name below"
    )
    expect(page.locator("#scan-search")).to_be_focused()
    expect(page.locator("#scan-camera")).to_be_hidden()

    keys.type("Dor")
    found = page.locator("#scan-search-results li")
    expect(found).to_have_count(3)
    expect(found.nth(0)).to_contain_text("Dora Keys · Finance")
    expect(found.nth(1)).to_contain_text("Waitlisted")
    expect(found.nth(2)).to_contain_text("Cancelled")
    expect(found.nth(2).locator("button")).to_have_count(0)

    keys.press("Tab")  # Dora's button
    expect(found.nth(0).locator("button")).to_be_focused()
    keys.press("Enter")
    expect(found.nth(0).locator("button")).to_have_text("Checked in · Undo")
    expect(found.nth(0).locator(".row-result")).to_contain_text("Checked in at")
    desk = page.locator("#scan-desk-result")
    expect(desk).to_have_text("Checked in: Dora Keys")
    expect(desk).to_be_in_viewport()
    expect(page.locator("#scan-recent li").first).to_contain_text("Dora Keys")

    # The event is full: a seat for Dorian asks first, then checks him in.
    keys.press("Tab")
    expect(found.nth(1).locator("button")).to_have_text("Give a seat and check in")
    keys.press("Enter")
    confirm = found.nth(1).get_by_role("button", name="Yes, give a seat over capacity")
    expect(confirm).to_be_focused()
    keys.press("Enter")
    expect(found.nth(1).get_by_role("button", name="Checked in · Undo")).to_be_focused()
    expect(found.nth(1).locator("button")).to_have_count(1)
    expect(desk).to_have_text("Checked in: Dorian Wait")

    # A walk-in, from the keyboard: Tab to the form, type, Enter.
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "walkin-name":
            break
        keys.press("Tab")
    expect(page.locator("#walkin-name")).to_be_focused()
    keys.press("Enter")  # no name yet
    expect(page.locator("#walkin-name-error")).to_have_text("Enter the person's name.")
    keys.type("Wanda Walk-in")
    keys.press("Tab")
    keys.type("wanda@example.org")
    keys.press("Tab")
    keys.type("Sales")
    keys.press("Enter")
    walkin = page.locator("#walkin-result")
    # Full: an organizer may add her over capacity, after saying so.
    yes = walkin.get_by_role("button", name="Yes, add Wanda Walk-in over capacity")
    expect(yes).to_be_focused()
    keys.press("Enter")
    expect(walkin).to_contain_text("Checked in: Wanda Walk-in")
    link = walkin.get_by_role("link", name="Badge (PDF) for Wanda Walk-in")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    expect(page.locator("#walkin-name")).to_be_focused()
    expect(page.locator("#scan-checked-in")).to_have_text("3")
    context.close()
    assert count_checked_in(event_id) == 3
    db.session.expire_all()
    assert db.session.get(Registration, dorian.id).checked_in_at is not None
    assert db.session.get(Registration, dora.id).checked_in_at is not None


def test_a_door_link_opens_the_scan_page_for_a_phone_without_an_account(
    app, live_server, door, make_event, make_registration, browser
):
    """The organizer's door link on a volunteer's phone: the scan page with no
    account, a check-in recorded as the link's, and nothing else: not another
    event's door, not the dashboard, not the attendee export, and nothing at all
    once the link is revoked."""
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    ada = make_registration(door.event, name="Ada Door", department="Finance")
    other = make_event(door.org, door.organizer, title="Autumn Summit")
    link = door_rules.create_link(door.event, "Front desk", door.organizer)
    db.session.commit()
    path = door_rules.link_url(link).split("://", 1)[1].partition("/")[2]
    event_id, other_id, ada_id, link_id = door.event.id, other.id, ada.id, link.id

    context = browser.new_context(**PHONE)  # a volunteer's phone: no account
    page = context.new_page()
    page.goto(f"{live_server}/{path}")
    expect(page).to_have_url(f"{live_server}/events/{event_id}/scan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring Mixer")
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    page.locator("#scan-search").tap()
    page.keyboard.type("Ada")
    row = page.locator("#scan-search-results li").first
    expect(row).to_contain_text("Ada Door · Finance")
    expect(row).not_to_contain_text("@")  # no e-mail addresses at the door
    row.locator("button").tap()
    expect(row.locator("button")).to_have_text("Checked in · Undo")
    expect(page.locator("#scan-desk-result")).to_have_text("Checked in: Ada Door")

    # Another event's door, the dashboard, the export: not for this phone.
    assert page.goto(f"{live_server}/events/{other_id}/scan").status == 403
    for page_path in ("dashboard", "attendees.csv"):
        page.goto(f"{live_server}/events/{event_id}/{page_path}")
        page.wait_for_url(lambda url: "/login" in url)

    # Revoked: the scan page and the link itself stop working at once.
    db.session.expire_all()
    door_rules.revoke_link(db.session.get(DoorLink, link_id))
    db.session.commit()
    assert page.goto(f"{live_server}/events/{event_id}/scan").status == 403
    assert page.goto(f"{live_server}/{path}").status == 410
    expect(page.locator("main")).to_contain_text("revoked")
    context.close()

    assert count_checked_in(event_id) == 1
    record = db.session.get(CheckinRecord, ada_id)
    assert record.door_link_id == link_id and record.user_id is None
