"""Scale-out with shared storage: two web apps and one job worker, each with its
OWN instance folder, sharing only the database and the object store (moto's S3
server, started by the suite).

A speaker uploads through web A and an attendee downloads through web B; a
200-badge sheet asked for on web B is drawn by the worker (``run_due`` under the
worker's app) and downloaded through web B, and web A serves the same sheet from
the store without drawing it again. No instance folder holds any of the files.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mixer import create_app
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.jobs.services import run_due
from mixer.speakers.services import add_speaker
from tests.badges.pdfcheck import decode_pages
from tests.conftest import Auth, IsolatedClient
from tests.helpers import fill_event
from tests.speakers.conftest import PDF, upload
from tests.storage_support import bucket_keys


@pytest.fixture
def app_config(app_config, s3_settings):
    """Every app of this test keeps its files in the bucket."""
    app_config.update(s3_settings)
    return app_config


def _host(app_config: dict, folder: Path):
    """One more Mixer host: the same settings, its own instance folder."""
    host = create_app({**app_config, "INSTANCE_PATH": str(folder)})
    host.test_client_class = IsolatedClient
    return host


def _files(folder: Path) -> list[str]:
    """Files in an instance folder apart from the database's own."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and ".sqlite3" not in p.name
    )


@pytest.mark.own_app
def test_two_web_hosts_and_a_worker_share_files_through_the_object_store(
    app,
    app_config,
    tmp_path,
    make_org,
    make_user,
    make_event,
    make_registration,
):
    folders = {name: tmp_path / name for name in ("web-a", "web-b", "worker")}
    web_a = _host(app_config, folders["web-a"])
    web_b = _host(app_config, folders["web-b"])
    worker = _host(app_config, folders["worker"])

    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    speaker = make_user(org, role="speaker", name="Sam Speaker")
    attendee = make_user(org, name="Ada Attendee")
    event = make_event(org, organizer, title="Negotiation", capacity=300)
    add_speaker(event.sessions[0], speaker)
    db.session.commit()
    make_registration(event, email=attendee.email, name=attendee.name)

    # A speaker uploads through web A ...
    client_a = web_a.test_client()
    Auth(client_a).login(speaker.email)
    answer = upload(client_a, event.id, PDF, "slides.pdf", title="Slides")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    material = answer.get_json()

    # ... and an attendee downloads it through web B.
    client_b = web_b.test_client()
    Auth(client_b).login(attendee.email)
    got = client_b.get(f"/materials/{material['id']}/download")
    assert got.status_code == 200
    assert hashlib.sha256(got.data).hexdigest() == material["sha256"]
    assert got.data == PDF
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert got.headers["Content-Disposition"] == "inline; filename=slides.pdf"
    got.close()

    # A 200-badge sheet asked for on web B is a job for the worker.
    fill_event(event, 199)  # and the attendee: 200 badges
    Auth(client_b).logout()
    Auth(client_b).login(organizer.email)
    url = f"/events/{event.id}/badges.pdf?layout=a4-8"
    asked = client_b.get(url)
    assert asked.status_code == 302 and "/badges/progress" in asked.headers["Location"]
    job = db.session.scalar(select(Job).where(Job.kind == "badges.batch"))
    status_url = f"/events/{event.id}/badges/jobs/{job.id}"
    assert client_b.get(status_url).get_json()["status"] == "pending"

    with worker.app_context():
        assert run_due()["done"] == 1
        db.session.remove()
        db.engine.dispose()

    status = client_b.get(status_url).get_json()
    assert (status["status"], status["progress"]) == ("done", 100)
    sheet = client_b.get(status["download_url"])
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(sheet.data)).pages) == 25
    tokens = db.session.scalars(
        select(Registration.badge_token).where(Registration.event_id == event.id)
    ).all()
    urls = [code.text for page in decode_pages(sheet.data) for code in page]
    assert sorted(urls) == sorted(f"http://mixer.test/c/{t}" for t in tokens)
    assert len(urls) == 200

    # Web A has the same sheet from the store: no new job, the same bytes.
    Auth(client_a).logout()
    Auth(client_a).login(organizer.email)
    again = client_a.get(url)
    assert again.status_code == 200 and again.data == sheet.data
    batches = select(func.count()).where(Job.kind == "badges.batch")
    assert db.session.scalar(batches) == 1

    # The files are in the bucket only; no host's instance folder has any.
    keys = bucket_keys(app_config)
    assert len([k for k in keys if k.startswith("mixer/uploads/")]) == 1
    sheets = [k for k in keys if k.startswith(f"mixer/badges/event-{event.id}/")]
    assert len(sheets) == 1
    for folder in folders.values():
        assert not [f for f in _files(folder) if f != "secret_key"], folder
    for host in (web_a, web_b):
        with host.app_context():
            db.engine.dispose()
