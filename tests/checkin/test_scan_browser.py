"""The scan page in a phone-sized Chromium whose camera films a badge's QR code."""

from __future__ import annotations

import numpy as np
import pytest
import qrcode
from PIL import Image

from tests.browser_support import BROWSER_ARGS, CHROMIUM
from tests.checkin.conftest import count_checked_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def write_y4m(path, text: str, frames: int = 30) -> None:
    """A 640×480 YUV 4:2:0 video of ``text``'s QR code (Chromium's fake camera)."""
    code = qrcode.make(text, border=4).get_image().convert("L").resize((360, 360))
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, (140, 60))
    y = np.asarray(frame, dtype=np.uint8)
    u = np.full((240, 320), 128, dtype=np.uint8)  # grey: no colour
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            fh.write(b"FRAME\n" + y.tobytes() + u.tobytes() + u.tobytes())


def test_scanning_a_badge_with_the_camera_checks_the_person_in(
    app, live_server, door, make_registration, tmp_path, playwright
):
    sync_api = pytest.importorskip("playwright.sync_api")
    reg = make_registration(door.event, name="Camera Person")
    event_id, email = door.event.id, door.organizer.email
    video = tmp_path / "badge.y4m"
    write_y4m(video, f"{live_server}/c/{reg.badge_token}")
    args = BROWSER_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A Chromium of its own: the fake camera plays this test's video.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=args
    )
    try:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        context.grant_permissions(["camera"], origin=live_server)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]:has-text('Sign in')")
        page.goto(f"{live_server}/events/{event_id}/scan")
        result = page.locator("#scan-result")
        sync_api.expect(result).to_have_text(
            "Checked in: Camera Person", timeout=20_000
        )
        assert "scan-ok" in result.get_attribute("class")
        sync_api.expect(page.locator("#scan-recent li").first).to_contain_text(
            "Camera Person"
        )
        sync_api.expect(page.locator("#scan-checked-in")).to_have_text("1")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        browser.close()
    assert count_checked_in(event_id) == 1
