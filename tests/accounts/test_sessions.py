"""Sign-ins that can be ended: cookies replayed after every way a sign-in ends,
the profile's list, the remember cookie's lifetime and flags, and no-store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from mixer import clock
from mixer.accounts import services, sign_ins
from mixer.accounts.models import SignIn, User
from mixer.events.links import badge_download_url
from mixer.extensions import db
from tests.helpers import PASSWORD, csrf_from, link_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def member(org, make_user):
    return make_user(org, email="ada@example.org", name="Ada Lovelace")


def sign_in(app, email="ada@example.org", remember=True, agent=FIREFOX, **environ):
    """A new browser (test client) signed in through the real form."""
    browser = app.test_client()
    browser.environ_base.update(HTTP_USER_AGENT=agent, **environ)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    resp = browser.post("/login", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return browser


def signed_in_as(browser) -> str | None:
    resp = browser.get("/profile")
    if resp.status_code != 200:
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        return None
    match = re.search(r"Signed in as <strong>([^<]+)</strong>", resp.get_data(True))
    assert match
    return match.group(1)


def cookie(browser, name="remember_token") -> str:
    found = browser.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def replay(app, **cookies):
    """A fresh browser holding only copies of ``cookies``."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def post(browser, url, data=None, page="/profile"):
    token = csrf_from(browser.get(page).get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **(data or {})})


def live_sign_ins(user) -> list[SignIn]:
    db.session.expire_all()
    return sign_ins.active(db.session.get(User, user.id))


# --- every way a sign-in ends stops its copied cookies ---------------------------


def test_two_sign_ins_give_different_cookies(app, member):
    first, second = sign_in(app), sign_in(app)
    assert cookie(first) != cookie(second)
    assert cookie(first, "session") != cookie(second, "session")
    assert signed_in_as(replay(app, remember_token=cookie(first))) == member.email
    assert signed_in_as(replay(app, remember_token=cookie(second))) == member.email
    assert len(live_sign_ins(member)) == 2


def test_a_cookie_of_the_old_kind_signs_nobody_in(app, member):
    # Before sign-in records the remember cookie was the user id, signed.
    with app.test_request_context():
        old = encode_cookie(str(member.id))
    assert signed_in_as(replay(app, remember_token=old)) is None


def test_sign_out_stops_copies_of_both_cookies(app, member):
    browser = sign_in(app)
    remember, session = cookie(browser), cookie(browser, "session")
    assert signed_in_as(replay(app, session=session)) == member.email
    assert post(browser, "/logout").status_code == 302
    assert browser.get_cookie("remember_token") is None
    assert signed_in_as(browser) is None
    assert signed_in_as(replay(app, remember_token=remember)) is None
    assert signed_in_as(replay(app, session=session)) is None
    assert live_sign_ins(member) == []


