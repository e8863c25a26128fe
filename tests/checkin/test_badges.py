"""Badge PDFs wired to registrations: QR codes decode to each ``BASE_URL/c/<token>``."""

from __future__ import annotations

from sqlalchemy import select

from mixer.badges import jobs as badge_jobs
from mixer.badges import services as badges
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from mixer.storage import get_store
from tests.badges.pdfcheck import decode_pages, missing_glyphs
from tests.helpers import fill_event, link_in

ARABIC = "محمد عبد الله الفارسي"
LONG = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff Núñez Ortiz"


def _urls(pdf: bytes) -> list[str]:
    return [code.text for page in decode_pages(pdf) for code in page]


def test_the_confirmation_email_links_to_a_badge_that_scans_to_the_token(
    app, client, door, make_registration, outbox
):
    reg = make_registration(door.event, name=ARABIC, email="arabic@example.org")
    link = link_in(outbox(to="arabic@example.org")[-1], "/badge/")
    response = client.get(link.replace("http://mixer.test", ""))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert _urls(response.data) == [f"http://mixer.test/c/{reg.badge_token}"]
    assert missing_glyphs(response.data) == []
    # Without the key, strangers are sent to sign in; the scanned token is no key.
    bare = f"/events/{door.event.id}/badge/{reg.id}"
    assert client.get(bare).status_code == 302
    assert client.get(f"{bare}?key={reg.badge_token}").status_code == 302


def test_my_events_links_to_my_badge(app, client, auth, door, make_user):
    from mixer.events.registration import register

    user = make_user(door.org, email="mine@acme.example.org")
    register(door.event, email=user.email, name=LONG, source="member", user=user)
    db.session.commit()
    auth.login(user.email)
    page = client.get("/o/acme/events/mine").get_data(as_text=True)
    assert "My badge (PDF)" in page
    reg = db.session.scalar(
        select(Registration).where(Registration.email == user.email)
    )
    pdf = client.get(f"/events/{door.event.id}/badge/{reg.id}").data
    assert _urls(pdf) == [f"http://mixer.test/c/{reg.badge_token}"]
    assert missing_glyphs(pdf) == []


def test_ribbons_come_from_the_registration_and_the_event(
    app, door, make_event, make_registration, make_user
):
    lunch = make_event(
        door.org,
        door.organizer,
        speakers="Sam Speaker, Kim Lee",
        organizers=[door.organizer],
    )
    speaker = make_registration(lunch, name="Sam Speaker")
    plain = make_registration(lunch, name="Pat Plain", role="mentor")
    org_reg = make_registration(
        lunch, name=door.organizer.name, email=door.organizer.email
    )
    mentor = make_registration(door.event, role="mentor")
    either = make_registration(door.event, role="either")
    assert badges.badge_data(speaker).role == "speaker"
    assert badges.badge_data(org_reg).role == "organizer"
    assert badges.badge_data(mentor).role == "mentor"
    assert badges.badge_data(either).role == "attendee"
    assert badges.badge_data(plain).role == "mentor"


def test_a_small_batch_is_drawn_inline_and_cached_until_a_registration_changes(
    app, client, auth, door
):
    regs = fill_event(door.event, 10)
    auth.login(door.organizer.email)
    first = client.get(f"/events/{door.event.id}/badges.pdf?layout=letter-8")
    assert first.mimetype == "application/pdf"
    assert sorted(_urls(first.data)) == sorted(
        f"http://mixer.test/c/{r.badge_token}" for r in regs
    )
    folder = badges.cache_folder(door.event.id)
    cached = [k for k in get_store().list(folder) if "/letter-8-" in k]
    assert len(cached) == 1
    assert client.get(f"/events/{door.event.id}/badges.pdf?layout=letter-8").data == (
        first.data
    )
    regs[0].name = "Renamed Person"
    db.session.commit()
    client.get(f"/events/{door.event.id}/badges.pdf?layout=letter-8")
    now_cached = [k for k in get_store().list(folder) if "/letter-8-" in k]
    assert len(now_cached) == 1 and now_cached != cached
    bad = client.get(f"/events/{door.event.id}/badges.pdf?layout=a3")
    assert bad.status_code == 400
    assert "Unknown badge layout" in bad.get_data(as_text=True)


def test_the_largest_inline_batch_is_drawn_in_the_request_process(
    app, client, auth, door, monkeypatch
):
    """Up to INLINE_LIMIT badges (more than one chunk) are drawn in the web
    process itself: a request never starts rendering processes."""
    from mixer.badges import render

    assert badges.INLINE_LIMIT > render.CHUNK_BADGES  # several chunks inline
    pools: list[int] = []
    real = render._render_in_processes
    monkeypatch.setattr(
        render,
        "_render_in_processes",
        lambda parts, *a, **k: pools.append(len(parts)) or real(parts, *a, **k),
    )
    regs = fill_event(door.event, badges.INLINE_LIMIT)
    auth.login(door.organizer.email)
    answer = client.get(f"/events/{door.event.id}/badges.pdf")
    assert answer.mimetype == "application/pdf"
    assert sorted(_urls(answer.data)) == sorted(
        f"http://mixer.test/c/{r.badge_token}" for r in regs
    )
    assert pools == []


def test_a_200_badge_batch_goes_through_the_job_worker_with_progress(
    app, client, auth, door, monkeypatch
):
    regs = fill_event(door.event, 200)
    auth.login(door.organizer.email)
    url = f"/events/{door.event.id}/badges.pdf?layout=a4-8"
    response = client.get(url)
    assert response.status_code == 302
    progress_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<progress" in progress_page and "js/printout-progress.js" in progress_page
    job = db.session.scalar(select(Job).where(Job.kind == "badges.batch"))
    status_url = f"/events/{door.event.id}/badges/jobs/{job.id}"
    assert client.get(status_url).get_json()["status"] == "pending"
    assert client.get(url).status_code == 302  # asking again: the same job
    assert db.session.scalar(select(Job.id).where(Job.kind == "badges.batch")) == job.id

    seen: list[int] = []
    real = badge_jobs.set_progress

    def record(job_id: int, percent: int) -> None:
        seen.append(percent)
        real(job_id, percent)

    monkeypatch.setattr(badge_jobs, "set_progress", record)
    assert run_due()["done"] == 1
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] >= 90
    status = client.get(status_url).get_json()
    assert (status["status"], status["progress"]) == ("done", 100)
    pdf = client.get(status["download_url"])
    assert pdf.mimetype == "application/pdf"
    urls = _urls(pdf.data)
    assert len(urls) == 200
    assert set(urls) == {f"http://mixer.test/c/{r.badge_token}" for r in regs}
