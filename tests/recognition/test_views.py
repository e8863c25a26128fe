"""Recognition pages through the real client: access, CSRF, escaping, publishing."""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO

import pytest
from pypdf import PdfReader

from mixer.extensions import db
from mixer.recognition import awards, testimonials
from mixer.recognition.testimonials import submit_testimonial
from tests.helpers import csrf_from, mail_text
from tests.recognition.conftest import MARCH

EVIL = '<script>alert("x")</script> & <b>bold</b>'


def page(client, path, status=200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client, path, data, csrf_page):
    """POST a form with the CSRF token from ``csrf_page``."""
    token = csrf_from(page(client, csrf_page))
    return client.post(path, data={"csrf_token": token, **data})


# ---------------------------------------------------------------------------
# Testimonials


@pytest.fixture
def said(month_data, make_event):
    """Testimonials of Riverside in every state, about two events or none."""
    org, olga = month_data["org"], month_data["organizer"]
    talk = make_event(org, title="Negotiation over lunch", visibility="link")
    quiet = make_event(org, title="A quiet workshop", kind="workshop")
    items = {}
    for key, body, event, status in [
        ("about_talk", EVIL, talk, "approve"),
        ("general", "Mixer made me braver.", None, "approve"),
        ("waiting", "Still waiting for a moderator.", talk, None),
        ("hidden", "Hidden words about the talk.", talk, "hide"),
    ]:
        t = submit_testimonial(
            org.id,
            body=body,
            author_name=f"Author {key}",
            source_key=f"prompt:{key}",
            event_id=event.id if event else None,
        )
        if status:
            testimonials.moderate(t, status, olga)
        items[key] = t
    db.session.commit()
    return {**items, "talk": talk, "quiet": quiet}


def test_moderation_page_lists_pending_first_and_moderates_with_csrf(
    client, auth, month_data, said
):
    auth.login(month_data["organizer"].email)
    html = page(client, "/o/riverside/testimonials")
    assert re.search(r'data-count="pending">Pending <span class="count">\(1\)', html)
    assert re.search(r'data-count="approved">Approved <span class="count">\(2\)', html)
    assert html.index("Still waiting") < html.index("Mixer made me braver")
    assert html.index("Mixer made me braver") < html.index("Hidden words")
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Negotiation over lunch" in html  # the event it is about
    waiting = said["waiting"]
    path = f"/o/riverside/testimonials/{waiting.id}?status=pending"
    refused = client.post(path, data={"action": "approve"})
    assert refused.status_code == 400
    db.session.refresh(waiting)
    assert waiting.status == "pending"
    done = post(client, path, {"action": "approve"}, "/o/riverside/testimonials")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/o/riverside/testimonials?status=pending")
    db.session.refresh(waiting)
    assert (waiting.status, waiting.moderated_by_id) == (
        "approved",
        month_data["organizer"].id,
    )
    # Words edited by their author after the page was read are not approved:
    # the form carries what the moderator saw.
    edited = submit_testimonial(
        month_data["org"].id,
        body="Words the moderator has read.",
        author_name="Author late",
        source_key="prompt:late",
    )
    db.session.commit()
    html = page(client, "/o/riverside/testimonials")
    seen = re.search(
        rf'testimonials/{edited.id}"[^>]*>\s*<input[^>]*csrf_token[^>]*>\s*'
        r'<input type="hidden" name="seen" value="([0-9a-f]+)">',
        html,
    ).group(1)
    submit_testimonial(
        month_data["org"].id,
        body="Words nobody has read.",
        author_name="Author late",
        source_key="prompt:late",
    )
    db.session.commit()
    stale = client.post(
        f"/o/riverside/testimonials/{edited.id}",
        data={"csrf_token": csrf_from(html), "action": "approve", "seen": seen},
    )
    assert stale.status_code == 302
    db.session.refresh(edited)
    assert edited.status == "pending"
    assert "changed these words since you read them" in page(client, stale.location)
    hidden = said["hidden"]
    post(
        client,
        f"/o/riverside/testimonials/{hidden.id}",
        {"action": "pending"},
        "/o/riverside/testimonials",
    )
    db.session.refresh(hidden)
    assert hidden.status == "pending"  # un-hidden, back in the queue
    bad = post(
        client,
        f"/o/riverside/testimonials/{hidden.id}",
        {"action": "delete"},
        "/o/riverside/testimonials",
    )
    assert bad.status_code == 400