def test_a_password_change_ends_every_other_sign_in(app, member):
    here, elsewhere = sign_in(app), sign_in(app, agent=IPHONE)
    old_here, old_elsewhere = cookie(here), cookie(elsewhere)
    resp = post(
        here,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert resp.status_code == 302
    assert signed_in_as(elsewhere) is None
    assert signed_in_as(replay(app, remember_token=old_elsewhere)) is None
    # This browser carries on with a new sign-in, still remembered; the cookie it
    # had before (perhaps the one that leaked) is dead too.
    assert signed_in_as(here) == member.email
    assert cookie(here) != old_here
    assert signed_in_as(replay(app, remember_token=old_here)) is None
    assert signed_in_as(replay(app, remember_token=cookie(here))) == member.email
    [live] = live_sign_ins(member)
    assert live.remember and live.device == "Firefox on Linux"


def test_a_password_reset_ends_every_sign_in(app, member, outbox):
    browser = sign_in(app)
    remember = cookie(browser)
    services.send_password_reset(member.email)
    db.session.commit()
    path = urlsplit(link_in(outbox()[-1], "/reset/")).path
    stranger = app.test_client()
    post(stranger, path, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, path)
    assert signed_in_as(stranger) == member.email
    assert signed_in_as(browser) is None
    assert signed_in_as(replay(app, remember_token=remember)) is None


def test_sign_out_everywhere_ends_every_sign_in(app, member):
    here, elsewhere = sign_in(app), sign_in(app, agent=IPHONE)
    copies = [cookie(here), cookie(elsewhere)]
    resp = post(here, "/profile/sign-ins/end-all")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert signed_in_as(here) is None
    assert signed_in_as(elsewhere) is None
    for copy in copies:
        assert signed_in_as(replay(app, remember_token=copy)) is None
    assert live_sign_ins(member) == []


def test_deactivation_signs_the_person_out_everywhere(app, member, runner):
    browser = sign_in(app)
    remember = cookie(browser)
    result = runner.invoke(args=["deactivate-user", "ADA@example.org"])
    assert result.exit_code == 0, result.output
    assert "deactivated" in result.output
    assert signed_in_as(browser) is None
    assert signed_in_as(replay(app, remember_token=remember)) is None
    with pytest.raises(AssertionError):  # the login form refuses too
        sign_in(app)
    result = runner.invoke(args=["reactivate-user", "ada@example.org"])
    assert result.exit_code == 0, result.output
    # Signing in works again; the old sign-ins stay ended.
    assert signed_in_as(sign_in(app)) == member.email
    assert signed_in_as(replay(app, remember_token=remember)) is None


def test_deactivating_an_unknown_address_is_a_clear_refusal(runner, member):
    result = runner.invoke(args=["deactivate-user", "nobody@example.org"])
    assert result.exit_code != 0
    assert "No person with e-mail nobody@example.org" in result.output


# --- the profile's list ------------------------------------------------------------


def test_profile_lists_sign_ins_with_device_address_and_last_use(app, member, frozen):
    here = sign_in(app)
    clock.advance(timedelta(hours=1))
    sign_in(app, agent=IPHONE, REMOTE_ADDR="203.0.113.9")
    clock.advance(timedelta(hours=1))
    page = here.get("/profile").get_data(as_text=True)
    section = page[page.index('id="sign-ins"') : page.index('id="api-tokens"')]
    items = re.findall(r'<li class="sign-in">(.*?)</li>', section, re.S)
    assert len(items) == 2
    # Most recently used first: this browser (now), then the iPhone (an hour ago).
    assert "Firefox on Linux" in items[0] and "this browser" in items[0]
    assert "Sign out" not in items[0]
    assert f'datetime="{(frozen + timedelta(hours=2)).isoformat()}"' in items[0]
    assert "Safari on iPhone" in items[1] and "from 203.0.113.9" in items[1]
    assert f'datetime="{(frozen + timedelta(hours=1)).isoformat()}"' in items[1]
    assert "Sign out" in items[1]
    assert "Sign out everywhere" in section


def test_last_use_is_written_at_most_every_few_minutes(app, member, frozen):
    browser = sign_in(app)
    [record] = live_sign_ins(member)
    assert record.last_used_at == frozen
    clock.advance(timedelta(minutes=4))
    browser.get("/profile")
    [record] = live_sign_ins(member)
    assert record.last_used_at == frozen  # no write on every request
    clock.advance(timedelta(minutes=2))
    browser.get("/profile")
    [record] = live_sign_ins(member)
    assert record.last_used_at == frozen + timedelta(minutes=6)


def test_signing_out_one_browser_leaves_the_others(app, member):
    here, phone = sign_in(app), sign_in(app, agent=IPHONE)
    laptop = sign_in(app)
    phone_record = next(s for s in live_sign_ins(member) if s.device.endswith("iPhone"))
    copy = cookie(phone)
    resp = post(here, f"/profile/sign-ins/{phone_record.id}/end")
    assert resp.status_code == 302
    assert "Safari on iPhone is signed out." in here.get("/profile").get_data(True)
    assert signed_in_as(phone) is None
    assert signed_in_as(replay(app, remember_token=copy)) is None
    assert signed_in_as(here) == member.email
    assert signed_in_as(laptop) == member.email


def test_nobody_ends_another_persons_sign_in(app, org, member, make_user):
    make_user(org, email="eve@example.org", name="Eve")
    victim = sign_in(app)
    [record] = live_sign_ins(member)
    eve = sign_in(app, email="eve@example.org")
    resp = post(eve, f"/profile/sign-ins/{record.id}/end")
    assert resp.status_code == 404
    assert signed_in_as(victim) == member.email


def test_a_sign_in_without_remember_me_ends_when_left_idle(app, member, frozen):
    idle = sign_in(app, remember=False)
    kept = sign_in(app, remember=True)
    clock.advance(timedelta(hours=11, minutes=59))
    assert signed_in_as(idle) == member.email  # and that use counts
    clock.advance(timedelta(hours=12, minutes=1))
    assert signed_in_as(idle) is None
    assert signed_in_as(kept) == member.email


# --- the remember cookie -----------------------------------------------------------


def _set_cookie_header(resp, name="remember_token") -> str:
    [header] = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name)]
    return header


def _login_response(browser, base_url="http://localhost"):
    page = browser.get("/login", base_url=base_url)
    token = csrf_from(page.get_data(as_text=True))
    data = {"email": "ada@example.org", "password": PASSWORD, "remember": "y"}
    return browser.post(
        "/login",
        data={**data, "csrf_token": token},
        base_url=base_url,
        headers={"Referer": f"{base_url}/login"},  # CSRF checks it over HTTPS
    )


