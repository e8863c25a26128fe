"""The calendar page: paste, refused addresses, fetch again, remove; in German."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mixer.extensions import db
from mixer.freebusy.models import BusyInterval, FreeBusyFeed
from tests.freebusy.conftest import Route, ics, refresh_jobs, work
from tests.helpers import PASSWORD, csrf_from

EVENT = "UID:x\r\nDTSTART:20260303T120000Z\r\nDTEND:20260303T130000Z"


def test_paste_fetch_again_and_remove(
    frozen, local, feeds_server, org, make_user, auth, client
):
    person = make_user(org)
    auth.login(person.email)
    url = feeds_server.serve("/private-abc123/cal.ics", Route(ics(EVENT)))
    token = csrf_from(client.get("/profile/calendar").get_data(as_text=True))

    # A refused address is said on the field and never written back into the page.
    bad = "ftp://127.0.0.1/private-zzz999.ics"
    answer = client.post("/profile/calendar", data={"url": bad, "csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "starting with https://" in page and "private-zzz999" not in page

    answer = client.post("/profile/calendar", data={"url": url, "csrf_token": token})
    assert answer.status_code == 302
    page = client.get("/profile/calendar").get_data(as_text=True)
    assert "Not yet: the first fetch is on its way." in page
    assert "private-abc123" not in page
    work()
    page = client.get("/profile/calendar").get_data(as_text=True)
    assert "1 busy time, as of" in page and "127.0.0.1/…" in page

    client.post("/profile/calendar/refresh", data={"csrf_token": token})
    assert len(refresh_jobs()) == 1
    work()
    assert feeds_server.hits == ["/private-abc123/cal.ics"] * 2

    client.post("/profile/calendar/remove", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FreeBusyFeed)) == 0
    assert db.session.scalar(select(func.count()).select_from(BusyInterval)) == 0
    assert refresh_jobs() == []
    page = client.get("/profile/calendar").get_data(as_text=True)
    assert "Add your calendar" in page


def test_the_page_in_german(local, feeds_server, org, make_user, auth, client):
    person = make_user(org)
    auth.login(person.email)
    url = feeds_server.serve("/nope.ics", Route(b"<p>", content_type="text/html"))
    token = csrf_from(client.get("/profile/calendar").get_data(as_text=True))
    client.post("/profile/calendar", data={"url": url, "csrf_token": token})
    work()
    page = client.get("/profile/calendar", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )
    assert 'lang="de"' in page
    assert "Frei/Gebucht" in page and "Webseite" in page


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_the_page_on_a_phone_in_arabic(
    app, live_app, live_server, browser, feeds_server, org, make_user
):
    live_app.config["FREEBUSY_ALLOW_LOCAL"] = True
    person = make_user(org, email="fay@example.org")
    person.locale = "ar"
    db.session.commit()
    url = feeds_server.serve("/private-q1w2e3/fay.ics", Route(b"oops", status=503))
    context = browser.new_context(viewport={"width": 390, "height": 740}, locale="ar")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("البريد الإلكتروني").fill(person.email)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول", exact=True).click()
    page.goto(f"{live_server}/profile")
    page.get_by_role("link", name="أوقات الفراغ والانشغال في تقويمك").click()
    page.get_by_label("عنوان iCalendar ‏(ICS) الخاص").fill(url)
    page.get_by_role("button", name="حفظ", exact=True).click()
    assert page.get_by_text("تم الحفظ.").is_visible()
    with live_app.app_context():
        work()
    page.reload()
    assert page.locator("html").get_attribute("dir") == "rtl"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= page.evaluate("window.innerWidth")
    assert page.get_by_text("503").is_visible()  # the problem, in words
    assert "private-q1w2e3" not in page.content()
    page.get_by_role("button", name="أزل تقويمي").click()
    assert page.get_by_role("heading", name="أضف تقويمك").is_visible()
    context.close()