def test_moderation_is_for_organizers_of_the_organization(
    client, auth, month_data, said
):
    auth.login(month_data["ada"].email)  # a member
    assert client.get("/o/riverside/testimonials").status_code == 403
    token = csrf_from(page(client, "/profile"))
    target = f"/o/riverside/testimonials/{said['waiting'].id}"
    data = {"csrf_token": token, "action": "approve"}
    assert client.post(target, data=data).status_code == 403
    assert "Moderate testimonials" not in page(client, "/o/riverside/")
    auth.logout()
    auth.login(month_data["outsider"].email)  # organizer elsewhere
    assert client.get("/o/riverside/testimonials").status_code == 404
    data["csrf_token"] = csrf_from(page(client, "/profile"))
    assert client.post(target, data=data).status_code == 404
    # Riverside's testimonial through the outsider's own organization: not found.
    elsewhere = f"/o/elsewhere/testimonials/{said['waiting'].id}"
    assert client.post(elsewhere, data=data).status_code == 404
    db.session.refresh(said["waiting"])
    assert said["waiting"].status == "pending"


def test_only_approved_testimonials_show_escaped_on_home_and_event_pages(
    client, auth, month_data, said
):
    auth.login(month_data["bo"].email)
    home = page(client, "/o/riverside/")
    assert "What members say" in home
    assert "Mixer made me braver." in home
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold" in home
    assert "<script>alert" not in home and "<b>bold</b>" not in home
    assert "Still waiting" not in home and "Hidden words" not in home
    assert "Author about_talk, after" in home  # with a link to the event
    talk = page(client, f"/events/{said['talk'].id}")
    assert "What people said about this event" in talk
    assert "&lt;script&gt;" in talk and "<script>alert" not in talk
    assert "Mixer made me braver." not in talk  # about the org, not this event
    assert "Still waiting" not in talk and "Hidden words" not in talk
    quiet = page(client, f"/events/{said['quiet'].id}")
    assert "What members say" in quiet  # no words about this one: the org's
    assert "Mixer made me braver." in quiet
    # A guest with the share link sees the words, not other events' titles.
    auth.logout()
    guest = page(client, f"/events/{said['talk'].id}?key={said['talk'].share_key}")
    assert "&lt;script&gt;" in guest and "Still waiting" not in guest


def test_words_taken_back_by_their_author_cannot_be_shown_again(
    client, auth, month_data, said
):
    testimonials.withdraw_testimonial("prompt:general")  # approved, now taken back
    db.session.commit()
    auth.login(month_data["organizer"].email)
    assert "Mixer made me braver." not in page(client, "/o/riverside/")
    html = page(client, "/o/riverside/testimonials?status=hidden")
    item = re.search(rf'id="t{said["general"].id}">(.*?)</article>', html, re.S).group(
        1
    )
    assert "Author general took these words back: they stay hidden." in item
    assert "<button" not in item  # no approve, no un-hide
    # A crafted post changes nothing either.
    done = post(
        client,
        f"/o/riverside/testimonials/{said['general'].id}",
        {"action": "approve"},
        "/o/riverside/testimonials",
    )
    assert done.status_code == 302
    assert "took these words back, so they cannot be" in page(client, done.location)
    db.session.refresh(said["general"])
    assert said["general"].status == "hidden"
    assert "Mixer made me braver." not in page(client, "/o/riverside/")


