"""Schedule and table-card PDFs: drawn by the job worker above the threshold,
cached until what they print changes, never stale, organizers of the org only."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mixer.events.models import Registration
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from mixer.printouts import services as printouts
from mixer.rotations import pdf, services
from mixer.rotations.models import RotationSeat
from mixer.storage import get_store
from tests.events.test_dashboard_queries import counting_queries
from tests.rotations.conftest import planned_mixer

THRESHOLD = 10  # people: a 24-person mixer is "big" in these tests


@pytest.fixture
def mixer_of(org, make_event):
    """``mixer_of(n)``: a planned Mentor Mixer of n checked-in people."""

    def build(n: int):
        return planned_mixer(make_event, org, n, 3, title="Big mixer")

    return build


@pytest.fixture
def draws(monkeypatch):
    """How many PDFs WeasyPrint was asked to draw (the real drawing, counted)."""
    calls: list[int] = []
    real = pdf.render_pdf

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "render_pdf", counted)
    return calls


@pytest.fixture
def big(app):
    app.config["ROTATION_PDF_INLINE_PEOPLE"] = THRESHOLD


def _text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _pages(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def _cards(data: bytes) -> list[tuple[int, str]]:
    """Each card's table number and the event's title printed under it."""
    cards = []
    for page in PdfReader(io.BytesIO(data)).pages:
        found = re.fullmatch(r"TABLE\s*(\d+)\s*(.+)", page.extract_text().strip())
        assert found, page.extract_text()
        cards.append((int(found.group(1)), found.group(2)))
    return cards


def _seated(event) -> set[str]:
    """Names of everyone the stored plan seats."""
    plan = services.plan_for(event)
    ids = set(
        db.session.scalars(
            select(RotationSeat.registration_id).where(RotationSeat.plan_id == plan.id)
        )
    )
    return {row.name for row in services.names(ids).values()}


def _jobs() -> int:
    return db.session.scalar(
        select(func.count(Job.id)).where(Job.kind == pdf.PRINTOUT_JOB)
    )


def _to_job(client, url: str) -> tuple[int, str]:
    """Ask for a big PDF: a redirect to the progress page; its job id and page."""
    response = client.get(url)
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    job_id = int(re.search(r"/printouts/(\d+)$", location).group(1))
    return job_id, client.get(location).get_data(as_text=True)


def _run_and_download(client, event, job_id: int) -> bytes:
    """Run the job through the real job runner; the PDF the status leads to."""
    status_url = f"/events/{event.id}/rotations/printouts/{job_id}.json"
    assert client.get(status_url).get_json()["status"] == "pending"
    assert run_due()["done"] == 1
    status = client.get(status_url).get_json()
    assert (status["status"], status["progress"]) == ("done", 100)
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    return download.data


def test_a_big_schedule_is_drawn_by_the_worker_cached_and_never_stale(
    client, auth, organizer, mixer_of, big, draws
):
    event = mixer_of(24)
    auth.login(organizer.email)
    url = f"/events/{event.id}/rotations/schedule.pdf"

    job_id, page = _to_job(client, url)
    assert "<progress" in page and "js/printout-progress.js" in page
    assert "Drawing the rotation schedule" in page
    assert draws == []  # nothing drawn in the request
    assert _to_job(client, url)[0] == job_id  # asking again: the same job
    assert _jobs() == 1

    first = _run_and_download(client, event, job_id)
    assert len(draws) == 1  # drawn once, by the worker
    text = _text(first)
    assert "Big mixer" in text and "Round 3" in text
    names = _seated(event)
    assert len(names) == 24 and all(name in text for name in names)

    again = client.get(url)  # served from the cache: no job, no drawing
    assert again.status_code == 200 and again.data == first
    assert len(draws) == 1 and _jobs() == 1

    # Someone leaves: marked in the rounds not yet held, so the PDF changes.
    gone = db.session.scalar(
        select(Registration).where(Registration.name == "Person 0003")
    )
    services.mark_left(event, [gone.id])
    db.session.commit()
    job_id, _ = _to_job(client, url)
    assert _jobs() == 2 and len(draws) == 1  # the old PDF is not served
    marked = _text(_run_and_download(client, event, job_id))
    assert "Person 0003 (Finance) (left)" in marked

    # The re-plan seats the others without them.
    services.replan_remaining(event)
    db.session.commit()
    job_id, _ = _to_job(client, url)
    replanned = _text(_run_and_download(client, event, job_id))
    assert "Person 0003" not in replanned
    assert all(name in replanned for name in _seated(event))
    # Only the current drawing is kept.
    folder = pdf.drawing(event, services.plan_for(event), "schedule").printout.folder
    kept = [k for k in get_store().list(folder) if "/schedule-" in k]
    assert len(kept) == 1


def test_big_table_cards_are_drawn_by_the_worker_and_follow_the_plan(
    client, auth, organizer, mixer_of, big, draws
):
    event = mixer_of(24)
    auth.login(organizer.email)
    url = f"/events/{event.id}/rotations/cards.pdf"

    job_id, page = _to_job(client, url)
    assert "Drawing the table cards" in page and draws == []
    cards = _run_and_download(client, event, job_id)
    assert len(draws) == 1
    assert _pages(cards) == 12  # 24 people in pairs: a card per table
    assert _cards(cards) == [(n, "Big mixer") for n in range(1, 13)]

    assert client.get(url).data == cards  # from the cache
    assert len(draws) == 1 and _jobs() == 1

    # Four people leave and the rounds are re-planned: ten tables, new cards.
    gone = db.session.scalars(select(Registration.id).limit(4)).all()
    services.mark_left(event, gone)
    services.replan_remaining(event)
    db.session.commit()
    job_id, _ = _to_job(client, url)
    assert len(draws) == 1  # the old cards are not served
    assert _pages(_run_and_download(client, event, job_id)) == 10

    # The event's title is printed on every card: renaming it is a change too.
    event.title = "Autumn mixer"
    db.session.commit()
    job_id, _ = _to_job(client, url)
    renamed = _cards(_run_and_download(client, event, job_id))
    assert renamed == [(n, "Autumn mixer") for n in range(1, 11)]


def test_a_small_plan_is_drawn_in_the_request_and_cached(
    client, auth, organizer, mixer_of, draws
):
    event = mixer_of(8)  # under the default threshold
    auth.login(organizer.email)
    url = f"/events/{event.id}/rotations/schedule.pdf"
    first = client.get(url)
    assert first.status_code == 200 and len(draws) == 1 and _jobs() == 0
    assert all(name in _text(first.data) for name in _seated(event))
    assert client.get(url).data == first.data and len(draws) == 1
    # A renamed person: the cached schedule would be stale, so it is drawn again.
    reg = db.session.scalar(
        select(Registration).where(Registration.name == "Person 0001")
    )
    reg.name = "Renamed Person"
    db.session.commit()
    renamed = client.get(url)
    assert len(draws) == 2 and "Renamed Person" in _text(renamed.data)


def test_the_request_of_a_big_plan_does_not_grow_with_it(
    client, auth, organizer, mixer_of, big, draws
):
    """Asking for a big plan's PDF and then for the cached one sends as many SQL
    statements for 80 people as for 20 (the seats and names are two queries)."""
    small, large = mixer_of(20), mixer_of(80)
    auth.login(organizer.email)
    client.get(f"/events/{small.id}/rotations")  # warms up what every page loads
    counts = []
    for event in (small, large):
        url = f"/events/{event.id}/rotations/schedule.pdf"
        with counting_queries() as asked:
            _to_job(client, url)
        run_due()
        with counting_queries() as cached:
            assert client.get(url).mimetype == "application/pdf"
        counts.append((len(asked), len(cached)))
    assert counts[0] == counts[1]
    assert len(draws) == 2  # by the worker, once per plan


def test_only_organizers_of_the_org_get_printouts_and_their_progress(
    client, auth, organizer, mixer_of, big, make_org, make_user, org
):
    event = mixer_of(24)
    auth.login(organizer.email)
    job_id, _ = _to_job(client, f"/events/{event.id}/rotations/schedule.pdf")
    auth.logout()
    elsewhere = make_org(slug="elsewhere", name="Elsewhere")
    outsider = make_user(elsewhere, role="organizer", email="o@elsewhere.example.org")
    member = make_user(org, email="m@acme.example.org")
    urls = [
        f"/events/{event.id}/rotations/schedule.pdf",
        f"/events/{event.id}/rotations/cards.pdf",
        f"/events/{event.id}/rotations/printouts/{job_id}",
        f"/events/{event.id}/rotations/printouts/{job_id}.json",
    ]
    for user, status in ((outsider, 404), (member, 403)):
        auth.login(user.email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == status, (user.email, url)
            assert b"%PDF" not in response.data and b"Person 0" not in response.data
        auth.logout()
    assert _jobs() == 1  # nobody else scheduled anything
    # Another event's job id under this event's URL: not found.
    other = mixer_of(24)
    auth.login(organizer.email)
    assert (
        client.get(f"/events/{other.id}/rotations/printouts/{job_id}").status_code
        == 404
    )


def test_the_job_reports_progress_as_pages_are_laid_out(
    app, client, auth, organizer, mixer_of, big, monkeypatch
):
    from mixer.jobs import services as jobs

    event = mixer_of(60)
    auth.login(organizer.email)
    job_id, _ = _to_job(client, f"/events/{event.id}/rotations/cards.pdf")
    seen: list[int] = []
    real = jobs.set_progress

    def record(job: int, percent: int) -> None:
        seen.append(percent)
        real(job, percent)

    monkeypatch.setattr(jobs, "set_progress", record)
    assert run_due()["done"] == 1
    # 30 cards, one page each: the bar moves with the pages, in order.
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] >= 80


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_the_progress_page_works_on_a_phone_and_by_keyboard(
    app, live_app, live_server, browser, organizer, mixer_of
):
    """At 360 px nothing scrolls sideways, the links are reached with Tab, the
    status is read out, and the PDF is fetched once the worker has drawn it."""
    from tests.browser_support import sign_in_page

    live_app.config["ROTATION_PDF_INLINE_PEOPLE"] = THRESHOLD
    event = mixer_of(24)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_page(page, live_server, organizer.email)
    page.goto(f"{live_server}/events/{event.id}/rotations/cards.pdf")
    assert re.search(r"/rotations/printouts/\d+$", page.url)
    status = page.get_by_role("status")
    status.filter(has_text="Waiting for the worker").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the progress page scrolls sideways: {width} > 360"
    assert page.get_by_label("Drawing the table cards…").is_visible()  # the bar
    reached = []
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent").strip())
        if reached[-1] == "Back to the rotations":
            break
    assert "Download when ready" in reached and reached[-1] == "Back to the rotations"
    with page.expect_response(lambda r: r.url.endswith("/cards.pdf")) as response:
        assert run_due()["done"] == 1
    assert response.value.status == 200
    assert response.value.headers["content-type"] == "application/pdf"
    assert problems == []
    context.close()


def test_a_removed_cache_file_is_drawn_again_by_the_same_job(
    client, auth, organizer, mixer_of, big, draws
):
    event = mixer_of(24)
    auth.login(organizer.email)
    url = f"/events/{event.id}/rotations/cards.pdf"
    job_id, _ = _to_job(client, url)
    first = _run_and_download(client, event, job_id)
    found = pdf.drawing(event, services.plan_for(event), pdf.CARDS).printout
    printouts.discard(found)  # e.g. the instance folder was cleaned
    assert _to_job(client, url)[0] == job_id  # the same job, due again
    assert _cards(_run_and_download(client, event, job_id)) == _cards(first)
    assert len(draws) == 2 and _jobs() == 1
