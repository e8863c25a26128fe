"""Organizations, the front door, error and link pages, and the admin pages
(outbox, single sign-on, privacy, webhooks, audit trail) in German and Arabic:
pages in the reader's language, the invitation in the invitee's, and the Arabic
pages right to left on a phone."""

from __future__ import annotations

import os

import pytest

from mixer.extensions import db
from mixer.orgs.services import set_default_locale
from tests.helpers import PASSWORD, csrf_from, mail_text

ENGLISH_LEFTOVERS = (
    "Quick links",
    "Invite someone",
    "Pending invitations",
    "Organization settings",
    "Save settings",
    "Single sign-on</h1>",
    "No endpoints yet",
    "Audit trail</h1>",
    "Failed jobs",
    "Your data</h1>",
    "Go to the start page",
)


@pytest.fixture
def acme(make_org):
    return make_org(slug="acme", name="Acme")


def _page(client, path: str, status: int = 200) -> str:
    """The page at ``path``, with no English left that the test knows of."""
    response = client.get(path)
    assert response.status_code == status, path
    html = response.get_data(as_text=True)
    for words in ENGLISH_LEFTOVERS:
        assert words not in html, f"{path}: {words!r} is still English"
    return html


def test_the_admin_pages_speak_german(client, auth, acme, make_user):
    admin = make_user(acme, role="admin", name="Ada Admin")
    admin.locale = "de"
    member = make_user(acme, name="Mira Member", email="mira@example.org")
    db.session.commit()

    # The front door and a missing page, for a German browser nobody signed in.
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Mixer: Micro-Mentoring, das weitergeht" in html
    assert "Kurze Runden, echte Menschen" in html and "Quick rounds" not in html
    missing = client.get("/nowhere", headers={"Accept-Language": "de"})
    assert missing.status_code == 404
    text = missing.get_data(as_text=True)
    assert "404 · Nicht gefunden" in text and ">Zur Startseite</a>" in text
    assert "Wir konnten diese Seite nicht finden." in text
    broken = client.get("/invitations/not-a-token", headers={"Accept-Language": "de"})
    text = broken.get_data(as_text=True)
    assert broken.status_code == 400
    assert "Diese Einladung kann nicht verwendet werden" in text
    assert "Dieser Link ist ungültig. Prüfen Sie, ob er vollständig kopiert wurde." in (
        text
    )

    auth.login(admin.email, PASSWORD)
    home = _page(client, "/o/acme/")
    assert "Unsere Mentoring-Charta" in home and "Schnellzugriff" in home
    assert 'Sie sind hier <span class="badge-role">Admin</span>.' in home
    members = _page(client, "/o/acme/members")
    assert "Jemanden einladen" in members and "Abteilungen und Gruppen" in members
    assert '<option value="organizer">Organisator</option>' in members
    assert "Keine Einladungen, die auf eine Antwort warten." in members
    edit = _page(client, f"/o/acme/members/{member.memberships[0].id}/edit")
    assert "Berichtslinie, Standort und Sprachen" in edit
    assert "Mitglied von Acme seit" in edit
    settings = _page(client, "/o/acme/settings")
    assert "Einstellungen der Organisation" in settings
    assert '<option selected value="company">Unternehmen</option>' in settings
    privacy = _page(client, "/o/acme/settings/privacy")
    assert (
        "Derzeit: Personenbezogene Angaben werden nach jeder Veranstaltung "
        "<strong>24 Monate</strong> aufbewahrt." in privacy
    )
    sso = _page(client, "/o/acme/settings/sso")
    assert "<strong>Nicht eingerichtet.</strong>" in sso and "Claim-Zuordnung" in sso
    hooks = _page(client, "/o/acme/settings/webhooks")
    assert "Noch keine Endpunkte." in hooks
    assert "registration.created: Jemand hat sich für eine Veranstaltung" in hooks
    audit = _page(client, "/o/acme/audit")
    assert "Prüfprotokoll" in audit and '<option selected value="">Alle Aktionen' in (
        audit
    )
    outbox_page = _page(client, "/o/acme/admin/outbox")
    assert "Postausgang" in outbox_page and "Keine fehlgeschlagenen Jobs." in (
        outbox_page
    )
    mine = _page(client, "/profile/data")
    assert "Alles herunterladen" in mine and "Mein Konto löschen" in mine

    # A flash message and a refusal, in German too.
    token = csrf_from(members)
    sent = client.post(
        "/o/acme/invitations",
        data={"csrf_token": token, "invite-email": "neu@example.org"},
        follow_redirects=True,
    )
    assert "Einladung an neu@example.org gesendet." in sent.get_data(as_text=True)
    refused = client.post(
        "/o/acme/invitations",
        data={"csrf_token": token, "invite-email": member.email},
    )
    assert refused.status_code == 422
    assert "mira@example.org ist bereits Mitglied von Acme." in refused.get_data(
        as_text=True
    )


