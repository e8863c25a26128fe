"""Speakers' material on both storage backends: the same access checks and the
same safe headers whether the file is in the instance folder or in object storage
(streamed through Mixer, never handed out as a bucket URL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mixer.speakers.views import DOWNLOAD_CSP
from mixer.storage import get_store
from tests.speakers.conftest import PDF, upload
from tests.storage_support import both_backends, bucket_keys


@pytest.fixture(params=["local", "s3"])
def app_config(app_config, request):
    return both_backends(app_config, request)


def fetch(client, url: str, **kw):
    resp = client.get(url, **kw)
    resp.get_data()
    resp.close()
    return resp


def test_upload_download_headers_and_access_on_both_backends(
    app, app_config, client, auth, world
):
    auth.login(world.speaker.email)
    body = upload(client, world.event.id, PDF, "slides.pdf", title="Slides").get_json()
    notes = upload(
        client, world.event.id, b"speaker notes\n", "notes.txt", title="Notes"
    ).get_json()
    auth.logout()
    uploads = get_store().list("uploads")
    assert len(uploads) == 2
    assert sorted(hashlib.sha256(get_store().read(k)).hexdigest() for k in uploads) == (
        sorted([body["sha256"], notes["sha256"]])
    )
    if "STORAGE_URL" in app_config:
        assert [k.removeprefix("mixer/") for k in bucket_keys(app_config)] == uploads
        assert not (Path(app.instance_path) / "uploads").exists()

    url = f"/materials/{body['id']}/download"
    auth.login(world.attendee.email)
    got = fetch(client, url)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Length"] == str(len(PDF))
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == "inline; filename=slides.pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"].strip() == DOWNLOAD_CSP
    assert "public" not in got.headers["Cache-Control"]  # never in shared caches
    assert got.headers["ETag"].strip('"') == body["sha256"]
    again = fetch(client, url, headers={"If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    part = fetch(client, url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == PDF[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(PDF)}"
    text = fetch(client, f"/materials/{notes['id']}/download")
    assert text.data == b"speaker notes\n"
    assert text.headers["Content-Disposition"].startswith("attachment")
    auth.logout()

    # Someone without a seat gets nothing; a signed-out visitor is sent to sign in.
    auth.login(world.member.email)
    assert fetch(client, url).status_code == 404
    auth.logout()
    assert fetch(client, url).status_code in (302, 401)


def test_a_file_missing_from_the_store_is_a_404_not_an_error(app, client, auth, world):
    auth.login(world.speaker.email)
    body = upload(client, world.event.id, PDF, "slides.pdf").get_json()
    for key in get_store().list("uploads"):
        get_store().delete(key)
    assert fetch(client, f"/materials/{body['id']}/download").status_code == 404


def test_a_deleted_material_leaves_no_file_in_the_store(app, client, auth, world):
    from mixer.extensions import db
    from mixer.speakers import material
    from mixer.speakers.models import Material

    auth.login(world.speaker.email)
    body = upload(client, world.event.id, PDF, "slides.pdf").get_json()
    assert len(get_store().list("uploads")) == 1
    material.delete_material(db.session.get(Material, body["id"]), world.speaker)
    db.session.rollback()  # not committed: the file stays
    assert len(get_store().list("uploads")) == 1
    material.delete_material(db.session.get(Material, body["id"]), world.speaker)
    db.session.commit()
    assert get_store().list("uploads") == []