@pytest.mark.parametrize("days", [30, 7])
def test_remember_days_sets_the_cookie_and_the_record_lifetime(
    app_config, days, request
):
    if days != 30:
        app_config["REMEMBER_DAYS"] = days
    app = request.getfixturevalue("app")
    member = request.getfixturevalue("member")
    clock.freeze(datetime.now(UTC).replace(microsecond=0))
    resp = _login_response(app.test_client())
    header = _set_cookie_header(resp)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header).group(1))
    assert abs(expires - (clock.now() + timedelta(days=days))) < timedelta(minutes=5)
    assert "HttpOnly" in header and "Secure" not in header
    [record] = live_sign_ins(member)
    assert record.expires_at == clock.now() + timedelta(days=days)
    # A browser that kept the cookie past its end is not let in by the server.
    clock.advance(timedelta(days=days, seconds=1))
    copy = re.match(r"remember_token=([^;]+)", header).group(1)
    assert signed_in_as(replay(app, remember_token=copy)) is None


def test_remember_cookie_is_secure_like_the_session_cookie(app_config, request):
    app_config["FORCE_HTTPS"] = True
    app = request.getfixturevalue("app")
    request.getfixturevalue("member")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    resp = _login_response(app.test_client(), base_url="https://localhost")
    remember = _set_cookie_header(resp)
    session = _set_cookie_header(resp, "session")
    for header in (remember, session):
        assert "; Secure" in header and "; HttpOnly" in header


def test_production_settings_keep_the_cookies_alike(monkeypatch, tmp_path):
    from mixer import create_app

    monkeypatch.setenv("MIXER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MIXER_ENV", "production")
    monkeypatch.setenv("MIXER_SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("MIXER_FORCE_HTTPS", "true")
    monkeypatch.setenv("MIXER_REMEMBER_DAYS", "14")
    monkeypatch.setenv("MIXER_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    app = create_app()
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)


# --- no-store ----------------------------------------------------------------------


def test_pages_for_a_signed_in_person_are_not_stored(app, member):
    browser = sign_in(app)
    for url, status in (("/profile", 200), ("/o/acme/", 200), ("/", 302)):
        resp = browser.get(url)
        assert resp.status_code == status, url
        assert resp.headers["Cache-Control"] == "no-store", url
    # Static files stay cacheable.
    with browser.get("/static/css/mixer.css") as resp:
        assert resp.status_code == 200
        assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_anonymous_public_pages_and_static_files_may_be_cached(client, org):
    for url in ("/", "/login", "/static/css/mixer.css"):
        with client.get(url) as resp:
            assert resp.status_code == 200, url
            assert "no-store" not in resp.headers.get("Cache-Control", ""), url


def test_api_answers_are_not_stored(client, org, member, token_for):
    resp = client.get(
        "/api/v1/", headers={"Authorization": f"Bearer {token_for(member, org)}"}
    )
    assert resp.status_code == 200 and resp.json["user"]["email"] == member.email
    assert resp.headers["Cache-Control"] == "no-store"


def test_attendee_list_download_is_not_stored(app, org, organizer, make_event):
    event = make_event(org, creator=organizer)
    db.session.commit()
    browser = sign_in(app, email=organizer.email)
    resp = browser.get(f"/events/{event.id}/attendees.csv", buffered=True)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).startswith("id,name,email")
    assert resp.headers["Cache-Control"] == "no-store"


def test_badge_pdf_by_signed_link_is_not_stored(
    client, org, organizer, make_event, make_registration
):
    event = make_event(org, creator=organizer)
    reg = make_registration(event, email="grace@example.org", name="Grace Hopper")
    link = urlsplit(badge_download_url(reg))
    db.session.commit()
    resp = client.get(f"{link.path}?{link.query}")  # no session at all
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.headers["Cache-Control"] == "no-store"


def test_personal_calendar_feed_is_not_stored(client, member, org, make_event):
    from mixer.events import feeds

    url = urlsplit(feeds.feed_url(feeds.feed_for(member)))
    db.session.commit()
    resp = client.get(url.path)
    assert resp.status_code == 200 and b"BEGIN:VCALENDAR" in resp.data
    assert resp.headers["Cache-Control"] == "no-store"


# --- the pieces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (FIREFOX, "Firefox on Linux"),
        (IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "An unknown browser"),
    ],
)
def test_device_summary(agent, summary):
    assert sign_ins.device_summary(agent) == summary


def test_only_the_hash_of_the_secret_is_stored(app, member):
    browser = sign_in(app)
    secret = (
        replay(app)
        .application.session_interface.get_signing_serializer(app)
        .loads(cookie(browser, "session"))["_user_id"]
        .partition(":")[2]
    )
    stored = db.session.scalars(select(SignIn.secret_hash)).all()
    assert len(stored) == 1 and secret and secret not in stored[0]
    assert stored[0] == sign_ins._hash(secret)


def test_the_worker_forgets_sign_ins_that_ended_long_ago(app, member, frozen):
    from mixer.worker import prune

    ended = sign_in(app, remember=False)
    live = sign_in(app)
    sign_in(app)  # remembered and never used again: it expires after 30 days
    assert post(ended, "/logout").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 3
    clock.advance(timedelta(days=29))
    live.get("/profile")  # used: not idle
    prune()
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 3
    clock.advance(timedelta(days=2))  # the first ended 31 days ago
    prune()
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 2
    clock.advance(timedelta(days=30))  # the other two expired 31 days ago
    prune()
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
