"""Languages: which one a page and an e-mail are in, dates and numbers said in
it, the person's and the organization's settings, and Arabic pages in a real
browser (right to left, no sideways scrolling at 360 px)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from mixer import clock
from mixer.accounts.services import send_magic_link
from mixer.audit.models import AuditEntry
from mixer.checkin import services as checkin
from mixer.connections.services import connect
from mixer.events.models import Registration, RegistrationSource
from mixer.events.registration import register
from mixer.extensions import db
from mixer.followup import services as followup
from mixer.formatting import format_number, localtime, time_span
from mixer.orgs.services import set_default_locale
from tests.helpers import PASSWORD, csrf_from, mail_text

SUNDAY = datetime(2026, 12, 6, 17, 5, tzinfo=UTC)


def _lang(html: str) -> tuple[str, str]:
    """The page's ``lang`` and ``dir``."""
    match = re.search(r'<html lang="(\w+)" dir="(\w+)">', html)
    assert match, html[:200]
    return match.group(1), match.group(2)


def test_the_language_is_the_persons_then_the_browsers_then_the_orgs(
    app, client, auth, make_org, make_user
):
    org = make_org(slug="riverside", name="Riverside")
    set_default_locale(org, "de")
    db.session.commit()
    member = make_user(org, name="Mira Member", email="mira@example.org")

    # Nobody signed in, no organization: the browser's best match, else English.
    page = client.get("/login", headers={"Accept-Language": "fr-CH, ar;q=0.8"})
    html = page.get_data(as_text=True)
    assert _lang(html) == ("ar", "rtl")
    assert "تسجيل الدخول إلى Mixer" in html  # "Sign in to Mixer"
    assert "Accept-Language" in page.headers["Vary"]  # caches keep them apart
    page = client.get("/login", headers={"Accept-Language": "fr"})
    assert _lang(page.get_data(as_text=True)) == ("en", "ltr")
    assert "Sign in to Mixer" in page.get_data(as_text=True)

    auth.login(member.email)
    home = "/o/riverside/"
    # A browser asking for none of ours: the organization's default (German).
    html = client.get(home, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _lang(html) == ("de", "ltr")
    assert ">Veranstaltungen</a>" in html and ">Abmelden</button>" in html
    # The browser's language beats the organization's.
    html = client.get(home, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert _lang(html) == ("ar", "rtl") and ">الفعاليات</a>" in html
    # The person's own setting beats both: chosen on the profile page.
    profile = client.get("/profile", headers={"Accept-Language": "ar"})
    form = profile.get_data(as_text=True)
    assert '<option lang="de" value="de">Deutsch</option>' in form
    saved = client.post(
        "/profile/language",
        data={"locale": "de", "csrf_token": csrf_from(form)},
        headers={"Accept-Language": "ar"},
        follow_redirects=True,
    )
    html = saved.get_data(as_text=True)
    assert _lang(html) == ("de", "ltr")
    assert "Ihre Sprache ist gespeichert." in html  # said in the new language
    assert '<option lang="de" selected value="de">Deutsch</option>' in html
    db.session.expire_all()
    assert member.locale == "de"
    # A language we do not have is refused on the field; "automatic" clears it.
    refused = client.post(
        "/profile/language",
        data={"locale": "fr", "csrf_token": csrf_from(html)},
        headers={"Accept-Language": "ar"},
    )
    assert refused.status_code == 422
    # WTForms' own message, in German from WTForms' catalogue.
    assert "Keine gültige Auswahl." in refused.get_data(as_text=True)
    client.post("/profile/language", data={"locale": "", "csrf_token": csrf_from(html)})
    db.session.expire_all()
    assert member.locale is None

    # Dates and numbers for a German reader, times still in the zone given. (A
    # request of its own: the language is decided once per request, on ``g``.)
    with (
        app.app_context(),
        app.test_request_context(headers={"Accept-Language": "de-DE"}),
    ):
        assert localtime(SUNDAY, "Europe/Berlin") == "So., 6. Dez. 2026, 18:05 CET"
        assert localtime(SUNDAY, None, "%-d %b %Y") == "6. Dez. 2026 UTC"
        assert localtime(SUNDAY, "Europe/Berlin", "%H:%M") == "18:05 CET"
        later = SUNDAY + timedelta(hours=2)
        assert time_span(SUNDAY, later, "Europe/Berlin") == (
            "So., 6. Dez. 2026, 18:05–20:05 CET"
        )
        assert format_number(1234567) == "1.234.567"
        # Machine text (the scan page's data attributes) is never translated.
        assert localtime(SUNDAY, "Europe/Berlin", "%z") == "+0100 CET"
        with force_locale("ar"):
            assert localtime(SUNDAY, "Europe/Berlin").startswith("الأحد، 6 ديسمبر 2026")
    # English stays exactly as before.
    with app.app_context(), app.test_request_context():
        assert localtime(SUNDAY, "Europe/Berlin") == "Sun 06 Dec 2026, 18:05 CET"
        assert localtime(SUNDAY, None, "%d %b, %H:%M") == "06 Dec, 17:05 UTC"
        assert format_number(1234567) == "1,234,567"


def test_a_sign_in_link_is_written_in_the_recipients_language(
    app, client, make_org, make_user, make_event, outbox
):
    org = make_org(slug="riverside", name="Riverside")
    german = make_user(org, name="Greta", email="greta@example.org")
    german.locale = "de"
    plain = make_user(org, name="Amal", email="amal@example.org")
    db.session.commit()

    # Asked for from an Arabic browser: still German, the recipient's language.
    page = client.get("/login", headers={"Accept-Language": "ar"})
    client.post(
        "/login",
        data={
            "email": german.email,
            "action": "link",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
        headers={"Accept-Language": "ar"},
    )
    (message,) = outbox(german.email)
    assert message["Subject"] == "Ihr Anmeldelink für Mixer"
    text = mail_text(message)
    assert text.startswith("Hallo Greta,")
    assert "Er funktioniert einmal, innerhalb von 20 Minuten:" in text
    assert "Diese E-Mails" not in text  # no unsubscribe line on sign-in mail
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html
    assert ">Bei Mixer anmelden</a>" in html  # the button

    # The registration confirmation too, whoever's request registers them.
    event = make_event(org, title="Verhandeln beim Mittagessen")
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        register(
            event,
            email=german.email,
            name=german.name,
            user=german,
            source=RegistrationSource.ORGANIZER,
        )
        db.session.commit()
    confirmation = outbox(german.email)[-1]
    assert confirmation["Subject"] == "Sie sind angemeldet: Verhandeln beim Mittagessen"
    text = mail_text(confirmation)
    assert text.startswith("Hallo Greta,")
    assert "Sie sind angemeldet. Die Kalendereinladung ist angehängt." in text
    assert "Wann:" in text and "Veranstaltung ansehen:" in text

    # No setting of their own: the organization's default, here Arabic.
    set_default_locale(org, "ar")
    db.session.commit()
    send_magic_link(plain.email)
    db.session.commit()
    (message,) = outbox(plain.email)
    assert message["Subject"] == "رابط تسجيل الدخول إلى Mixer"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    assert "خلال 20 دقيقة" in mail_text(message)  # Arabic's plural for 11–99

    # After the event, the follow-up prompt: German for Greta (her setting),
    # Arabic for Amal (the organization's default), whoever's request closes it.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        amal_reg = register(
            event,
            email=plain.email,
            name=plain.name,
            user=plain,
            source=RegistrationSource.ORGANIZER,
        )
        event.starts_at = clock.now() - timedelta(hours=2)
        event.ends_at = clock.now() - timedelta(minutes=10)
        db.session.commit()
        greta_reg = db.session.scalar(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == german.id
            )
        )
        assert greta_reg is not None
        checkin.check_in(greta_reg)
        checkin.check_in(amal_reg)
        connect(event.id, greta_reg.id, amal_reg.id, "scan")
        followup.close_event(event, None)
        followup.send_prompts(
            event.id, clock.stamp(followup.followup_for(event).due_at)
        )
        db.session.commit()
    prompt = outbox(german.email)[-1]
    title = "Verhandeln beim Mittagessen"
    assert prompt["Subject"] == f"Mit wem von {title} möchten Sie in Kontakt bleiben?"
    text = mail_text(prompt)
    assert text.startswith("Hallo Greta,")
    assert f"Vielen Dank, dass Sie zu {title} gekommen sind." in text
    assert "Sie haben 1 Person getroffen." in text
    assert "Sie haben sich durch das Scannen eines Namensschilds getroffen" in text
    assert "  Als mein Mentor: http" in text  # the one-tap links' labels
    assert "Welchen kleinen Schritt unternehmen Sie diese Woche" in text
    assert "Sie können diese Links 14 Tage lang" in text
    html = prompt.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html
    assert ">Veranstaltung bewerten und antworten</a>" in html
    arabic = outbox(plain.email)[-1]
    assert arabic["Subject"] == f"مع من تودّ البقاء على تواصل من {title}؟"
    assert "التقيت شخصًا واحدًا." in mail_text(arabic)  # Arabic's singular form


def test_an_admin_sets_the_organizations_language_and_it_is_audited(
    app, client, auth, make_org, make_user
):
    org = make_org(slug="riverside", name="Riverside")
    admin = make_user(org, role="admin", name="Ada Admin")
    auth.login(admin.email, PASSWORD)
    page = client.get("/o/riverside/settings").get_data(as_text=True)
    assert 'action="/o/riverside/settings/language"' in page
    token = csrf_from(page)

    done = client.post(
        "/o/riverside/settings/language",
        data={"default_locale": "ar", "csrf_token": token},
        follow_redirects=True,
    )
    assert _lang(done.get_data(as_text=True)) == ("ar", "rtl")  # no browser choice
    db.session.expire_all()
    assert org.default_locale == "ar"
    (entry,) = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "org.language_changed")
    )
    assert entry.org_id == org.id and entry.actor_id == admin.id
    assert entry.details == {"from": "en", "to": "ar"}
    assert entry.summary == "Default language changed from English to العربية"

    refused = client.post(
        "/o/riverside/settings/language",
        data={"default_locale": "xx", "csrf_token": token},
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert org.default_locale == "ar"
    # Saving the same language again records nothing new.
    client.post(
        "/o/riverside/settings/language",
        data={"default_locale": "ar", "csrf_token": token},
    )
    count = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "org.language_changed")
    ).all()
    assert len(count) == 1


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_sign_in_profile_and_events_in_arabic_on_a_phone(
    app, live_server, browser, make_org, make_user, make_event, make_registration
):
    org = make_org(slug="riverside", name="Riverside Health")
    member = make_user(org, name="Mira Member", email="mira@example.org")
    member.locale = "ar"
    event = make_event(org, title="Negotiation over lunch", speakers="Dana Lee")
    # A mixer Mira went to yesterday, closed: its follow-up waits for her answer.
    past = make_event(org, title="Spring Mixer")
    went = make_registration(past, email=member.email, name=member.name, user=member)
    past.starts_at = clock.now() - timedelta(days=1)
    past.ends_at = past.starts_at + timedelta(hours=2)
    db.session.commit()
    checkin.check_in(went)
    followup.close_event(past, None)
    followup.send_prompts(past.id, clock.stamp(followup.followup_for(past).due_at))
    db.session.commit()
    width = 360
    context = browser.new_context(viewport={"width": width, "height": 740}, locale="ar")
    page = context.new_page()

    def fits() -> None:
        """Right to left, and nothing wider than the phone (measured once the
        page and its style sheets have loaded: a click does not wait for that)."""
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("dir") == "rtl"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert scroll <= inner, f"{page.url} scrolls sideways: {scroll} > {inner}"

    page.goto(f"{live_server}/login")
    fits()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/login-ar-{width}.png", full_page=True)
    assert page.get_by_role("heading", name="تسجيل الدخول إلى Mixer").is_visible()
    page.get_by_label("البريد الإلكتروني").fill(member.email)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول", exact=True).click()
    page.wait_for_url(f"{live_server}/o/riverside/")
    fits()

    page.goto(f"{live_server}/profile")
    fits()
    assert page.get_by_role("heading", name="ملفك الشخصي").is_visible()
    assert page.get_by_role("combobox", name="اللغة").input_value() == "ar"
    # The layout is mirrored: the page's main heading starts at the right.
    box = page.get_by_role("heading", name="ملفك الشخصي").bounding_box()
    assert box is not None and box["x"] + box["width"] > width * 0.6
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/profile-ar-{width}.png", full_page=True)

    # The events list and an event page, registering in one click.
    page.goto(f"{live_server}/o/riverside/events/")
    fits()
    assert page.get_by_role("heading", name="الفعاليات", exact=True).is_visible()
    assert page.get_by_text("التفاصيل والتسجيل").is_visible()
    page.get_by_role("link", name=event.title).click()
    fits()
    assert page.get_by_role("heading", name="مكانك").is_visible()
    page.get_by_role("button", name="سجّل", exact=True).click()
    fits()
    assert page.get_by_text("تمّ تسجيلك. التأكيد في طريقه إليك.").is_visible()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/event-ar-{width}.png", full_page=True)

    # The follow-up list, and the prompt it leads to, on the phone.
    page.goto(f"{live_server}/followup")
    fits()
    assert page.get_by_role("heading", name="المتابعة", exact=True).is_visible()
    assert page.get_by_text("فعالية واحدة تنتظر إجابتك.").is_visible()
    assert page.get_by_role("heading", name="بانتظار إجابتك").is_visible()
    page.get_by_role("link", name="Spring Mixer").click()
    fits()
    assert page.get_by_role("heading", name="بعد Spring Mixer").is_visible()
    assert page.get_by_role("button", name="احفظ إجاباتي").is_visible()
    if folder := os.environ.get("MIXER_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/followup-ar-{width}.png", full_page=True)
    context.close()