def test_an_invitation_is_written_in_the_invitees_language(
    client, auth, acme, make_org, make_user, outbox
):
    admin = make_user(acme, role="admin", name="Ada Admin")
    other = make_org(slug="elsewhere", name="Elsewhere")
    amal = make_user(other, name="Amal", email="amal@example.org")
    amal.locale = "ar"
    set_default_locale(acme, "de")
    db.session.commit()
    auth.login(admin.email, PASSWORD)
    token = csrf_from(client.get("/o/acme/members").get_data(as_text=True))

    # An English admin's request; the invitees read their own language.
    for address in ("amal@example.org", "neu@example.org"):
        client.post(
            "/o/acme/invitations",
            data={"csrf_token": token, "invite-email": address},
            headers={"Accept-Language": "en"},
        )
    (arabic,) = outbox("amal@example.org")
    assert arabic["Subject"] == "أنت مدعو إلى Acme على Mixer"
    html = arabic.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    assert ">انضم إلى Acme</a>" in html
    assert "اقبل الدعوة خلال 14 يومًا:" in mail_text(arabic)  # 11–99: its form

    # No account yet: the organization's default language, German.
    (german,) = outbox("neu@example.org")
    assert german["Subject"] == "Sie sind zu Acme bei Mixer eingeladen"
    text = mail_text(german)
    assert text.startswith("Hallo,")
    assert "Ada Admin lädt Sie ein, Acme bei Mixer beizutreten," in text
    assert "Nehmen Sie die Einladung innerhalb von 14 Tagen an:" in text
    assert "weil ein Admin von Acme neu@example.org eingeladen hat." in text


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_admin_pages_in_arabic_on_a_phone(live_server, browser, make_org, make_user):
    org = make_org(slug="acme", name="Acme")
    admin = make_user(org, role="admin", name="Ada Admin", email="ada@example.org")
    admin.locale = "ar"
    member = make_user(org, name="Mira Member", email="mira@example.org")
    db.session.commit()
    width = 360
    context = browser.new_context(viewport={"width": width, "height": 740}, locale="ar")
    page = context.new_page()
    folder = os.environ.get("MIXER_SCREENSHOT_DIR")

    def visit(path: str, heading: str, name: str) -> None:
        """Right to left, its heading in Arabic, nothing wider than the phone."""
        page.goto(f"{live_server}{path}")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.get_by_role("heading", name=heading, exact=True).first.is_visible()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert scroll <= inner, f"{path} scrolls sideways: {scroll} > {inner}"
        if folder:
            page.screenshot(path=f"{folder}/{name}-ar-{width}.png", full_page=True)

    visit("/", "Mixer: إرشاد مصغّر يستمر", "index")
    page.goto(f"{live_server}/login")
    page.get_by_label("البريد الإلكتروني").fill(admin.email)
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول", exact=True).click()
    page.wait_for_url(f"{live_server}/o/acme/")
    visit("/o/acme/", "Acme", "org-home")
    visit("/o/acme/members", "الأعضاء (2)", "members")
    visit(
        f"/o/acme/members/{member.memberships[0].id}/edit",
        "تعديل Mira Member",
        "member-edit",
    )
    visit("/o/acme/settings", "إعدادات المؤسسة", "org-settings")
    visit("/o/acme/settings/privacy", "الخصوصية", "privacy-settings")
    visit("/o/acme/settings/sso", "الدخول الموحّد", "sso-settings")
    visit("/o/acme/settings/webhooks", "خطافات الويب", "webhooks")
    visit("/o/acme/audit", "سجل التدقيق", "audit")
    visit("/o/acme/admin/outbox", "صندوق الصادر", "outbox")
    visit("/profile/data", "بياناتك", "my-data")
    context.close()