# ---------------------------------------------------------------------------
# Micro-Mentor of the Month


def draft_and_publish(client, month_data, user, citation, month=MARCH) -> str:
    """Save a draft through the form, then publish it; the award page's URL."""
    base = f"/o/riverside/recognition/{month}"
    review = f"/o/riverside/recognition?month={month}"
    saved = post(
        client, f"{base}/draft", {"user_id": user.id, "citation": citation}, review
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert saved.headers["Location"].endswith(f"?month={month}#review")
    html = page(client, review)
    assert "Review and publish" in html
    form = re.search(r'action="[^"]*/publish">(.*?)</form>', html, re.S).group(1)
    published = client.post(
        f"{base}/publish",
        data={
            "csrf_token": csrf_from(form),
            "user_id": re.search(r'name="user_id" value="(\d+)"', form).group(1),
            "citation": unescape(
                re.search(r'name="citation" value="([^"]*)"', form).group(1)
            ),
        },
    )
    assert published.status_code == 302, published.get_data(as_text=True)
    return published.headers["Location"]


def test_organizer_reviews_the_ranking_and_publishes(client, auth, month_data, outbox):
    cy = month_data["cy"]
    auth.login(month_data["organizer"].email)
    html = page(client, "/o/riverside/recognition")  # last month by default
    assert 'value="2026-03"' in html and "Candidates for March 2026" in html
    names = re.findall(r'<strong>([^<]+)</strong> <span class="points">', html)
    assert names == ["Ada Lovelace", "Cy Young", "Eve Martin", "Finn Berg"]
    assert html.count('class="score-bar"') == 4
    assert "Check-ins held as mentor: 2 × 3 = 6 points" in html
    ada_id = month_data["ada"].id
    assert f'id="c-{ada_id}" value="{ada_id}" checked' in html  # the top, by default
    assert "How the score works" in html
    # Without the CSRF token nothing is saved.
    refused = client.post(
        f"/o/riverside/recognition/{MARCH}/draft",
        data={"user_id": cy.id, "citation": "x"},
    )
    assert refused.status_code == 400
    assert awards.award_for(month_data["org"], MARCH) is None
    # A non-candidate is refused inline.
    wrong = post(
        client,
        f"/o/riverside/recognition/{MARCH}/draft",
        {"user_id": month_data["bo"].id, "citation": "Bo"},
        "/o/riverside/recognition",
    )
    assert wrong.status_code == 422
    assert "Choose one of the ranked candidates" in wrong.get_data(as_text=True)
    location = draft_and_publish(client, month_data, cy, "Steady & kind <always>.")
    assert location.endswith("/o/riverside/awards/2026-03")
    award_page = page(client, location)
    assert "Cy Young" in award_page and "March 2026" in award_page
    assert "Steady &amp; kind &lt;always&gt;." in award_page
    assert "What counted" in award_page  # organizers see the breakdown
    (msg,) = outbox(cy.email)
    assert "Micro-Mentor of the Month for March 2026" in msg["Subject"]
    assert "/o/riverside/awards/2026-03/certificate.pdf" in mail_text(msg)
    # Published is final for organizers: no form, no second e-mail.
    html = page(client, "/o/riverside/recognition?month=2026-03")
    assert "Published" in html and "/draft" not in html and "Unpublish" not in html
    again = post(
        client,
        f"/o/riverside/recognition/{MARCH}/draft",
        {"user_id": month_data["ada"].id, "citation": "Ada instead"},
        "/o/riverside/recognition",
    )
    assert again.status_code == 409
    assert awards.award_for(month_data["org"], MARCH).user_id == cy.id
    assert len(outbox(cy.email)) == 1 and outbox(month_data["ada"].email) == []
    # Members see the award (without the breakdown) and the list.
    auth.logout()
    auth.login(month_data["bo"].email)
    member_view = page(client, location)
    assert "Cy Young" in member_view and "What counted" not in member_view
    assert "Cy Young" in page(client, "/o/riverside/awards")
    assert "Micro-Mentor of the Month" in page(client, "/o/riverside/")


def test_awarding_is_for_organizers_and_awards_for_members(client, auth, month_data):
    org, ada = month_data["org"], month_data["ada"]
    auth.login(ada.email)  # a member
    assert client.get("/o/riverside/recognition").status_code == 403
    token = csrf_from(page(client, "/profile"))
    data = {"csrf_token": token, "user_id": ada.id, "citation": "Me!"}
    assert (
        client.post(f"/o/riverside/recognition/{MARCH}/draft", data=data).status_code
        == 403
    )
    assert (
        client.post(f"/o/riverside/recognition/{MARCH}/publish", data=data).status_code
        == 403
    )
    assert awards.award_for(org, MARCH) is None
    # A draft is invisible to members: the award page is only for published months.
    awards.save_draft(org, MARCH, ada.id, "Draft words", month_data["organizer"])
    db.session.commit()
    assert client.get(f"/o/riverside/awards/{MARCH}").status_code == 404
    assert client.get(f"/o/riverside/awards/{MARCH}/certificate.pdf").status_code == 404
    assert "Draft words" not in page(client, "/o/riverside/awards")
    auth.logout()
    auth.login(month_data["outsider"].email)
    for path in (
        "/o/riverside/recognition",
        "/o/riverside/awards",
        f"/o/riverside/awards/{MARCH}",
        f"/o/riverside/awards/{MARCH}/certificate.pdf",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_from(page(client, "/profile"))
    data["csrf_token"] = token
    for action in ("draft", "publish", "unpublish"):
        path = f"/o/riverside/recognition/{MARCH}/{action}"
        assert client.post(path, data=data).status_code == 404, path


def test_only_admins_unpublish_and_republishing_sends_no_second_mail(
    client, auth, month_data, outbox
):
    org, ada = month_data["org"], month_data["ada"]
    auth.login(month_data["organizer"].email)
    draft_and_publish(client, month_data, ada, "For Ada.")
    unpublish = f"/o/riverside/recognition/{MARCH}/unpublish"
    assert post(client, unpublish, {}, "/o/riverside/recognition").status_code == 403
    auth.logout()
    auth.login(month_data["admin"].email)
    html = page(client, "/o/riverside/recognition")
    assert "Unpublish March 2026" in html
    assert post(client, unpublish, {}, "/o/riverside/recognition").status_code == 302
    assert awards.award_for(org, MARCH).status == "draft"
    assert client.get(f"/o/riverside/awards/{MARCH}").status_code == 404
    draft_and_publish(client, month_data, ada, "For Ada, again.")
    assert awards.award_for(org, MARCH).citation == "For Ada, again."
    assert len(outbox(ada.email)) == 1


def test_certificate_pdf_names_the_person_the_org_and_the_month(
    client, auth, month_data
):
    auth.login(month_data["organizer"].email)
    draft_and_publish(client, month_data, month_data["eve"], "For Eve's CV reviews.")
    auth.logout()
    auth.login(month_data["finn"].email)
    response = client.get(f"/o/riverside/awards/{MARCH}/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in ("Eve Martin", "Riverside College", "March 2026", "CV reviews"):
        assert expected.lower() in text.lower(), (expected, text)


def test_malformed_months(client, auth, month_data):
    auth.login(month_data["organizer"].email)
    html = page(client, "/o/riverside/recognition?month=2026-13", 422)
    assert "A month looks like 2026-03." in html and 'aria-invalid="true"' in html
    assert client.get("/o/riverside/awards/2026-3").status_code == 404
    assert client.get("/o/riverside/awards/latest/certificate.pdf").status_code == 404
    html = page(client, "/o/riverside/recognition?month=2026-04")
    assert "not over yet" in html and "from 1 May 2026" in html
    assert "/draft" not in html
